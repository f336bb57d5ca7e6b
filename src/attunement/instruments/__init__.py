"""The instrument bank: validated questionnaire definitions and their scoring.

Definitions are TOML data files (``definitions/<id>.toml``) validated on load; the 36 Questions
protocol lives in ``protocols/36_questions.toml``. See ``docs/instruments.md``.
"""

from attunement.instruments.loader import (
    definition_files,
    instrument_ids,
    list_instruments,
    load_instrument,
    load_protocol,
    parse_instrument,
    protocol_ids,
)
from attunement.instruments.schema import (
    Anchor,
    Band,
    Bands,
    Instrument,
    Item,
    OptionalEnding,
    Procedure,
    Protocol,
    Question,
    QuestionSet,
    ResponseScale,
    Scoring,
    Subscale,
)
from attunement.instruments.scoring import (
    InvalidPolicy,
    ScoreResult,
    keyed_items,
    score,
    score_record,
    score_with_report,
)

__all__ = [
    "Anchor",
    "Band",
    "Bands",
    "Instrument",
    "InvalidPolicy",
    "Item",
    "OptionalEnding",
    "Procedure",
    "Protocol",
    "Question",
    "QuestionSet",
    "ResponseScale",
    "ScoreResult",
    "Scoring",
    "Subscale",
    "definition_files",
    "instrument_ids",
    "keyed_items",
    "list_instruments",
    "load_instrument",
    "load_protocol",
    "parse_instrument",
    "protocol_ids",
    "score",
    "score_record",
    "score_with_report",
]
