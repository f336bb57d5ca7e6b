"""Running a research study: schedules, who takes part, compliance, the researcher role.

Creating a study, enrolling with consent and withdrawing are in :mod:`attunement.store.records`
(:func:`~attunement.store.records.create_study`, :func:`~attunement.store.records.enroll`,
:func:`~attunement.store.records.withdraw_consent`); who may read a study's data is decided in
:mod:`attunement.store.access` (only its owner, only participants whose consent is in force).
This module adds what running a study needs on top.

Schedules. ``Study.schedule`` maps each instrument of the study to how often it is given::

    {"eis": {"every_days": 7}, "interaction": {"every_days": 1}, "swls": {"once_within_days": 14}}

``every_days = n`` cuts the time since a participant consented into windows of ``n`` days
(window ``k`` is ``[given_at + k*n, given_at + (k+1)*n)``) and expects at least one record in
each; ``once_within_days = n`` expects one record within the first ``n`` days. An instrument
of the study without an entry is offered but not scheduled (no compliance is computed for it).

Compliance (:func:`study_compliance`), one row per participant in force and scheduled
instrument, counting the participant's records of that instrument since they consented
(measurements by ``taken_at``, diary records of ``interaction`` by ``occurred_at``):

- ``windows_due``: windows that have closed (``floor(elapsed / n)``; for ``once``: 1 once
  ``n`` days have passed, else 0),
- ``windows_done``: closed windows with at least one record (for ``once``: any record at all,
  a late record still counts),
- ``windows_missed = windows_due - windows_done``; a participant with ``windows_missed > 0``
  is *behind*,
- ``current_window_done``: whether the window still open has a record already,
- ``compliance = windows_done / windows_due`` (missing while nothing is due yet).

Reading compliance is a researcher read and is written to the audit log (ids and counts only).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from attunement.errors import ConflictError, InvalidInputError, NotFoundError, Problem
from attunement.store.access import participants_in_force, require_study_owner
from attunement.store.models import (
    AuditAction,
    Consent,
    Interaction,
    Measurement,
    Person,
    ReminderSchedule,
    Study,
)
from attunement.store.records import find_person_by_email, record_audit
from attunement.store.tokens import normalize_code
from attunement.store.types import utcnow

__all__ = [
    "COMPLIANCE_COLUMNS",
    "MAX_SCHEDULE_DAYS",
    "OwnProgress",
    "Participation",
    "StudySummary",
    "WindowCounts",
    "close_study",
    "delete_study",
    "describe_schedule",
    "open_study_by_code",
    "own_progress",
    "reopen_study",
    "revise_consent",
    "schedule_windows",
    "set_researcher",
    "studies_joined",
    "studies_owned",
    "study_compliance",
    "transfer_study",
    "validate_schedule",
]

MAX_SCHEDULE_DAYS = 366
COMPLIANCE_COLUMNS = (
    "participant_code",
    "instrument_id",
    "every_days",
    "once_within_days",
    "enrolled_at",
    "records",
    "last_record_at",
    "windows_due",
    "windows_done",
    "windows_missed",
    "current_window_done",
    "compliance",
)
_SCHEDULE_KEYS = ("every_days", "once_within_days")


# -- schedules -------------------------------------------------------------------------------


def validate_schedule(
    instruments: list[str], schedule: Mapping[str, Any]
) -> dict[str, dict[str, int]]:
    """The schedule in its stored form, or InvalidInputError naming every bad entry.

    Each key must be one of ``instruments``; each value a mapping with exactly one of
    ``every_days`` or ``once_within_days``, a whole number from 1 to :data:`MAX_SCHEDULE_DAYS`.
    """
    problems: list[Problem] = []
    clean: dict[str, dict[str, int]] = {}
    allowed = f"a whole number of days from 1 to {MAX_SCHEDULE_DAYS}"
    for instrument_id, entry in schedule.items():
        column = f"schedule.{instrument_id}"
        if instrument_id not in instruments:
            problems.append(
                Problem(
                    "scheduled but not one of the study's instruments",
                    column=column,
                    allowed=", ".join(instruments) or "no instruments chosen",
                )
            )
            continue
        keys = [key for key in _SCHEDULE_KEYS if isinstance(entry, Mapping) and key in entry]
        extra = (
            sorted(set(entry) - set(_SCHEDULE_KEYS)) if isinstance(entry, Mapping) else ["value"]
        )
        if len(keys) != 1 or extra:
            problems.append(
                Problem(
                    "needs exactly one of every_days or once_within_days",
                    column=column,
                    allowed='{"every_days": 7} or {"once_within_days": 14}',
                )
            )
            continue
        key = keys[0]
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem("not a whole number", column=column, allowed=allowed))
            continue
        if not 1 <= value <= MAX_SCHEDULE_DAYS:
            problems.append(Problem("out of range", column=column, value=value, allowed=allowed))
            continue
        clean[instrument_id] = {key: value}
    if problems:
        raise InvalidInputError(
            "The schedule is not valid.",
            hint="Give each scheduled instrument how often it is answered, in days.",
            problems=problems,
        )
    return clean


def describe_schedule(entry: Mapping[str, int] | None) -> str:
    """One schedule entry in plain words: "every day", "every 7 days", "once, within 14 days"."""
    if not entry:
        return "when the participant chooses"
    if "every_days" in entry:
        days = entry["every_days"]
        return "every day" if days == 1 else f"every {days} days"
    days = entry["once_within_days"]
    return f"once, within {days} day{'s' if days != 1 else ''} of joining"


# -- researchers and studies ------------------------------------------------------------------


def set_researcher(session: Session, email: str, is_researcher: bool = True) -> Person:
    """Mark the account with ``email`` as a researcher (who may create studies), or not."""
    person = find_person_by_email(session, email)
    if person is None:
        raise NotFoundError(
            f"No account with the email address {email.strip()!r}.",
            hint="The person signs up first; then mark the account.",
            problems=[Problem("no such account", column="email", value=email.strip())],
        )
    person.is_researcher = is_researcher
    session.flush()
    return person


@dataclass(frozen=True, slots=True)
class StudySummary:
    """One of a researcher's studies with its participant counts."""

    id: int
    title: str
    enrollment_code: str
    consent_version: str
    created_at: datetime
    closed_at: datetime | None
    participants: int
    withdrawn: int


@dataclass(frozen=True, slots=True)
class Participation:
    """A study the actor takes part in, as the participant sees it."""

    study_id: int
    title: str
    participant_code: str
    consent_version: str
    given_at: datetime
    instruments: tuple[str, ...]
    schedule: dict[str, dict[str, int]]
    closed: bool
    #: The study's consent text now, and its version: when the team has revised it since
    #: the person agreed, they are asked to read it and agree again (or to withdraw).
    current_consent_version: str = ""
    current_consent_text: str = ""

    @property
    def consent_outdated(self) -> bool:
        return self.consent_version != self.current_consent_version


def studies_owned(session: Session, actor_id: int) -> list[StudySummary]:
    """The actor's own studies, newest first, with how many take part and have withdrawn."""
    in_force = sa.func.count(Consent.id).filter(Consent.withdrawn_at.is_(None))
    withdrawn = sa.func.count(Consent.id).filter(Consent.withdrawn_at.is_not(None))
    rows = session.execute(
        sa.select(Study, in_force, withdrawn)
        .outerjoin(Consent, Consent.study_id == Study.id)
        .where(Study.owner_id == actor_id)
        .group_by(Study.id)
        .order_by(Study.created_at.desc(), Study.id.desc())
    )
    return [
        StudySummary(
            id=study.id,
            title=study.title,
            enrollment_code=study.enrollment_code,
            consent_version=study.consent_version,
            created_at=study.created_at,
            closed_at=study.closed_at,
            participants=int(taking_part),
            withdrawn=int(left),
        )
        for study, taking_part, left in rows
    ]


def studies_joined(session: Session, actor_id: int) -> list[Participation]:
    """The studies the actor takes part in (consent in force), most recent consent first."""
    rows = session.execute(
        sa.select(Study, Consent)
        .join(Consent, Consent.study_id == Study.id)
        .where(Consent.person_id == actor_id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.given_at.desc(), Consent.id.desc())
    )
    return [
        Participation(
            study_id=study.id,
            title=study.title,
            participant_code=consent.participant_code,
            consent_version=consent.consent_version,
            given_at=consent.given_at,
            instruments=tuple(study.instruments),
            schedule=dict(study.schedule),
            closed=study.closed_at is not None,
            current_consent_version=study.consent_version,
            current_consent_text=study.consent_text,
        )
        for study, consent in rows
    ]


def open_study_by_code(session: Session, enrollment_code: str) -> Study:
    """The open study with this enrollment code (what a person reads before consenting)."""
    study = session.scalars(
        sa.select(Study).where(Study.enrollment_code == normalize_code(enrollment_code))
    ).one_or_none()
    if study is None or study.closed_at is not None:
        raise NotFoundError(
            "No open study with this enrollment code.",
            hint="Check the code with the research team; the study may have closed.",
            problems=[Problem("no open study", column="code", value=enrollment_code)],
        )
    return study


def close_study(session: Session, actor_id: int, study_id: int) -> Study:
    """Close the actor's study to new participants (those taking part stay, data stays)."""
    study = require_study_owner(session, actor_id, study_id)
    if study.closed_at is not None:
        raise ConflictError("This study is already closed.")
    study.closed_at = utcnow()
    session.flush()
    return study


def reopen_study(session: Session, actor_id: int, study_id: int) -> Study:
    """Open the actor's closed study to new participants again, with the same enrollment
    code (a study closed by mistake, or a second wave)."""
    study = require_study_owner(session, actor_id, study_id)
    if study.closed_at is None:
        raise ConflictError("This study is open already.")
    study.closed_at = None
    session.flush()
    return study


def delete_study(session: Session, actor_id: int, study_id: int, confirm_title: str) -> None:
    """Delete the actor's study and its consent records, once its title is typed to confirm.

    The participants' own records stay theirs (they only lose the link to the study); the
    audit log keeps its events without the study. Reminders participants asked for because of
    the study end with it.
    """
    study = require_study_owner(session, actor_id, study_id)
    if confirm_title.strip() != study.title:
        raise InvalidInputError(
            "The study was not deleted: the title typed does not match.",
            hint="Type the study's title exactly to confirm.",
            problems=[Problem("does not match the title", column="confirm_title")],
        )
    session.execute(sa.delete(ReminderSchedule).where(ReminderSchedule.study_id == study_id))
    session.delete(study)
    session.flush()


def transfer_study(session: Session, actor_id: int, study_id: int, new_owner_email: str) -> Study:
    """Hand the actor's study to another researcher, who reads and exports it from now on."""
    study = require_study_owner(session, actor_id, study_id)
    person = find_person_by_email(session, new_owner_email)
    if person is None or not person.is_researcher or person.id == actor_id:
        reason = (
            "no account with this email address"
            if person is None
            else "this account is not a researcher"
            if not person.is_researcher
            else "this is your own account"
        )
        raise InvalidInputError(
            "The study was not handed over.",
            hint="Give the email address of another researcher's account.",
            problems=[Problem(reason, column="email", value=new_owner_email.strip())],
        )
    study.owner_id = person.id
    session.flush()
    return study


def revise_consent(
    session: Session, actor_id: int, study_id: int, consent_text: str, consent_version: str
) -> Study:
    """A new consent text under a new version: who enrolls from now on agrees to it.

    Participants who consented to an earlier version keep that version on their consent
    record (the participant list shows it), so a team can ask them to consent again.
    """
    study = require_study_owner(session, actor_id, study_id)
    version = consent_version.strip()
    problems: list[Problem] = []
    if not consent_text.strip():
        problems.append(Problem("consent text missing", column="consent_text"))
    if not version:
        problems.append(Problem("consent version missing", column="consent_version"))
    elif len(version) > 40:
        problems.append(
            Problem("too long", column="consent_version", allowed="up to 40 characters")
        )
    elif version == study.consent_version:
        problems.append(
            Problem(
                "same as the current version",
                column="consent_version",
                value=version,
                allowed=f"a version other than {study.consent_version}",
            )
        )
    if problems:
        raise InvalidInputError(
            "The consent text was not changed.",
            hint="A changed text needs a new version, so every consent names what was agreed.",
            problems=problems,
        )
    study.consent_text = consent_text
    study.consent_version = version
    session.flush()
    return study


# -- compliance ------------------------------------------------------------------------------


def _record_times(
    session: Session, person_ids: list[int], instrument_ids: list[str]
) -> dict[tuple[int, str], list[datetime]]:
    """Every record time of those people and instruments, oldest first."""
    times: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    if not person_ids:
        return times
    measured = [name for name in instrument_ids if name != "interaction"]
    if measured:
        rows = session.execute(
            sa.select(Measurement.person_id, Measurement.instrument_id, Measurement.taken_at)
            .where(
                Measurement.person_id.in_(person_ids),
                Measurement.instrument_id.in_(measured),
            )
            .order_by(Measurement.taken_at)
        )
        for person_id, instrument_id, taken_at in rows:
            times[(person_id, instrument_id)].append(taken_at)
    if "interaction" in instrument_ids:
        diary = session.execute(
            sa.select(Interaction.person_id, Interaction.occurred_at)
            .where(Interaction.person_id.in_(person_ids))
            .order_by(Interaction.occurred_at)
        )
        for person_id, occurred_at in diary:
            times[(person_id, "interaction")].append(occurred_at)
    return times


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """How one participant stands with one scheduled instrument (see the module docs)."""

    records: int
    last_record_at: datetime | None
    windows_due: int
    windows_done: int
    current_window_done: bool

    @property
    def windows_missed(self) -> int:
        return self.windows_due - self.windows_done


def schedule_windows(
    given_at: datetime, times: list[datetime], entry: Mapping[str, int], now: datetime
) -> WindowCounts:
    """Count the windows of one schedule entry between consent (``given_at``) and ``now``.

    ``times`` are the participant's record times of the instrument, oldest first; those before
    consent or after ``now`` do not count. Pure: the same inputs give the same counts.
    """
    since = [at for at in times if given_at <= at <= now]
    elapsed = max(now - given_at, timedelta(0))
    every = entry.get("every_days")
    if every is not None:
        window = timedelta(days=every)
        due = elapsed // window
        done_windows = {(at - given_at) // window for at in since}
        done = sum(1 for k in done_windows if k < due)
        current = due in done_windows
    else:
        due = 1 if elapsed >= timedelta(days=entry.get("once_within_days", 0)) else 0
        done = min(due, 1 if since else 0)
        current = bool(since)
    return WindowCounts(
        records=len(since),
        last_record_at=since[-1] if since else None,
        windows_due=due,
        windows_done=done,
        current_window_done=current,
    )


def _compliance_row(
    consent: Consent,
    instrument_id: str,
    entry: Mapping[str, int],
    times: list[datetime],
    now: datetime,
) -> dict[str, Any]:
    counts = schedule_windows(consent.given_at, times, entry, now)
    return {
        "participant_code": consent.participant_code,
        "instrument_id": instrument_id,
        "every_days": entry.get("every_days"),
        "once_within_days": entry.get("once_within_days"),
        "enrolled_at": consent.given_at,
        "records": counts.records,
        "last_record_at": counts.last_record_at,
        "windows_due": counts.windows_due,
        "windows_done": counts.windows_done,
        "windows_missed": counts.windows_missed,
        "current_window_done": counts.current_window_done,
        "compliance": counts.windows_done / counts.windows_due if counts.windows_due else math.nan,
    }


@dataclass(frozen=True, slots=True)
class OwnProgress:
    """Where a participant stands with one scheduled instrument of a study they take part in.

    ``due_by`` is when the window still open closes (for *once within n days*: the deadline,
    while nothing is recorded yet); None when nothing is pending.
    """

    instrument_id: str
    counts: WindowCounts
    due_by: datetime | None


def own_progress(
    session: Session, actor_id: int, participation: Participation, *, now: datetime | None = None
) -> list[OwnProgress]:
    """The actor's own standing in a study they take part in: one row per scheduled instrument.

    A participant reads only their own records here, so nothing is audited.
    """
    now = now or utcnow()
    schedule = {
        name: entry
        for name, entry in participation.schedule.items()
        if name in participation.instruments
    }
    times = _record_times(session, [actor_id], sorted(schedule))
    rows = []
    for name in sorted(schedule):
        entry = schedule[name]
        counts = schedule_windows(
            participation.given_at, times.get((actor_id, name), []), entry, now
        )
        due_by: datetime | None = None
        if "every_days" in entry and not counts.current_window_done:
            due_by = participation.given_at + timedelta(days=entry["every_days"]) * (
                counts.windows_due + 1
            )
        elif "once_within_days" in entry and not counts.current_window_done:
            due_by = participation.given_at + timedelta(days=entry["once_within_days"])
        rows.append(OwnProgress(instrument_id=name, counts=counts, due_by=due_by))
    return rows


def study_compliance(
    session: Session, actor_id: int, study_id: int, *, now: datetime | None = None
) -> pd.DataFrame:
    """Who is behind: one row per participant in force and scheduled instrument.

    Columns :data:`COMPLIANCE_COLUMNS` (see the module docs for the definitions), sorted by
    participant code and instrument. Only the study's owner may read it (PermissionDeniedError
    otherwise); withdrawn participants are not in it. The read is audited.
    """
    study = require_study_owner(session, actor_id, study_id)
    now = now or utcnow()
    consents = participants_in_force(session, actor_id, study_id)
    schedule = {
        name: entry for name, entry in dict(study.schedule).items() if name in study.instruments
    }
    times = _record_times(session, [c.person_id for c in consents], sorted(schedule))
    rows = [
        _compliance_row(
            consent, name, schedule[name], times.get((consent.person_id, name), []), now
        )
        for consent in consents
        for name in sorted(schedule)
    ]
    frame = pd.DataFrame(rows, columns=list(COMPLIANCE_COLUMNS))
    frame = frame.astype(
        {
            "records": "int64",
            "windows_due": "int64",
            "windows_done": "int64",
            "windows_missed": "int64",
            "current_window_done": "bool",
            "compliance": "float64",
            "every_days": "Int64",
            "once_within_days": "Int64",
        }
    )
    record_audit(
        session,
        actor_id,
        AuditAction.RESEARCHER_READ,
        study_id=study_id,
        row_count=len(frame),
        details={"view": "compliance", "participants": len(consents)},
    )
    session.flush()
    return frame
