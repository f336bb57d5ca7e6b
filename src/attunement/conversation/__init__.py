"""Conversation analysis of exported chats (WhatsApp, Telegram, transcripts), run locally.

Readers stream :class:`Message` records (memory does not grow with the chat); signals of
disclosure, responsiveness and reciprocity are computed from them. Nothing leaves the machine.
"""

from attunement.conversation.messages import KINDS, Kind, Message
from attunement.conversation.reading import (
    CHAT_FORMATS,
    ChatFormat,
    ChatSummary,
    detect_format,
    read_chat,
    summarize_chat,
)
from attunement.conversation.telegram import message_from_telegram, read_telegram
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
    "KINDS",
    "ChatFormat",
    "ChatSummary",
    "DateOrder",
    "Kind",
    "Message",
    "detect_date_order",
    "detect_format",
    "is_whatsapp_line",
    "message_from_telegram",
    "parse_transcript",
    "parse_whatsapp",
    "read_chat",
    "read_telegram",
    "read_transcript",
    "read_whatsapp",
    "summarize_chat",
]
