"""``attunement instruments`` (list, show) and ``attunement score``: thin shells over
:mod:`attunement.instruments`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd

from attunement.cli._group import cli
from attunement.datafile import read_table, write_table
from attunement.errors import InvalidInputError, Problem
from attunement.instruments import (
    Instrument,
    list_instruments,
    load_instrument,
    score_with_report,
)
from attunement.settings import Settings

__all__ = ["instruments", "score_command", "show"]

_SHOWN_PROBLEMS = 20


def _wording_dir() -> Path | None:
    # Settings read ATTUNEMENT_* (here ATTUNEMENT_INSTRUMENT_WORDING_DIR); no explicit values.
    explicit: dict[str, Any] = {}
    return Settings(**explicit).instrument_wording_dir


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the bank as JSON.")
@click.pass_context
def instruments(ctx: click.Context, as_json: bool) -> None:
    """List the instrument bank (``attunement instruments show ID`` shows one)."""
    if ctx.invoked_subcommand is not None:
        return
    bank = list_instruments(wording_dir=_wording_dir())
    if as_json:
        click.echo(json.dumps([_summary(i) for i in bank], indent=2))
        return
    width = max(len(i.id) for i in bank)
    for inst in bank:
        scores = ", ".join(inst.score_columns())
        click.echo(f"{inst.id:<{width}}  {inst.short_name}: {inst.name}")
        click.echo(
            f"{'':<{width}}  {len(inst.items)} item{'s' if len(inst.items) != 1 else ''}, "
            f"{inst.scale.min}-{inst.scale.max}, "
            f"{inst.scoring.method}; adds {scores}"
        )


@instruments.command()
@click.argument("instrument_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the full definition as JSON.")
def show(instrument_id: str, as_json: bool) -> None:
    """Show one instrument: citation, licence, scale, items, scoring and bands."""
    inst = load_instrument(instrument_id, wording_dir=_wording_dir())
    if as_json:
        click.echo(json.dumps(inst.model_dump(mode="json"), indent=2))
        return
    click.echo(_describe(inst))


# shared with `attunement reliability`
_MAP_OPTION = click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="OLD=NEW",
    help="Treat column OLD as item column NEW (e.g. --map q1=eis_1); repeatable.",
)


@cli.command("score")
@click.argument("instrument_id", metavar="INSTRUMENT")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output (.csv, .tsv, .xlsx, .sav, .parquet or .json).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default=None,
    help="Output format (default: CSV on standard output, or the -o file's suffix).",
)
@_MAP_OPTION
@click.option(
    "--invalid-as-missing",
    is_flag=True,
    help="Treat invalid answers as unanswered (and report how many) instead of failing.",
)
def score_command(
    instrument_id: str,
    file: Path,
    output: Path | None,
    fmt: str | None,
    mappings: tuple[str, ...],
    invalid_as_missing: bool,
) -> None:
    """Score FILE (CSV, TSV, Excel, SPSS .sav or Parquet) with INSTRUMENT.

    Item columns are <instrument>_<n> (eis_1 ... eis_5); other columns pass through.
    """
    inst = load_instrument(instrument_id, wording_dir=_wording_dir())
    mapping = _parse_mappings(mappings)
    table = read_table(file)
    result = score_with_report(
        table, inst, mapping=mapping, invalid="missing" if invalid_as_missing else "raise"
    )
    if invalid_as_missing and result.invalid_count:
        _report_invalid(result.invalid_count, result.problems)
    scores = result.scores.reset_index(drop=True)
    use_json = fmt == "json" or (fmt is None and output is not None and output.suffix == ".json")
    if output is None:
        click.echo(_to_json(scores) if use_json else scores.to_csv(index=False), nl=use_json)
    elif use_json:
        output.write_text(_to_json(scores) + "\n", encoding="utf-8")
    elif fmt == "csv" and output.suffix.lower() != ".csv":
        raise InvalidInputError(
            f"--format csv does not match the output file {output.name}.",
            hint="Name the output file .csv, or leave out --format.",
        )
    else:
        write_table(scores, output)


def _parse_mappings(mappings: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for text in mappings:
        old, sep, new = text.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise click.BadParameter(f"{text!r} is not OLD=NEW", param_hint="--map")
        parsed[old.strip()] = new.strip()
    return parsed


def _report_invalid(count: int, problems: tuple[Problem, ...]) -> None:
    click.echo(f"{count} invalid answer{'s' if count != 1 else ''} treated as missing:", err=True)
    for problem in problems[:_SHOWN_PROBLEMS]:
        click.echo(f"  - {problem.describe()}", err=True)
    if count > _SHOWN_PROBLEMS:
        click.echo(f"  ... and {count - _SHOWN_PROBLEMS} more", err=True)


def _to_json(frame: pd.DataFrame) -> str:
    return frame.to_json(orient="records", indent=2) or "[]"


def _summary(inst: Instrument) -> dict[str, object]:
    return {
        "id": inst.id,
        "name": inst.name,
        "short_name": inst.short_name,
        "items": len(inst.items),
        "scale": [inst.scale.min, inst.scale.max],
        "method": inst.scoring.method,
        "scores": list(inst.score_columns()),
        "citation": inst.citation,
        "doi": inst.doi,
    }


def _describe(inst: Instrument) -> str:
    lines = [f"{inst.short_name}: {inst.name} ({inst.id}, {inst.version})", ""]
    lines.append(f"Citation: {inst.citation}")
    if inst.doi:
        lines.append(f"DOI: https://doi.org/{inst.doi}")
    lines += [f"Licence: {inst.licence}", f"Measures: {inst.measures}", ""]
    lines.append(f"Instructions: {inst.instructions}")
    anchors = "; ".join(f"{a.value} = {a.label}" for a in inst.scale.anchors)
    lines.append(f"Scale: {inst.scale.min} to {inst.scale.max} ({anchors})")
    if inst.scale.note:
        lines.append(f"  {inst.scale.note}")
    lines += ["", "Items (R = reverse-keyed):"]
    for item in inst.items:
        text = item.text or "[wording not bundled: supply it with a wording file]"
        flag = "R" if item.reverse else " "
        lines.append(f"  {item.number:>2} {flag} {item.column}: {text}")
    share = inst.scoring.min_answered_share
    lines += ["", f"Scoring: {inst.scoring.method}; a score needs {share:.0%} of its items."]
    if inst.scoring.note:
        lines.append(f"  {inst.scoring.note}")
    for sub in inst.scoring.subscales:
        numbers = ", ".join(str(n) for n in sub.items)
        lines.append(f"  {inst.id}_{sub.id}: {sub.name} (items {numbers})")
    if inst.bands is not None:
        kind = "published by the authors" if inst.bands.kind == "authors" else "a convention"
        lines += ["", f"Bands for {inst.id}_{inst.bands.score} ({kind}): {inst.bands.source}"]
        lines += [f"  {b.min:g}-{b.max:g}: {b.label}" for b in inst.bands.ranges]
    if inst.unverified:
        lines += ["", "Not verified / notes:"]
        lines += [f"  - {note}" for note in inst.unverified]
    return "\n".join(lines)
