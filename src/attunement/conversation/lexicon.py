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
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; curly apostrophes become straight (``I’m`` -> ``i'm``)."""
    lower = text.lower()
    if "’" in lower or "‘" in lower:
        lower = lower.translate(_APOSTROPHES)
    return _TOKEN.findall(lower)


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
    ATTRIBUTION: Final = 1 << 14
    OTHER_DIRECTED: Final = 1 << 15
    HYPOTHETICAL: Final = 1 << 16


# (file, table, key, bit): which list of which file sets which bit.
_SOURCES: Final = (
    ("pronouns", "first_singular", "words", Bits.FIRST_SINGULAR),
    ("pronouns", "first_plural", "words", Bits.FIRST_PLURAL),
    ("pronouns", "second", "words", Bits.SECOND),
    ("pronouns", "third", "words", Bits.THIRD),
    ("pronouns", "attribution", "words", Bits.ATTRIBUTION),
    ("disclosure", "emotion", "words", Bits.EMOTION),
    ("disclosure", "emotion", "phrases", Bits.EMOTION),
    ("disclosure", "emotion", "affection", Bits.AFFECTION),
    ("disclosure", "emotion", "other_directed", Bits.OTHER_DIRECTED),
    ("disclosure", "emotion", "hypothetical", Bits.HYPOTHETICAL),
    ("disclosure", "self_facts", "words", Bits.SELF_FACT),
    ("disclosure", "logistics", "phrases", Bits.LOGISTICS),
    ("responsiveness", "understanding", "phrases", Bits.UNDERSTANDING),
    ("responsiveness", "validation", "phrases", Bits.VALIDATION),
    ("responsiveness", "caring", "phrases", Bits.CARING),
    ("questions", "open", "words", Bits.OPEN_QUESTION),
    ("questions", "exploring", "phrases", Bits.EXPLORING),
    ("questions", "closed", "phrases", Bits.CLOSED_QUESTION),
)

Phrase = tuple[list[str], int]
Entry = tuple[int, int, int]


@dataclass(frozen=True)
class Lexicon:
    """Compiled lexicons for one dictionary look-up per token.

    ``entries[token] = (bits, function_word_index or -1, phrase_starts)``, where
    ``phrase_starts`` is 1 if a phrase in ``bigrams`` starts with the token, 2 if one in
    ``wildcards`` does, 3 if both. ``bigrams["a b"]`` holds (the tokens after the first two,
    bits); ``wildcards[first]`` the phrases whose second token is ``*``. ``caring_emoji`` are
    matched as characters; ``files`` keeps the parsed TOML data.
    """

    entries: dict[str, Entry]
    bigrams: dict[str, tuple[Phrase, ...]]
    wildcards: dict[str, tuple[Phrase, ...]]
    caring_emoji: tuple[str, ...]
    files: dict[str, dict[str, Any]]
    function_words: frozenset[str] = frozenset()

    def phrase_bits(self, tokens: list[str], index: int) -> int:
        """Bits of the phrases that start at ``tokens[index]``."""
        bits = 0
        token = tokens[index]
        if index + 1 < len(tokens):
            for rest, phrase_bits in self.bigrams.get(token + " " + tokens[index + 1], ()):
                if not rest or _matches(tokens, index + 2, rest):
                    bits |= phrase_bits
        for rest, phrase_bits in self.wildcards.get(token, ()):
            if _matches(tokens, index + 1, rest):
                bits |= phrase_bits
        return bits

    def bits_of(self, tokens: list[str]) -> int:
        """The union of the category bits of ``tokens`` and of the phrases they contain."""
        bits = 0
        get = self.entries.get
        for index, token in enumerate(tokens):
            entry = get(token)
            if entry is not None:
                bits |= entry[0]
                if entry[2]:
                    bits |= self.phrase_bits(tokens, index)
        return bits


def _matches(tokens: list[str], start: int, rest: list[str]) -> bool:
    if start + len(rest) > len(tokens):
        return False
    if "*" not in rest:
        return tokens[start : start + len(rest)] == rest
    return all(w in ("*", t) for w, t in zip(rest, tokens[start:], strict=False))


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
    bigrams: dict[str, list[Phrase]] = {}
    wildcards: dict[str, list[Phrase]] = {}
    for file, table, key, bit in _SOURCES:
        for item in files[file][table].get(key, []):
            words = item.lower().replace("’", "'").split()
            if len(words) == 1:
                single[words[0]] = single.get(words[0], 0) | bit
            elif words[1] == "*":
                wildcards.setdefault(words[0], []).append((words[1:], bit))
            else:
                bigrams.setdefault(f"{words[0]} {words[1]}", []).append((words[2:], bit))
    bigram_starters = {key.split()[0] for key in bigrams}
    starters = bigram_starters | wildcards.keys()
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
    for token in single.keys() | starters | function_index.keys():
        starts = (token in bigram_starters) | (token in wildcards) << 1
        entries[token] = (single.get(token, 0), function_index.get(token, -1), starts)
    emoji = tuple(files["responsiveness"]["caring"]["emoji"])
    return Lexicon(
        entries,
        {key: tuple(value) for key, value in bigrams.items()},
        {key: tuple(value) for key, value in wildcards.items()},
        emoji,
        files,
        frozenset(function_index),
    )
