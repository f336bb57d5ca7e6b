"""Typed settings, read once from the environment (``ATTUNEMENT_*``) and passed down explicitly.

Nothing in the library reads the environment on its own: the CLI and the web app build one
:class:`Settings` and hand it to what they create (database engine, web app, mailer). Settings
that would be unsafe outside development are refused there by :meth:`Settings.check_safe`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from attunement.errors import InvalidInputError

__all__ = ["DEVELOPMENT_SECRET", "Settings", "default_data_dir"]

DEVELOPMENT_SECRET = "development-only-secret-change-me"


def default_data_dir() -> Path:
    """The per-user data folder: ``$XDG_DATA_HOME/attunement`` or ``~/.local/share/attunement``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "attunement"


class Settings(BaseSettings):
    """Everything attunement can be configured with. Environment variables use the prefix
    ``ATTUNEMENT_`` (``ATTUNEMENT_DATABASE_URL``, ``ATTUNEMENT_SECRET_KEY``, ...)."""

    model_config = SettingsConfigDict(env_prefix="ATTUNEMENT_", extra="ignore")

    environment: Literal["development", "production", "test"] = Field(
        "development", description="'production' refuses unsafe defaults such as the dev secret."
    )
    data_dir: Path = Field(
        default_factory=default_data_dir, description="Folder for the SQLite database and backups."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default: a SQLite file in data_dir. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname",
    )
    secret_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SECRET), description="Signs session cookies and tokens."
    )
    base_url: str = Field("http://127.0.0.1:8000", description="Public address, used in links.")
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, description="Port the web server listens on.")
    smtp_host: str | None = Field(None, description="SMTP server; unset: mail printed to console.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_user: str | None = Field(None, description="SMTP user name, if the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Use STARTTLS with the SMTP server.")
    mail_from: str = Field("attunement <noreply@localhost>", description="Sender of mail.")
    instrument_wording_dir: Path | None = Field(
        None,
        description="Folder of licensed item wording, one <instrument id>.toml each "
        "(see docs/instruments.md); fills items shipped without text, such as the EIS.",
    )
    clock_speed: float = Field(
        1.0, description="Test clock: >1 makes session timers run faster (tests and demos only)."
    )
    reminder_check_seconds: float = Field(
        300.0,
        ge=0,
        description="How often the web server sends due reminder emails; 0 turns it off "
        "(then run `attunement reminders send` from cron).",
    )

    def resolved_database_url(self) -> str:
        """The database URL in force: the explicit one, or the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'attunement.sqlite3'}"

    def check_safe(self) -> None:
        """Refuse settings that are only acceptable on a developer's machine."""
        if self.environment != "production":
            return
        if self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            raise InvalidInputError(
                "ATTUNEMENT_SECRET_KEY is the development default.",
                hint="Set ATTUNEMENT_SECRET_KEY to a long random value, for example the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
            )
        if self.clock_speed != 1.0:
            raise InvalidInputError(
                "ATTUNEMENT_CLOCK_SPEED is a test setting.", hint="Unset it in production."
            )
