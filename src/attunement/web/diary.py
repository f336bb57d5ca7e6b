"""The interaction diary as pages show it: one's own records beside the other person's view.

Records are stored by :func:`attunement.store.records.record_interaction` and read through
:mod:`attunement.store.access`, which applies mutual reveal: the other person's ratings of the
same interaction become readable once both have recorded it (the two records are linked).
:func:`diary_entries` pairs each of one's records with the other view where the rules allow,
and says plainly what is still hidden and why, without urging anyone to answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from attunement.errors import AttunementError
from attunement.instruments import Instrument
from attunement.store.access import InteractionView, read_interaction, readable_interactions
from attunement.store.engine import StoreSession
from attunement.store.models import Channel, Person
from attunement.store.records import pending_interactions
from attunement.store.types import utcnow

__all__ = [
    "CHANNEL_LABELS",
    "DURATION_CHOICES",
    "WHEN_CHOICES",
    "DiaryEntry",
    "PendingRecord",
    "diary_entries",
    "occurred_at_from_choice",
    "other_view",
    "pending_for",
    "rating_rows",
]

CHANNEL_LABELS: dict[str, str] = {
    Channel.IN_PERSON: "In person",
    Channel.VIDEO: "Video call",
    Channel.PHONE: "Phone call",
    Channel.TEXT: "Text messages",
    Channel.SILENT_TOGETHER: "Quiet time together",
}

#: Minutes ago, as a phone-friendly choice instead of a date picker.
WHEN_CHOICES: tuple[tuple[int, str], ...] = (
    (0, "Just now"),
    (30, "30 min ago"),
    (60, "1 hour ago"),
    (120, "2 hours ago"),
    (240, "Earlier today"),
)

DURATION_CHOICES: tuple[tuple[int, str], ...] = (
    (5, "5 min"),
    (10, "10 min"),
    (20, "20 min"),
    (30, "30 min"),
    (60, "1 hour"),
    (120, "2 hours+"),
)


def occurred_at_from_choice(minutes_ago: int, *, now: datetime | None = None) -> datetime:
    """The time of the interaction from a "minutes ago" choice (0 to one day)."""
    minutes = min(max(minutes_ago, 0), 24 * 60)
    return (now or utcnow()) - timedelta(minutes=minutes)


@dataclass(frozen=True)
class PendingRecord:
    """Another member recorded an interaction one has not answered: when, how, by whom.
    The ratings stay hidden until one adds one's own view."""

    id: int
    occurred_at: datetime
    channel_label: str
    person_name: str


@dataclass(frozen=True)
class DiaryEntry:
    """One interaction: one's own record (if any) and the other's view (if readable)."""

    own: InteractionView | None
    other: InteractionView | None
    other_name: str | None
    #: "revealed" (both views), "waiting" (the other has not answered), "kept_private" (they
    #: answered without sharing), "private" (one's own, not shared), "theirs" (only theirs)
    status: str

    @property
    def occurred_at(self) -> datetime:
        view = self.own or self.other
        if view is None:  # pragma: no cover - an entry always has one view
            raise ValueError("empty diary entry")
        return view.occurred_at


def _name(db: StoreSession, person_id: int, cache: dict[int, str]) -> str:
    if person_id not in cache:
        person = db.get(Person, person_id)
        cache[person_id] = person.display_name if person else "someone"
    return cache[person_id]


def other_view(db: StoreSession, me_id: int, own: InteractionView) -> InteractionView | None:
    """The other person's record of the same interaction, if the rules let ``me`` read it."""
    if own.partner_record_id is None:
        return None
    try:
        return read_interaction(db, me_id, own.partner_record_id)
    except AttunementError:
        return None


def diary_entries(db: StoreSession, me: Person, relationship_id: int) -> list[DiaryEntry]:
    """The diary of one relationship as ``me`` may see it, newest first."""
    names: dict[int, str] = {}
    views = readable_interactions(db, me.id, relationship_id)
    by_id = {view.id: view for view in views}
    entries: list[DiaryEntry] = []
    used: set[int] = set()
    for view in views:
        if not view.is_own:
            continue
        other = by_id.get(view.partner_record_id) if view.partner_record_id else None
        if other is not None:
            used.add(other.id)
            status = "revealed"
            name = _name(db, other.person_id, names)
        elif view.partner_record_id is not None:
            status = "kept_private"  # they answered and chose not to share their view
            name = None
        else:
            status = "waiting" if view.shared else "private"
            name = None
        entries.append(DiaryEntry(view, other, name, status))
    for view in views:
        if view.is_own or view.id in used:
            continue
        entries.append(DiaryEntry(None, view, _name(db, view.person_id, names), "theirs"))
    entries.sort(key=lambda entry: entry.occurred_at, reverse=True)
    return entries


def pending_for(db: StoreSession, me: Person, relationship_id: int) -> list[PendingRecord]:
    """Records of the others that ``me`` may add a view to (newest first)."""
    names: dict[int, str] = {}
    rows = pending_interactions(db, me.id, relationship_id)
    pending = [
        PendingRecord(
            id=record_id,
            occurred_at=occurred_at,
            channel_label=CHANNEL_LABELS.get(channel, channel),
            person_name=_name(db, person_id, names),
        )
        for record_id, occurred_at, channel, person_id in rows
    ]
    pending.reverse()
    return pending


def rating_rows(instrument: Instrument, view: InteractionView) -> list[tuple[str, object]]:
    """``(question, answer)`` for each rating of a record, in item order (None = skipped)."""
    return [
        (item.text or f"Item {item.number}", view.responses.get(item.column))
        for item in instrument.items
    ]
