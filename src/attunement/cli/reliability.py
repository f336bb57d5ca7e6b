"""``attunement reliability`` and ``attunement diary-reliability``: thin shells over
:mod:`attunement.psychometrics`.

``reliability INSTRUMENT FILE`` reads a table with one row per respondent, reverse-keys the
instrument's items and prints alpha (with Feldt's interval), omega and the item table. With
``--person`` and ``--time`` the same file is read as a diary (one row per person and occasion)
and the multilevel (generalizability) coefficients are printed instead.

``diary-reliability FILE`` takes a long table (one row per person, time and item) of any items.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd

from attunement.cli._group import cli

# shared with `attunement score`: the --map option and parser, the wording folder setting
from attunement.cli.instruments import _MAP_OPTION, _parse_mappings, _wording_dir
from attunement.datafile import read_table
from attunement.errors import InvalidInputError, Problem
from attunement.instruments import Instrument, keyed_items, load_instrument
from attunement.psychometrics import (
    ScaleReliability,
    multilevel_reliability,
    scale_reliability,
)

__all__ = ["diary_reliability_command", "reliability_command"]

_FORMATS = click.Choice(["table", "csv", "json"])


@cli.command("reliability")
@click.argument("instrument_id", metavar="INSTRUMENT")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=_FORMATS, default="table", show_default=True)
@_MAP_OPTION
@click.option(
    "--ci",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of alpha's interval.",
)
@click.option(
    "--invalid-as-missing",
    is_flag=True,
    help="Treat invalid answers as missing (the respondent is then left out) instead of failing.",
)
@click.option(
    "--subscale",
    metavar="ID",
    help="Only the items of this subscale (e.g. --subscale family for mspss).",
)
@click.option("--person", metavar="COLUMN", help="Diary mode: the column naming the person.")
@click.option("--time", metavar="COLUMN", help="Diary mode: the column naming the occasion.")
@click.option(
    "--drop-incomplete",
    is_flag=True,
    help="Diary mode: leave out persons with a missing answer instead of failing.",
)
@click.option(
    "--reml",
    is_flag=True,
    help="Diary mode: estimate the variance components by REML (allows missing answers).",
)
def reliability_command(
    instrument_id: str,
    file: Path,
    fmt: str,
    mappings: tuple[str, ...],
    ci: float,
    invalid_as_missing: bool,
    subscale: str | None,
    person: str | None,
    time: str | None,
    drop_incomplete: bool,
    reml: bool,
) -> None:
    """Reliability of INSTRUMENT's items in FILE (CSV, TSV, Excel, SPSS .sav or Parquet).

    One row per respondent: Cronbach's alpha with Feldt's confidence interval, McDonald's omega
    (one factor, minres), corrected item-total correlations and alpha if item deleted.
    Respondents with a missing item are left out (listwise).

    With --person and --time: one row per person and occasion (a diary), and the multilevel
    coefficients R_KF, R_1R, R_KR, R_C (Cranford et al. 2006) instead.
    """
    if (person is None) != (time is None):
        raise click.UsageError("Diary mode needs both --person and --time.")
    inst = load_instrument(instrument_id, wording_dir=_wording_dir())
    table = read_table(file)
    keyed = keyed_items(
        table,
        inst,
        mapping=_parse_mappings(mappings),
        invalid="missing" if invalid_as_missing else "raise",
    )
    title = _title(inst)
    if subscale is not None:
        keyed = keyed[_subscale_columns(inst, subscale)]
        title += f", subscale {subscale}"
    if person is not None and time is not None:
        long = _diary_long(table, keyed, person, time)
        result = multilevel_reliability(
            long,
            person=person,
            time=time,
            item="item",
            value="value",
            incomplete="drop_persons" if drop_incomplete else "raise",
            estimator="reml" if reml else "anova",
        )
        _print_multilevel(result, fmt, title=title)
        return
    _print_scale(scale_reliability(keyed, ci=ci), fmt, title=title)


@cli.command("diary-reliability")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--person", required=True, metavar="COLUMN", help="Column naming the person.")
@click.option("--time", required=True, metavar="COLUMN", help="Column naming the occasion.")
@click.option("--item", required=True, metavar="COLUMN", help="Column naming the item.")
@click.option("--value", required=True, metavar="COLUMN", help="Column with the answer.")
@click.option(
    "--drop-incomplete",
    is_flag=True,
    help="Leave out persons with a missing answer instead of failing.",
)
@click.option(
    "--reml",
    is_flag=True,
    help="Estimate the variance components by REML (allows missing answers).",
)
@click.option("--format", "fmt", type=_FORMATS, default="table", show_default=True)
def diary_reliability_command(
    file: Path,
    person: str,
    time: str,
    item: str,
    value: str,
    drop_incomplete: bool,
    reml: bool,
    fmt: str,
) -> None:
    """Multilevel reliability of a long diary FILE: one row per person, time and item.

    Prints R_KF, R_1R, R_KR, R_C (crossed design) and R_KRN, R_CN (time nested in persons)
    with the variance components (Cranford et al. 2006; Shrout & Lane 2012). Answers must
    already be reverse-keyed. The ANOVA estimates need an answer from every person to every
    item at every time; --reml accepts gaps.
    """
    table = read_table(file)
    result = multilevel_reliability(
        table,
        person=person,
        time=time,
        item=item,
        value=value,
        incomplete="drop_persons" if drop_incomplete else "raise",
        estimator="reml" if reml else "anova",
    )
    _print_multilevel(result, fmt, title=file.name)


def _title(inst: Instrument) -> str:
    return f"{inst.short_name}: {inst.name} ({inst.id})"


def _subscale_columns(inst: Instrument, subscale: str) -> list[str]:
    for sub in inst.scoring.subscales:
        if sub.id == subscale:
            return [f"{inst.id}_{number}" for number in sub.items]
    known = ", ".join(sub.id for sub in inst.scoring.subscales) or "none"
    raise InvalidInputError(
        f"{inst.id} has no subscale {subscale!r}.", hint=f"Subscales of {inst.id}: {known}."
    )


def _diary_long(table: pd.DataFrame, keyed: pd.DataFrame, person: str, time: str) -> pd.DataFrame:
    missing = [c for c in (person, time) if c not in table.columns]
    if missing:
        raise InvalidInputError(
            "The diary file lacks the person or time column that was named.",
            hint="Columns present: " + ", ".join(map(str, table.columns)),
            problems=[Problem("no such column", column=c) for c in missing],
        )
    wide = pd.concat([table[[person, time]], keyed], axis=1)
    long = wide.melt(id_vars=[person, time], var_name="item", value_name="value")
    long.index = pd.Index(list(wide.index) * keyed.shape[1], name="line")
    return long


# -- printing ---------------------------------------------------------------------------------


def _print_scale(result: ScaleReliability, fmt: str, *, title: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({"instrument": title, **result.to_dict()}, indent=2))
    elif fmt == "csv":
        click.echo(result.to_long().to_csv(index=False), nl=False)
    else:
        click.echo(_scale_table(result, title))


def _scale_table(result: ScaleReliability, title: str) -> str:
    s = result.summary.iloc[0]
    n, excluded, k = int(s["n"]), int(s["n_excluded"]), int(s["k"])
    left_out = f" ({excluded} with a missing item left out)" if excluded else ""
    lines = [
        f"Reliability of {title}",
        f"{n} respondents{left_out}, {k} items",
        "",
        f"Cronbach's alpha   {_num(s['alpha'])}   {s['ci_level']:.0%} CI {_num(s['ci_low'])} "
        f"to {_num(s['ci_high'])} (Feldt)",
        f"McDonald's omega   {_num(s['omega_total'])}   (total; one factor, minres; "
        f"omega_h {_num(s['omega_h'])})",
        "",
    ]
    header = ("item", "mean", "sd", "r_drop", "alpha_if_deleted", "loading")
    rows = [
        (
            str(r["item"]),
            _num(r["mean"], 2),
            _num(r["sd"], 2),
            _num(r["r_drop"]),
            _num(r["alpha_if_deleted"]),
            _num(r["loading"]),
        )
        for r in result.items.to_dict(orient="records")
    ]
    lines.extend(_columns([header, *rows]))
    lines.extend(f"Note: {note}" for note in result.notes)
    return "\n".join(lines)


_COMPONENTS = (
    ("var_person", "person"),
    ("var_time", "time"),
    ("var_item", "item"),
    ("var_person_time", "person x time"),
    ("var_person_item", "person x item"),
    ("var_time_item", "time x item"),
    ("var_residual", "residual"),
)
_COEFFICIENTS = (
    ("r_kf", "R_KF", "between persons, average over fixed occasions"),
    ("r_1r", "R_1R", "between persons, one random occasion"),
    ("r_kr", "R_KR", "between persons, average over random occasions"),
    ("r_c", "R_C", "within person: change over occasions"),
    ("r_krn", "R_KRN", "between persons, occasions nested in persons"),
    ("r_cn", "R_CN", "within person, occasions nested in persons"),
)


def _print_multilevel(result: pd.DataFrame, fmt: str, *, title: str) -> None:
    row = result.iloc[0]
    if fmt == "json":
        plain = json.loads(result.to_json(orient="records"))[0]
        click.echo(json.dumps({"data": title, **plain}, indent=2))
        return
    if fmt == "csv":
        click.echo(result.to_csv(index=False), nl=False)
        return
    excluded = int(row["n_persons_excluded"])
    left_out = f" ({excluded} incomplete left out)" if excluded else ""
    lines = [
        f"Multilevel reliability of {title}",
        f"{int(row['n_persons'])} persons{left_out}, {int(row['n_times'])} occasions, "
        f"{int(row['n_items'])} items",
        "",
    ]
    lines.extend(
        f"{label:<6} {_num(row[key])}   {meaning}" for key, label, meaning in _COEFFICIENTS
    )
    total = sum(float(row[key]) for key, _ in _COMPONENTS)
    lines += ["", f"Variance components ({str(row['estimator']).upper()}):"]
    lines.extend(
        f"  {name:<14} {_num(row[key], 4):>8}  {float(row[key]) / total:6.1%}"
        for key, name in _COMPONENTS
    )
    if not bool(row["converged"]):
        lines += ["", "Note: the REML fit did not converge; the estimates are unreliable."]
    if bool(row["negative_variance"]):
        lines += [
            "",
            "Note: some ANOVA variance estimates are negative (true values near zero); the "
            "coefficients that use them should be read with care.",
        ]
    click.echo("\n".join(lines))


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _num(value: Any, digits: int = 3) -> str:
    number = float(value)
    return "-" if number != number else f"{number:.{digits}f}"
