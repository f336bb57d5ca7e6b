"""``attunement researcher grant/revoke`` on a real database."""

from __future__ import annotations

from click.testing import CliRunner

from attunement.cli import cli
from attunement.store import create_engine_from_url, make_session_factory, transaction
from attunement.store.records import create_person, find_person_by_email


def _is_researcher(database_url: str, email: str) -> bool:
    engine = create_engine_from_url(database_url)
    try:
        with make_session_factory(engine)() as session:
            person = find_person_by_email(session, email)
            return bool(person and person.is_researcher)
    finally:
        engine.dispose()


def test_grant_and_revoke(database_url: str) -> None:
    engine = create_engine_from_url(database_url)
    with transaction(make_session_factory(engine)) as session:
        create_person(session, "Rita@Uni.example", "Rita")
    engine.dispose()
    runner = CliRunner()
    granted = runner.invoke(
        cli, ["researcher", "grant", "rita@uni.example", "--database-url", database_url]
    )
    assert granted.exit_code == 0, granted.output
    assert "Rita@Uni.example is now a researcher." in granted.output
    assert _is_researcher(database_url, "rita@uni.example")
    revoked = runner.invoke(
        cli, ["researcher", "revoke", "RITA@uni.example", "--database-url", database_url]
    )
    assert revoked.exit_code == 0, revoked.output
    assert not _is_researcher(database_url, "rita@uni.example")


def test_an_unknown_account_is_a_clear_error(database_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["researcher", "grant", "nobody@example.org", "--database-url", database_url]
    )
    assert result.exit_code == 2
    assert "No account with the email address 'nobody@example.org'" in result.output
