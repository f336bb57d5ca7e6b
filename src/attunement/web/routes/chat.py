"""Chat analysis in the web app: upload an export, see the report, keep nothing.

A signed-in person uploads a WhatsApp (``.txt``/``.zip``), Telegram (JSON) or plain-transcript
export. It is read **in memory only**: the CSRF middleware holds the body (at most
:data:`~attunement.web.csrf.MAX_BODY_BYTES`) and parses the form with
:func:`~attunement.web.csrf.read_form_in_memory`, so no temporary file is written; the bytes go
to :func:`attunement.conversation.read_chat_bytes` and the weekly signals to the same report as
``attunement chat report`` (:func:`attunement.reports.chat.render_chat_report`). Nothing of the
file is stored: the page shows the result; "Save the report" (``POST /chat/report``) rebuilds the
same self-contained HTML document from the signed weekly rows the page carries (below).

Only if the person presses "Keep these weekly summaries" is anything stored: the aggregate
weekly rows (numbers per participant and week, no words) as a
:class:`~attunement.store.models.KeptChatSummary`, linked to one of their relationships and
private unless they tick "share". The rows travel from the result page back to the server in a
token signed with the app's key (:data:`KEEP_SALT`), so what is kept is exactly what the
analysis computed; the token expires after :data:`KEEP_MAX_AGE_SECONDS`.

- ``GET /chat``: the upload form. ``POST /chat``: the report (or the form again, with the
  question the file could not settle: day-first or month-first dates).
- ``POST /chat/report``: the report as a file to save. ``POST /chat/keep``, ``GET /chat/kept``,
  ``GET /chat/kept/{id}``, ``POST /chat/kept/{id}/delete``: what the person chose to keep.
- ``POST /api/chat/analysis``: the raw export as the request body; answers the summary, the
  weekly signals (``WEEKLY_COLUMNS``) and a ``keep_token``. ``POST /api/chat/kept`` keeps them,
  ``GET /api/chat/kept`` and ``GET /api/chat/kept/{id}`` read them, ``DELETE`` removes one.
  Same sign-in, CSRF header and error shape as the rest of the API.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import datetime
from html import escape
from typing import Annotated, Any, cast

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Query
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from attunement.conversation import (
    CHAT_FORMATS,
    DATE_ORDERS,
    WEEKLY_COLUMNS,
    ChatFormat,
    ChatSummary,
    DateOrder,
    Message,
    SummaryCounter,
    message_signals,
    pseudonymize,
    read_chat_bytes,
    weekly_signals,
)
from attunement.errors import AttunementError, InvalidInputError, NotFoundError, Problem
from attunement.reports.chat import render_chat_report
from attunement.store.access import require_current_member
from attunement.store.engine import StoreSession
from attunement.store.models import KeptChatSummary, Person
from attunement.web.csrf import MAX_BODY_BYTES, read_form_in_memory, too_large_error
from attunement.web.deps import (
    MAX_ID,
    AppSettings,
    CurrentUser,
    DbSession,
    FormFields,
    IdPath,
    ReadSession,
    field_errors,
    render,
)
from attunement.web.relationships import my_relationships

__all__ = [
    "KEEP_MAX_AGE_SECONDS",
    "KEEP_SALT",
    "MAX_UPLOAD_BYTES",
    "UNDECIDED_DATE_ORDER",
    "ChatAnalysis",
    "KeepIn",
    "KeptOut",
    "Row",
    "analyse_export",
    "keep_summary",
    "router",
]

router = APIRouter()

MAX_UPLOAD_BYTES = MAX_BODY_BYTES
"""The largest export accepted (the whole request is capped at the same size)."""

UNDECIDED_DATE_ORDER = "Cannot tell whether the dates are day-first or month-first"
"""The start of the reader's message when the file cannot settle the date order."""

KEEP_SALT = "attunement.chat.keep"
KEEP_MAX_AGE_SECONDS = 24 * 60 * 60
"""How long the result page's "keep" button works (the token then expires)."""

_FORM_FIELDS = {"export", "date_order", "chat_format", "pseudonymize"}
_BODY = re.compile(r"<body>(.*)</body>", re.DOTALL)
_MADE_HERE = re.compile(r'<p class="note">.*?</p>', re.DOTALL)

Row = dict[str, str | float | int | None]


class ChatAnalysis(BaseModel):
    """What ``POST /api/chat/analysis`` answers. Nothing of it is stored."""

    summary: dict[str, Any]
    weekly: list[Row]
    kept: bool = False
    keep_token: str = Field(
        description="Send to POST /api/chat/kept (within a day) to keep these weekly rows."
    )


class KeepIn(BaseModel):
    """``POST /api/chat/kept``: keep the weekly rows of an analysis."""

    keep_token: str = Field(min_length=1, max_length=1_000_000)
    relationship_id: int = Field(ge=1, le=MAX_ID)
    shared: bool = False


class KeptOut(BaseModel):
    """Weekly summaries someone kept (counts and rates; never message text)."""

    id: int
    relationship_id: int
    is_own: bool
    shared: bool
    first_week: str
    last_week: str
    created_at: str
    participants: dict[str, int]
    weekly: list[Row]


def _choice(value: str | None, allowed: tuple[str, ...], column: str) -> str | None:
    if value in (None, "", "auto"):
        return None
    if value not in allowed:
        raise InvalidInputError(
            f"Unknown {column.replace('_', ' ')}",
            problems=[Problem("not one of the choices", column=column, value=value)],
        )
    return value


def analyse_export(
    data: bytes,
    *,
    filename: str,
    chat_format: ChatFormat | None = None,
    date_order: DateOrder | None = None,
    pseudonymous: bool = False,
) -> tuple[ChatSummary, pd.DataFrame]:
    """Read an export held in memory and compute its weekly signals (nothing touches disk).

    Raises :class:`~attunement.errors.InvalidInputError` naming the line and reason when the
    file cannot be read, and when it is larger than :data:`MAX_UPLOAD_BYTES`.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise too_large_error()
    if not data:
        raise InvalidInputError(
            "The file is empty.", hint="Choose the exported chat file (.txt, .zip or .json)."
        )
    messages: Iterator[Message] = read_chat_bytes(
        data, filename=filename, chat_format=chat_format, date_order=date_order
    )
    if pseudonymous:
        messages = pseudonymize(messages)
    counter = SummaryCounter()
    try:
        weekly = weekly_signals(message_signals(counter.tap(messages)))
    except InvalidInputError as error:
        if error.message.startswith(UNDECIDED_DATE_ORDER):
            raise InvalidInputError(
                error.message,
                hint="Say whether the dates are day-first (31/12, date_order 'dmy') or "
                "month-first (12/31, date_order 'mdy').",
                problems=[
                    Problem(p.message, line=p.line, column="date_order", allowed="dmy, mdy")
                    for p in error.problems
                ],
            ) from None
        raise
    summary = counter.summary()
    if weekly.empty:
        raise InvalidInputError(
            "The file holds no dated messages to analyse.",
            hint="Export the chat again with its messages; plain transcripts need "
            "'[YYYY-MM-DD HH:MM]' times before each message.",
        )
    return summary, weekly


def _weekly_records(weekly: pd.DataFrame) -> list[Row]:
    rows: list[Row] = []
    for record in weekly.loc[:, list(WEEKLY_COLUMNS)].to_dict("records"):
        row: Row = {}
        for key, value in record.items():
            if key == "week":
                row[str(key)] = pd.Timestamp(value).date().isoformat()
            elif isinstance(value, float) and math.isnan(value):
                row[str(key)] = None
            elif isinstance(value, (int, float, str)):
                row[str(key)] = value
            else:
                row[str(key)] = float(value) if value is not None else None
        rows.append(row)
    return rows


def _report_body(summary: ChatSummary, weekly: pd.DataFrame, title: str) -> str:
    """The report's body, to show inside a page (without its title and "made here" note)."""
    document = render_chat_report(weekly, summary, title=title)
    found = _BODY.search(document)
    body = found.group(1) if found else ""
    body = body.replace(f"<h1>{escape(title)}</h1>", "", 1)
    return _MADE_HERE.sub("", body, count=1)


def _serializer(settings: AppSettings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=KEEP_SALT)


def _keep_token(
    settings: AppSettings, me: Person, summary: ChatSummary, rows: list[Row], title: str
) -> str:
    """The analysis's weekly rows, summary and title, signed (and compressed) for ``me``."""
    payload = {"pid": me.id, "summary": summary.to_dict(), "rows": rows, "title": title}
    return str(_serializer(settings).dumps(payload))


def _kept_from_token(settings: AppSettings, me: Person, token: str) -> dict[str, Any]:
    try:
        value = _serializer(settings).loads(token, max_age=KEEP_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise InvalidInputError(
            "This analysis is more than a day old and can no longer be kept.",
            hint="Upload the chat again and keep the result right away.",
            problems=[Problem("expired", column="keep_token")],
        ) from None
    except BadSignature:
        raise InvalidInputError(
            "These weekly summaries did not come from an analysis by this server.",
            hint="Upload the chat again and keep the result from its page.",
            problems=[Problem("not a valid keep token", column="keep_token")],
        ) from None
    if not isinstance(value, dict) or value.get("pid") != me.id:
        raise InvalidInputError(
            "These weekly summaries come from someone else's analysis.",
            hint="Each person keeps only what they analysed themselves.",
            problems=[Problem("made for another account", column="keep_token")],
        )
    if not value.get("rows"):
        raise InvalidInputError("There is nothing to keep in this analysis.")
    return value


def keep_summary(
    db: StoreSession,
    me: Person,
    kept: dict[str, Any],
    relationship_id: int,
    *,
    shared: bool,
) -> KeptChatSummary:
    """Store the weekly rows of an analysis for ``me``, linked to one of their relationships."""
    require_current_member(db, me.id, relationship_id)
    rows: list[Row] = kept["rows"]
    weeks = sorted(str(row["week"]) for row in rows)
    record = KeptChatSummary(
        person_id=me.id,
        relationship_id=relationship_id,
        first_week=pd.Timestamp(weeks[0]).date(),
        last_week=pd.Timestamp(weeks[-1]).date(),
        participants=dict(kept["summary"]["participants"]),
        weekly={"rows": rows},
        shared=shared,
    )
    db.add(record)
    db.flush()
    return record


def _readable_kept(
    db: StoreSession, me: Person, kept_id: int | None = None
) -> list[KeptChatSummary]:
    """One's own kept summaries, and those shared in a relationship one is a current member of."""
    current = [rel.id for rel in my_relationships(db, me)]
    query = sa.select(KeptChatSummary).where(
        sa.or_(
            KeptChatSummary.person_id == me.id,
            sa.and_(
                KeptChatSummary.shared.is_(True),
                KeptChatSummary.relationship_id.in_(current),
            ),
        )
    )
    if kept_id is not None:
        query = query.where(KeptChatSummary.id == kept_id)
    return list(db.scalars(query.order_by(KeptChatSummary.created_at.desc())))


def _read_kept(db: StoreSession, me: Person, kept_id: int) -> KeptChatSummary:
    for record in _readable_kept(db, me, kept_id):
        return record
    raise NotFoundError(
        f"No kept chat summary {kept_id} that you may see.",
        hint="Kept summaries are private to whoever kept them unless they share them.",
    )


def _weekly_frame(rows: list[Row]) -> pd.DataFrame:
    """The weekly-signals frame back from its JSON rows (:func:`_weekly_records`)."""
    frame = pd.DataFrame.from_records(rows, columns=list(WEEKLY_COLUMNS))
    frame["week"] = pd.to_datetime(frame["week"])
    for column in WEEKLY_COLUMNS[2:]:
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame


def _kept_frame(record: KeptChatSummary) -> tuple[ChatSummary, pd.DataFrame]:
    participants = {str(k): int(v) for k, v in record.participants.items()}
    first = pd.Timestamp(record.first_week).to_pydatetime()
    last = pd.Timestamp(record.last_week).to_pydatetime()
    summary = ChatSummary(sum(participants.values()), participants, first, last)
    return summary, _weekly_frame(record.weekly["rows"])


def _kept_out(record: KeptChatSummary, me: Person) -> KeptOut:
    return KeptOut(
        id=record.id,
        relationship_id=record.relationship_id,
        is_own=record.person_id == me.id,
        shared=record.shared,
        first_week=record.first_week.isoformat(),
        last_week=record.last_week.isoformat(),
        created_at=record.created_at.isoformat(),
        participants={str(k): int(v) for k, v in record.participants.items()},
        weekly=list(record.weekly["rows"]),
    )


def _form_context(fields: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "title": "Analyse a chat",
        "form": fields,
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        "errors": {},
        "ask_date_order": False,
        **extra,
    }


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
def upload_page(request: Request, me: CurrentUser) -> HTMLResponse:
    """The upload form (nothing is kept; the page says so)."""
    return render(request, "chat/upload.html", _form_context({"pseudonymize": "on"}))


@router.post("/chat", response_class=HTMLResponse, include_in_schema=False)
async def upload(
    request: Request, me: CurrentUser, db: DbSession, settings: AppSettings
) -> Response:
    """Analyse the uploaded export in memory and show the report; nothing is stored."""
    form = await read_form_in_memory(request)
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k in _FORM_FIELDS}
    upload_file = form.get("export")
    filename = ""
    try:
        date_order = cast(
            "DateOrder | None", _choice(fields.get("date_order"), DATE_ORDERS, "date_order")
        )
        chat_format = cast(
            "ChatFormat | None", _choice(fields.get("chat_format"), CHAT_FORMATS, "chat_format")
        )
        if not isinstance(upload_file, UploadFile) or not upload_file.filename:
            raise InvalidInputError(
                "Choose the exported chat file.",
                problems=[Problem("no file chosen", column="export")],
            )
        filename = upload_file.filename
        data = await upload_file.read()
        await form.close()
        pseudonymous = fields.get("pseudonymize") == "on"
        summary, weekly = await run_in_threadpool(
            analyse_export,
            data,
            filename=filename,
            chat_format=chat_format,
            date_order=date_order,
            pseudonymous=pseudonymous,
        )
    except AttunementError as error:
        await form.close()
        if error.code != "invalid_input":
            raise
        undecided = error.message.startswith(UNDECIDED_DATE_ORDER)
        if undecided or any(p.column in _FORM_FIELDS for p in error.problems):
            context = _form_context(fields, ask_date_order=undecided)
            context["errors"] = (
                {"date_order": "Say how this chat writes its dates, then choose the file again."}
                | {"_form": error.message}
                if undecided
                else field_errors(error, _FORM_FIELDS)
            )
            context["undecided_line"] = next((p.line for p in error.problems if p.line), None)
            return render(request, "chat/upload.html", context, status_code=422)
        return render(
            request,
            "chat/error.html",
            {"title": "This file could not be read", "error": error, "filename": filename},
            status_code=422,
        )
    title = "Conversation report" if pseudonymous else f"Conversation: {filename}"
    body = _report_body(summary, weekly, title)
    relationships = await run_in_threadpool(my_relationships, db, me)
    return render(
        request,
        "chat/report.html",
        {
            "title": title,
            "summary": summary,
            "report_body": body,
            "pseudonymous": pseudonymous,
            "weeks": int(weekly["week"].nunique()),
            "keep_token": _keep_token(settings, me, summary, _weekly_records(weekly), title),
            "relationships": [(rel.id, rel.title) for rel in relationships],
        },
    )


@router.post("/chat/report", include_in_schema=False)
def report_file(settings: AppSettings, me: CurrentUser, fields: FormFields) -> Response:
    """The analysis the page showed as a self-contained HTML file (rebuilt from its signed
    weekly rows; the export itself is long gone)."""
    kept = _kept_from_token(settings, me, fields.get("keep_token", ""))
    summary_fields = kept["summary"]
    summary = ChatSummary(
        int(summary_fields["messages"]),
        {str(k): int(v) for k, v in summary_fields["participants"].items()},
        datetime.fromisoformat(summary_fields["first"]) if summary_fields["first"] else None,
        datetime.fromisoformat(summary_fields["last"]) if summary_fields["last"] else None,
    )
    document = render_chat_report(_weekly_frame(kept["rows"]), summary, title=str(kept["title"]))
    return Response(
        document,
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="conversation-report.html"'},
    )


@router.post("/chat/keep", include_in_schema=False)
def keep(
    request: Request, db: DbSession, me: CurrentUser, settings: AppSettings, fields: FormFields
) -> Response:
    """Keep the weekly summaries of the analysis the page showed; nothing else."""
    kept = _kept_from_token(settings, me, fields.get("keep_token", ""))
    try:
        relationship_id = int(fields.get("relationship", ""))
        if not 1 <= relationship_id <= MAX_ID:
            raise ValueError(relationship_id)
    except ValueError:
        raise InvalidInputError(
            "Choose the relationship to keep these summaries with.",
            problems=[Problem("not one of your relationships", column="relationship")],
        ) from None
    record = keep_summary(db, me, kept, relationship_id, shared=fields.get("shared") == "on")
    db.commit()
    return RedirectResponse(f"/chat/kept/{record.id}", status_code=303)


@router.get("/chat/kept", response_class=HTMLResponse, include_in_schema=False)
def kept_list(request: Request, db: ReadSession, me: CurrentUser) -> HTMLResponse:
    """The weekly summaries one kept, and those others shared with one."""
    records = _readable_kept(db, me)
    titles = {rel.id: rel.title for rel in my_relationships(db, me, include_former=True)}
    return render(
        request,
        "chat/kept_list.html",
        {"title": "Kept chat summaries", "records": records, "titles": titles, "me": me},
    )


@router.get("/chat/kept/{kept_id}", response_class=HTMLResponse, include_in_schema=False)
def kept_page(request: Request, db: ReadSession, me: CurrentUser, kept_id: IdPath) -> HTMLResponse:
    """One kept summary, shown as the same report (from the kept weekly rows)."""
    record = _read_kept(db, me, kept_id)
    summary, frame = _kept_frame(record)
    titles = {rel.id: rel.title for rel in my_relationships(db, me, include_former=True)}
    owner = me if record.person_id == me.id else db.get(Person, record.person_id)
    title = "Kept chat summaries"
    body = _report_body(summary, frame, title)
    return render(
        request,
        "chat/kept.html",
        {
            "title": title,
            "record": record,
            "report_body": body,
            "relationship_title": titles.get(record.relationship_id, "a relationship"),
            "owner_name": owner.display_name if owner else "someone",
            "is_own": record.person_id == me.id,
        },
    )


@router.post("/chat/kept/{kept_id}/delete", include_in_schema=False)
def kept_delete(db: DbSession, me: CurrentUser, kept_id: IdPath) -> Response:
    """Delete one's own kept summary."""
    _delete_own(db, me, kept_id)
    return RedirectResponse("/chat/kept", status_code=303)


def _delete_own(db: StoreSession, me: Person, kept_id: int) -> None:
    record = _read_kept(db, me, kept_id)
    if record.person_id != me.id:
        raise NotFoundError(
            f"No kept chat summary {kept_id} of yours.",
            hint="Only whoever kept a summary can delete it.",
        )
    db.delete(record)
    db.commit()


@router.post(
    "/api/chat/analysis",
    response_model=ChatAnalysis,
    tags=["chat"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The export file itself (WhatsApp .txt or .zip, Telegram JSON, "
            f"plain transcript), at most {MAX_UPLOAD_BYTES} bytes.",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def api_analysis(
    request: Request,
    me: CurrentUser,
    settings: AppSettings,
    filename: Annotated[str, Query(min_length=1, max_length=255)] = "chat.txt",
    chat_format: ChatFormat | None = None,
    date_order: DateOrder | None = None,
    pseudonymize: bool = False,
) -> ChatAnalysis:
    """Analyse a chat export sent as the request body; nothing is stored.

    Answers the summary (``messages``, ``participants``, ``first``, ``last``) and one row per
    person and week with the columns of ``attunement.conversation.WEEKLY_COLUMNS``. A file that
    cannot be read is a 422 naming the line and reason; a date order the file cannot settle is
    a 422 asking for ``date_order``; a body over the limit is a 413.
    """
    data = await request.body()
    summary, weekly = await run_in_threadpool(
        analyse_export,
        data,
        filename=filename,
        chat_format=chat_format,
        date_order=date_order,
        pseudonymous=pseudonymize,
    )
    rows = _weekly_records(weekly)
    return ChatAnalysis(
        summary=summary.to_dict(),
        weekly=rows,
        keep_token=_keep_token(settings, me, summary, rows, f"Conversation: {filename}"),
    )


@router.post("/api/chat/kept", response_model=KeptOut, status_code=201, tags=["chat"])
def api_keep(body: KeepIn, db: DbSession, me: CurrentUser, settings: AppSettings) -> KeptOut:
    """Keep the weekly rows of an analysis (its ``keep_token``) with one of your relationships;
    private unless ``shared``."""
    kept = _kept_from_token(settings, me, body.keep_token)
    record = keep_summary(db, me, kept, body.relationship_id, shared=body.shared)
    db.commit()
    return _kept_out(record, me)


@router.get("/api/chat/kept", response_model=list[KeptOut], tags=["chat"])
def api_kept_list(db: ReadSession, me: CurrentUser) -> list[KeptOut]:
    """Your kept chat summaries, and those shared in your current relationships."""
    return [_kept_out(record, me) for record in _readable_kept(db, me)]


@router.get("/api/chat/kept/{kept_id}", response_model=KeptOut, tags=["chat"])
def api_kept(kept_id: IdPath, db: ReadSession, me: CurrentUser) -> KeptOut:
    """One kept chat summary you may see."""
    return _kept_out(_read_kept(db, me, kept_id), me)


@router.delete("/api/chat/kept/{kept_id}", status_code=204, tags=["chat"])
def api_kept_delete(kept_id: IdPath, db: DbSession, me: CurrentUser) -> Response:
    """Delete a kept chat summary of yours."""
    _delete_own(db, me, kept_id)
    return Response(status_code=204)
