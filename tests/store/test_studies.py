"""Running a study: schedules, the researcher role, participation lists, consent revisions and
compliance counted by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from attunement.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from attunement.store import StoreSession, transaction
from attunement.store.models import AuditAction, AuditEvent, Consent, Measurement, Study
from attunement.store.records import (
    add_measurement,
    create_person,
    create_relationship,
    create_study,
    enroll,
    record_interaction,
    withdraw_consent,
)
from attunement.store.studies import (
    COMPLIANCE_COLUMNS,
    close_study,
    delete_study,
    describe_schedule,
    open_study_by_code,
    own_progress,
    revise_consent,
    schedule_windows,
    set_researcher,
    studies_joined,
    studies_owned,
    study_compliance,
    transfer_study,
    validate_schedule,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SWLS = {f"swls_{n}": 5 for n in range(1, 6)}
RATINGS = {f"interaction_{n}": 4 for n in range(1, 9)}


def test_validate_schedule_accepts_both_kinds() -> None:
    clean = validate_schedule(
        ["eis", "swls"], {"eis": {"every_days": 7}, "swls": {"once_within_days": 14}}
    )
    assert clean == {"eis": {"every_days": 7}, "swls": {"once_within_days": 14}}


def test_validate_schedule_names_every_bad_entry() -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_schedule(
            ["eis", "swls", "ios", "pss4"],
            {
                "eis": {"every_days": 0},
                "swls": {"every_days": 7, "once_within_days": 3},
                "ios": {"every_days": "7"},
                "pss4": {"every_days": True},
                "mspss": {"every_days": 7},
            },
        )
    columns = [problem.column for problem in caught.value.problems]
    assert columns == [f"schedule.{name}" for name in ("eis", "swls", "ios", "pss4", "mspss")]


@given(st.integers(min_value=-1000, max_value=1000))
def test_validate_schedule_range_is_1_to_366(days: int) -> None:
    if 1 <= days <= 366:
        assert validate_schedule(["eis"], {"eis": {"every_days": days}}) == {
            "eis": {"every_days": days}
        }
    else:
        with pytest.raises(InvalidInputError):
            validate_schedule(["eis"], {"eis": {"every_days": days}})


def test_describe_schedule() -> None:
    assert describe_schedule({"every_days": 1}) == "every day"
    assert describe_schedule({"every_days": 7}) == "every 7 days"
    assert describe_schedule({"once_within_days": 1}) == "once, within 1 day of joining"
    assert describe_schedule(None) == "when the participant chooses"


@pytest.fixture
def db(factory: sessionmaker[StoreSession]) -> Iterator[Session]:
    with factory() as session:
        yield session


def _researcher(db: Session, name: str = "rita") -> int:
    create_person(db, f"{name}@uni.example", name.title())
    return set_researcher(db, f"{name.upper()}@uni.example ").id


def test_set_researcher_allows_creating_studies(db: Session) -> None:
    person = create_person(db, "sam@uni.example", "Sam")
    with pytest.raises(PermissionDeniedError):
        create_study(db, person.id, "S", consent_text="c", consent_version="1", instruments=[])
    set_researcher(db, "sam@uni.example")
    study = create_study(
        db, person.id, "S", consent_text="c", consent_version="1", instruments=["eis"]
    )
    assert study.owner_id == person.id
    set_researcher(db, "sam@uni.example", False)
    with pytest.raises(PermissionDeniedError):
        create_study(db, person.id, "T", consent_text="c", consent_version="1", instruments=[])
    with pytest.raises(NotFoundError) as caught:
        set_researcher(db, "nobody@example.org")
    assert caught.value.problems[0].column == "email"


def test_owned_and_joined_lists(db: Session) -> None:
    rita = _researcher(db)
    ana = create_person(db, "ana@example.org", "Ana").id
    ben = create_person(db, "ben@example.org", "Ben").id
    study = create_study(
        db,
        rita,
        "Daily closeness",
        consent_text="We ask...",
        consent_version="v1",
        instruments=["eis", "interaction"],
        schedule={"eis": {"every_days": 7}},
    )
    other = create_study(db, rita, "Pilot", consent_text="c", consent_version="1", instruments=[])
    enroll(db, ana, study.enrollment_code, "v1")
    enroll(db, ben, study.enrollment_code.lower(), "v1")
    withdraw_consent(db, ben, study.id)
    owned = {summary.id: summary for summary in studies_owned(db, rita)}
    assert (owned[study.id].participants, owned[study.id].withdrawn) == (1, 1)
    assert (owned[other.id].participants, owned[other.id].withdrawn) == (0, 0)
    assert studies_owned(db, ana) == []
    joined = studies_joined(db, ana)
    assert [j.study_id for j in joined] == [study.id]
    assert joined[0].schedule == {"eis": {"every_days": 7}}
    assert joined[0].participant_code.startswith("P")
    assert studies_joined(db, ben) == []


def test_closed_study_takes_no_one_new(db: Session) -> None:
    rita = _researcher(db)
    oscar = _researcher(db, "oscar")
    ana = create_person(db, "ana@example.org", "Ana").id
    study = create_study(db, rita, "S", consent_text="c", consent_version="1", instruments=[])
    assert open_study_by_code(db, study.enrollment_code.lower()).id == study.id
    with pytest.raises(PermissionDeniedError):
        close_study(db, oscar, study.id)
    close_study(db, rita, study.id)
    with pytest.raises(ConflictError):
        close_study(db, rita, study.id)
    with pytest.raises(NotFoundError):
        open_study_by_code(db, study.enrollment_code)
    with pytest.raises(NotFoundError):
        enroll(db, ana, study.enrollment_code, "1")


def test_revised_consent_needs_a_new_version_and_old_consents_keep_theirs(db: Session) -> None:
    rita = _researcher(db)
    oscar = _researcher(db, "oscar")
    ana = create_person(db, "ana@example.org", "Ana").id
    ben = create_person(db, "ben@example.org", "Ben").id
    study = create_study(db, rita, "S", consent_text="old", consent_version="1", instruments=[])
    enroll(db, ana, study.enrollment_code, "1")
    with pytest.raises(InvalidInputError) as caught:
        revise_consent(db, rita, study.id, "new text", "1")
    assert caught.value.problems[0].column == "consent_version"
    with pytest.raises(InvalidInputError) as caught:
        revise_consent(db, rita, study.id, " ", "")
    assert {p.column for p in caught.value.problems} == {"consent_text", "consent_version"}
    with pytest.raises(PermissionDeniedError):
        revise_consent(db, oscar, study.id, "mine now", "2")
    revise_consent(db, rita, study.id, "new text", "2")
    with pytest.raises(ConflictError):
        enroll(db, ben, study.enrollment_code, "1")  # agreed to the text shown before
    enroll(db, ben, study.enrollment_code, "2")
    versions = dict(
        db.execute(
            sa.select(Consent.person_id, Consent.consent_version).where(
                Consent.study_id == study.id
            )
        ).all()
    )
    assert versions == {ana: "1", ben: "2"}


def _enrolled_at(db: Session, person_id: int, study_id: int, at: datetime) -> None:
    consent = db.scalars(
        sa.select(Consent).where(Consent.person_id == person_id, Consent.study_id == study_id)
    ).one()
    consent.given_at = at
    db.flush()


def test_compliance_counted_by_hand(db: Session) -> None:
    rita = _researcher(db)
    ana = create_person(db, "ana@example.org", "Ana").id
    ben = create_person(db, "ben@example.org", "Ben").id
    cleo = create_person(db, "cleo@example.org", "Cleo").id
    study = create_study(
        db,
        rita,
        "S",
        consent_text="c",
        consent_version="1",
        instruments=["swls", "interaction", "pss4"],
        schedule={"swls": {"every_days": 7}, "interaction": {"once_within_days": 3}},
    )
    for person in (ana, ben, cleo):
        enroll(db, person, study.enrollment_code, "1")
        _enrolled_at(db, person, study.id, T0)
    withdraw_consent(db, cleo, study.id)
    couple = create_relationship(db, ana, "romantic_partner", "partner").id
    # Ana: SWLS before joining (not counted), on days 1 and 3 (one window), day 15 (window 2,
    # still open at day 16). Ben: SWLS on day 8 only, and a diary record on day 5 (late).
    for day in (-2, 1, 3, 15):
        add_measurement(db, ana, "swls", SWLS, taken_at=T0 + timedelta(days=day))
    add_measurement(db, ben, "swls", SWLS, taken_at=T0 + timedelta(days=8))
    add_measurement(db, cleo, "swls", SWLS, taken_at=T0 + timedelta(days=1))
    ben_couple = create_relationship(db, ben, "friend", "friend").id
    record_interaction(
        db, ben, ben_couple, RATINGS, channel="phone", occurred_at=T0 + timedelta(days=5)
    )
    assert couple
    now = T0 + timedelta(days=16)
    frame = study_compliance(db, rita, study.id, now=now)
    assert list(frame.columns) == list(COMPLIANCE_COLUMNS)
    codes = dict(
        db.execute(
            sa.select(Consent.person_id, Consent.participant_code).where(
                Consent.study_id == study.id
            )
        ).all()
    )
    assert sorted(frame["participant_code"].unique()) == sorted([codes[ana], codes[ben]])
    rows = {(r.participant_code, r.instrument_id): r for r in frame.itertuples()}
    a_swls = rows[(codes[ana], "swls")]
    # 16 days: windows 0 and 1 closed (due 2), window 2 open; done: window 0 only.
    assert (a_swls.windows_due, a_swls.windows_done, a_swls.windows_missed) == (2, 1, 1)
    assert a_swls.current_window_done
    assert a_swls.records == 3
    assert a_swls.last_record_at == T0 + timedelta(days=15)
    assert a_swls.compliance == pytest.approx(0.5)
    b_swls = rows[(codes[ben], "swls")]
    assert (b_swls.windows_due, b_swls.windows_done, b_swls.windows_missed) == (2, 1, 1)
    assert not b_swls.current_window_done
    a_diary = rows[(codes[ana], "interaction")]
    assert (a_diary.windows_due, a_diary.windows_done, a_diary.records) == (1, 0, 0)
    b_diary = rows[(codes[ben], "interaction")]
    assert (b_diary.windows_due, b_diary.windows_done, b_diary.windows_missed) == (1, 1, 0)
    assert b_diary.compliance == 1.0
    assert "pss4" not in set(frame["instrument_id"])  # offered, not scheduled
    # Early on nothing is due yet.
    early = study_compliance(db, rita, study.id, now=T0 + timedelta(days=2))
    assert set(early["windows_due"]) == {0}
    assert early["compliance"].map(math.isnan).all()
    audits = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.RESEARCHER_READ)
    ).all()
    assert [(a.actor_id, a.study_id, a.row_count) for a in audits] == [
        (rita, study.id, 4),
        (rita, study.id, 4),
    ]


def test_compliance_only_for_the_owner(db: Session) -> None:
    rita = _researcher(db)
    oscar = _researcher(db, "oscar")
    ana = create_person(db, "ana@example.org", "Ana").id
    study = create_study(db, rita, "S", consent_text="c", consent_version="1", instruments=["eis"])
    enroll(db, ana, study.enrollment_code, "1")
    for actor in (oscar, ana):
        with pytest.raises(PermissionDeniedError):
            study_compliance(db, actor, study.id)
    with pytest.raises(NotFoundError):
        study_compliance(db, rita, study.id + 100)
    assert db.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0
    empty = study_compliance(db, rita, study.id)  # nothing scheduled
    assert empty.empty
    assert list(empty.columns) == list(COMPLIANCE_COLUMNS)


def test_compliance_on_a_committed_database(factory: sessionmaker[StoreSession]) -> None:
    """Times come back from the database timezone-aware on both backends."""
    with transaction(factory) as session:
        rita = _researcher(session)
        ana = create_person(session, "ana@example.org", "Ana").id
        study = create_study(
            session,
            rita,
            "S",
            consent_text="c",
            consent_version="1",
            instruments=["swls"],
            schedule={"swls": {"every_days": 1}},
        )
        enroll(session, ana, study.enrollment_code, "1")
        study_id = study.id
    with transaction(factory) as session:
        consent = session.scalars(sa.select(Consent)).one()
        start = consent.given_at
        for hours in (1, 2, 30):
            add_measurement(session, ana, "swls", SWLS, taken_at=start + timedelta(hours=hours))
    with transaction(factory) as session:
        frame = study_compliance(session, rita, study_id, now=start + timedelta(hours=50))
        assert session.scalar(sa.select(sa.func.count(Measurement.id))) == 3
    row = frame.iloc[0]
    assert (row["windows_due"], row["windows_done"], row["windows_missed"]) == (2, 2, 0)
    assert not row["current_window_done"]


def test_delete_study_needs_the_title_and_keeps_participants_records(db: Session) -> None:
    rita = _researcher(db)
    oscar = _researcher(db, "oscar")
    ana = create_person(db, "ana@example.org", "Ana").id
    study = create_study(
        db, rita, "Pilot", consent_text="c", consent_version="1", instruments=["swls"]
    )
    enroll(db, ana, study.enrollment_code, "1")
    measurement = add_measurement(db, ana, "swls", SWLS, study_id=study.id)
    study_compliance(db, rita, study.id)
    with pytest.raises(PermissionDeniedError):
        delete_study(db, oscar, study.id, "Pilot")
    with pytest.raises(InvalidInputError) as caught:
        delete_study(db, rita, study.id, "pilot")
    assert caught.value.problems[0].column == "confirm_title"
    delete_study(db, rita, study.id, " Pilot ")
    db.expire_all()
    assert db.get(Study, study.id) is None
    assert db.scalar(sa.select(sa.func.count(Consent.id))) == 0
    kept = db.get_one(Measurement, measurement.id)
    assert kept.study_id is None
    assert db.scalar(sa.select(AuditEvent.study_id)) is None  # the event stays, unlinked


def test_transfer_study_to_another_researcher(db: Session) -> None:
    rita = _researcher(db)
    oscar = _researcher(db, "oscar")
    create_person(db, "ana@example.org", "Ana")
    study = create_study(db, rita, "S", consent_text="c", consent_version="1", instruments=[])
    for email, reason in (
        ("nobody@example.org", "no account with this email address"),
        ("ana@example.org", "this account is not a researcher"),
        ("rita@uni.example", "this is your own account"),
    ):
        with pytest.raises(InvalidInputError) as caught:
            transfer_study(db, rita, study.id, email)
        assert caught.value.problems[0].message == reason
    with pytest.raises(PermissionDeniedError):
        transfer_study(db, oscar, study.id, "oscar@uni.example")
    transfer_study(db, rita, study.id, "Oscar@Uni.example")
    assert [s.id for s in studies_owned(db, oscar)] == [study.id]
    with pytest.raises(PermissionDeniedError):
        study_compliance(db, rita, study.id)


_offsets = st.lists(st.integers(min_value=-5 * 24, max_value=70 * 24), max_size=30)


@given(
    every=st.integers(min_value=1, max_value=14),
    hours=_offsets,
    elapsed=st.integers(min_value=0, max_value=60 * 24),
)
def test_schedule_windows_rules(every: int, hours: list[int], elapsed: int) -> None:
    """done <= due = floor(elapsed / n); a record in every closed window means none missed;
    another record never lowers what is done; records outside [consent, now] do not count."""
    now = T0 + timedelta(hours=elapsed)
    times = sorted(T0 + timedelta(hours=h) for h in hours)
    entry = {"every_days": every}
    counts = schedule_windows(T0, times, entry, now)
    assert counts.windows_due == elapsed // (24 * every)
    assert 0 <= counts.windows_done <= counts.windows_due
    assert counts.records == sum(1 for t in times if T0 <= t <= now)
    full = sorted(times + [T0 + timedelta(days=every * k) for k in range(counts.windows_due)])
    assert schedule_windows(T0, full, entry, now).windows_missed == 0
    more = sorted([*times, T0 + timedelta(hours=elapsed // 2)])
    assert schedule_windows(T0, more, entry, now).windows_done >= counts.windows_done
    inside = [t for t in times if T0 <= t <= now]
    assert schedule_windows(T0, inside, entry, now) == counts


@given(within=st.integers(min_value=1, max_value=30), hours=_offsets, elapsed=st.integers(0, 1500))
def test_once_within_rules(within: int, hours: list[int], elapsed: int) -> None:
    now = T0 + timedelta(hours=elapsed)
    times = sorted(T0 + timedelta(hours=h) for h in hours)
    counts = schedule_windows(T0, times, {"once_within_days": within}, now)
    assert counts.windows_due == (1 if elapsed >= 24 * within else 0)
    answered = any(T0 <= t <= now for t in times)
    assert counts.windows_done == (1 if answered and counts.windows_due else 0)
    assert counts.current_window_done == answered


def test_own_progress_says_what_is_due_by_when(db: Session) -> None:
    rita = _researcher(db)
    ana = create_person(db, "ana@example.org", "Ana").id
    study = create_study(
        db,
        rita,
        "S",
        consent_text="c",
        consent_version="1",
        instruments=["swls", "pss4", "eis"],
        schedule={"swls": {"every_days": 7}, "pss4": {"once_within_days": 14}},
    )
    enroll(db, ana, study.enrollment_code, "1")
    _enrolled_at(db, ana, study.id, T0)
    add_measurement(db, ana, "swls", SWLS, taken_at=T0 + timedelta(days=1))
    (joined,) = studies_joined(db, ana)
    rows = {r.instrument_id: r for r in own_progress(db, ana, joined, now=T0 + timedelta(days=9))}
    assert set(rows) == {"swls", "pss4"}  # eis is not scheduled
    assert (rows["swls"].counts.windows_due, rows["swls"].counts.windows_done) == (1, 1)
    assert rows["swls"].due_by == T0 + timedelta(days=14)  # window 1 closes on day 14
    assert rows["pss4"].due_by == T0 + timedelta(days=14)
    add_measurement(db, ana, "swls", SWLS, taken_at=T0 + timedelta(days=9))
    add_measurement(
        db, ana, "pss4", {f"pss4_{n}": 2 for n in range(1, 5)}, taken_at=T0 + timedelta(days=9)
    )
    rows = {r.instrument_id: r for r in own_progress(db, ana, joined, now=T0 + timedelta(days=9))}
    assert rows["swls"].due_by is None
    assert rows["pss4"].due_by is None
    assert db.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0
