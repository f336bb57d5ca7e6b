"""Research studies: a researcher creates a study and shares its enrollment link; people read
the consent text and join, or withdraw in one step; the researcher follows compliance and
exports the data.

Pages live under ``/studies`` and ``/enroll``, the JSON API under ``/api/studies`` and
``/api/enroll`` (same session, same rules, one error shape). The rules come from the data
layer: only the researcher who owns a study reads it, only by participant code, only
participants whose consent is in force; every researcher read and every export is written to
the audit log.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from attunement.errors import AttunementError, InvalidInputError, PermissionDeniedError, Problem
from attunement.settings import Settings
from attunement.store import records
from attunement.store.access import participants_in_force, require_study_owner
from attunement.store.models import AuditAction, Consent, Person, Study
from attunement.store.studies import (
    Participation,
    StudySummary,
    close_study,
    delete_study,
    describe_schedule,
    open_study_by_code,
    own_progress,
    reopen_study,
    revise_consent,
    studies_joined,
    studies_owned,
    study_compliance,
    transfer_study,
    validate_schedule,
)
from attunement.store.tokens import normalize_code
from attunement.web.deps import (
    AppSettings,
    CurrentUser,
    DbSession,
    FormFields,
    IdPath,
    IdQuery,
    OptionalUser,
    field_errors,
    render,
)
from attunement.web.research import (
    EXPORT_FILES,
    EXPORT_TABLES,
    StudyForm,
    compliance_table,
    enrollment_link,
    enrollment_qr_svg,
    export_download,
    form_from_study,
    instrument_choices,
    schedule_rows,
    study_form,
    study_form_errors,
)

__all__ = [
    "ComplianceRow",
    "ConsentGiven",
    "ConsentRevision",
    "Deletion",
    "EnrollmentRequest",
    "ParticipantOut",
    "ParticipationOut",
    "StudiesOut",
    "StudyCreate",
    "StudyOut",
    "StudyPreview",
    "StudySummaryOut",
    "Transfer",
    "Withdrawal",
    "router",
]

router = APIRouter(tags=["research"])

_NOT_A_RESEARCHER = (
    "Only researcher accounts can create studies.",
    "Whoever runs this server marks an account as a researcher with "
    "`attunement researcher grant EMAIL`.",
)


# -- JSON shapes -------------------------------------------------------------------------------


class StudyCreate(BaseModel):
    """A new study: instruments of the bank, a schedule per instrument, the consent text."""

    title: str = Field(max_length=200)
    description: str = ""
    consent_text: str
    consent_version: str = Field(max_length=40)
    instruments: list[str]
    schedule: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description='Per instrument {"every_days": n} or {"once_within_days": n}.',
    )
    randomize_closeness: bool = False


class StudySummaryOut(BaseModel):
    """One of the researcher's studies with its participant counts."""

    id: int
    title: str
    enrollment_code: str
    consent_version: str
    created_at: datetime
    closed_at: datetime | None
    participants: int
    withdrawn: int


class StudyOut(StudySummaryOut):
    """A study as its researcher sees it."""

    description: str
    instruments: list[str]
    schedule: dict[str, dict[str, int]]
    consent_text: str
    randomize_closeness: bool
    enrollment_link: str


class ParticipationOut(BaseModel):
    """A study the person takes part in, with their participant code."""

    study_id: int
    title: str
    participant_code: str
    consent_version: str
    given_at: datetime
    instruments: list[str]
    schedule: dict[str, dict[str, int]]
    closed: bool
    current_consent_version: str
    current_consent_text: str
    consent_outdated: bool


class StudiesOut(BaseModel):
    """The studies a person runs (researchers) and those they take part in."""

    owned: list[StudySummaryOut]
    joined: list[ParticipationOut]


class ScheduledInstrument(BaseModel):
    """An instrument of a study and when it is answered."""

    instrument_id: str
    name: str
    when: str


class StudyPreview(BaseModel):
    """What a person reads before consenting: who runs it, what it asks, the consent text."""

    title: str
    description: str
    researcher: str
    instruments: list[ScheduledInstrument]
    consent_text: str
    consent_version: str
    enrollment_code: str


class ConsentAgreement(BaseModel):
    """Agreement to the version of the consent text that was shown."""

    consent_version: str


class EnrollmentRequest(ConsentAgreement):
    """Consent at the version shown; ``remind_at`` (optional, the person's time zone) turns on
    email and calendar reminders of the study's daily and weekly instruments."""

    remind_at: time | None = None


class ConsentGiven(ParticipationOut):
    """A consent just given."""


class Withdrawal(BaseModel):
    """A withdrawn consent: the person is left out of every later read and export."""

    study_id: int
    withdrawn_at: datetime


class ConsentRevision(BaseModel):
    """A new consent text under a new version."""

    consent_text: str
    consent_version: str = Field(max_length=40)


class Transfer(BaseModel):
    """Another researcher's account, who owns the study from now on."""

    email: str = Field(max_length=320)


class Deletion(BaseModel):
    """The study's title, typed to confirm the deletion."""

    confirm_title: str = Field(max_length=200)


class ParticipantOut(BaseModel):
    """A participant in force, by code."""

    participant_code: str
    consent_version: str
    given_at: datetime


class ComplianceRow(BaseModel):
    """One participant's compliance with one scheduled instrument."""

    participant_code: str
    instrument_id: str
    every_days: int | None
    once_within_days: int | None
    enrolled_at: datetime
    records: int
    last_record_at: datetime | None
    windows_due: int
    windows_done: int
    windows_missed: int
    current_window_done: bool
    compliance: float | None


# -- shared steps ------------------------------------------------------------------------------


def _summary_out(summary: StudySummary) -> StudySummaryOut:
    return StudySummaryOut.model_validate(summary, from_attributes=True)


def _study_out(db: DbSession, settings: Settings, me: Person, study: Study) -> StudyOut:
    summary = next(s for s in studies_owned(db, me.id) if s.id == study.id)
    return StudyOut(
        **_summary_out(summary).model_dump(),
        description=study.description,
        instruments=list(study.instruments),
        schedule=dict(study.schedule),
        consent_text=study.consent_text,
        randomize_closeness=study.randomize_closeness,
        enrollment_link=enrollment_link(settings, study.enrollment_code),
    )


def _require_researcher(me: Person) -> None:
    if not me.is_researcher:
        raise PermissionDeniedError(_NOT_A_RESEARCHER[0], hint=_NOT_A_RESEARCHER[1])


def _create(db: DbSession, me: Person, data: StudyForm) -> Study:
    _require_researcher(me)
    study = records.create_study(
        db,
        me.id,
        data.title,
        consent_text=data.consent_text,
        consent_version=data.consent_version,
        instruments=data.instruments,
        schedule=data.schedule,
        description=data.description,
        randomize_closeness=data.randomize_closeness,
    )
    db.commit()
    return study


def _participation_out(joined: Participation) -> ParticipationOut:
    return ParticipationOut.model_validate(joined, from_attributes=True)


def _consent_of(db: DbSession, me: Person, study_id: int) -> ParticipationOut | None:
    for joined in studies_joined(db, me.id):
        if joined.study_id == study_id:
            return _participation_out(joined)
    return None


def _preview(db: DbSession, settings: Settings, study: Study) -> StudyPreview:
    owner = db.get(Person, study.owner_id) if study.owner_id is not None else None
    return StudyPreview(
        title=study.title,
        description=study.description,
        researcher=owner.display_name if owner else "the research team",
        instruments=[
            ScheduledInstrument(instrument_id=row.instrument_id, name=row.name, when=row.when)
            for row in schedule_rows(study, instrument_choices(settings))
        ],
        consent_text=study.consent_text,
        consent_version=study.consent_version,
        enrollment_code=study.enrollment_code,
    )


def _short_names(settings: Settings) -> dict[str, str]:
    """Column headings: the instrument's short name, "Diary" for the interaction record."""
    return {
        i.id: "Diary" if i.id == "interaction" else i.short_name
        for i in instrument_choices(settings)
    }


def _audit_read(db: DbSession, me: Person, study_id: int, view: str, rows: int) -> None:
    records.record_audit(
        db,
        me.id,
        AuditAction.RESEARCHER_READ,
        study_id=study_id,
        row_count=rows,
        details={"view": view},
    )


# -- pages: lists, creating a study -------------------------------------------------------------


@router.get("/studies", response_class=HTMLResponse, include_in_schema=False)
def studies_page(
    request: Request, db: DbSession, me: CurrentUser, settings: AppSettings
) -> HTMLResponse:
    """The studies one runs (researchers) and the studies one takes part in."""
    joined = studies_joined(db, me.id)
    return render(
        request,
        "research/list.html",
        {
            "title": "Studies",
            "me": me,
            "owned": studies_owned(db, me.id),
            "joined": joined,
            "progress": {
                part.study_id: {row.instrument_id: row for row in own_progress(db, me.id, part)}
                for part in joined
            },
            "flash": request.session.pop("flash", None),
            "describe_schedule": describe_schedule,
            "instrument_names": _short_names(settings),
            "not_a_researcher_hint": _NOT_A_RESEARCHER[1],
        },
    )


def _new_page(
    request: Request,
    settings: Settings,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "research/new.html",
        {
            "title": "New study",
            "instruments": instrument_choices(settings),
            "form": form,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/studies/new", response_class=HTMLResponse, include_in_schema=False)
def new_study_page(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    like: IdQuery = None,
) -> HTMLResponse:
    """The study form (``?like=ID`` starts from one of one's own studies)."""
    _require_researcher(me)
    form = {"consent_version": "1", "instrument_eis": "on", "schedule_eis": "every"}
    form["days_eis"] = "7"
    if like is not None:
        form = form_from_study(require_study_owner(db, me.id, like))
        form["title"] = f"{form['title']} (copy)"
    return _new_page(request, settings, form)


@router.post("/studies", response_class=HTMLResponse, include_in_schema=False)
def create_study(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    fields: FormFields,
) -> Response:
    _require_researcher(me)
    known = [instrument.id for instrument in instrument_choices(settings)]
    try:
        study = _create(db, me, study_form(fields, known))
    except AttunementError as error:
        db.rollback()
        if error.code == "permission_denied":
            raise
        return _new_page(request, settings, dict(fields), study_form_errors(error), 422)
    request.session["flash"] = "The study is ready. Share its enrollment link."
    return RedirectResponse(f"/studies/{study.id}", status_code=303)


# -- pages: the researcher's study page ---------------------------------------------------------


def _study_page(
    request: Request,
    db: DbSession,
    me: Person,
    settings: Settings,
    study_id: int,
    *,
    consent_form: dict[str, str] | None = None,
    consent_errors: dict[str, str] | None = None,
    owner_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    study = require_study_owner(db, me.id, study_id)
    consents = participants_in_force(db, me.id, study_id)
    compliance = study_compliance(db, me.id, study_id)  # audited as a researcher read
    db.commit()
    link = enrollment_link(settings, study.enrollment_code)
    summary = next(s for s in studies_owned(db, me.id) if s.id == study.id)
    instruments = instrument_choices(settings)
    participants = compliance_table(consents, compliance)
    return render(
        request,
        "research/study.html",
        {
            "title": study.title,
            "study": study,
            "summary": summary,
            "link": link,
            "qr": enrollment_qr_svg(link),
            "schedule": schedule_rows(study, instruments),
            "short_names": _short_names(settings),
            "scheduled": sorted(name for name in dict(study.schedule) if name in study.instruments),
            "participants": participants,
            "behind": sum(1 for row in participants if row.behind),
            "flash": request.session.pop("flash", None),
            "consent_form": consent_form
            or {"consent_text": study.consent_text, "consent_version": ""},
            "consent_errors": consent_errors or {},
            "owner_errors": owner_errors or {},
            "export_tables": EXPORT_TABLES,
            "export_formats": [
                (name.rsplit(".", 1)[1], f.label)
                for name, f in EXPORT_FILES.items()
                if name.startswith("long.")
            ],
        },
        status_code=status_code,
    )


@router.get("/studies/{study_id}", response_class=HTMLResponse, include_in_schema=False)
def study_page(
    request: Request, db: DbSession, me: CurrentUser, settings: AppSettings, study_id: IdPath
) -> HTMLResponse:
    """The study for its researcher: enrollment link, participants, who is behind, exports."""
    return _study_page(request, db, me, settings, study_id)


@router.post("/studies/{study_id}/consent", response_class=HTMLResponse, include_in_schema=False)
def revise_consent_form(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    fields: FormFields,
    study_id: IdPath,
) -> Response:
    form = {key: fields.get(key, "") for key in ("consent_text", "consent_version")}
    try:
        revise_consent(db, me.id, study_id, form["consent_text"], form["consent_version"])
        db.commit()
    except AttunementError as error:
        db.rollback()
        if error.code in ("not_found", "permission_denied"):
            raise
        errors = field_errors(error, {"consent_text", "consent_version"})
        return _study_page(
            request,
            db,
            me,
            settings,
            study_id,
            consent_form=form,
            consent_errors=errors,
            status_code=422,
        )
    request.session["flash"] = (
        f"New participants now consent to version {form['consent_version'].strip()}."
    )
    return RedirectResponse(f"/studies/{study_id}", status_code=303)


@router.post("/studies/{study_id}/close", include_in_schema=False)
def close_study_form(
    request: Request, db: DbSession, me: CurrentUser, study_id: IdPath
) -> Response:
    close_study(db, me.id, study_id)
    db.commit()
    request.session["flash"] = "The study is closed to new participants."
    return RedirectResponse(f"/studies/{study_id}", status_code=303)


@router.post("/studies/{study_id}/reopen", include_in_schema=False)
def reopen_study_form(
    request: Request, db: DbSession, me: CurrentUser, study_id: IdPath
) -> Response:
    reopen_study(db, me.id, study_id)
    db.commit()
    request.session["flash"] = "The study is open to new participants again, with the same link."
    return RedirectResponse(f"/studies/{study_id}", status_code=303)


@router.post("/studies/{study_id}/transfer", response_class=HTMLResponse, include_in_schema=False)
def transfer_form(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    fields: FormFields,
    study_id: IdPath,
) -> Response:
    """Hand the study to another researcher."""
    return _owner_change(request, db, me, settings, study_id, fields, "transfer")


@router.post("/studies/{study_id}/delete", response_class=HTMLResponse, include_in_schema=False)
def delete_form(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    fields: FormFields,
    study_id: IdPath,
) -> Response:
    """Delete the study (its title typed to confirm)."""
    return _owner_change(request, db, me, settings, study_id, fields, "delete")


def _owner_change(
    request: Request,
    db: DbSession,
    me: Person,
    settings: Settings,
    study_id: int,
    fields: dict[str, str],
    action: str,
) -> Response:
    title = require_study_owner(db, me.id, study_id).title
    try:
        if action == "transfer":
            transfer_study(db, me.id, study_id, fields.get("email", ""))
            message = f"“{title}” now belongs to {fields.get('email', '').strip()}."
        else:
            delete_study(db, me.id, study_id, fields.get("confirm_title", ""))
            message = f"“{title}” is deleted. Participants keep their own records."
        db.commit()
    except InvalidInputError as error:
        db.rollback()
        errors = field_errors(error, {"email", "confirm_title"})
        return _study_page(
            request, db, me, settings, study_id, owner_errors=errors, status_code=422
        )
    request.session["flash"] = message
    return RedirectResponse("/studies", status_code=303)


def _download(db: DbSession, me: Person, study_id: int, name: str) -> Response:
    filename, content, media_type = export_download(db, me.id, study_id, name)
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/studies/{study_id}/compliance.csv", include_in_schema=False)
def compliance_csv(db: DbSession, me: CurrentUser, study_id: IdPath) -> Response:
    """The compliance table as CSV (columns as in ``GET /api/studies/{id}/compliance``)."""
    frame = study_compliance(db, me.id, study_id)  # audited
    db.commit()
    return Response(
        frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="study_{study_id}_compliance.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/studies/{study_id}/export/{name}", include_in_schema=False)
def export_file(db: DbSession, me: CurrentUser, study_id: IdPath, name: str) -> Response:
    """One export file (``long.csv``, ``dyad_weekly.sav``, ``codebook.md``, ``all.zip``...)."""
    return _download(db, me, study_id, name)


# -- pages: taking part -------------------------------------------------------------------------


@router.get("/enroll", response_class=HTMLResponse, include_in_schema=False)
def enroll_code_page(request: Request, me: OptionalUser, code: str = "") -> Response:
    """Type an enrollment code (or arrive with ``?code=``)."""
    if normalize_code(code):
        return RedirectResponse(f"/enroll/{normalize_code(code)}", status_code=303)
    return render(request, "research/code.html", {"title": "Join a study", "form": {}})


def _enroll_page(
    request: Request,
    db: DbSession,
    me: Person | None,
    settings: Settings,
    code: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    study = open_study_by_code(db, code)
    names = _short_names(settings)
    return render(
        request,
        "research/enroll.html",
        {
            "title": f"Join: {study.title}",
            "study": study,
            "preview": _preview(db, settings, study),
            "me": me,
            "taking_part": _consent_of(db, me, study.id) if me else None,
            "errors": errors or {},
            "form": form or {},
            "repeating": [
                f"{names.get(name, name)} ({describe_schedule(study.schedule.get(name))})"
                for name in study.instruments
                if "every_days" in dict(study.schedule.get(name) or {})
            ],
        },
        status_code=status_code,
    )


def _reminder_time(fields: dict[str, str]) -> time | None:
    """The time of day asked for study reminders, or None when none were asked for."""
    if fields.get("remind") != "on":
        return None
    text = fields.get("remind_at", "").strip() or "20:00"
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError:
        raise InvalidInputError(
            "The reminder time is not a time of day.",
            hint="Give it as hours and minutes, for example 20:00.",
            problems=[Problem("not a time of day", column="remind_at", value=text)],
        ) from None


@router.get("/enroll/{code}", response_class=HTMLResponse, include_in_schema=False)
def enroll_page(
    request: Request, db: DbSession, me: OptionalUser, settings: AppSettings, code: str
) -> HTMLResponse:
    """What the study asks and its consent text; agreeing is one button (after signing in)."""
    return _enroll_page(request, db, me, settings, code)


@router.post("/enroll/{code}", response_class=HTMLResponse, include_in_schema=False)
def enroll_form(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    fields: FormFields,
    code: str,
) -> Response:
    try:
        if fields.get("agree") != "on":
            raise InvalidInputError(
                "Tick the box to say you agree, or simply leave this page.",
                problems=[Problem("consent not given", column="agree")],
            )
        remind_at = _reminder_time(fields)
        consent = records.enroll(db, me.id, code, fields.get("consent_version", ""))
        reminders = (
            records.remind_of_study(
                db, me.id, consent.study_id, time_of_day=remind_at, timezone=me.timezone
            )
            if remind_at is not None
            else []
        )
        db.commit()
    except AttunementError as error:
        db.rollback()
        if error.code == "not_found":
            raise
        return _enroll_page(
            request,
            db,
            me,
            settings,
            code,
            errors=field_errors(error, {"agree", "remind_at"}),
            form=fields,
            status_code=409 if error.code == "conflict" else 422,
        )
    reminded = (
        f" Reminders are on at {remind_at:%H:%M} ({me.timezone}); change them under Practices."
        if reminders and remind_at is not None
        else ""
    )
    request.session["flash"] = (
        f"Thank you. You take part as {consent.participant_code}; you can withdraw at any time."
        + reminded
    )
    return RedirectResponse("/studies", status_code=303)


@router.post("/studies/{study_id}/consent-again", include_in_schema=False)
def consent_again_form(
    request: Request, db: DbSession, me: CurrentUser, fields: FormFields, study_id: IdPath
) -> Response:
    """Agree to the study's new consent text (the box must be ticked; nothing else changes)."""
    if fields.get("agree") != "on":
        request.session["flash"] = (
            "Nothing changed: tick the box to agree to the new text, or withdraw if you prefer."
        )
        return RedirectResponse("/studies", status_code=303)
    try:
        records.renew_consent(db, me.id, study_id, fields.get("consent_version", ""))
        db.commit()
    except AttunementError as error:
        db.rollback()
        if error.code != "conflict":
            raise
        request.session["flash"] = f"{error.message} {error.hint or ''}".strip()
        return RedirectResponse("/studies", status_code=303)
    request.session["flash"] = "Thank you. You now take part under the new consent text."
    return RedirectResponse("/studies", status_code=303)


@router.post("/studies/{study_id}/withdraw", include_in_schema=False)
def withdraw_form(request: Request, db: DbSession, me: CurrentUser, study_id: IdPath) -> Response:
    """Withdraw at once: no question asked, left out of every later export."""
    records.withdraw_consent(db, me.id, study_id)
    db.commit()
    request.session["flash"] = (
        "You have withdrawn. The research team will not receive your data from now on."
    )
    return RedirectResponse("/studies", status_code=303)


# -- JSON API ----------------------------------------------------------------------------------


@router.get("/api/studies", response_model=StudiesOut)
def api_studies(db: DbSession, me: CurrentUser) -> StudiesOut:
    """The studies one runs and those one takes part in."""
    return StudiesOut(
        owned=[_summary_out(s) for s in studies_owned(db, me.id)],
        joined=[_participation_out(j) for j in studies_joined(db, me.id)],
    )


@router.post("/api/studies", response_model=StudyOut, status_code=201)
def api_create_study(
    db: DbSession, me: CurrentUser, settings: AppSettings, data: StudyCreate
) -> StudyOut:
    """Create a study (researcher accounts only)."""
    _require_researcher(me)
    fields = data.model_dump()
    fields["schedule"] = validate_schedule(data.instruments, data.schedule)
    study = _create(db, me, StudyForm(**fields))
    return _study_out(db, settings, me, study)


@router.get("/api/studies/{study_id}", response_model=StudyOut)
def api_study(db: DbSession, me: CurrentUser, settings: AppSettings, study_id: IdPath) -> StudyOut:
    """One of one's own studies."""
    return _study_out(db, settings, me, require_study_owner(db, me.id, study_id))


@router.get("/api/studies/{study_id}/participants", response_model=list[ParticipantOut])
def api_participants(db: DbSession, me: CurrentUser, study_id: IdPath) -> list[ParticipantOut]:
    """Participants whose consent is in force, by code (an audited researcher read)."""
    consents: list[Consent] = participants_in_force(db, me.id, study_id)
    _audit_read(db, me, study_id, "participants", len(consents))
    db.commit()
    return [
        ParticipantOut(
            participant_code=c.participant_code,
            consent_version=c.consent_version,
            given_at=c.given_at,
        )
        for c in consents
    ]


@router.get("/api/studies/{study_id}/compliance", response_model=list[ComplianceRow])
def api_compliance(db: DbSession, me: CurrentUser, study_id: IdPath) -> list[ComplianceRow]:
    """Who is behind: one row per participant and scheduled instrument (audited)."""
    frame = study_compliance(db, me.id, study_id)
    db.commit()
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [ComplianceRow.model_validate(row) for row in rows]


@router.post("/api/studies/{study_id}/consent", response_model=StudyOut)
def api_revise_consent(
    db: DbSession, me: CurrentUser, settings: AppSettings, study_id: IdPath, data: ConsentRevision
) -> StudyOut:
    """A new consent text under a new version."""
    study = revise_consent(db, me.id, study_id, data.consent_text, data.consent_version)
    db.commit()
    return _study_out(db, settings, me, study)


@router.post("/api/studies/{study_id}/close", response_model=StudyOut)
def api_close(db: DbSession, me: CurrentUser, settings: AppSettings, study_id: IdPath) -> StudyOut:
    """Close the study to new participants."""
    study = close_study(db, me.id, study_id)
    db.commit()
    return _study_out(db, settings, me, study)


@router.post("/api/studies/{study_id}/reopen", response_model=StudyOut)
def api_reopen(db: DbSession, me: CurrentUser, settings: AppSettings, study_id: IdPath) -> StudyOut:
    """Open a closed study to new participants again (the same enrollment code)."""
    study = reopen_study(db, me.id, study_id)
    db.commit()
    return _study_out(db, settings, me, study)


@router.get(
    "/api/studies/{study_id}/export/{name}",
    response_class=Response,
    responses={200: {"description": "The file", "content": {"application/octet-stream": {}}}},
)
def api_export_file(db: DbSession, me: CurrentUser, study_id: IdPath, name: str) -> Response:
    """One export file of the study: ``<table>.<format>`` with table ``long``,
    ``dyad_interactions`` or ``dyad_weekly`` and format ``csv``, ``parquet`` or ``sav``;
    ``codebook.json``; ``codebook.md``; or ``all.zip``. Written to the audit log."""
    return _download(db, me, study_id, name)


@router.post("/api/studies/{study_id}/transfer", status_code=204)
def api_transfer(db: DbSession, me: CurrentUser, study_id: IdPath, data: Transfer) -> Response:
    """Hand the study to another researcher (by the email address of their account)."""
    transfer_study(db, me.id, study_id, data.email)
    db.commit()
    return Response(status_code=204)


@router.post("/api/studies/{study_id}/delete", status_code=204)
def api_delete(db: DbSession, me: CurrentUser, study_id: IdPath, data: Deletion) -> Response:
    """Delete the study and its consent records; participants keep their own records."""
    delete_study(db, me.id, study_id, data.confirm_title)
    db.commit()
    return Response(status_code=204)


@router.get("/api/enroll/{code}", response_model=StudyPreview)
def api_enroll_preview(db: DbSession, settings: AppSettings, code: str) -> StudyPreview:
    """What a person reads before consenting (no sign-in needed)."""
    return _preview(db, settings, open_study_by_code(db, code))


@router.post("/api/enroll/{code}", response_model=ConsentGiven, status_code=201)
def api_enroll(
    db: DbSession, me: CurrentUser, code: str, data: Annotated[EnrollmentRequest, Body()]
) -> ConsentGiven:
    """Consent to the study at the consent version shown."""
    consent = records.enroll(db, me.id, code, data.consent_version)
    if data.remind_at is not None:
        records.remind_of_study(
            db, me.id, consent.study_id, time_of_day=data.remind_at, timezone=me.timezone
        )
    db.commit()
    given = _consent_of(db, me, consent.study_id)
    if given is None:  # pragma: no cover - just enrolled
        raise AttunementError("The consent was not stored.", code="internal")
    return ConsentGiven(**given.model_dump())


@router.post("/api/studies/{study_id}/consent-again", response_model=ParticipationOut)
def api_consent_again(
    db: DbSession,
    me: CurrentUser,
    study_id: IdPath,
    data: Annotated[ConsentAgreement, Body()],
) -> ParticipationOut:
    """Agree to the study's current consent text, at the version shown (409 if it changed)."""
    records.renew_consent(db, me.id, study_id, data.consent_version)
    db.commit()
    renewed = _consent_of(db, me, study_id)
    if renewed is None:  # pragma: no cover - the consent is in force
        raise AttunementError("The consent was not stored.", code="internal")
    return renewed


@router.post("/api/studies/{study_id}/withdraw", response_model=Withdrawal)
def api_withdraw(db: DbSession, me: CurrentUser, study_id: IdPath) -> Withdrawal:
    """Withdraw one's consent at once."""
    consent = records.withdraw_consent(db, me.id, study_id)
    db.commit()
    if consent.withdrawn_at is None:  # pragma: no cover - just set
        raise AttunementError("The withdrawal was not stored.", code="internal")
    return Withdrawal(study_id=study_id, withdrawn_at=consent.withdrawn_at)
