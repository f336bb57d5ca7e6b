"""Pseudonymisation: replace participants' names consistently before anything is shown.

:func:`pseudonymize` maps each sender, in order of first appearance, to ``Person A``,
``Person B``, ... (``Person AA`` after ``Person Z``) and replaces the names already seen (the
full name and its first word, whole words only, case-sensitive) inside message texts.
Other identifying details in the texts (places, phone numbers) are not touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from attunement.conversation.messages import Message

__all__ = ["Pseudonyms", "pseudonym", "pseudonymize"]


def pseudonym(index: int) -> str:
    """``Person A`` for 0, ``Person Z`` for 25, ``Person AA`` for 26, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"Person {letters}"


class Pseudonyms:
    """A consistent name -> pseudonym map that grows as new senders appear."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._words: dict[str, str] = {}

    def of(self, name: str) -> str:
        known = self.names.get(name)
        if known is None:
            known = self.names[name] = pseudonym(len(self.names))
            self._words[name] = known
            first = name.split()[0] if name.split() else name
            self._words.setdefault(first, known)
            words = sorted(self._words, key=len, reverse=True)
            self._pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b")
        return known

    def in_text(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._words[m.group(0)], text)


def pseudonymize(
    messages: Iterable[Message], pseudonyms: Pseudonyms | None = None
) -> Iterator[Message]:
    """Yield the messages with senders (and their names in texts) replaced by pseudonyms."""
    names = pseudonyms or Pseudonyms()
    for message in messages:
        sender = names.of(message.sender) if message.sender is not None else None
        yield message._replace(sender=sender, text=names.in_text(message.text))
