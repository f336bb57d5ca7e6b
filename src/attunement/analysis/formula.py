"""lme4 model formulas: parsing, and the design matrices they describe.

A formula is written as in R's lme4 (Bates, Maechler, Bolker & Walker 2015, J. Stat. Softw.
67(1), section 2):

``y ~ x1 + x2 + (1 + x1 | person)``
    fixed effects for the intercept, ``x1`` and ``x2``; a random intercept and a random slope of
    ``x1`` per ``person``, correlated.
``y ~ x + (1 | person)``, ``y ~ x + (0 + x | person)``
    a random intercept only; a random slope only.
``y ~ x1 * x2``, ``y ~ x1:x2``
    ``a * b`` is ``a + b + a:b``; ``a:b`` is the product (interaction) term.
``y ~ 0 + role1 + role2 + (0 + role1 + role2 | dyad)``
    the two-intercept model of distinguishable dyads (Kenny, Kashy & Cook 2006): no common
    intercept (``0 +`` or ``- 1``), one intercept per role, correlated random intercepts.

Columns of text, categories or true/false values are factors coded by treatment contrasts, with
the columns named as R names them: a factor ``group`` with levels ``a, b, c`` gives the columns
``groupb`` and ``groupc`` (the first level is the reference). As in R, a factor is coded by all of
its levels where the model has no lower-order term to absorb the reference (``0 + group`` gives
``groupa, groupb, groupc``; ``x:group`` without ``group`` gives ``x:groupa, ...``). Terms are
ordered as R orders them: main effects first, then two-way interactions, and so on; the variables
of an interaction in the order they first appear in the formula. Levels of a text column are
sorted by Unicode code point (R sorts by the locale, which can differ for mixed upper/lower case);
a pandas ``Categorical`` keeps its own order.

``y ~ x + (1 | g) + (0 + x | g)``, ``y ~ x + (1 + x || g)``
    uncorrelated random intercept and slope: independent blocks of random effects, each with its
    own covariance matrix (lme4 names the second block ``g.1`` in its variance table).

Not supported (a clear error says so): functions of columns such as ``log(x)`` or ``I(x^2)``, a
second grouping column, nested or crossed grouping (``g1/g2``, ``g1:g2``), offsets and ``.``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from attunement.errors import InvalidInputError, Problem

__all__ = [
    "Design",
    "DesignColumn",
    "Formula",
    "RandomTerm",
    "TermList",
    "build_design",
    "design_columns",
    "parse_formula",
]

Term = tuple[str, ...]
"""One model term: the names of the variables multiplied together (empty = intercept)."""

_SYNTAX_HINT = (
    "Write the formula as in lme4, e.g. 'y ~ x1 + x2 + (1 + x1 | person)' or "
    "'y ~ 0 + role1 + role2 + (0 + role1 + role2 | dyad)'."
)


@dataclass(frozen=True)
class TermList:
    """The terms of one side of a model: an intercept flag and the other terms in R's order."""

    intercept: bool
    terms: tuple[Term, ...]

    def labels(self) -> list[str]:
        """Term labels as R writes them (``x1``, ``x1:x2``)."""
        return [":".join(t) for t in self.terms]


@dataclass(frozen=True)
class RandomTerm:
    """The random effects of one grouping column: ``(terms | group)``, possibly several.

    ``blocks`` are independent sets of effects, each with its own unstructured covariance:
    ``(1 + x | g)`` is one block; ``(1 | g) + (0 + x | g)`` and ``(1 + x || g)`` are two
    (lme4 names the second one ``g.1`` in its variance table).
    """

    group: str
    blocks: tuple[TermList, ...]

    def variables(self) -> list[str]:
        """The columns the random effects use (not the grouping column), in order."""
        seen: list[str] = []
        for block in self.blocks:
            for term in block.terms:
                seen.extend(name for name in term if name not in seen)
        return seen


@dataclass(frozen=True)
class Formula:
    """A parsed lme4 formula: response, fixed effects, random effects of one grouping column."""

    text: str
    response: str
    fixed: TermList
    random: RandomTerm | None

    def variables(self) -> list[str]:
        """Every column the formula uses, response first, in order of appearance."""
        seen: list[str] = [self.response]
        for term in self.fixed.terms:
            seen.extend(name for name in term if name not in seen)
        if self.random is not None:
            seen.extend(name for name in self.random.variables() if name not in seen)
        if self.random is not None and self.random.group not in seen:
            seen.append(self.random.group)
        return seen


# --------------------------------------------------------------------------- tokenising

_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z.][A-Za-z0-9._]*|`[^`]+`)|(?P<number>\d+(?:\.\d*)?)"
    r"|(?P<op>\|\||[~+\-*:|()/^])|(?P<bad>\S))"
)


@dataclass
class _Token:
    kind: str
    text: str
    position: int


def _tokenise(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # only trailing whitespace is left
            break
        kind = match.lastgroup or "bad"
        value = match.group(kind)
        start = match.start(kind)
        if kind == "bad":
            raise _syntax(text, start, f"unexpected character {value!r}")
        if kind == "name" and value.startswith("`"):
            value = value[1:-1]
        tokens.append(_Token(kind, value, start))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _syntax(text: str, position: int, message: str, hint: str = _SYNTAX_HINT) -> InvalidInputError:
    pointer = f"{text}\n{' ' * position}^"
    return InvalidInputError(
        f"Cannot read the model formula: {message} at position {position + 1}.\n{pointer}",
        hint=hint,
    )


# --------------------------------------------------------------------------- parsing


# An expression evaluates to a set of terms plus an intercept flag (None = not said).
@dataclass
class _Terms:
    terms: list[Term] = field(default_factory=list)
    intercept: bool | None = None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenise(text)
        self.index = 0
        self.random: list[tuple[_Terms, str, int, bool]] = []

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        token = self.current
        if token.kind == "end" or token.text != text:
            found = "the end of the formula" if token.kind == "end" else repr(token.text)
            raise _syntax(self.text, token.position, f"expected {text!r} but found {found}")
        self.index += 1

    def formula(self) -> tuple[str, _Terms]:
        first = self.current
        if first.kind != "name":
            raise _syntax(self.text, first.position, "the formula must start with the response")
        self.take()
        if self.current.text != "~":
            raise _syntax(
                self.text,
                self.current.position,
                "expected '~' after the response (functions of columns are not supported)",
            )
        self.take()
        rhs = self.sum(top=True)
        if self.current.kind != "end":
            raise _syntax(self.text, self.current.position, f"unexpected {self.current.text!r}")
        return first.text, rhs

    def sum(self, *, top: bool) -> _Terms:
        result = _Terms()
        sign = 1
        if self.current.text == "-":
            self.take()
            sign = -1
        while True:
            self.summand(result, sign, top=top)
            if self.current.text == "+":
                self.take()
                sign = 1
            elif self.current.text == "-":
                self.take()
                sign = -1
            else:
                return result

    def summand(self, result: _Terms, sign: int, *, top: bool) -> None:
        token = self.current
        if token.kind == "number":
            self.take()
            if token.text not in ("0", "1"):
                raise _syntax(self.text, token.position, f"a number {token.text} is not a term")
            present = (token.text == "1") == (sign == 1)
            result.intercept = present
            return
        if top and token.text == "(" and self._is_bar_term():
            if sign == -1:
                raise _syntax(self.text, token.position, "a random term cannot be subtracted")
            self.bar_term()
            return
        terms = self.product()
        for term in terms:
            if sign == 1:
                if term not in result.terms:
                    result.terms.append(term)
            elif term in result.terms:
                result.terms.remove(term)

    def _is_bar_term(self) -> bool:
        depth = 0
        for token in self.tokens[self.index :]:
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
                if depth == 0:
                    return False
            elif token.text in ("|", "||") and depth == 1:
                return True
        return False

    def bar_term(self) -> None:
        start = self.current.position
        self.expect("(")
        effects = self.sum(top=False)
        uncorrelated = self.current.text == "||"
        self.expect("||" if uncorrelated else "|")
        group = self.current
        if group.kind != "name":
            raise _syntax(self.text, group.position, "expected the name of the grouping column")
        self.take()
        if self.current.text in ("/", ":", "+", "*"):
            raise _syntax(
                self.text,
                self.current.position,
                "nested or crossed grouping is not supported (one grouping column only)",
                hint="Fit two-level models: one grouping column after '|'.",
            )
        self.expect(")")
        self.random.append((effects, group.text, start, uncorrelated))

    def product(self) -> list[Term]:
        # a * b * c  expands to all combinations; ':' binds tighter than '*'.
        factors = [self.interaction()]
        while self.current.text == "*":
            self.take()
            factors.append(self.interaction())
        terms: list[Term] = []
        for size in range(1, len(factors) + 1):
            for combo in combinations(factors, size):
                for term in _cross(list(combo)):
                    if term not in terms:
                        terms.append(term)
        return terms

    def interaction(self) -> list[Term]:
        parts = [self.atom()]
        while self.current.text == ":":
            self.take()
            parts.append(self.atom())
        return _cross(parts)

    def atom(self) -> list[Term]:
        token = self.current
        if token.kind == "name":
            self.take()
            if self.current.text == "(":
                raise _syntax(
                    self.text,
                    token.position,
                    f"functions of columns such as {token.text}(...) are not supported",
                    hint="Compute the transformed column in your table first, then use its name.",
                )
            if token.text == ".":
                raise _syntax(self.text, token.position, "'.' (all columns) is not supported")
            return [(token.text,)]
        if token.text == "(":
            self.take()
            inner = self.sum(top=False)
            self.expect(")")
            if inner.intercept is not None:
                raise _syntax(self.text, token.position, "'0' or '1' inside brackets")
            return inner.terms
        found = "the end of the formula" if token.kind == "end" else repr(token.text)
        raise _syntax(self.text, token.position, f"expected a column name but found {found}")


def _cross(parts: list[list[Term]]) -> list[Term]:
    result: list[Term] = [()]
    for part in parts:
        result = [_merge(a, b) for a in result for b in part]
    return result


def _merge(a: Term, b: Term) -> Term:
    merged = list(a)
    for name in b:
        if name not in merged:
            merged.append(name)
    return tuple(merged)


def _order(terms: list[Term], appearance: dict[str, int]) -> tuple[Term, ...]:
    """R's order: by the number of variables, then first appearance; variables by appearance."""
    normal = []
    for term in terms:
        ordered = tuple(sorted(term, key=lambda name: appearance[name]))
        if ordered not in normal:
            normal.append(ordered)
    return tuple(sorted(normal, key=len))  # sorted() is stable: appearance kept within a degree


def parse_formula(text: str) -> Formula:
    """Parse an lme4 formula such as ``"y ~ x1 + x2 + (1 + x1 | g)"``.

    Raises :class:`~attunement.errors.InvalidInputError` pointing at the offending character for
    anything that is not valid or not supported (see the module documentation).
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("The model formula is empty.", hint=_SYNTAX_HINT)
    parser = _Parser(text)
    response, rhs = parser.formula()
    groups = {group for _, group, _, _ in parser.random}
    if len(groups) > 1:
        other = next(r for r in parser.random if r[1] != parser.random[0][1])
        raise _syntax(
            text,
            other[2],
            "random effects of a second grouping column are not supported (two-level models)",
            hint="Use one grouping column in every random-effects term.",
        )
    appearance: dict[str, int] = {response: 0}
    for token in parser.tokens:
        if token.kind == "name" and token.text not in appearance:
            appearance[token.text] = len(appearance)
    fixed = TermList(
        intercept=rhs.intercept if rhs.intercept is not None else True,
        terms=_order(rhs.terms, appearance),
    )
    if response in {name for term in fixed.terms for name in term}:
        raise InvalidInputError(
            f"The response {response!r} also appears among the predictors.", hint=_SYNTAX_HINT
        )
    random = None
    if parser.random:
        blocks: list[TermList] = []
        group = parser.random[0][1]
        for effects, _, position, uncorrelated in parser.random:
            terms = TermList(
                intercept=effects.intercept if effects.intercept is not None else True,
                terms=_order(effects.terms, appearance),
            )
            if not terms.intercept and not terms.terms:
                raise _syntax(text, position, "the random-effects term has no effects")
            if group in {name for term in terms.terms for name in term} or group == response:
                raise _syntax(text, position, f"the grouping column {group!r} is also a variable")
            if uncorrelated:  # (1 + a + b || g) is (1 | g) + (0 + a | g) + (0 + b | g)
                if terms.intercept:
                    blocks.append(TermList(intercept=True, terms=()))
                blocks.extend(TermList(intercept=False, terms=(t,)) for t in terms.terms)
            else:
                blocks.append(terms)
        random = RandomTerm(group=group, blocks=tuple(blocks))
    if not fixed.intercept and not fixed.terms:
        raise InvalidInputError(
            "The model has no fixed effects (no intercept and no predictors).",
            hint="Add at least an intercept ('y ~ 1 + (1 | g)').",
        )
    return Formula(text=text.strip(), response=response, fixed=fixed, random=random)


# --------------------------------------------------------------------------- design matrices


@dataclass(frozen=True)
class Design:
    """Model matrices of a formula applied to a table, after listwise deletion.

    ``x`` (n x p) and ``z`` (n x q) are float arrays with column names ``x_names`` / ``z_names``
    as lme4 names them; ``group_codes`` are 0-based codes into ``group_levels``; ``rows`` are the
    index labels of the rows used; ``n_dropped`` counts rows left out for missing values and
    ``dropped_columns`` names the columns in which values were missing. ``z_blocks`` gives the
    block (independent set of correlated random effects) of each column of ``z``.
    """

    formula: Formula
    y: np.ndarray
    x: np.ndarray
    x_names: list[str]
    z: np.ndarray
    z_names: list[str]
    z_blocks: list[int]
    group_codes: np.ndarray
    group_levels: list[str]
    rows: pd.Index
    n_dropped: int
    dropped_columns: list[str]


def _is_factor(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series)
    )


def _levels(series: pd.Series) -> list[object]:
    present = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        used = set(present.unique())
        return [c for c in series.cat.categories if c in used]
    unique = list(present.unique())
    if all(isinstance(v, (bool, np.bool_)) for v in unique):
        return [v for v in (False, True) if v in unique]
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=str)


def _level_name(level: object) -> str:
    if isinstance(level, (bool, np.bool_)):
        return "TRUE" if level else "FALSE"
    if isinstance(level, float) and level.is_integer():
        return str(int(level))
    return str(level)


def _check_columns(formula: Formula, data: pd.DataFrame) -> None:
    missing = [name for name in formula.variables() if name not in data.columns]
    if missing:
        raise InvalidInputError(
            "The formula names columns the table does not have: " + ", ".join(missing) + ".",
            problems=[Problem("no such column", column=name) for name in missing],
            hint="Columns in the table: " + ", ".join(map(str, data.columns)) + ".",
        )


def _numeric_problems(series: pd.Series, name: str) -> list[Problem]:
    """Lines of an object column that do not read as numbers (when most of them do)."""
    if not _is_factor(series) or isinstance(series.dtype, pd.CategoricalDtype):
        return []
    present = series.dropna()
    if present.empty or pd.api.types.is_bool_dtype(present.dtype):
        return []
    converted = pd.to_numeric(present, errors="coerce")
    bad = converted.isna()
    if bad.all() or bad.mean() > 0.5:
        return []  # a real text column: used as a factor
    return [
        Problem("not a number", line=_line(label), column=name, value=present[label])
        for label in present.index[bad.to_numpy()]
    ]


def _line(label: object) -> int | None:
    return int(label) if isinstance(label, (int, np.integer)) else None


def build_design(formula: Formula, data: pd.DataFrame) -> Design:
    """Build y, X, Z and group codes of ``formula`` from ``data`` (listwise deletion).

    Raises :class:`~attunement.errors.InvalidInputError` for missing columns, a non-numeric
    response, numeric columns with stray text, and a table left empty by missing values.
    """
    _check_columns(formula, data)
    used = formula.variables()
    problems: list[Problem] = []
    response = data[formula.response]
    if _is_factor(response) and not _numeric_problems(response, formula.response):
        raise InvalidInputError(
            f"The response {formula.response!r} is not numeric.",
            hint="A linear mixed model needs a numeric response.",
        )
    for name in used:
        if formula.random is not None and name == formula.random.group:
            continue
        kind = data[name].dtype
        if pd.api.types.is_datetime64_any_dtype(kind) or pd.api.types.is_timedelta64_dtype(kind):
            raise InvalidInputError(
                f"Column {name!r} holds dates or times, which cannot enter a model as they are.",
                hint="Convert it to a number first, e.g. days since the start of the diary.",
            )
        problems.extend(_numeric_problems(data[name], name))
    if problems:
        columns = sorted({p.column for p in problems if p.column})
        raise InvalidInputError(
            f"Non-numeric values in numeric column(s) {', '.join(columns)}.",
            problems=problems,
            hint="Fix or empty these cells (empty cells are left out listwise).",
        )
    frame = data[used]
    complete = frame.notna().all(axis=1).to_numpy()
    dropped_columns = [name for name in used if frame[name].isna().any()]
    frame = frame.loc[complete]
    if frame.empty:
        raise InvalidInputError(
            "No complete rows: every row misses a value in "
            + ", ".join(dropped_columns or used)
            + ".",
            hint="Rows with a missing value in any column of the formula are left out.",
        )
    y = frame[formula.response].to_numpy(dtype=float)
    x, x_names = _model_matrix(formula.fixed, frame)
    if formula.random is not None:
        parts = [_model_matrix(block, frame) for block in formula.random.blocks]
        z = np.column_stack([matrix for matrix, _ in parts])
        z_names = [name for _, names in parts for name in names]
        z_blocks = [k for k, (_, names) in enumerate(parts) for _ in names]
        _check_unique_effects(z_names)
        codes, uniques = pd.factorize(frame[formula.random.group], sort=True)
        levels = [_level_name(u) for u in uniques]
    else:
        z = np.zeros((len(frame), 0))
        z_names = []
        z_blocks = []
        codes = np.zeros(len(frame), dtype=np.intp)
        levels = []
    return Design(
        formula=formula,
        y=y,
        x=x,
        x_names=x_names,
        z=z,
        z_names=z_names,
        z_blocks=z_blocks,
        group_codes=np.asarray(codes, dtype=np.intp),
        group_levels=levels,
        rows=frame.index,
        n_dropped=int((~complete).sum()),
        dropped_columns=dropped_columns,
    )


Part = tuple[str, object]
"""One factor of a model-matrix column: (variable, level), level ``None`` for a numeric one."""


@dataclass(frozen=True)
class DesignColumn:
    """One model-matrix column, named as R names it: the product of its ``parts``."""

    name: str
    parts: tuple[Part, ...]


def design_columns(spec: TermList, levels: dict[str, list[object] | None]) -> list[DesignColumn]:
    """The columns a term list makes, given each variable's factor levels (``None``: numeric).

    Used both to compute the model matrix from a DataFrame and to write it as SQL expressions.
    """
    columns: list[DesignColumn] = []
    if spec.intercept:
        columns.append(DesignColumn("(Intercept)", ()))
    factors = {name for term in spec.terms for name in term if levels.get(name) is not None}
    full_coding = _full_coding(spec, factors)
    for position, term in enumerate(spec.terms):
        # the first variable of a term varies fastest (R's order)
        block: list[tuple[str, tuple[Part, ...]]] = [("", ())]
        for name in term:
            var_levels = levels.get(name)
            if var_levels is None:
                options: list[tuple[str, Part]] = [(name, (name, None))]
            else:
                used = var_levels if (position, name) in full_coding else var_levels[1:]
                options = [(f"{name}{_level_name(level)}", (name, level)) for level in used]
            block = [
                (f"{bn}:{vn}" if bn else vn, (*bp, part))
                for vn, part in options
                for bn, bp in block
            ]
        columns.extend(DesignColumn(n, parts) for n, parts in block)
    return columns


def _check_unique_effects(names: list[str]) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidInputError(
            "The same random effect appears in two random-effects terms: "
            + ", ".join(repeated)
            + ".",
            hint="Give each random effect once, e.g. (1 | g) + (0 + x | g).",
        )


def _model_matrix(spec: TermList, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    names = {name for term in spec.terms for name in term}
    levels = {name: _levels(frame[name]) if _is_factor(frame[name]) else None for name in names}
    columns = design_columns(spec, levels)
    cache: dict[Part, np.ndarray] = {}

    def values(part: Part) -> np.ndarray:
        if part not in cache:
            name, level = part
            raw = frame[name].to_numpy()
            cache[part] = (
                frame[name].to_numpy(dtype=float) if level is None else (raw == level).astype(float)
            )
        return cache[part]

    matrix = np.ones((len(frame), len(columns)))
    for j, column in enumerate(columns):
        for part in column.parts:
            matrix[:, j] *= values(part)
    return matrix, [c.name for c in columns]


def _full_coding(spec: TermList, factors: set[str]) -> set[tuple[int, str]]:
    """(term position, factor) pairs coded by all levels rather than by contrasts.

    R's rule (``TermCode`` in R's model.c): a factor F in term T is coded by contrasts when
    T without F is empty or is contained in an earlier term; otherwise by all its levels. Without
    an intercept, the first factor of the first term that has one is coded by all its levels.
    """
    full: set[tuple[int, str]] = set()
    for position, term in enumerate(spec.terms):
        for name in term:
            if name not in factors:
                continue
            reduced = set(term) - {name}
            if reduced and not any(reduced <= set(t) for t in spec.terms[:position]):
                full.add((position, name))
    if not spec.intercept:
        for position, term in enumerate(spec.terms):
            first = next((name for name in term if name in factors), None)
            if first is not None:
                full.add((position, first))
                break
    return full
