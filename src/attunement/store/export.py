"""Exports researchers can analyse: long and dyad-wide tables, CSV, Parquet and SPSS, with a
codebook.

Three tables (column names fixed and documented in docs/store.md and in every codebook):

``long``
    One row per record (a measurement or one person's interaction record): who
    (``participant_id``), in which dyad (``dyad_id``) and about whom (``partner_id``), when
    (``occurred_at`` in UTC, ``day`` since the dyad's first day, ``week`` = ``day // 7 + 1``),
    what (``record_type``, ``instrument_id``, ``instrument_version``), interaction context
    (``channel``, ``duration_minutes``, ``interaction_key``, ``both_recorded``), then the item
    columns (``eis_1`` ...) and score columns (``eis_total`` ...).
``dyad_interactions``
    One row per dyad and interaction: both people's records of the same interaction side by
    side. Suffix scheme: ``_a`` for member a and ``_b`` for member b of the dyad (member a is
    the one whose role comes first in the role list, then who joined first), so
    ``interaction_responsiveness_a`` is a's perceived responsiveness. An interaction recorded
    by one person only has the other side empty. Ready for actor-partner models (APIM):
    stack it to the pairwise layout with one row per person as actor.
``dyad_weekly``
    One row per dyad and week: each person's measurements of that week (the last one when
    there are several of an instrument), with the same ``_a`` / ``_b`` suffixes.

Research exports (:func:`study_tables`) hold only the researcher's own study, only
participants whose consent is in force, only records made since they consented with the
study's instruments, never notes (free text) and never names: people and dyads appear under
pseudonyms (the participant code of their consent; a dyad code derived from the study and the
pair). A member's export of a relationship (:func:`relationship_tables`) holds exactly what
that member may read (:mod:`attunement.store.access`), with ``P1``, ``P2``, ... for the
members. Every export is written to the audit log.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from attunement import __version__
from attunement.errors import InvalidInputError
from attunement.store.access import (
    participants_in_force,
    readable_interactions,
    readable_measurements,
    require_current_member,
)
from attunement.store.models import (
    AuditAction,
    Interaction,
    Measurement,
    Membership,
    MembershipRole,
    Relationship,
    Study,
)
from attunement.store.records import record_audit

__all__ = [
    "EXPORT_FORMATS",
    "LONG_ID_COLUMNS",
    "ExportTables",
    "export_archive",
    "export_relationship",
    "export_study",
    "relationship_tables",
    "study_tables",
    "write_export",
]

EXPORT_FORMATS = ("csv", "parquet", "sav")
LONG_ID_COLUMNS = (
    "dyad_id",
    "participant_id",
    "partner_id",
    "role",
    "relationship_type",
    "record_type",
    "instrument_id",
    "instrument_version",
    "occurred_at",
    "day",
    "week",
    "channel",
    "duration_minutes",
    "interaction_key",
    "both_recorded",
)
_DYAD_ID_COLUMNS = (
    "dyad_id",
    "relationship_type",
    "participant_a",
    "participant_b",
    "role_a",
    "role_b",
)
_ROLE_ORDER = {role: index for index, role in enumerate(MembershipRole)}
_DESCRIPTIONS = {
    "dyad_id": "Pseudonymous code of the dyad (a pair of people in one relationship).",
    "participant_id": "Pseudonymous code of the person who answered.",
    "partner_id": "Code of the other person the record is about "
    "(empty: unknown, or not taking part).",
    "role": "The answering person's role in the relationship.",
    "relationship_type": "Type of the relationship.",
    "record_type": "measurement (a questionnaire) or interaction (an interaction record).",
    "instrument_id": "Instrument id in attunement's bank.",
    "instrument_version": "Version of the instrument definition used to score.",
    "occurred_at": "When the interaction happened or the questionnaire was answered (UTC).",
    "day": "Whole days since the dyad's first day (0 = first day).",
    "week": "Week of the dyad's participation: day // 7 + 1.",
    "channel": "How the interaction took place.",
    "duration_minutes": "Length of the interaction in minutes.",
    "interaction_key": "Number shared by both people's records of the same interaction.",
    "both_recorded": "1 when both people recorded this interaction, else 0.",
    "participant_a": "Code of dyad member a (suffix _a).",
    "participant_b": "Code of dyad member b (suffix _b).",
    "role_a": "Role of member a.",
    "role_b": "Role of member b.",
}


@dataclass
class ExportTables:
    """The three export tables and their codebook (a JSON-ready dict)."""

    stem: str
    long: pd.DataFrame
    dyad_interactions: pd.DataFrame
    dyad_weekly: pd.DataFrame
    codebook: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "long": self.long,
            "dyad_interactions": self.dyad_interactions,
            "dyad_weekly": self.dyad_weekly,
        }


# -- gathering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    person_id: int
    relationship_id: int | None
    partner_person_id: int | None
    record_type: str
    instrument_id: str
    instrument_version: str
    occurred_at: datetime
    values: dict[str, Any]
    channel: str | None = None
    duration_minutes: int | None = None
    record_id: int = 0
    partner_record_id: int | None = None


@dataclass
class _Scope:
    """Who is in the export under which code, and the dyads."""

    codes: dict[int, str]  # person id -> pseudonym (only people whose data may be exported)
    roles: dict[tuple[int, int], str]  # (relationship id, person id) -> role
    rel_types: dict[int, str]
    dyads: dict[tuple[int, int, int], str]  # (relationship id, person a, person b) -> dyad id
    origins: dict[tuple[int, int, int], datetime]


def study_tables(
    session: Session, actor_id: int, study_id: int, *, audit: bool = True
) -> ExportTables:
    """The export tables of a study for its researcher (see the module docs).

    The read is added to the audit log as ``researcher_read`` (the caller commits);
    :func:`export_study` records an ``export`` instead.
    """
    consents = participants_in_force(session, actor_id, study_id)
    study = session.get_one(Study, study_id)
    given = {consent.person_id: consent.given_at for consent in consents}
    codes = {consent.person_id: consent.participant_code for consent in consents}
    instruments = set(study.instruments)
    memberships = _memberships(session, list(codes))
    scope = _scope(session, memberships, codes, given, study_key=f"study:{study.id}")
    records: list[_Record] = []
    people = list(codes)
    if people:
        measurements = session.scalars(
            sa.select(Measurement).where(
                Measurement.person_id.in_(people), Measurement.instrument_id.in_(instruments)
            )
        )
        records += [_from_measurement(m) for m in measurements if m.taken_at >= given[m.person_id]]
        if "interaction" in instruments:
            interactions = session.scalars(
                sa.select(Interaction).where(Interaction.person_id.in_(people))
            )
            partner_people = _partner_people(session)
            records += [
                _from_interaction(i, partner_people.get(i.partner_record_id))
                for i in interactions
                if i.occurred_at >= given[i.person_id]
            ]
    tables = _build(records, scope, stem=f"study_{study.id}")
    tables.codebook = _codebook(
        tables,
        kind="study",
        title=study.title,
        extra={
            "study_id": study.id,
            "consent_version": study.consent_version,
            "participants": len(codes),
            "excluded": "Participants without consent in force (never consented or withdrawn); "
            "records made before consent; instruments not in the study; all notes.",
        },
    )
    if audit:
        record_audit(
            session,
            actor_id,
            AuditAction.RESEARCHER_READ,
            study_id=study_id,
            row_count=len(tables.long),
            details={"participants": len(codes), "what": "study tables"},
        )
        session.flush()
    return tables


def relationship_tables(session: Session, actor_id: int, relationship_id: int) -> ExportTables:
    """The export tables of one relationship as the actor (a current member) may read it."""
    require_current_member(session, actor_id, relationship_id)
    relationship = session.get_one(Relationship, relationship_id)
    members = list(
        session.scalars(
            sa.select(Membership)
            .where(Membership.relationship_id == relationship_id)
            .order_by(Membership.joined_at, Membership.id)
        )
    )
    codes: dict[int, str] = {}
    for membership in members:
        codes.setdefault(membership.person_id, f"P{len(codes) + 1}")
    scope = _scope(session, members, codes, {}, study_key=None)
    records: list[_Record] = []
    partner_people = _partner_people(session)
    for view in readable_interactions(session, actor_id, relationship_id):
        records.append(
            _Record(
                person_id=view.person_id,
                relationship_id=view.relationship_id,
                partner_person_id=partner_people.get(view.partner_record_id),
                record_type="interaction",
                instrument_id="interaction",
                instrument_version=view.instrument_version,
                occurred_at=view.occurred_at,
                values={**view.responses, **view.scores},
                channel=view.channel,
                duration_minutes=view.duration_minutes,
                record_id=view.id,
                partner_record_id=view.partner_record_id,
            )
        )
    for m in readable_measurements(session, actor_id, relationship_id=relationship_id):
        records.append(
            _Record(
                person_id=m.person_id,
                relationship_id=m.relationship_id,
                partner_person_id=m.about_person_id,
                record_type="measurement",
                instrument_id=m.instrument_id,
                instrument_version=m.instrument_version,
                occurred_at=m.taken_at,
                values={**m.responses, **m.scores},
                record_id=m.id,
            )
        )
    tables = _build(records, scope, stem=f"relationship_{relationship.id}")
    tables.codebook = _codebook(
        tables,
        kind="relationship",
        title=relationship.name or f"Relationship {relationship.id}",
        extra={
            "relationship_id": relationship.id,
            "members": {
                codes[m.person_id]: {"role": str(m.role), "current": m.left_at is None}
                for m in members
            },
            "excluded": "Records the exporting member may not read (not shared, or not yet "
            "revealed); notes of other members that are not shared.",
        },
    )
    return tables


def _memberships(session: Session, people: Sequence[int]) -> list[Membership]:
    if not people:
        return []
    relationship_ids = sa.select(Membership.relationship_id).where(Membership.person_id.in_(people))
    return list(
        session.scalars(
            sa.select(Membership)
            .where(Membership.relationship_id.in_(relationship_ids))
            .order_by(Membership.relationship_id, Membership.joined_at, Membership.id)
        )
    )


def _scope(
    session: Session,
    memberships: Sequence[Membership],
    codes: dict[int, str],
    given: dict[int, datetime],
    *,
    study_key: str | None,
) -> _Scope:
    by_relationship: dict[int, list[Membership]] = {}
    for membership in memberships:
        people = by_relationship.setdefault(membership.relationship_id, [])
        if all(m.person_id != membership.person_id for m in people):
            people.append(membership)
    roles = {(m.relationship_id, m.person_id): str(m.role) for m in memberships}
    rel_types = {
        r.id: str(r.type)
        for r in session.scalars(
            sa.select(Relationship).where(Relationship.id.in_(list(by_relationship)))
        )
    }
    dyads: dict[tuple[int, int, int], str] = {}
    origins: dict[tuple[int, int, int], datetime] = {}
    for relationship_id, members in by_relationship.items():
        ordered = sorted(members, key=lambda m: (_ROLE_ORDER[m.role], m.joined_at, m.id))
        for first, second in combinations(ordered, 2):
            pair = (first.person_id, second.person_id)
            if not any(person in codes for person in pair):
                continue
            key = (relationship_id, *pair)
            if study_key is None:
                dyads[key] = f"D{len(dyads) + 1}"
            else:
                digest = hashlib.sha256(f"{study_key}:{key}".encode()).hexdigest()[:8].upper()
                dyads[key] = f"D{digest}"
            starts = [given[p] for p in pair if p in given]
            if starts:
                origins[key] = _midnight(min(starts))
    return _Scope(codes, roles, rel_types, dyads, origins)


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _partner_people(session: Session) -> dict[int | None, int]:
    rows = session.execute(sa.select(Interaction.id, Interaction.person_id))
    return {row[0]: row[1] for row in rows}


def _from_measurement(m: Measurement) -> _Record:
    return _Record(
        person_id=m.person_id,
        relationship_id=m.relationship_id,
        partner_person_id=m.about_person_id,
        record_type="measurement",
        instrument_id=m.instrument_id,
        instrument_version=m.instrument_version,
        occurred_at=m.taken_at,
        values={**m.responses, **m.scores},
        record_id=m.id,
    )


def _from_interaction(i: Interaction, partner_person: int | None) -> _Record:
    return _Record(
        person_id=i.person_id,
        relationship_id=i.relationship_id,
        partner_person_id=partner_person,
        record_type="interaction",
        instrument_id="interaction",
        instrument_version=i.instrument_version,
        occurred_at=i.occurred_at,
        values={**i.responses, **i.scores},
        channel=str(i.channel),
        duration_minutes=i.duration_minutes,
        record_id=i.id,
        partner_record_id=i.partner_record_id,
    )


# -- building the tables --------------------------------------------------------------------


def _dyads_of(record: _Record, scope: _Scope) -> list[tuple[int, int, int]]:
    """The dyad a record belongs to: the pair with the person it is about, or the person's only
    dyad (in the record's relationship, if any). A record that could belong to several dyads
    (an unlinked record in a group, a questionnaire about oneself of a person in several
    dyads) belongs to none: it appears once in the long table with an empty ``dyad_id``."""
    found = []
    for key in scope.dyads:
        relationship_id, a, b = key
        if record.person_id not in (a, b):
            continue
        if record.relationship_id is not None and relationship_id != record.relationship_id:
            continue
        if record.partner_person_id is not None and record.partner_person_id not in (a, b):
            continue
        found.append(key)
    return found if len(found) == 1 else []


def _build(records: Iterable[_Record], scope: _Scope, *, stem: str) -> ExportTables:
    records = sorted(records, key=lambda r: (r.occurred_at, r.person_id, r.record_id))
    interaction_keys: dict[int, int] = {}
    for record in records:
        if record.record_type == "interaction" and record.record_id not in interaction_keys:
            number = len(set(interaction_keys.values())) + 1
            interaction_keys[record.record_id] = number
            if record.partner_record_id is not None:
                interaction_keys[record.partner_record_id] = number
    first_seen: dict[tuple[int, int, int], datetime] = {}
    for record in records:
        for key in _dyads_of(record, scope):
            first_seen.setdefault(key, _midnight(record.occurred_at))
    rows: list[dict[str, Any]] = []
    value_columns: dict[str, None] = {}
    for record in records:
        # A record of a person in no dyad still appears, once, without a dyad.
        solo = (record.relationship_id or 0, record.person_id, 0)
        for key in _dyads_of(record, scope) or [solo]:
            relationship_id, a, b = key
            other = b if record.person_id == a else a
            origin = scope.origins.get(key) or first_seen.get(key) or _midnight(record.occurred_at)
            day = (record.occurred_at - origin) // timedelta(days=1)
            row: dict[str, Any] = {
                "dyad_id": scope.dyads.get(key),
                "participant_id": scope.codes.get(record.person_id),
                "partner_id": scope.codes.get(other),
                "role": scope.roles.get((relationship_id, record.person_id)),
                "relationship_type": scope.rel_types.get(relationship_id),
                "record_type": record.record_type,
                "instrument_id": record.instrument_id,
                "instrument_version": record.instrument_version,
                "occurred_at": record.occurred_at,
                "day": day,
                "week": day // 7 + 1,
                "channel": record.channel,
                "duration_minutes": record.duration_minutes,
                "interaction_key": interaction_keys.get(record.record_id)
                if record.record_type == "interaction"
                else None,
                "both_recorded": None
                if record.record_type != "interaction"
                else int(record.partner_record_id is not None),
                "_person": record.person_id,
                "_a": a,
            }
            for name, value in record.values.items():
                value_columns.setdefault(name, None)
                row[name] = value
            rows.append(row)
    value_order = sorted(value_columns, key=_value_sort_key)
    long = pd.DataFrame(rows, columns=[*LONG_ID_COLUMNS, *value_order, "_person", "_a"])
    long = _typed(long)
    in_dyad = long["dyad_id"].notna()
    dyad_interactions = _dyad_wide(
        long[in_dyad & (long["record_type"] == "interaction")],
        scope,
        ["interaction_key"],
        value_order,
    )
    dyad_weekly = _dyad_wide(
        long[in_dyad & (long["record_type"] == "measurement")], scope, ["week"], value_order
    )
    return ExportTables(
        stem=stem,
        long=long.drop(columns=["_person", "_a"]).reset_index(drop=True),
        dyad_interactions=dyad_interactions,
        dyad_weekly=dyad_weekly,
    )


def _value_sort_key(name: str) -> tuple[str, int, str]:
    instrument, _, rest = name.partition("_")
    if rest.isdigit():
        return (instrument, 0, f"{int(rest):04d}")
    return (instrument, 1, rest)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in ("day", "week", "duration_minutes", "interaction_key", "both_recorded"):
        frame[column] = frame[column].astype("Int64")
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    for column in frame.columns:
        if column in LONG_ID_COLUMNS or column.startswith("_"):
            continue
        if column.endswith("_band"):
            frame[column] = frame[column].astype("object")
            continue
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def _dyad_wide(
    long: pd.DataFrame, scope: _Scope, occasion: list[str], value_order: list[str]
) -> pd.DataFrame:
    keys = ["dyad_id", *occasion]
    columns = [c for c in value_order if c in long.columns and long[c].notna().any()]
    shared_cols = ["channel", "duration_minutes"] if occasion == ["interaction_key"] else []
    dyad_info = {dyad_id: key for key, dyad_id in scope.dyads.items()}
    out_rows: list[dict[str, Any]] = []
    for (dyad_id, occasion_value), group in long.groupby(keys, sort=True):
        relationship_id, a, b = dyad_info[str(dyad_id)]
        row: dict[str, Any] = {
            "dyad_id": dyad_id,
            "relationship_type": scope.rel_types.get(relationship_id),
            "participant_a": scope.codes.get(a),
            "participant_b": scope.codes.get(b),
            "role_a": scope.roles.get((relationship_id, a)),
            "role_b": scope.roles.get((relationship_id, b)),
            occasion[0]: occasion_value,
        }
        for column in shared_cols:
            values = group[column].dropna()
            row[column] = values.iloc[0] if len(values) else None
        for suffix, person in (("a", a), ("b", b)):
            mine = group[group["_person"] == person].sort_values("occurred_at")
            row[f"occurred_at_{suffix}"] = mine["occurred_at"].iloc[-1] if len(mine) else None
            for column in columns:
                values = mine[column].dropna()
                row[f"{column}_{suffix}"] = values.iloc[-1] if len(values) else None
        out_rows.append(row)
    ordered = [
        *_DYAD_ID_COLUMNS,
        occasion[0],
        *shared_cols,
        "occurred_at_a",
        "occurred_at_b",
        *(f"{column}_{suffix}" for column in columns for suffix in ("a", "b")),
    ]
    frame = pd.DataFrame(out_rows, columns=ordered)
    frame[occasion[0]] = frame[occasion[0]].astype("Int64")
    if "duration_minutes" in frame:
        frame["duration_minutes"] = frame["duration_minutes"].astype("Int64")
    for column in ("occurred_at_a", "occurred_at_b"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in frame.columns[len(ordered) - 2 * len(columns) :]:
        if not column.rsplit("_", 1)[0].endswith("_band"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


# -- codebook -------------------------------------------------------------------------------


def _codebook(
    tables: ExportTables, *, kind: str, title: str, extra: dict[str, Any]
) -> dict[str, Any]:
    from attunement.instruments import list_instruments

    instruments = {instrument.id: instrument for instrument in list_instruments()}
    variables: dict[str, dict[str, Any]] = {}
    for name, frame in tables.tables().items():
        for column in frame.columns:
            base, suffix = _split_suffix(column, name)
            entry = _describe(base, instruments)
            if suffix:
                entry = {**entry, "label": f"{entry['label']} (member {suffix})"}
            entry["type"] = _type_name(frame[column])
            variables.setdefault(name, {})[column] = entry
    used = sorted(set(tables.long["instrument_id"].dropna().unique()))
    return {
        "title": title,
        "kind": kind,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "generator": f"attunement {__version__}",
        **extra,
        "rows": {name: len(frame) for name, frame in tables.tables().items()},
        "suffixes": {
            "_a": "dyad member a: the member whose role comes first (partner, parent, child, "
            "sibling, friend, therapist, client, colleague, other), then who joined first",
            "_b": "dyad member b: the other member",
        },
        "times": "UTC, ISO 8601. day = whole days since the dyad's first day (for a study: "
        "the earlier consent of the two; else the first record); week = day // 7 + 1.",
        "instruments": {
            i: {
                "name": instruments[i].name,
                "version": instruments[i].version,
                "citation": instruments[i].citation,
                "licence": instruments[i].licence,
            }
            for i in used
            if i in instruments
        },
        "tables": variables,
    }


def _split_suffix(column: str, table: str) -> tuple[str, str | None]:
    if table != "long" and column.endswith(("_a", "_b")) and column not in _DYAD_ID_COLUMNS:
        return column[:-2], column[-1]
    return column, None


def _describe(column: str, instruments: dict[str, Any]) -> dict[str, Any]:
    if column in _DESCRIPTIONS:
        return {"label": _DESCRIPTIONS[column]}
    if column == "week":
        return {"label": _DESCRIPTIONS["week"]}
    instrument_id, _, rest = column.partition("_")
    instrument = instruments.get(instrument_id)
    if instrument is None:  # ids with underscores, e.g. ecr_rs
        for candidate in instruments.values():
            if column.startswith(candidate.id + "_"):
                instrument, rest = candidate, column[len(candidate.id) + 1 :]
                break
    if instrument is None:
        return {"label": column}
    if rest.isdigit():
        item = next((it for it in instrument.items if it.number == int(rest)), None)
        text = item.text if item is not None and item.text else None
        label = f"{instrument.name}, item {rest}" + (f": {text}" if text else "")
        return {
            "label": label,
            "instrument": instrument.id,
            "item": int(rest),
            "reverse_keyed": bool(item and item.reverse),
            "range": [instrument.scale.min, instrument.scale.max],
            "value_labels": {str(a.value): a.label for a in instrument.scale.anchors},
        }
    subscale = next((s for s in instrument.scoring.subscales if s.id == rest), None)
    label = f"{instrument.name}: " + (subscale.name if subscale else rest.replace("_", " "))
    return {
        "label": label,
        "instrument": instrument.id,
        "score": rest,
        "method": instrument.scoring.method,
    }


def _type_name(series: pd.Series) -> str:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return "datetime (UTC)"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(series.dtype):
        return "number"
    return "text"


def _codebook_markdown(codebook: dict[str, Any]) -> str:
    lines = [f"# Codebook: {codebook['title']}", ""]
    for key in ("kind", "generated_at", "generator", "consent_version", "participants"):
        if key in codebook:
            lines.append(f"- **{key}**: {codebook[key]}")
    lines += [
        f"- **excluded**: {codebook.get('excluded', '')}",
        f"- **times**: {codebook['times']}",
    ]
    lines += ["", "## Suffixes (dyad tables)", ""]
    lines += [f"- `{suffix}`: {text}" for suffix, text in codebook["suffixes"].items()]
    if codebook["instruments"]:
        lines += ["", "## Instruments", ""]
        for instrument_id, info in codebook["instruments"].items():
            lines.append(
                f"- `{instrument_id}`: {info['name']} ({info['version']}). {info['citation']} "
                f"Licence: {info['licence']}"
            )
    for table, variables in codebook["tables"].items():
        lines += ["", f"## Table `{table}` ({codebook['rows'][table]} rows)", ""]
        lines += ["| column | type | label | values |", "|---|---|---|---|"]
        for column, entry in variables.items():
            values = entry.get("value_labels")
            shown = "; ".join(f"{k} = {v}" for k, v in values.items()) if values else ""
            if "range" in entry:
                shown = f"{entry['range'][0]}-{entry['range'][1]}" + (
                    f" ({shown})" if shown else ""
                )
            label = str(entry["label"]).replace("|", "\\|")
            lines.append(f"| `{column}` | {entry['type']} | {label} | {shown} |")
    return "\n".join(lines) + "\n"


# -- writing --------------------------------------------------------------------------------


def write_export(
    tables: ExportTables, out_dir: str | Path, *, formats: Sequence[str] = EXPORT_FORMATS
) -> list[Path]:
    """Write every table in each format, and the codebook (JSON and Markdown) always."""
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown:
        raise InvalidInputError(
            f"Unknown export format {', '.join(unknown)}.",
            hint=f"Choose from {', '.join(EXPORT_FORMATS)}.",
        )
    folder = Path(out_dir)
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.tables().items():
            for kind in formats:
                path = folder / f"{tables.stem}_{name}.{kind}"
                _write_one(frame, path, kind, tables.codebook["tables"].get(name, {}))
                written.append(path)
        json_path = folder / f"{tables.stem}_codebook.json"
        json_path.write_text(
            json.dumps(tables.codebook, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        md_path = folder / f"{tables.stem}_codebook.md"
        md_path.write_text(_codebook_markdown(tables.codebook), encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(
            f"Cannot write the export to {folder}: {error.strerror or error}.",
            hint="Choose a folder you can write to.",
        ) from error
    return [*written, json_path, md_path]


def _write_one(frame: pd.DataFrame, path: Path, kind: str, variables: dict[str, Any]) -> None:
    if kind == "csv":
        out = frame.copy()
        for column in out.columns:
            if isinstance(out[column].dtype, pd.DatetimeTZDtype):
                out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.to_csv(path, index=False)
    elif kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        _write_sav(frame, path, variables)


def _write_sav(frame: pd.DataFrame, path: Path, variables: dict[str, Any]) -> None:
    import pyreadstat

    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert(UTC).dt.tz_localize(None).astype("datetime64[us]")
        elif pd.api.types.is_numeric_dtype(series.dtype):
            out[column] = series.astype("float64")
        else:
            out[column] = series.astype("object").where(series.notna(), "").astype(str)
    labels: dict[str, str | None] = {
        c: str(variables.get(c, {}).get("label", c))[:255] for c in out.columns
    }
    value_labels = {
        c: {float(k): v for k, v in variables[c]["value_labels"].items()}
        for c in out.columns
        if variables.get(c, {}).get("value_labels")
    }
    if "both_recorded" in out.columns:
        value_labels["both_recorded"] = {0.0: "one person", 1.0: "both people"}
    pyreadstat.write_sav(out, str(path), column_labels=labels, variable_value_labels=value_labels)


def export_archive(tables: ExportTables, *, formats: Sequence[str] = EXPORT_FORMATS) -> bytes:
    """The whole export as one ZIP file in memory (for a download)."""
    import tempfile

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        paths = write_export(tables, folder, formats=formats)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                archive.write(path, arcname=path.name)
    return buffer.getvalue()


def export_study(
    session: Session,
    actor_id: int,
    study_id: int,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = EXPORT_FORMATS,
) -> list[Path]:
    """Write a study's export (researcher only) and record it in the audit log; commits."""
    tables = study_tables(session, actor_id, study_id, audit=False)
    paths = write_export(tables, out_dir, formats=formats)
    _audit(session, actor_id, tables, formats, study_id=study_id)
    return paths


def export_relationship(
    session: Session,
    actor_id: int,
    relationship_id: int,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = EXPORT_FORMATS,
) -> list[Path]:
    """Write a relationship's export as the actor may read it, audited; commits."""
    tables = relationship_tables(session, actor_id, relationship_id)
    paths = write_export(tables, out_dir, formats=formats)
    _audit(session, actor_id, tables, formats, relationship_id=relationship_id)
    return paths


def _audit(
    session: Session,
    actor_id: int,
    tables: ExportTables,
    formats: Sequence[str],
    *,
    study_id: int | None = None,
    relationship_id: int | None = None,
) -> None:
    record_audit(
        session,
        actor_id,
        AuditAction.EXPORT,
        study_id=study_id,
        relationship_id=relationship_id,
        row_count=len(tables.long),
        details={
            "formats": list(formats),
            "rows": {name: len(frame) for name, frame in tables.tables().items()},
            "participants": int(tables.long["participant_id"].nunique()),
        },
    )
    session.commit()
