"""Daily practices (appreciation, routine check-ins, raising a problem early, active listening),
their reminders, and the private iCalendar feed. See ``docs/practices.md``."""

from attunement.practices.catalog import (
    PRACTICES,
    Evidence,
    Practice,
    get_practice,
    list_practices,
)
from attunement.practices.delivery import (
    ReminderText,
    reminder_text,
    rule_of,
    send_due_reminders,
)
from attunement.practices.feed import FeedEvent, calendar_feed, escape_text, fold_line
from attunement.practices.reminders import (
    DEFAULT_GRACE,
    WEEKDAY_CODES,
    ReminderRule,
    due_occurrence,
    latest_occurrence,
    next_occurrence,
    occurrences,
    parse_weekdays,
)
from attunement.practices.suggestions import (
    LOW_MEAN,
    MIN_RECORDS,
    PROCESS_COLUMNS,
    UNEVEN_BALANCE,
    Balance,
    Suggestion,
    disclosure_balance,
    eis_change,
    process_summary,
    suggest_practices,
)

__all__ = [
    "DEFAULT_GRACE",
    "LOW_MEAN",
    "MIN_RECORDS",
    "PRACTICES",
    "PROCESS_COLUMNS",
    "UNEVEN_BALANCE",
    "WEEKDAY_CODES",
    "Balance",
    "Evidence",
    "FeedEvent",
    "Practice",
    "ReminderRule",
    "ReminderText",
    "Suggestion",
    "calendar_feed",
    "disclosure_balance",
    "due_occurrence",
    "eis_change",
    "escape_text",
    "fold_line",
    "get_practice",
    "latest_occurrence",
    "list_practices",
    "next_occurrence",
    "occurrences",
    "parse_weekdays",
    "process_summary",
    "reminder_text",
    "rule_of",
    "send_due_reminders",
    "suggest_practices",
]
