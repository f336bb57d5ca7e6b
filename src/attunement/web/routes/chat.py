"""Chat analysis in the web app: upload an export, see the report, keep nothing.

A signed-in person uploads a WhatsApp (``.txt``/``.zip``), Telegram (JSON) or plain-transcript
export. It is read **in memory only**: the CSRF middleware holds the body (at most
:data:`~attunement.web.csrf.MAX_BODY_BYTES`) and parses the form with
:func:`~attunement.web.csrf.read_form_in_memory`, so no temporary file is written; the bytes go
to :func:`attunement.conversation.read_chat_bytes` and the weekly signals to the same report as
``attunement chat report`` (:func:`attunement.reports.chat.render_chat_report`). Nothing of the
file is stored: the page shows the result and offers it as a download from the page itself.

- ``GET /chat``: the upload form. ``POST /chat``: the report (or the form again, with the
  question the file could not settle: day-first or month-first dates).
- ``POST /api/chat/analysis``: the raw export as the request body; answers the summary and the
  weekly signals (``WEEKLY_COLUMNS``) as JSON. Same sign-in, CSRF header and error shape.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterator
from html import escape
from typing import Annotated, Any, cast

import pandas as pd
from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

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
from attunement.errors import AttunementError, InvalidInputError, Problem
from attunement.reports.chat import render_chat_report
from attunement.web.csrf import MAX_BODY_BYTES, read_form_in_memory, too_large_error
from attunement.web.deps import CurrentUser, field_errors, render

__all__ = ["MAX_UPLOAD_BYTES", "ChatAnalysis", "analyse_export", "router"]

router = APIRouter()

MAX_UPLOAD_BYTES = MAX_BODY_BYTES
"""The largest export accepted (the whole request is capped at the same size)."""

UNDECIDED_DATE_ORDER = "Cannot tell whether the dates are day-first or month-first"
"""The start of the reader's message when the file cannot settle the date order."""

_FORM_FIELDS = {"export", "date_order", "chat_format", "pseudonymize"}
_BODY = re.compile(r"<body>(.*)</body>", re.DOTALL)


class ChatAnalysis(BaseModel):
    """What ``POST /api/chat/analysis`` answers. Nothing of it is stored."""

    summary: dict[str, Any]
    weekly: list[dict[str, str | float | int | None]]
    kept: bool = False


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


def _weekly_records(weekly: pd.DataFrame) -> list[dict[str, str | float | int | None]]:
    rows: list[dict[str, str | float | int | None]] = []
    for record in weekly.loc[:, list(WEEKLY_COLUMNS)].to_dict("records"):
        row: dict[str, str | float | int | None] = {}
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


def _report_parts(summary: ChatSummary, weekly: pd.DataFrame, title: str) -> tuple[str, str]:
    """The report's body (shown inside the page) and the whole document (offered as download)."""
    document = render_chat_report(weekly, summary, title=title)
    found = _BODY.search(document)
    body = found.group(1) if found else ""
    body = body.replace(f"<h1>{escape(title)}</h1>", "", 1)
    return body, document


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
async def upload(request: Request, me: CurrentUser) -> Response:
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
    body, document = _report_parts(summary, weekly, title)
    download = "data:text/html;charset=utf-8;base64," + base64.b64encode(
        document.encode("utf-8")
    ).decode("ascii")
    return render(
        request,
        "chat/report.html",
        {
            "title": title,
            "summary": summary,
            "report_body": body,
            "download_href": download,
            "pseudonymous": pseudonymous,
            "weeks": int(weekly["week"].nunique()),
        },
    )


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
    return ChatAnalysis(summary=summary.to_dict(), weekly=_weekly_records(weekly))
