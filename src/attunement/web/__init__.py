"""The attunement web app: server-rendered pages and a JSON API over the data store.

``create_app(settings)`` builds it; ``attunement serve`` runs it. See ``docs/web.md``.
"""

from attunement.web.app import create_app

__all__ = ["create_app"]
