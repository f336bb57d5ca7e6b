"""Conversation analysis of exported chats (WhatsApp, Telegram, transcripts), run locally.

Readers stream :class:`Message` records (memory does not grow with the chat); signals of
disclosure, responsiveness and reciprocity are computed from them. Nothing leaves the machine.
"""

from attunement.conversation.lexicon import (
    FUNCTION_WORD_CATEGORIES,
    Lexicon,
    load_lexicon,
    tokenize,
)
from attunement.conversation.messages import KINDS, Kind, Message
from attunement.conversation.privacy import Pseudonyms, pseudonym, pseudonymize
from attunement.conversation.reading import (
    CHAT_FORMATS,
    ChatFormat,
    ChatSummary,
    SummaryCounter,
    detect_format,
    read_chat,
    read_chat_bytes,
    summarize_chat,
)
from attunement.conversation.signals import (
    DISCLOSURE_LEVELS,
    SIGNAL_COLUMNS,
    Disclosure,
    MessageSignals,
    TextSignals,
    message_signals,
    signals_frame,
    text_signals,
    write_signals_csv,
)
from attunement.conversation.similarity import (
    SIMILARITY_COLUMNS,
    DisclosurePair,
    Encoder,
    disclosure_pairs,
    load_minilm,
    reply_similarity,
)
from attunement.conversation.telegram import message_from_telegram, read_telegram
from attunement.conversation.trajectories import (
    WEEKLY_COLUMNS,
    language_style_matching,
    weekly_signals,
)
from attunement.conversation.transcript import parse_transcript, read_transcript
from attunement.conversation.whatsapp import (
    DATE_ORDERS,
    DateOrder,
    detect_date_order,
    is_whatsapp_line,
    parse_whatsapp,
    read_whatsapp,
)

__all__ = [
    "CHAT_FORMATS",
    "DATE_ORDERS",
    "DISCLOSURE_LEVELS",
    "FUNCTION_WORD_CATEGORIES",
    "KINDS",
    "SIGNAL_COLUMNS",
    "SIMILARITY_COLUMNS",
    "WEEKLY_COLUMNS",
    "ChatFormat",
    "ChatSummary",
    "DateOrder",
    "Disclosure",
    "DisclosurePair",
    "Encoder",
    "Kind",
    "Lexicon",
    "Message",
    "MessageSignals",
    "Pseudonyms",
    "SummaryCounter",
    "TextSignals",
    "detect_date_order",
    "detect_format",
    "disclosure_pairs",
    "is_whatsapp_line",
    "language_style_matching",
    "load_lexicon",
    "load_minilm",
    "message_from_telegram",
    "message_signals",
    "parse_transcript",
    "parse_whatsapp",
    "pseudonym",
    "pseudonymize",
    "read_chat",
    "read_chat_bytes",
    "read_telegram",
    "read_transcript",
    "read_whatsapp",
    "reply_similarity",
    "signals_frame",
    "summarize_chat",
    "text_signals",
    "tokenize",
    "weekly_signals",
    "write_signals_csv",
]
