"""Importing measurements and interaction records from a table (CSV, TSV, Excel, .sav, Parquet).

The whole file is checked first and every problem is reported with its line and column; a
file with any problem is rejected whole, and an accepted file is stored in one transaction, so
nothing is ever half-written. ``dry_run`` checks and counts without storing anything.

Measurements (one row per questionnaire a person answered):

``email``
    The account of the person who answered (must exist).
``instrument_id``
    An instrument of the bank (or give ``instrument_id=`` for the whole file).
``taken_at``
    When it was answered: ISO 8601 with a timezone (``2026-03-02T21:00:00+01:00``), or a date
    (``2026-03-02``, read as midnight UTC).
``relationship_id``, ``about_email`` (optional)
    The relationship, and the other member the answers are about (the EIS is about one person).
``<instrument>_<n>``
    The item answers (``eis_1`` ... ``eis_5``); empty cells are missing answers.

Interaction records (diary; one row per person's record of an interaction):

``email``, ``relationship_id``, ``occurred_at``, ``channel`` (in_person, video, phone, text,
silent_together), optional ``duration_minutes``, ``note``, ``shared`` (true/false), the items
``interaction_1`` ... ``interaction_8``, and optional ``pair``: two rows with the same ``pair``
label are the two people's records of the same interaction and are linked.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from attunement.datafile import read_table
from attunement.errors import InvalidInputError, NotFoundError, Problem
from attunement.store.models import AuditAction, Channel, Membership, Person, RecordSource
from attunement.store.records import (
    add_measurement,
    link_interactions,
    record_audit,
    record_interaction,
)

__all__ = ["ImportReport", "import_interactions", "import_measurements"]

_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


@dataclass(frozen=True)
class ImportReport:
    """What an import stored (or, with ``dry_run``, would store)."""

    kind: str
    rows: int
    stored: int
    linked_pairs: int
    dry_run: bool

    def describe(self) -> str:
        verb = "Would store" if self.dry_run else "Stored"
        text = f"{verb} {self.stored} {self.kind} from {self.rows} rows"
        if self.linked_pairs:
            text += f" ({self.linked_pairs} pairs of records of the same interaction linked)"
        return text + (" (dry run: nothing was written)." if self.dry_run else ".")


class _Checker:
    """Collects every problem of a file, with its line and column."""

    def __init__(self, session: Session, frame: pd.DataFrame) -> None:
        self.session = session
        self.frame = frame
        self.problems: list[Problem] = []
        emails = {
            str(value).strip().lower()
            for column in ("email", "about_email")
            if column in frame.columns
            for value in frame[column].dropna()
        }
        rows = session.execute(
            sa.select(sa.func.lower(Person.email), Person.id).where(
                sa.func.lower(Person.email).in_(emails)
            )
        )
        self.people = {str(row[0]): int(row[1]) for row in rows}
        self.members = {
            (int(row[0]), int(row[1]))
            for row in session.execute(
                sa.select(Membership.relationship_id, Membership.person_id).where(
                    Membership.left_at.is_(None),
                    Membership.person_id.in_(list(self.people.values()) or [-1]),
                )
            )
        }

    def add(
        self, line: int, column: str, message: str, value: Any = None, allowed: str | None = None
    ) -> None:
        self.problems.append(
            Problem(message, line=line, column=column, value=value, allowed=allowed)
        )

    def require_columns(self, columns: list[str]) -> None:
        for column in columns:
            if column not in self.frame.columns:
                self.problems.append(
                    Problem("required column missing", column=column, allowed="add this column")
                )

    def text(self, line: int, row: pd.Series, column: str) -> str | None:
        value = row.get(column)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a column with gaps is read as floats: show 9, not 9.0
        text = str(value).strip()
        return text or None

    def person(self, line: int, row: pd.Series, column: str, *, required: bool) -> int | None:
        email = self.text(line, row, column)
        if email is None:
            if required:
                self.add(line, column, "missing")
            return None
        person = self.people.get(email.lower())
        if person is None:
            self.add(line, column, "no account with this email address", email)
        return person

    def moment(self, line: int, row: pd.Series, column: str) -> datetime | None:
        text = self.text(line, row, column)
        if text is None:
            self.add(line, column, "missing")
            return None
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.add(
                line, column, "not a date or time", text, "ISO 8601, e.g. 2026-03-02T21:00+01:00"
            )
            return None
        if len(text) == 10:  # a date: midnight UTC
            return value.replace(tzinfo=UTC)
        if value.tzinfo is None:
            self.add(
                line, column, "time without a timezone", text, "add Z or an offset like +01:00"
            )
            return None
        return value

    def integer(
        self, line: int, row: pd.Series, column: str, *, required: bool, low: int, high: int
    ) -> int | None:
        text = self.text(line, row, column)
        if text is None:
            if required:
                self.add(line, column, "missing")
            return None
        try:
            number = float(text)
        except ValueError:
            self.add(line, column, "not a number", text, f"whole numbers {low}-{high}")
            return None
        if not number.is_integer() or not low <= number <= high:
            reason = "out of range" if number.is_integer() else "not a whole number"
            self.add(line, column, reason, text, f"whole numbers {low}-{high}")
            return None
        return int(number)

    def items(self, line: int, row: pd.Series, instrument_id: str) -> dict[str, int | None]:
        from attunement.instruments import load_instrument

        instrument = load_instrument(instrument_id)
        low, high = int(instrument.scale.min), int(instrument.scale.max)
        answers: dict[str, int | None] = {}
        for item in instrument.items:
            answers[item.column] = self.integer(
                line, row, item.column, required=False, low=low, high=high
            )
        if all(value is None for value in answers.values()):
            first, last = instrument.items[0].column, instrument.items[-1].column
            self.add(
                line,
                first,
                f"no answers for {instrument_id}: every item cell is empty",
                allowed=f"at least one answer in {first} ... {last}",
            )
        return answers

    def member(
        self, line: int, relationship_id: int | None, person: int | None, column: str
    ) -> None:
        if relationship_id is None or person is None:
            return
        if (relationship_id, person) not in self.members:
            self.add(line, column, f"not a current member of relationship {relationship_id}")

    def raise_if_any(self, path: Path) -> None:
        if self.problems:
            raise InvalidInputError(
                f"{path.name}: {len(self.problems)} problem(s); nothing was imported.",
                hint="Fix every listed place and import the file again (--dry-run checks only).",
                problems=self.problems,
            )


def _unknown_columns(checker: _Checker, known: set[str], prefixes: tuple[str, ...]) -> None:
    for column in checker.frame.columns:
        if column not in known and not column.startswith(prefixes):
            checker.problems.append(
                Problem("unknown column", column=str(column), allowed=", ".join(sorted(known)))
            )


def import_measurements(
    session: Session,
    path: str | Path,
    *,
    instrument_id: str | None = None,
    dry_run: bool = False,
    actor_id: int | None = None,
) -> ImportReport:
    """Import measurements from a table (see the module docs); commits unless ``dry_run``."""
    from attunement.instruments import instrument_ids

    file = Path(path)
    frame = read_table(file)
    known_ids = set(instrument_ids())
    checker = _Checker(session, frame)
    required = ["email", "taken_at"] + ([] if instrument_id else ["instrument_id"])
    checker.require_columns(required)
    if instrument_id is not None and instrument_id not in known_ids:
        raise NotFoundError(
            f"Unknown instrument {instrument_id!r}.", hint=f"Known: {', '.join(sorted(known_ids))}."
        )
    _unknown_columns(
        checker,
        {"email", "taken_at", "instrument_id", "relationship_id", "about_email"},
        tuple(f"{i}_" for i in known_ids),
    )
    checker.raise_if_any(file)
    planned: list[dict[str, Any]] = []
    for line, row in frame.iterrows():
        line_number = int(str(line))
        person = checker.person(line_number, row, "email", required=True)
        about = checker.person(line_number, row, "about_email", required=False)
        taken_at = checker.moment(line_number, row, "taken_at")
        instrument = instrument_id or checker.text(line_number, row, "instrument_id")
        if instrument not in known_ids:
            checker.add(
                line_number,
                "instrument_id",
                "unknown instrument",
                instrument,
                ", ".join(sorted(known_ids)),
            )
            continue
        relationship_id = checker.integer(
            line_number, row, "relationship_id", required=False, low=1, high=2**31 - 1
        )
        checker.member(line_number, relationship_id, person, "email")
        checker.member(line_number, relationship_id, about, "about_email")
        if about is not None and relationship_id is None:
            checker.add(line_number, "about_email", "needs a relationship_id")
        answers = checker.items(line_number, row, instrument)
        planned.append(
            {
                "person": person,
                "instrument": instrument,
                "answers": answers,
                "taken_at": taken_at,
                "relationship_id": relationship_id,
                "about": about,
            }
        )
    checker.raise_if_any(file)
    for entry in planned:
        add_measurement(
            session,
            entry["person"],
            entry["instrument"],
            entry["answers"],
            taken_at=entry["taken_at"],
            relationship_id=entry["relationship_id"],
            about_person_id=entry["about"],
            source=RecordSource.IMPORT,
        )
    return _finish(session, "measurements", len(frame), len(planned), 0, dry_run, actor_id)


def import_interactions(
    session: Session, path: str | Path, *, dry_run: bool = False, actor_id: int | None = None
) -> ImportReport:
    """Import interaction records from a table (see the module docs); commits unless
    ``dry_run``."""
    file = Path(path)
    frame = read_table(file)
    checker = _Checker(session, frame)
    checker.require_columns(["email", "relationship_id", "occurred_at", "channel"])
    _unknown_columns(
        checker,
        {
            "email",
            "relationship_id",
            "occurred_at",
            "channel",
            "duration_minutes",
            "note",
            "shared",
            "pair",
        },
        ("interaction_",),
    )
    checker.raise_if_any(file)
    channels = {channel.value for channel in Channel}
    planned: list[dict[str, Any]] = []
    for line, row in frame.iterrows():
        line_number = int(str(line))
        person = checker.person(line_number, row, "email", required=True)
        relationship_id = checker.integer(
            line_number, row, "relationship_id", required=True, low=1, high=2**31 - 1
        )
        checker.member(line_number, relationship_id, person, "email")
        occurred_at = checker.moment(line_number, row, "occurred_at")
        channel = checker.text(line_number, row, "channel")
        if channel not in channels:
            checker.add(
                line_number, "channel", "unknown channel", channel, ", ".join(sorted(channels))
            )
        duration = checker.integer(
            line_number, row, "duration_minutes", required=False, low=0, high=1440
        )
        shared_text = (checker.text(line_number, row, "shared") or "").lower()
        if shared_text not in _TRUE | _FALSE:
            checker.add(line_number, "shared", "not true or false", shared_text, "true, false")
        planned.append(
            {
                "line": line_number,
                "person": person,
                "relationship_id": relationship_id,
                "occurred_at": occurred_at,
                "channel": channel,
                "duration": duration,
                "note": checker.text(line_number, row, "note"),
                "shared": None if shared_text == "" else shared_text in _TRUE,
                "answers": checker.items(line_number, row, "interaction"),
                "pair": checker.text(line_number, row, "pair"),
            }
        )
    _check_pairs(checker, planned)
    checker.raise_if_any(file)
    stored: dict[int, int] = {}
    for entry in planned:
        record = record_interaction(
            session,
            entry["person"],
            entry["relationship_id"],
            entry["answers"],
            channel=entry["channel"],
            occurred_at=entry["occurred_at"],
            duration_minutes=entry["duration"],
            note=entry["note"],
            shared=entry["shared"],
            source=RecordSource.IMPORT,
        )
        stored[entry["line"]] = record.id
    pairs = _pairs(planned)
    for first, second in pairs:
        link_interactions(session, first["person"], stored[first["line"]], stored[second["line"]])
    return _finish(
        session, "interaction records", len(frame), len(planned), len(pairs), dry_run, actor_id
    )


def _pairs(planned: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in planned:
        if entry["pair"] is not None:
            groups.setdefault(entry["pair"], []).append(entry)
    return [(group[0], group[1]) for group in groups.values() if len(group) == 2]


def _check_pairs(checker: _Checker, planned: list[dict[str, Any]]) -> None:
    counts = Counter(entry["pair"] for entry in planned if entry["pair"] is not None)
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in planned:
        if entry["pair"] is not None:
            groups.setdefault(entry["pair"], []).append(entry)
    for label, group in groups.items():
        line = group[0]["line"]
        if counts[label] != 2:
            checker.add(
                line,
                "pair",
                f"{counts[label]} rows share this pair label",
                label,
                "exactly 2 rows: the two people's records of one interaction",
            )
            continue
        first, second = group
        if first["person"] == second["person"]:
            checker.add(second["line"], "pair", "both records of the pair are by one person", label)
        if first["relationship_id"] != second["relationship_id"]:
            checker.add(
                second["line"], "pair", "the pair's records are in different relationships", label
            )


def _finish(
    session: Session,
    kind: str,
    rows: int,
    stored: int,
    linked: int,
    dry_run: bool,
    actor_id: int | None,
) -> ImportReport:
    report = ImportReport(kind=kind, rows=rows, stored=stored, linked_pairs=linked, dry_run=dry_run)
    if dry_run:
        session.rollback()
        return report
    record_audit(
        session,
        actor_id,
        AuditAction.IMPORT,
        row_count=stored,
        details={"kind": kind, "rows": rows, "linked_pairs": linked},
    )
    session.commit()
    return report
