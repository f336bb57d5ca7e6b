"""The project's own lexicons (TOML data files in ``lexicons/``), compiled for fast matching.

Every lexicon is a list of words or token sequences ("phrases", where ``*`` matches exactly one
token) per category. :func:`load_lexicon` reads the files once and builds one dictionary from
token to (category bits, function-word category, phrases starting with the token), so a message
costs one dictionary look-up per token. The files, their categories and their licence
(Apache-2.0, written for attunement) are described in ``lexicons/README.md``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from attunement.errors import InvalidInputError, Problem

__all__ = [
    "FUNCTION_WORD_CATEGORIES",
    "Bits",
    "Lexicon",
    "load_lexicon",
    "tokenize",
]

FUNCTION_WORD_CATEGORIES: Final[tuple[str, ...]] = (
    "personal_pronouns",
    "impersonal_pronouns",
    "articles",
    "auxiliary_verbs",
    "prepositions",
    "adverbs",
    "conjunctions",
    "negations",
    "quantifiers",
)

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; curly apostrophes become straight (``I’m`` -> ``i'm``)."""
    return _TOKEN.findall(text.lower().translate(_APOSTROPHES))


class Bits:
    """Category bits of a token or phrase (a token can carry several)."""

    FIRST_SINGULAR: Final = 1 << 0
    FIRST_PLURAL: Final = 1 << 1
    SECOND: Final = 1 << 2
    EMOTION: Final = 1 << 3
    AFFECTION: Final = 1 << 4
    SELF_FACT: Final = 1 << 5
    LOGISTICS: Final = 1 << 6
    UNDERSTANDING: Final = 1 << 7
    VALIDATION: Final = 1 << 8
    CARING: Final = 1 << 9
    OPEN_QUESTION: Final = 1 << 10
    EXPLORING: Final = 1 << 11
    CLOSED_QUESTION: Final = 1 << 12
    THIRD: Final = 1 << 13


# (file, table, key, bit): which list of which file sets which bit.
_SOURCES: Final = (
    ("pronouns", "first_singular", "words", Bits.FIRST_SINGULAR),
    ("pronouns", "first_plural", "words", Bits.FIRST_PLURAL),
    ("pronouns", "second", "words", Bits.SECOND),
    ("pronouns", "third", "words", Bits.THIRD),
    ("disclosure", "emotion", "words", Bits.EMOTION),
    ("disclosure", "emotion", "phrases", Bits.EMOTION),
    ("disclosure", "emotion", "affection", Bits.AFFECTION),
    ("disclosure", "self_facts", "words", Bits.SELF_FACT),
    ("disclosure", "logistics", "phrases", Bits.LOGISTICS),
    ("responsiveness", "understanding", "phrases", Bits.UNDERSTANDING),
    ("responsiveness", "validation", "phrases", Bits.VALIDATION),
    ("responsiveness", "caring", "phrases", Bits.CARING),
    ("questions", "open", "words", Bits.OPEN_QUESTION),
    ("questions", "exploring", "phrases", Bits.EXPLORING),
    ("questions", "closed", "phrases", Bits.CLOSED_QUESTION),
)

Phrase = tuple[tuple[str, ...], int]
Entry = tuple[int, int, tuple[Phrase, ...]]


@dataclass(frozen=True)
class Lexicon:
    """Compiled lexicons: ``entries[token] = (bits, function_word_index or -1, phrases)``.

    ``phrases`` holds (the tokens after the first, bits) for every phrase starting with the
    token. ``caring_emoji`` are matched as characters; ``files`` keeps the parsed TOML data.
    """

    entries: dict[str, Entry]
    caring_emoji: tuple[str, ...]
    files: dict[str, dict[str, Any]]

    def bits_of(self, tokens: list[str]) -> int:
        """The union of the category bits of ``tokens`` and of the phrases they contain."""
        bits = 0
        get = self.entries.get
        for i, token in enumerate(tokens):
            entry = get(token)
            if entry is None:
                continue
            bits |= entry[0]
            for rest, phrase_bits in entry[2]:
                if _matches(tokens, i + 1, rest):
                    bits |= phrase_bits
        return bits


def _matches(tokens: list[str], start: int, rest: tuple[str, ...]) -> bool:
    if start + len(rest) > len(tokens):
        return False
    for offset, word in enumerate(rest):
        if word != "*" and tokens[start + offset] != word:
            return False
    return True


def _read(name: str) -> dict[str, Any]:
    text = resources.files("attunement.conversation").joinpath(f"lexicons/{name}.toml")
    return tomllib.loads(text.read_text(encoding="utf-8"))


@cache
def load_lexicon() -> Lexicon:
    """Load and compile the lexicon files shipped with attunement (cached)."""
    files = {
        name: _read(name)
        for name in ("pronouns", "disclosure", "responsiveness", "questions", "function_words")
    }
    single: dict[str, int] = {}
    phrases: dict[str, list[Phrase]] = {}
    for file, table, key, bit in _SOURCES:
        for item in files[file][table].get(key, []):
            words = tuple(item.lower().replace("’", "'").split())
            if len(words) == 1:
                single[words[0]] = single.get(words[0], 0) | bit
            else:
                phrases.setdefault(words[0], []).append((words[1:], bit))
    function_index: dict[str, int] = {}
    problems = []
    for index, category in enumerate(FUNCTION_WORD_CATEGORIES):
        for word in files["function_words"][category]["words"]:
            if word in function_index:
                other = FUNCTION_WORD_CATEGORIES[function_index[word]]
                problems.append(Problem(f"{word!r} is in {other} and {category}"))
            function_index[word] = index
    if problems:
        raise InvalidInputError("Function-word categories overlap", problems=problems)
    entries: dict[str, Entry] = {}
    for token in single.keys() | phrases.keys() | function_index.keys():
        entries[token] = (
            single.get(token, 0),
            function_index.get(token, -1),
            tuple(phrases.get(token, ())),
        )
    emoji = tuple(files["responsiveness"]["caring"]["emoji"])
    return Lexicon(entries, emoji, files)
