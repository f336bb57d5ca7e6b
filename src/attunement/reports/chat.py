"""A self-contained HTML report of a chat: weekly trajectories, each person side by side.

:func:`chat_report` reads a stream of messages once (memory bounded by the number of person-weeks)
and returns one HTML document with inline CSS and inline SVG charts
(:mod:`attunement.reports.charts`). The page loads nothing from anywhere (a Content-Security-Policy
forbids it) and contains no message text, only counts and rates; pass messages through
:func:`attunement.conversation.pseudonymize` first to replace names as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from html import escape

import pandas as pd

from attunement import __version__
from attunement.conversation.messages import Message
from attunement.conversation.reading import ChatSummary, SummaryCounter
from attunement.conversation.signals import message_signals
from attunement.conversation.trajectories import weekly_signals
from attunement.errors import InvalidInputError
from attunement.reports.charts import Series, bar_chart, trend_chart

__all__ = ["chat_report", "render_chat_report"]

# (column, chart title, y label, y range, how to read it)
_TRAJECTORIES: tuple[tuple[str, str, str, tuple[float, float] | None, str], ...] = (
    ("messages", "Messages per week", "messages", None, "How much each person wrote."),
    (
        "disclosure_rate",
        "Self-disclosure",
        "share of text messages",
        (0.0, 1.0),
        "Share of a person's text messages that tell something about themself (feelings or facts).",
    ),
    (
        "responsiveness_rate",
        "Responsiveness to the other's disclosures",
        "share of replies",
        (0.0, 1.0),
        "Of the turns that answer the other's disclosure, the share showing understanding, "
        "validation or caring.",
    ),
    (
        "reciprocity",
        "Reciprocity of disclosure",
        "share of replies",
        (0.0, 1.0),
        "Of the turns that answer the other's disclosure, the share that disclose in return.",
    ),
    (
        "exploring_questions",
        "Exploring questions",
        "questions",
        None,
        "Questions inviting the other to say more about their experience.",
    ),
    (
        "we_per_100_words",
        "We-language",
        "per 100 words",
        None,
        "Uses of we, us, our, let's per 100 words.",
    ),
    (
        "turn_share",
        "Balance of turns",
        "share of the week's turns",
        (0.0, 1.0),
        "Each person's share of the turns; 0.5 each is an even exchange between two people.",
    ),
    (
        "median_reply_latency_min",
        "Reply time",
        "median minutes",
        None,
        "Median time from the other's last message to a reply.",
    ),
    (
        "lsm",
        "Language style matching",
        "LSM (0-1)",
        (0.0, 1.0),
        "How alike the function words of each person and the others are (Ireland & "
        "Pennebaker, 2010), with our own word lists.",
    ),
)

_CSS = """
:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5b5b66;--bg:#fff;--line:#e3e3e8}
@media (prefers-color-scheme:dark){:root{--fg:#ececf1;--muted:#a6a6b3;--bg:#141418;
--line:#30303a}}
body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:64rem;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.2rem;margin-top:2rem}
.note{color:var(--muted);font-size:.9rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1.5rem}
figure{margin:0}figcaption{color:var(--muted);font-size:.9rem}
.att-chart{background:transparent}
"""


def _fmt(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{digits}f}"
    return f"{int(value):,}"


def _overall(weekly: pd.DataFrame, person: str) -> dict[str, float]:
    rows = weekly[weekly["person"] == person]
    responding = rows["responding_turns"].sum()

    def weighted(column: str) -> float:
        if not responding:
            return math.nan
        values = rows[column].fillna(0) * rows["responding_turns"]
        return float(values.sum() / responding)

    turns_all = weekly["turns"].sum()
    return {
        "messages": float(rows["messages"].sum()),
        "words": float(rows["words"].sum()),
        "turn_share": float(rows["turns"].sum() / turns_all) if turns_all else math.nan,
        "emotional": float(rows["emotional_disclosures"].sum()),
        "informational": float(rows["informational_disclosures"].sum()),
        "responding": float(responding),
        "understanding": weighted("understanding_rate"),
        "validation": weighted("validation_rate"),
        "caring": weighted("caring_rate"),
        "responsiveness": weighted("responsiveness_rate"),
        "reciprocity": weighted("reciprocity"),
        "exploring": float(rows["exploring_questions"].sum()),
    }


def _series(weekly: pd.DataFrame, people: list[str], column: str) -> list[Series]:
    weeks: list[date] = sorted({pd.Timestamp(stamp).date() for stamp in weekly["week"]})
    out = []
    for person in people:
        rows = weekly[weekly["person"] == person]
        by_week = {
            pd.Timestamp(stamp).date(): value
            for stamp, value in zip(rows["week"], rows[column], strict=True)
        }
        values = [by_week.get(week) for week in weeks]
        clean = [None if v is None or math.isnan(float(v)) else float(v) for v in values]
        out.append(Series(person, weeks, clean))
    return out


def render_chat_report(
    weekly: pd.DataFrame, summary: ChatSummary, *, title: str = "Conversation report"
) -> str:
    """The HTML document for a weekly-signals frame (:func:`weekly_signals`) and its summary."""
    if weekly.empty:
        raise InvalidInputError(
            "The chat has no dated messages to report on",
            hint="A report needs timestamps; plain transcripts need '[YYYY-MM-DD HH:MM]' times.",
        )
    weekly = weekly.assign(median_reply_latency_min=weekly["median_reply_latency_s"] / 60.0)
    people = list(summary.participants)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="referrer" content="no-referrer">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">{summary.messages:,} messages, '
        f"{escape(summary.first.date().isoformat() if summary.first else '?')} to "
        f"{escape(summary.last.date().isoformat() if summary.last else '?')}. Made on this "
        f"computer by attunement {__version__}; nothing was sent anywhere. The signals are "
        "estimates from word lists and rules and are often wrong about single messages "
        "(precision and recall of each signal: docs/conversation.md). Read trends, not single "
        "weeks. attunement is not therapy and does not replace it.</p>",
        "<h2>Overall</h2>",
        _overall_table(weekly, people),
        _facet_chart(weekly, people),
        "<h2>Week by week</h2>",
        '<div class="grid">',
    ]
    for column, chart_title, y_label, y_range, caption in _TRAJECTORIES:
        series = _series(weekly, people, column)
        if not any(value is not None for s in series for value in s.y):
            continue
        svg = trend_chart(
            series,
            title=chart_title,
            x_label="week",
            y_label=y_label,
            y_min=y_range[0] if y_range else None,
            y_max=y_range[1] if y_range else None,
        )
        parts.append(f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>")
    parts += ["</div>", _method_notes(), "</body></html>"]
    return "\n".join(parts)


def _overall_table(weekly: pd.DataFrame, people: list[str]) -> str:
    rows = [(person, _overall(weekly, person)) for person in people]
    labels = (
        ("messages", "Messages"),
        ("words", "Words"),
        ("turn_share", "Share of turns"),
        ("emotional", "Emotional disclosures"),
        ("informational", "Informational disclosures"),
        ("responding", "Replies to a disclosure"),
        ("responsiveness", "… responsive"),
        ("reciprocity", "… disclosing in return"),
        ("exploring", "Exploring questions"),
    )
    head = "".join(f"<th scope=col>{escape(person)}</th>" for person, _ in rows)
    body = "".join(
        f"<tr><th scope=row>{label}</th>"
        + "".join(f"<td>{_fmt(values[key])}</td>" for _, values in rows)
        + "</tr>"
        for key, label in labels
    )
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facet_chart(weekly: pd.DataFrame, people: list[str]) -> str:
    facets = ("understanding", "validation", "caring")
    groups = {person: [_overall(weekly, person)[f] for f in facets] for person in people}
    cleaned = {p: [None if math.isnan(v) else v for v in values] for p, values in groups.items()}
    if not any(v is not None for values in cleaned.values() for v in values):
        return ""
    svg = bar_chart(
        ["Understanding", "Validation", "Caring"],
        cleaned,
        title="How each person answers the other's disclosures",
        x_label="facet of responsiveness (Reis & Shaver, 1988)",
        y_label="share of replies",
        y_min=0.0,
        y_max=1.0,
    )
    return (
        f"<figure>{svg}<figcaption>Share of replies to a disclosure that show each facet."
        "</figcaption></figure>"
    )


def _method_notes() -> str:
    return (
        "<h2>How to read this</h2><ul class=note>"
        "<li>A <b>turn</b> is a run of messages by one person. A <b>reply to a disclosure</b> is "
        "the turn right after the other person's turn that disclosed something.</li>"
        "<li>Disclosure, understanding, validation, caring and exploring questions come from word "
        "lists written for attunement (English only). They miss what is said without those words "
        "and sometimes fire on look-alikes.</li>"
        "<li>Weeks start on Monday. Rates in weeks with few messages jump around.</li>"
        "<li>The process model behind the signals: Reis &amp; Shaver (1988); Laurenceau, Barrett "
        "&amp; Pietromonaco (1998).</li></ul>"
    )


def chat_report(
    messages: Iterable[Message], *, title: str = "Conversation report", sentiment: bool = False
) -> str:
    """Read ``messages`` once and return the HTML report (see :func:`render_chat_report`)."""
    counter = SummaryCounter()
    weekly = weekly_signals(message_signals(counter.tap(messages), sentiment=sentiment))
    return render_chat_report(weekly, counter.summary(), title=title)
