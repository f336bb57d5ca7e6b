"""Mail through a real SMTP server (aiosmtpd on loopback) and the sign-in limiter's window."""

from __future__ import annotations

import io
import socket
from email import message_from_bytes
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.settings import Settings
from attunement.web.mail import ConsoleMailer, OutgoingMail, SmtpMailer, mailer_from_settings
from attunement.web.ratelimit import SignInLimiter


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def test_smtp_mailer_delivers_to_a_real_smtp_server() -> None:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = Settings(
            environment="test", smtp_host="127.0.0.1", smtp_port=port, mail_from="a@b.example"
        )
        mailer = mailer_from_settings(settings)
        assert isinstance(mailer, SmtpMailer)
        mailer.send(OutgoingMail("ada@example.org", "Reset your password", "Open this link"))
    finally:
        controller.stop()
    ((recipients, message),) = inbox.messages
    assert recipients == ["ada@example.org"]
    assert message["Subject"] == "Reset your password"
    assert message["From"] == "a@b.example"
    assert "Open this link" in message.get_payload()


def test_without_smtp_mail_is_printed() -> None:
    mailer = mailer_from_settings(Settings(environment="test"))
    assert isinstance(mailer, ConsoleMailer)
    mailer.stream = io.StringIO()
    mailer.send(OutgoingMail("ada@example.org", "Hello", "Body text"))
    assert "To: ada@example.org" in mailer.stream.getvalue()
    assert mailer.outbox[-1].subject == "Hello"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_and_success_clears_the_account() -> None:
    clock = Clock()
    limiter = SignInLimiter(per_account=3, per_address=10, window_seconds=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("Ada@x.org", "1.1.1.1") == 0
        limiter.failed("ada@x.org", "1.1.1.1")
        clock.now += 10
    wait = limiter.retry_after("ADA@x.org", "2.2.2.2")  # any address, any case
    assert 0 < wait <= 31
    clock.now += wait
    assert limiter.retry_after("ada@x.org", "1.1.1.1") == 0
    limiter.succeeded("ada@x.org")
    assert limiter.retry_after("ada@x.org", "1.1.1.1") == 0


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(0, 30)), min_size=1, max_size=60
    )
)
def test_no_account_ever_gets_more_failures_than_the_limit_in_a_window(
    steps: list[tuple[str, float]],
) -> None:
    """Whatever the order and timing, an attacker who tries whenever allowed gets at most
    ``per_account`` failures for one account in any window."""
    clock = Clock()
    limit, window = 4, 100.0
    limiter = SignInLimiter(per_account=limit, per_address=1000, window_seconds=window, clock=clock)
    attempts: dict[str, list[float]] = {}
    for account, pause in steps:
        clock.now += pause
        if limiter.retry_after(account, "9.9.9.9") == 0:
            limiter.failed(account, "9.9.9.9")
            attempts.setdefault(account, []).append(clock.now)
    for times in attempts.values():
        for start in times:
            inside = [t for t in times if start <= t < start + window]
            assert len(inside) <= limit
