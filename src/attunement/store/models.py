"""The domain model of attunement: people, their relationships, and what they record.

One source of truth for the schema (Alembic migrations are generated from it and reviewed).
Every table has an integer ``id``; timestamps are UTC and timezone-aware; item responses and
scores are JSON documents keyed by the instrument's column names (``eis_1`` ... ``eis_total``,
see :mod:`attunement.instruments`).

Privacy defaults are in the schema: an interaction note is private (``note_shared`` false) and
records are shared with the other members of the relationship only as the relationship's
defaults say (which the person can change per record). Who may read what is decided in
:mod:`attunement.store.access`, never by a caller looking at these flags on its own.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from attunement.store.types import JSONDocument, UTCDateTime, text_enum, utcnow

__all__ = [
    "AuditAction",
    "AuditEvent",
    "Base",
    "Channel",
    "ClosenessCondition",
    "ClosenessQuestion",
    "ClosenessSession",
    "ClosenessSet",
    "ClosenessState",
    "Consent",
    "Interaction",
    "Invitation",
    "KeptChatSummary",
    "Measurement",
    "Membership",
    "MembershipRole",
    "Person",
    "PracticeLog",
    "RecordSource",
    "Relationship",
    "RelationshipType",
    "ReminderFrequency",
    "ReminderSchedule",
    "Study",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (names appear in error messages)."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDocument}  # noqa: RUF012


# -- enumerations ---------------------------------------------------------------------------


class RelationshipType(enum.StrEnum):
    """What kind of relationship two or more people have."""

    ROMANTIC_PARTNER = "romantic_partner"
    FAMILY = "family"
    FRIEND = "friend"
    THERAPEUTIC = "therapeutic"
    COLLEAGUE = "colleague"
    PET = "pet"
    OTHER = "other"


class MembershipRole(enum.StrEnum):
    """The role a person has within a relationship."""

    PARTNER = "partner"
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    FRIEND = "friend"
    THERAPIST = "therapist"
    CLIENT = "client"
    COLLEAGUE = "colleague"
    OTHER = "other"


class Channel(enum.StrEnum):
    """How an interaction took place."""

    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"
    TEXT = "text"
    SILENT_TOGETHER = "silent_together"


class ClosenessCondition(enum.StrEnum):
    """36 Questions condition: the closeness sets, or the small-talk control sets."""

    CLOSENESS = "closeness"
    SMALL_TALK = "small_talk"


class ClosenessState(enum.StrEnum):
    """Where a live 36 Questions session stands; a reload resumes from here."""

    WAITING = "waiting"  # created, the second person has not joined yet
    IOS_BEFORE = "ios_before"  # both joined, rating closeness before the questions
    IN_PROGRESS = "in_progress"  # working through the sets
    IOS_AFTER = "ios_after"  # rating closeness after the questions
    FINISHED = "finished"
    ABANDONED = "abandoned"


class ReminderFrequency(enum.StrEnum):
    """How often a reminder repeats."""

    DAILY = "daily"
    WEEKLY = "weekly"


class RecordSource(enum.StrEnum):
    """Where a stored record came from."""

    APP = "app"
    IMPORT = "import"
    DEMO = "demo"


class AuditAction(enum.StrEnum):
    """What an audit event records."""

    EXPORT = "export"
    RESEARCHER_READ = "researcher_read"
    IMPORT = "import"
    ERASURE = "erasure"
    BACKUP = "backup"
    RESTORE = "restore"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_RENEWED = "consent_renewed"


def _fk(target: str, ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete=ondelete)


# -- people and relationships ---------------------------------------------------------------


class Person(Base):
    """An account: one human being who signs in and records.

    ``email`` keeps the spelling given; uniqueness ignores case (an index on ``lower(email)``).
    ``password_hash`` is an argon2id hash (:mod:`attunement.store.passwords`); a person created
    by an import or the demo without a password cannot sign in until they reset it.
    """

    __tablename__ = "person"
    __table_args__ = (
        sa.CheckConstraint("length(email) >= 3", name="email_not_empty"),
        sa.CheckConstraint("length(display_name) >= 1", name="display_name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_researcher: Mapped[bool] = mapped_column(default=False)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    email_verified_at: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    # SHA-256 of the secret token in the person's private iCalendar feed URL (None: no feed).
    calendar_token_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True, unique=True)

    memberships: Mapped[list[Membership]] = orm.relationship(
        back_populates="person", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Person(id={self.id!r})"


sa.Index("uq_person_email_lower", sa.func.lower(Person.email), unique=True)


class Relationship(Base):
    """A relationship between people (or a person and a pet), with its sharing settings.

    ``share_measurements_default`` and ``share_interactions_default`` are the initial value of
    a new record's ``shared`` flag. With ``mutual_reveal`` a member sees another member's record
    of an interaction only once they have recorded the same interaction themselves.
    """

    __tablename__ = "relationship"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[RelationshipType] = mapped_column(text_enum(RelationshipType, "relationship_type"))
    name: Mapped[str | None] = mapped_column(sa.String(120))
    created_by_id: Mapped[int | None] = mapped_column(_fk("person.id", "SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    share_measurements_default: Mapped[bool] = mapped_column(default=False)
    share_interactions_default: Mapped[bool] = mapped_column(default=True)
    mutual_reveal: Mapped[bool] = mapped_column(default=True)

    memberships: Mapped[list[Membership]] = orm.relationship(
        back_populates="relationship", passive_deletes=True, order_by="Membership.id"
    )

    def __repr__(self) -> str:
        return f"Relationship(id={self.id!r}, type={self.type!r})"


class Membership(Base):
    """A person's membership of a relationship, from ``joined_at`` until ``left_at``.

    At most one current (not left) membership per person and relationship. A former member
    keeps their own records but loses access to the others'.
    """

    __tablename__ = "membership"
    __table_args__ = (
        sa.Index(
            "uq_membership_current",
            "relationship_id",
            "person_id",
            unique=True,
            sqlite_where=sa.text("left_at IS NULL"),
            postgresql_where=sa.text("left_at IS NULL"),
        ),
        sa.CheckConstraint("left_at IS NULL OR left_at >= joined_at", name="left_after_joined"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(_fk("relationship.id"), index=True)
    person_id: Mapped[int] = mapped_column(_fk("person.id"), index=True)
    role: Mapped[MembershipRole] = mapped_column(text_enum(MembershipRole, "membership_role"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]

    person: Mapped[Person] = orm.relationship(back_populates="memberships")
    relationship: Mapped[Relationship] = orm.relationship(back_populates="memberships")

    @property
    def is_current(self) -> bool:
        return self.left_at is None


class Invitation(Base):
    """A single-use invitation into a relationship. Only the SHA-256 of the token is stored
    (:func:`attunement.store.tokens.new_token`); the link carries the token itself."""

    __tablename__ = "invitation"
    __table_args__ = (sa.CheckConstraint("expires_at > created_at", name="expires_after_created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(_fk("relationship.id"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(_fk("person.id", "SET NULL"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(320))
    role: Mapped[MembershipRole] = mapped_column(text_enum(MembershipRole, "invitation_role"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(_fk("person.id", "SET NULL"))


# -- research -------------------------------------------------------------------------------


class Study(Base):
    """A research study owned by a researcher.

    ``instruments`` is a list of instrument ids; ``schedule`` maps an instrument id to how often
    it is given (``{"eis": {"every_days": 7}, "interaction": {"every_days": 1}}``).
    Participants join with ``enrollment_code`` and consent to ``consent_text`` at
    ``consent_version``.
    """

    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(_fk("person.id", "RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    instruments: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    schedule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent_text: Mapped[str] = mapped_column(sa.Text)
    consent_version: Mapped[str] = mapped_column(sa.String(40))
    enrollment_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    randomize_closeness: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class Consent(Base):
    """A person's consent to a study, with the consent text version they agreed to.

    ``participant_code`` is the pseudonym used in every research export of the study. A
    withdrawn consent (``withdrawn_at`` set) removes the person from later exports; at most
    one consent per person and study is in force at a time.
    """

    __tablename__ = "consent"
    __table_args__ = (
        sa.Index(
            "uq_consent_in_force",
            "study_id",
            "person_id",
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        ),
        sa.UniqueConstraint("study_id", "participant_code"),
        sa.CheckConstraint(
            "withdrawn_at IS NULL OR withdrawn_at >= given_at", name="withdrawn_after_given"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(_fk("study.id"), index=True)
    person_id: Mapped[int] = mapped_column(_fk("person.id"), index=True)
    consent_version: Mapped[str] = mapped_column(sa.String(40))
    participant_code: Mapped[str] = mapped_column(sa.String(16))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


# -- records --------------------------------------------------------------------------------


class Measurement(Base):
    """One administration of an instrument to one person.

    ``about_person_id`` names the person the answers are about (the EIS is answered about one
    named person) and ``relationship_id`` the relationship; both may be empty for instruments
    about oneself (life satisfaction, stress). ``responses`` holds the item answers keyed by
    item column (``eis_1``), ``scores`` the scored values (``eis_total``, ``eis_band``).
    """

    __tablename__ = "measurement"
    __table_args__ = (
        sa.Index("ix_measurement_person_instrument_time", "person_id", "instrument_id", "taken_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(_fk("person.id"))
    relationship_id: Mapped[int | None] = mapped_column(_fk("relationship.id"), index=True)
    about_person_id: Mapped[int | None] = mapped_column(_fk("person.id", "SET NULL"))
    study_id: Mapped[int | None] = mapped_column(_fk("study.id", "SET NULL"), index=True)
    instrument_id: Mapped[str] = mapped_column(sa.String(40))
    instrument_version: Mapped[str] = mapped_column(sa.String(120))
    taken_at: Mapped[datetime]
    responses: Mapped[dict[str, Any]]
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    shared: Mapped[bool] = mapped_column(default=False)
    source: Mapped[RecordSource] = mapped_column(
        text_enum(RecordSource, "measurement_source"), default=RecordSource.APP
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Interaction(Base):
    """One person's record of one interaction (the interaction record of the process model).

    ``responses`` are the ratings keyed by the ``interaction`` instrument's item columns;
    ``scores`` their scored values. ``note`` is private unless ``note_shared``; the ratings are
    visible to other members only if ``shared`` (and, with mutual reveal, once they have
    recorded the same interaction). ``partner_record_id`` links to the other person's record of
    the same interaction; :func:`attunement.store.records.link_interactions` sets both sides.
    """

    __tablename__ = "interaction"
    __table_args__ = (
        sa.Index("ix_interaction_relationship_time", "relationship_id", "occurred_at"),
        sa.Index("ix_interaction_person_time", "person_id", "occurred_at"),
        sa.CheckConstraint(
            "duration_minutes IS NULL OR (duration_minutes >= 0 AND duration_minutes <= 1440)",
            name="duration_minutes_range",
        ),
        sa.CheckConstraint(
            "partner_record_id IS NULL OR partner_record_id <> id", name="not_linked_to_itself"
        ),
        sa.UniqueConstraint("partner_record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(_fk("person.id"))
    relationship_id: Mapped[int] = mapped_column(_fk("relationship.id"))
    study_id: Mapped[int | None] = mapped_column(_fk("study.id", "SET NULL"), index=True)
    occurred_at: Mapped[datetime]
    duration_minutes: Mapped[int | None]
    channel: Mapped[Channel] = mapped_column(text_enum(Channel, "interaction_channel"))
    instrument_version: Mapped[str] = mapped_column(sa.String(120))
    responses: Mapped[dict[str, Any]]
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str | None] = mapped_column(sa.Text)
    note_shared: Mapped[bool] = mapped_column(default=False)
    shared: Mapped[bool] = mapped_column(default=True)
    partner_record_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("interaction.id", ondelete="SET NULL")
    )
    source: Mapped[RecordSource] = mapped_column(
        text_enum(RecordSource, "interaction_source"), default=RecordSource.APP
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClosenessSession(Base):
    """A 36 Questions session (Aron et al., 1997) between two people, live on two devices.

    The whole state lives here so a reload or a second device resumes exactly where the
    session was: ``state``, ``current_set`` (1-3) and ``current_question`` (1-12), and who read
    first (``first_reader_id``; the reader alternates each question). ``version`` increases on
    every change; a concurrent stale update raises ``StaleDataError`` (optimistic locking), which
    callers turn into a :class:`~attunement.errors.ConflictError`. IOS ratings (1-7) before and
    after are kept for person ``a`` (who created it) and ``b`` (who joined with ``join_code``).
    Per-set and per-question timestamps are in :class:`ClosenessSet` and
    :class:`ClosenessQuestion`.
    """

    __tablename__ = "closeness_session"
    __table_args__ = (
        sa.CheckConstraint("current_set BETWEEN 1 AND 3", name="current_set_range"),
        sa.CheckConstraint("current_question BETWEEN 1 AND 12", name="current_question_range"),
        *(
            sa.CheckConstraint(f"{column} IS NULL OR {column} BETWEEN 1 AND 7", name=column)
            for column in ("ios_before_a", "ios_before_b", "ios_after_a", "ios_after_b")
        ),
        sa.CheckConstraint("person_b_id IS NULL OR person_b_id <> person_a_id", name="two_people"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    join_code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    relationship_id: Mapped[int | None] = mapped_column(_fk("relationship.id", "SET NULL"))
    study_id: Mapped[int | None] = mapped_column(_fk("study.id", "SET NULL"))
    person_a_id: Mapped[int | None] = mapped_column(_fk("person.id", "SET NULL"), index=True)
    person_b_id: Mapped[int | None] = mapped_column(_fk("person.id", "SET NULL"), index=True)
    condition: Mapped[ClosenessCondition] = mapped_column(
        text_enum(ClosenessCondition, "closeness_condition")
    )
    state: Mapped[ClosenessState] = mapped_column(
        text_enum(ClosenessState, "closeness_state"), default=ClosenessState.WAITING
    )
    current_set: Mapped[int] = mapped_column(default=1)
    current_question: Mapped[int] = mapped_column(default=1)
    first_reader_id: Mapped[int | None] = mapped_column(_fk("person.id", "SET NULL"))
    eye_contact_ending: Mapped[bool] = mapped_column(default=False)
    ios_before_a: Mapped[int | None]
    ios_before_b: Mapped[int | None]
    ios_after_a: Mapped[int | None]
    ios_after_b: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    # The whole session as attunement.closeness.SessionState.to_dict(); the columns above
    # mirror it for queries, this document is what a reload resumes from.
    live_state: Mapped[dict[str, Any] | None]

    sets: Mapped[list[ClosenessSet]] = orm.relationship(
        order_by="ClosenessSet.set_number", passive_deletes=True, cascade="all, delete-orphan"
    )
    questions: Mapped[list[ClosenessQuestion]] = orm.relationship(
        order_by="(ClosenessQuestion.set_number, ClosenessQuestion.question_number)",
        passive_deletes=True,
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ClosenessSet(Base):
    """When one set of a 36 Questions session started, when its 15 minutes were up (the time
    the notice was shown) and when the pair moved on."""

    __tablename__ = "closeness_set"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "set_number"),
        sa.CheckConstraint("set_number BETWEEN 1 AND 3", name="set_number_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(_fk("closeness_session.id"))
    set_number: Mapped[int]
    started_at: Mapped[datetime]
    time_up_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class ClosenessQuestion(Base):
    """When one question of a session was shown and finished, and who read it aloud."""

    __tablename__ = "closeness_question"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "set_number", "question_number"),
        sa.CheckConstraint("set_number BETWEEN 1 AND 3", name="set_number_range"),
        sa.CheckConstraint("question_number BETWEEN 1 AND 12", name="question_number_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(_fk("closeness_session.id"))
    set_number: Mapped[int]
    question_number: Mapped[int]
    reader_id: Mapped[int | None] = mapped_column(_fk("person.id", "SET NULL"))
    shown_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class PracticeLog(Base):
    """One time a person did a practice (appreciation, a routine check-in, raising a problem
    early, active listening, ...), optionally within a relationship."""

    __tablename__ = "practice_log"
    __table_args__ = (sa.Index("ix_practice_log_person_time", "person_id", "done_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(_fk("person.id"))
    relationship_id: Mapped[int | None] = mapped_column(_fk("relationship.id"), index=True)
    practice: Mapped[str] = mapped_column(sa.String(40))
    done_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(sa.Text)
    shared: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KeptChatSummary(Base):
    """Weekly signals of an analysed chat that a person chose to keep (never message text).

    A chat export is analysed in memory and forgotten; when the person asks, only the aggregate
    weekly rows are kept here: ``weekly`` is ``{"rows": [...]}`` with one row per participant
    and week holding the numeric columns of ``attunement.conversation.WEEKLY_COLUMNS`` (counts,
    rates, latencies; no words), ``participants`` the labels shown in the report (names, or
    Person A, B... when pseudonymised). Linked to one of the person's relationships and private
    unless ``shared`` (then readable by its current members).
    """

    __tablename__ = "kept_chat_summary"
    __table_args__ = (sa.Index("ix_kept_chat_summary_person_time", "person_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(_fk("person.id"))
    relationship_id: Mapped[int] = mapped_column(_fk("relationship.id"), index=True)
    first_week: Mapped[date] = mapped_column(sa.Date)
    last_week: Mapped[date] = mapped_column(sa.Date)
    participants: Mapped[dict[str, Any]]
    weekly: Mapped[dict[str, Any]]
    shared: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderSchedule(Base):
    """A repeating reminder for one person: fill in an instrument or do a practice.

    ``what`` is an instrument id or practice name. It fires at ``time_of_day`` in ``timezone``,
    every day (every ``every_days`` days, counted from the local day it was created, when that
    is more than 1) or on ``weekdays`` (``"MO,TH"``, iCalendar day codes) for weekly ones; by
    email when ``by_email``, and always in the person's private iCalendar feed, whose secret
    token is stored only as a SHA-256 hash (``feed_token_hash``).
    """

    __tablename__ = "reminder_schedule"
    __table_args__ = (
        sa.CheckConstraint(
            "frequency <> 'weekly' OR weekdays IS NOT NULL", name="weekly_needs_weekdays"
        ),
        sa.CheckConstraint(
            "every_days BETWEEN 1 AND 366 AND (every_days = 1 OR frequency = 'daily')",
            name="every_days_of_daily",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(_fk("person.id"), index=True)
    relationship_id: Mapped[int | None] = mapped_column(_fk("relationship.id"))
    study_id: Mapped[int | None] = mapped_column(_fk("study.id", "SET NULL"))
    what: Mapped[str] = mapped_column(sa.String(40))
    frequency: Mapped[ReminderFrequency] = mapped_column(
        text_enum(ReminderFrequency, "reminder_frequency")
    )
    weekdays: Mapped[str | None] = mapped_column(sa.String(20))
    every_days: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))
    time_of_day: Mapped[time] = mapped_column(sa.Time)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    by_email: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    feed_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    last_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """A record of an export, a researcher's read, an import or an erasure.

    ``details`` never holds names, emails or free text: ids, counts and formats only, so the
    audit log identifies nobody once a person is erased.
    """

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(_fk("person.id", "SET NULL"), index=True)
    action: Mapped[AuditAction] = mapped_column(text_enum(AuditAction, "audit_action"))
    study_id: Mapped[int | None] = mapped_column(_fk("study.id", "SET NULL"))
    relationship_id: Mapped[int | None] = mapped_column(_fk("relationship.id", "SET NULL"))
    row_count: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
