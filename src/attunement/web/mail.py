"""Sending mail (password resets, reminders): through SMTP when configured, else to the console.

With ``ATTUNEMENT_SMTP_HOST`` set, :class:`SmtpMailer` delivers through that server (optional
login and STARTTLS). Without it, :class:`ConsoleMailer` prints each message to standard output
so a developer running ``attunement serve`` can follow a reset link; it also keeps the messages
in ``outbox`` for tests. Outside development a missing SMTP server is not an error: the
message is printed and a warning logged, because a self-hosted instance may have no mail.
"""

from __future__ import annotations

import logging
import smtplib
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol, TextIO

from attunement.settings import Settings

__all__ = ["ConsoleMailer", "Mailer", "OutgoingMail", "SmtpMailer", "mailer_from_settings"]

log = logging.getLogger("attunement.mail")


@dataclass(frozen=True)
class OutgoingMail:
    """One plain-text message."""

    to: str
    subject: str
    body: str


class Mailer(Protocol):
    """Anything that can send an :class:`OutgoingMail` (blocking; call it from a thread)."""

    def send(self, mail: OutgoingMail) -> None: ...


@dataclass
class ConsoleMailer:
    """Prints mail instead of sending it, and keeps it in ``outbox``."""

    stream: TextIO | None = None
    outbox: list[OutgoingMail] = field(default_factory=list)

    def send(self, mail: OutgoingMail) -> None:
        self.outbox.append(mail)
        stream = self.stream or sys.stdout
        stream.write(
            f"\n--- mail (not sent: no SMTP server configured) ---\n"
            f"To: {mail.to}\nSubject: {mail.subject}\n\n{mail.body}\n"
            f"--- end of mail ---\n"
        )
        stream.flush()


@dataclass
class SmtpMailer:
    """Sends through an SMTP server."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    def send(self, mail: OutgoingMail) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
            if self.starttls:
                server.starttls()
            if self.user and self.password:
                server.login(self.user, self.password)
            server.send_message(message)


def mailer_from_settings(settings: Settings) -> Mailer:
    """SMTP when ``smtp_host`` is set, otherwise the console."""
    if not settings.smtp_host:
        if settings.environment == "production":
            log.warning("ATTUNEMENT_SMTP_HOST is not set: mail is printed, not sent")
        return ConsoleMailer()
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        user=settings.smtp_user,
        password=password,
        starttls=settings.smtp_starttls,
    )
