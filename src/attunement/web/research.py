"""Research studies as the web app shows them: the study form, the enrollment link, compliance.

Creating a study, consenting and withdrawing go through :mod:`attunement.store.records`;
schedules, compliance and study lists through :mod:`attunement.store.studies`; who may read a
study's data through :mod:`attunement.store.access` (only the researcher who owns it, only
participants whose consent is in force, by participant code). This module turns forms into
those calls and compliance rows into what a page shows.

The study form has, for each instrument of the bank, a checkbox ``instrument_<id>``, a choice
``schedule_<id>`` (``free``: whenever the participant wants; ``every``: every ``days_<id>``
days; ``once``: once within ``days_<id>`` days of joining) and the number ``days_<id>``.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import segno
from sqlalchemy.orm import Session

from attunement.errors import AttunementError, InvalidInputError, NotFoundError, Problem
from attunement.instruments import Instrument, list_instruments
from attunement.settings import Settings
from attunement.store.export import EXPORT_FORMATS, export_study
from attunement.store.models import Consent, Study
from attunement.store.studies import describe_schedule, validate_schedule
from attunement.web.checkins import wording_dir

__all__ = [
    "EXPORT_FILES",
    "EXPORT_TABLES",
    "ComplianceCell",
    "ExportFile",
    "ParticipantRow",
    "ScheduleRow",
    "StudyForm",
    "compliance_table",
    "enrollment_link",
    "enrollment_qr_svg",
    "export_download",
    "form_from_study",
    "instrument_choices",
    "schedule_rows",
    "study_form",
    "study_form_errors",
]

_KINDS = {"free", "every", "once"}


def instrument_choices(settings: Settings) -> list[Instrument]:
    """Every instrument of the bank a study can include, by name."""
    found = list_instruments(wording_dir=wording_dir(settings))
    return sorted(found, key=lambda instrument: instrument.name)


def enrollment_link(settings: Settings, code: str) -> str:
    """The link a participant opens to read the consent text and join."""
    return f"{settings.base_url.rstrip('/')}/enroll/{code}"


def enrollment_qr_svg(link: str) -> str:
    """The enrollment link as an inline SVG QR code that scales to its box (a viewBox, no
    fixed size), titled for screen readers."""
    code = segno.make(link, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=4,
        border=2,
        dark="#111",
        light="#fff",
        title="QR code of the enrollment link",
        omitsize=True,
    )
    return svg


@dataclass(frozen=True)
class StudyForm:
    """A submitted study form, checked: what :func:`attunement.store.records.create_study`
    takes."""

    title: str
    description: str
    consent_text: str
    consent_version: str
    instruments: list[str]
    schedule: dict[str, dict[str, int]]
    randomize_closeness: bool


def study_form(fields: Mapping[str, str], known: list[str]) -> StudyForm:
    """The study described by a submitted form; InvalidInputError names each bad field."""
    instruments = [name for name in known if fields.get(f"instrument_{name}") == "on"]
    problems: list[Problem] = []
    schedule: dict[str, Any] = {}
    for name in instruments:
        kind = fields.get(f"schedule_{name}", "free")
        if kind not in _KINDS:
            problems.append(
                Problem("not a schedule", column=f"schedule_{name}", allowed="free, every, once")
            )
            continue
        if kind == "free":
            continue
        raw = fields.get(f"days_{name}", "").strip()
        try:
            days: Any = int(raw)
        except ValueError:
            days = raw
        schedule[name] = {"every_days" if kind == "every" else "once_within_days": days}
    if not instruments:
        problems.append(Problem("choose at least one instrument", column="instruments"))
    for name, limit in (("title", 200), ("consent_version", 40)):
        if len(fields.get(name, "").strip()) > limit:
            problems.append(Problem("too long", column=name, allowed=f"up to {limit} characters"))
    if problems:
        raise InvalidInputError(
            "The study is not complete.", hint="Correct the fields marked.", problems=problems
        )
    return StudyForm(
        title=fields.get("title", "").strip(),
        description=fields.get("description", "").strip(),
        consent_text=fields.get("consent_text", "").strip(),
        consent_version=fields.get("consent_version", "").strip(),
        instruments=instruments,
        schedule=validate_schedule(instruments, schedule),
        randomize_closeness=fields.get("randomize_closeness") == "on",
    )


def study_form_errors(error: AttunementError) -> dict[str, str]:
    """Form errors next to their fields (``schedule.eis`` becomes the ``days_eis`` field)."""
    errors: dict[str, str] = {}
    for problem in error.problems:
        column = problem.column or "_form"
        if column.startswith("schedule."):
            column = "days_" + column.removeprefix("schedule.")
        text = problem.message
        if problem.value is not None and column == "instruments":
            text += f": {problem.value}"
        if problem.allowed and column != "instruments":
            text += f" (allowed: {problem.allowed})"
        errors.setdefault(column, text)
    errors.setdefault("_form", error.message)
    return errors


def form_from_study(study: Study) -> dict[str, str]:
    """The form fields that describe an existing study (to start a new one from it)."""
    form = {
        "title": study.title,
        "description": study.description,
        "consent_text": study.consent_text,
        "consent_version": study.consent_version,
        "randomize_closeness": "on" if study.randomize_closeness else "",
    }
    for name in study.instruments:
        form[f"instrument_{name}"] = "on"
        entry = dict(study.schedule).get(name) or {}
        if "every_days" in entry:
            form[f"schedule_{name}"], form[f"days_{name}"] = "every", str(entry["every_days"])
        elif "once_within_days" in entry:
            form[f"schedule_{name}"] = "once"
            form[f"days_{name}"] = str(entry["once_within_days"])
    return form


@dataclass(frozen=True)
class ScheduleRow:
    """One instrument of a study and when it is answered, in plain words."""

    instrument_id: str
    name: str
    citation: str
    when: str


def schedule_rows(study: Study, instruments: list[Instrument]) -> list[ScheduleRow]:
    """The study's instruments in its order, each with its schedule in words."""
    by_id = {instrument.id: instrument for instrument in instruments}
    rows = []
    for name in study.instruments:
        instrument = by_id.get(name)
        rows.append(
            ScheduleRow(
                instrument_id=name,
                name=instrument.name if instrument else name,
                citation=instrument.citation if instrument else "",
                when=describe_schedule(dict(study.schedule).get(name)),
            )
        )
    return rows


@dataclass(frozen=True)
class ComplianceCell:
    """One participant's compliance with one scheduled instrument."""

    instrument_id: str
    windows_due: int
    windows_done: int
    windows_missed: int
    current_window_done: bool
    records: int
    last_record_at: datetime | None


@dataclass(frozen=True)
class ParticipantRow:
    """A participant in force as the researcher sees them: a code, never a name."""

    participant_code: str
    consent_version: str
    given_at: datetime
    cells: list[ComplianceCell] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return sum(cell.windows_missed for cell in self.cells)

    @property
    def behind(self) -> bool:
        return self.missed > 0


def _time_or_none(value: Any) -> datetime | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value if isinstance(value, datetime) else None


def compliance_table(consents: list[Consent], compliance: pd.DataFrame) -> list[ParticipantRow]:
    """Participants with their compliance cells: who is furthest behind first, then by code."""
    cells: dict[str, list[ComplianceCell]] = {}
    for row in compliance.to_dict("records"):
        cells.setdefault(str(row["participant_code"]), []).append(
            ComplianceCell(
                instrument_id=str(row["instrument_id"]),
                windows_due=int(row["windows_due"]),
                windows_done=int(row["windows_done"]),
                windows_missed=int(row["windows_missed"]),
                current_window_done=bool(row["current_window_done"]),
                records=int(row["records"]),
                last_record_at=_time_or_none(row["last_record_at"]),
            )
        )
    rows = [
        ParticipantRow(
            participant_code=consent.participant_code,
            consent_version=consent.consent_version,
            given_at=consent.given_at,
            cells=cells.get(consent.participant_code, []),
        )
        for consent in consents
    ]
    return sorted(rows, key=lambda row: (-row.missed, row.participant_code))


# -- exports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    """One file a researcher can download: ``name`` is the last part of its address."""

    name: str
    formats: tuple[str, ...]
    media_type: str
    label: str


EXPORT_TABLES = {
    "long": "Long: one row per record",
    "dyad_interactions": "Dyad-wide: one row per dyad and interaction (APIM-ready)",
    "dyad_weekly": "Dyad-wide: one row per dyad and week",
}
_MEDIA = {
    "csv": ("text/csv; charset=utf-8", "CSV"),
    "parquet": ("application/vnd.apache.parquet", "Parquet"),
    "sav": ("application/x-spss-sav", "SPSS .sav"),
}
EXPORT_FILES: dict[str, ExportFile] = {
    f"{table}.{kind}": ExportFile(f"{table}.{kind}", (kind,), _MEDIA[kind][0], _MEDIA[kind][1])
    for table in EXPORT_TABLES
    for kind in EXPORT_FORMATS
}
EXPORT_FILES["codebook.json"] = ExportFile(
    "codebook.json", (), "application/json", "Codebook (JSON)"
)
EXPORT_FILES["codebook.md"] = ExportFile(
    "codebook.md", (), "text/markdown; charset=utf-8", "Codebook (Markdown)"
)
EXPORT_FILES["all.zip"] = ExportFile(
    "all.zip", tuple(EXPORT_FORMATS), "application/zip", "Everything (ZIP)"
)


def export_download(
    session: Session, actor_id: int, study_id: int, name: str
) -> tuple[str, bytes, str]:
    """One export file of a study: ``(file name, content, media type)``.

    Goes through :func:`attunement.store.export.export_study`, which applies the research
    access rules and writes the export to the audit log (and commits). ``all.zip`` holds every
    table in every format with the codebook.
    """
    wanted = EXPORT_FILES.get(name)
    if wanted is None:
        raise NotFoundError(
            f"No export file {name!r}.",
            hint="Choose one of the files listed on the study page.",
            problems=[
                Problem("unknown export file", column="name", allowed=", ".join(EXPORT_FILES))
            ],
        )
    with tempfile.TemporaryDirectory() as folder:
        paths = export_study(session, actor_id, study_id, folder, formats=wanted.formats)
        stem = paths[-1].name.removesuffix("_codebook.md")
        if name == "all.zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in paths:
                    archive.write(path, arcname=path.name)
            return f"{stem}.zip", buffer.getvalue(), wanted.media_type
        chosen = Path(folder) / f"{stem}_{name}"
        return chosen.name, chosen.read_bytes(), wanted.media_type
