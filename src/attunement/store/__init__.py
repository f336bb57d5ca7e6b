"""The data store: the domain model, database engines, migrations and privacy rules.

SQLite by default (a file in the data folder), PostgreSQL for deployments. Create an engine
with :func:`create_engine_from_settings`, bring the schema up to date with :func:`upgrade`,
and work in sessions from :func:`make_session_factory`. The models are in
:mod:`attunement.store.models`; who may read what is decided in :mod:`attunement.store.access`.
"""

from __future__ import annotations

from attunement.store import access as access
from attunement.store import models as models
from attunement.store import records as records
from attunement.store import studies as studies
from attunement.store.constraints import integrity_error_to_domain
from attunement.store.engine import (
    StoreSession,
    create_engine_from_settings,
    create_engine_from_url,
    is_sqlite,
    make_session_factory,
    transaction,
)
from attunement.store.migrate import current_revision, head_revision, upgrade
from attunement.store.passwords import hash_password, needs_rehash, verify_password
from attunement.store.tokens import hash_token, new_code, new_token, normalize_code

__all__ = [
    "StoreSession",
    "access",
    "create_engine_from_settings",
    "create_engine_from_url",
    "current_revision",
    "hash_password",
    "hash_token",
    "head_revision",
    "integrity_error_to_domain",
    "is_sqlite",
    "make_session_factory",
    "models",
    "needs_rehash",
    "new_code",
    "new_token",
    "normalize_code",
    "records",
    "studies",
    "transaction",
    "upgrade",
    "verify_password",
]
