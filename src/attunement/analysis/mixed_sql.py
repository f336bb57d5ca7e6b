"""Linear mixed models fitted inside the database: the sufficient statistics as one GROUP BY.

A mixed model needs from the data only, per group (and residual stratum), the sums of products
of the model-matrix columns and the response (see :mod:`attunement.analysis.mixed`). This module
writes those sums as SQL aggregates, so a diary table of any length is read by the database in
one ``SELECT ... GROUP BY group`` and only one row per group reaches Python:

.. code-block:: sql

    SELECT g, COUNT(*), SUM(1.0 * 1.0), SUM(1.0 * CAST(x AS FLOAT)), ...
    FROM diary WHERE y IS NOT NULL AND x IS NOT NULL AND g IS NOT NULL GROUP BY g

Numeric columns enter as ``CAST(column AS FLOAT)``; text (and boolean) columns are factors whose
levels are read first (``SELECT DISTINCT``) and enter as ``CASE WHEN column = level THEN 1.0
ELSE 0.0 END``, named and coded exactly as :func:`~attunement.analysis.fit_lmm` names and codes
them. Works with any database SQLAlchemy speaks (tested on SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa

from attunement.analysis.formula import (
    DesignColumn,
    Formula,
    _level_name,
    design_columns,
    parse_formula,
)
from attunement.analysis.mixed import (
    LmmResult,
    LmmStatistics,
    _normal_equations,
    check_statistics,
    fit_lmm_statistics,
)
from attunement.errors import InvalidInputError

__all__ = ["fit_lmm_sql", "lmm_statistics_sql"]

_NUMERIC = (sa.Integer, sa.Float, sa.Numeric)


def _sorted(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def lmm_statistics_sql(
    connection: sa.Connection,
    table: str,
    formula: str | Formula,
    *,
    residual_groups: str | None = None,
) -> tuple[LmmStatistics, list[str], list[str], int]:
    """Per-group sufficient statistics of ``formula`` over ``table``, computed by the database.

    Returns the statistics, the fixed- and random-effect column names and the number of rows
    left out for missing values (listwise, as :func:`~attunement.analysis.fit_lmm` does).
    """
    parsed = parse_formula(formula) if isinstance(formula, str) else formula
    if parsed.random is None:
        raise InvalidInputError(
            "The formula has no random-effects term, so this is not a mixed model.",
            hint="Add a term such as '(1 | person)' naming the grouping column.",
        )
    inspector = sa.inspect(connection)
    if not inspector.has_table(table):
        raise InvalidInputError(f"The database has no table {table!r}.")
    types = {c["name"]: c["type"] for c in inspector.get_columns(table)}
    used = parsed.variables() + ([residual_groups] if residual_groups else [])
    missing = [name for name in used if name not in types]
    if missing:
        raise InvalidInputError(
            f"Table {table!r} has no column(s) " + ", ".join(missing) + ".",
            hint="Columns in the table: " + ", ".join(types) + ".",
        )
    source = sa.table(table, *(sa.column(name) for name in used))
    col = source.c
    complete = sa.and_(*(col[name].is_not(None) for name in used))
    if not isinstance(types[parsed.response], _NUMERIC):
        raise InvalidInputError(
            f"The response {parsed.response!r} is not numeric (type {types[parsed.response]}).",
            hint="A linear mixed model needs a numeric response.",
        )

    def levels_of(name: str) -> list[Any]:
        query = sa.select(col[name]).where(complete).distinct()
        return _sorted([row[0] for row in connection.execute(query)])

    predictors = [v for v in parsed.variables() if v not in (parsed.response, parsed.random.group)]
    levels = {
        name: None if isinstance(types[name], _NUMERIC) else levels_of(name) for name in predictors
    }
    x_cols = design_columns(parsed.fixed, levels)
    z_parts = [design_columns(block, levels) for block in parsed.random.blocks]
    z_cols = [column for part in z_parts for column in part]
    z_blocks = [number for number, part in enumerate(z_parts) for _ in part]
    distinct: list[DesignColumn] = []
    for column in [*x_cols, *z_cols]:
        if column.name not in [d.name for d in distinct]:
            distinct.append(column)

    def expression(column: DesignColumn) -> Any:
        value: Any = sa.literal(1.0, sa.Float)
        for name, level in column.parts:
            part = (
                sa.cast(col[name], sa.Float)
                if level is None
                else sa.case((col[name] == level, 1.0), else_=0.0)
            )
            value = value * part
        return value

    response = sa.cast(col[parsed.response], sa.Float)
    x_exprs = [expression(c) for c in x_cols]
    # First pass: X'X and X'y over all complete rows, for the least-squares offset that keeps
    # the response's cross products free of cancellation (see LmmStatistics.beta_offset).
    p = len(x_exprs)
    totals = connection.execute(
        sa.select(
            *(sa.func.sum(x_exprs[a] * x_exprs[b]) for a in range(p) for b in range(p)),
            *(sa.func.sum(x_exprs[a] * response) for a in range(p)),
        ).where(complete)
    ).one()
    if totals[0] is None:
        raise InvalidInputError(
            f"No complete rows in {table!r}: every row misses a value in " + ", ".join(used) + "."
        )
    xtx = np.array([float(v) for v in totals[: p * p]]).reshape(p, p)
    xty = np.array([float(v) for v in totals[p * p :]])
    offset = _normal_equations(xtx, xty)
    shifted: Any = response
    for coef, expr in zip(offset, x_exprs, strict=True):
        shifted = shifted - sa.literal(float(coef), sa.Float) * expr
    blocks = [expression(c) for c in distinct] + [shifted]
    names = [c.name for c in distinct] + [parsed.response]
    m = len(blocks)
    pairs = [(a, b) for a in range(m) for b in range(a, m)]
    keys = [col[parsed.random.group]] + ([col[residual_groups]] if residual_groups else [])
    query = (
        sa.select(
            *keys,
            sa.func.count(),
            sa.func.min(response),
            sa.func.max(response),
            *(sa.func.sum(blocks[a] * blocks[b]) for a, b in pairs),
        )
        .where(complete)
        .group_by(*keys)
    )
    rows = connection.execute(query).all()
    total = connection.execute(sa.select(sa.func.count()).select_from(source)).scalar_one()
    if not rows:
        raise InvalidInputError(
            f"No complete rows in {table!r}: every row misses a value in " + ", ".join(used) + "."
        )
    n_keys = len(keys)
    group_values = _sorted(list({row[0] for row in rows}))
    group_index = {value: i for i, value in enumerate(group_values)}
    strata_values = _sorted(list({row[1] for row in rows})) if residual_groups else [None]
    strata_index = {value: i for i, value in enumerate(strata_values)}
    if residual_groups and len(strata_values) < 2:
        raise InvalidInputError(
            f"The residual_groups column {residual_groups!r} has only one level.",
            hint="Give a column with at least two levels, or leave residual_groups out.",
        )
    cross = np.zeros((len(strata_values), m, m, len(group_values)))
    counts = np.zeros((len(strata_values), len(group_values)))
    y_min, y_max = np.inf, -np.inf
    for row in rows:
        g = group_index[row[0]]
        s = strata_index[row[1]] if residual_groups else 0
        counts[s, g] = row[n_keys]
        y_min = min(y_min, float(row[n_keys + 1]))
        y_max = max(y_max, float(row[n_keys + 2]))
        for (a, b), value in zip(pairs, row[n_keys + 3 :], strict=True):
            cross[s, a, b, g] = cross[s, b, a, g] = float(value)
    statistics = LmmStatistics(
        columns=names,
        x_index=[names.index(c.name) for c in x_cols],
        z_index=[names.index(c.name) for c in z_cols],
        cross=cross,
        counts=counts,
        group=parsed.random.group,
        group_levels=[_level_name(v) for v in group_values],
        strata=[_level_name(v) for v in strata_values] if residual_groups else [],
        residual_groups=residual_groups,
        beta_offset=offset,
        z_blocks=z_blocks,
    )
    x_names = [c.name for c in x_cols]
    z_names = [c.name for c in z_cols]
    check_statistics(statistics, x_names, z_names, parsed.response, y_max - y_min)
    return statistics, x_names, z_names, int(total) - statistics.n_obs


def fit_lmm_sql(
    connection: sa.Connection,
    table: str,
    formula: str,
    *,
    reml: bool = True,
    residual_groups: str | None = None,
) -> LmmResult:
    """Fit ``formula`` (lme4 syntax) to a database table without reading its rows into Python.

    Same model, names and results as :func:`~attunement.analysis.fit_lmm` on the same rows.
    """
    parsed = parse_formula(formula)
    statistics, x_names, z_names, dropped = lmm_statistics_sql(
        connection, table, parsed, residual_groups=residual_groups
    )
    messages = []
    if dropped:
        messages.append(f"{dropped} row(s) with missing values were left out (listwise deletion).")
    return fit_lmm_statistics(
        statistics,
        formula=parsed.text,
        reml=reml,
        x_names=x_names,
        z_names=z_names,
        n_dropped=dropped,
        messages=messages,
    )
