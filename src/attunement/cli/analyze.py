"""``attunement analyze process|apim|outcomes FILE`` and ``attunement report FILE``.

Thin shells over :mod:`attunement.analysis` and :mod:`attunement.reports`: each command reads the
table, calls one library function and prints a plain summary or, with ``--json``, the result's
``to_dict()``. Bad input becomes "Error: ..." and exit status 2 (see ``_group``).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from attunement.analysis import (
    apim,
    apim_diary,
    dyad_asymmetry,
    dyads_to_long,
    mediation_111,
    outcome_correlations,
    process_model,
)
from attunement.cli._group import cli
from attunement.datafile import read_table, write_table
from attunement.errors import InvalidInputError
from attunement.reports.html import ReportOptions, analysis_report, render_report, report_steps

__all__ = ["analyze", "report"]

_SEED_HELP = "Seed of the Monte Carlo draws (the same seed gives the same interval)."


def _dump(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(_finite(payload), indent=2, allow_nan=False, default=str))


def _finite(value: Any) -> Any:
    """NaN and infinities become null, so the output is strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _notes(messages: tuple[str, ...] | list[str]) -> None:
    for message in messages:
        click.echo(f"Note: {message}", err=True)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda v: f"{v:.4g}")


@cli.group()
def analyze() -> None:
    """Analyses of diaries and dyads: the intimacy process model, APIM, outcome correlations."""


@analyze.command("process")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--person", default="person", show_default=True, help="Column of person ids.")
@click.option("--intimacy", default="intimacy", show_default=True, help="Outcome column.")
@click.option(
    "--emotional",
    default="emotional_disclosure",
    show_default=True,
    help="Emotional self-disclosure column ('' to leave out).",
)
@click.option(
    "--factual",
    default="factual_disclosure",
    show_default=True,
    help="Factual self-disclosure column ('' to leave out).",
)
@click.option(
    "--partner",
    default="partner_disclosure",
    show_default=True,
    help="Partner disclosure column ('' to leave out).",
)
@click.option(
    "--responsiveness",
    default="responsiveness",
    show_default=True,
    help="Mediator (perceived partner responsiveness); the mediation runs when it exists.",
)
@click.option(
    "--mediation/--no-mediation",
    default=True,
    show_default=True,
    help="Also fit the 1-1-1 mediation emotional disclosure -> responsiveness -> intimacy.",
)
@click.option(
    "--random",
    type=click.Choice(["slopes", "intercept"]),
    default="slopes",
    show_default=True,
    help="Random slopes of the within-person predictors, or a random intercept only.",
)
@click.option("--fixed-c-prime", is_flag=True, help="Mediation: no random c' slope.")
@click.option(
    "--between/--no-between",
    default=True,
    show_default=True,
    help="Mediation: add the person mean of the predictor and report between-person paths.",
)
@click.option("--reml/--ml", default=True, show_default=True, help="REML or ML estimation.")
@click.option("--draws", default=20_000, show_default=True, help="Monte Carlo draws.")
@click.option("--seed", default=0, show_default=True, help=_SEED_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def process_command(
    file: Path,
    person: str,
    intimacy: str,
    emotional: str,
    factual: str,
    partner: str,
    responsiveness: str,
    mediation: bool,
    random: str,
    fixed_c_prime: bool,
    between: bool,
    reml: bool,
    draws: int,
    seed: int,
    as_json: bool,
) -> None:
    """The intimacy process model and its 1-1-1 mediation.

    The model of Laurenceau, Barrett & Pietromonaco (1998) and the stacked mediation of Bauer,
    Preacher & Gil (2006) with a Monte Carlo interval of the indirect effect.
    FILE is a long diary: one row per person and interaction (or day). With --json the output
    is {"a": {...}, "b": {...}, "c_prime": {...}, "indirect": {...}, ..., "between": {...},
    "intimacy_model": {...}} when the mediation runs, each with estimate, se (where defined),
    ci_low and ci_high; "between" holds the between-person paths (null with --no-between).
    """
    frame = read_table(file)
    model = process_model(
        frame,
        person=person,
        intimacy=intimacy,
        emotional=emotional or None,
        factual=factual or None,
        partner=partner or None,
        random="slopes" if random == "slopes" else "intercept",
        reml=reml,
    )
    med = None
    if mediation and responsiveness in frame.columns and emotional:
        med = mediation_111(
            frame,
            person=person,
            x=emotional,
            m=responsiveness,
            y=intimacy,
            random_c_prime=not fixed_c_prime,
            between=between,
            reml=reml,
            draws=draws,
            seed=seed,
        )
    if as_json:
        payload: dict[str, Any] = {}
        if med is not None:
            payload.update(med.to_dict())
        payload["intimacy_model"] = model.to_dict()
        _dump(payload)
        _notes(model.messages)
        return
    click.echo(f"Intimacy process model ({model.n_obs} rows, {model.n_persons} persons)")
    click.echo(f"  {model.fit.formula}")
    click.echo(_table(model.effects))
    if model.emotional_vs_factual:
        c = model.emotional_vs_factual
        click.echo(
            f"Emotional - factual (within): {c['estimate']:.4g} "
            f"[{c['ci_low']:.4g}, {c['ci_high']:.4g}], p = {c['p_val']:.3g}"
        )
    _notes(model.messages)
    if med is not None:
        click.echo("")
        click.echo(
            f"1-1-1 mediation: {emotional} -> {responsiveness} -> {intimacy} "
            f"({med.draws:,} Monte Carlo draws, seed {med.seed})"
        )
        click.echo(_table(med.paths))
        if med.between_paths is not None:
            click.echo("Between persons (person means; b_between from the latent means):")
            click.echo(_table(med.between_paths))
        _notes([m for m in med.messages if m not in model.messages])


@analyze.command("apim")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--x", "x", required=True, help="Predictor column (each person's own value).")
@click.option("--y", "y", required=True, help="Outcome column.")
@click.option("--dyad", default="dyad", show_default=True, help="Column of dyad ids.")
@click.option("--person", default="person", show_default=True, help="Column of person ids.")
@click.option(
    "--role",
    default=None,
    help="Column with the two roles of distinguishable dyads (leave out if indistinguishable).",
)
@click.option(
    "--occasion",
    default=None,
    help="Column of occasions (days): fit the diary APIM with within/between effects.",
)
@click.option(
    "--wide",
    is_flag=True,
    help="FILE is dyad-wide (partners side by side in columns ending _a and _b, as attunement's "
    "dyad exports); it is stacked to one row per person first.",
)
@click.option("--asymmetry", is_flag=True, help="Also print each dyad's asymmetry in x.")
@click.option("--reml/--ml", default=True, show_default=True, help="REML or ML estimation.")
@click.option("--draws", default=20_000, show_default=True, help="Monte Carlo draws for k.")
@click.option("--seed", default=0, show_default=True, help=_SEED_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def apim_command(
    file: Path,
    x: str,
    y: str,
    dyad: str,
    person: str,
    role: str | None,
    occasion: str | None,
    wide: bool,
    asymmetry: bool,
    reml: bool,
    draws: int,
    seed: int,
    as_json: bool,
) -> None:
    """Actor-partner model of dyads (APIM), k ratio and asymmetry.

    Kenny, Kashy & Cook (2006); distinguishable dyads with --role.

    FILE is long: one row per person (or per person and occasion with --occasion), or
    dyad-wide with --wide (then the person ids come from participant_a/_b).
    """
    frame = read_table(file)
    if wide:
        if dyad not in frame.columns and "dyad_id" in frame.columns:
            dyad = "dyad_id"
        frame = dyads_to_long(frame, dyad=dyad)
        person = "person"
    if occasion:
        result = apim_diary(
            frame,
            dyad=dyad,
            person=person,
            occasion=occasion,
            x=x,
            y=y,
            role=role,
            reml=reml,
            draws=draws,
            seed=seed,
        )
    else:
        result = apim(
            frame, dyad=dyad, person=person, x=x, y=y, role=role, reml=reml, draws=draws, seed=seed
        )
    table = (
        dyad_asymmetry(frame, dyad=dyad, person=person, value=x, role=role) if asymmetry else None
    )
    if as_json:
        payload = result.to_dict()
        if table is not None:
            payload["asymmetry"] = json.loads(table.to_json(orient="records"))
        _dump(payload)
        _notes(result.messages)
        return
    kind = "distinguishable" if result.distinguishable else "indistinguishable"
    design = "diary" if occasion else "cross-sectional"
    click.echo(f"APIM ({design}, {kind} dyads): {result.n_dyads} dyads, {result.n_persons} persons")
    click.echo(_table(result.effects))
    click.echo("")
    click.echo("k = partner / actor")
    click.echo(_table(result.k))
    sds = ", ".join(f"{k} {v:.4g}" for k, v in result.residual_sd.items())
    click.echo(f"Residual SD: {sds}")
    if not occasion:
        click.echo(f"Residual correlation of partners: {result.residual_cor:.4g}")
    if table is not None:
        click.echo("")
        click.echo(f"Asymmetry of {x}")
        click.echo(_table(table))
    _notes(result.messages)


@analyze.command("outcomes")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--x",
    "x",
    multiple=True,
    default=["eis_total"],
    show_default=True,
    help="Column(s) to correlate (repeatable).",
)
@click.option(
    "--y",
    "y",
    multiple=True,
    help="Outcome column(s); default: the known outcome "
    "scale totals present (swls_total, pss10_total, mspss_total, ...).",
)
@click.option("--spearman", is_flag=True, help="Spearman's rho instead of Pearson's r.")
@click.option("--listwise", is_flag=True, help="Use only rows complete on every column.")
@click.option(
    "--confidence",
    default=0.95,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Confidence level of the intervals.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the table to this file (CSV, TSV, Excel or Parquet).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def outcomes_command(
    file: Path,
    x: tuple[str, ...],
    y: tuple[str, ...],
    spearman: bool,
    listwise: bool,
    confidence: float,
    output: Path | None,
    as_json: bool,
) -> None:
    """EIS against outcome scales: r, CIs, FDR-adjusted p.

    Pearson (or Spearman) correlations with Fisher-z intervals; p-values adjusted by
    Benjamini-Hochberg over all pairs.
    """
    result = outcome_correlations(
        read_table(file),
        list(x),
        list(y) or None,
        method="spearman" if spearman else "pearson",
        confidence=confidence,
        missing="listwise" if listwise else "pairwise",
    )
    if output is not None:
        write_table(result, output)
    if as_json:
        click.echo(result.to_json(orient="records", indent=2))
    else:
        click.echo(_table(result))


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="Where to write the report.",
)
@click.option("--title", default="attunement report", show_default=True)
@click.option("--person", default="person", show_default=True)
@click.option("--occasion", default="occasion", show_default=True)
@click.option("--intimacy", default="intimacy", show_default=True)
@click.option("--emotional", default="emotional_disclosure", show_default=True)
@click.option("--factual", default="factual_disclosure", show_default=True)
@click.option("--partner", default="partner_disclosure", show_default=True)
@click.option("--responsiveness", default="responsiveness", show_default=True)
@click.option("--dyad", default="dyad", show_default=True)
@click.option("--role", default=None, help="Role column of distinguishable dyads.")
@click.option("--apim-x", default=None, help="APIM predictor (default: emotional, diaries).")
@click.option("--apim-y", default=None, help="APIM outcome (default: intimacy, diaries).")
@click.option("--eis", default="eis_total", show_default=True, help="Emotional intimacy score.")
@click.option("--outcome", "outcomes", multiple=True, help="Outcome column (repeatable).")
@click.option("--draws", default=20_000, show_default=True, help="Monte Carlo draws.")
@click.option("--seed", default=0, show_default=True, help=_SEED_HELP)
def report(
    file: Path,
    output: Path,
    title: str,
    person: str,
    occasion: str,
    intimacy: str,
    emotional: str,
    factual: str,
    partner: str,
    responsiveness: str,
    dyad: str,
    role: str | None,
    apim_x: str | None,
    apim_y: str | None,
    eis: str,
    outcomes: tuple[str, ...],
    draws: int,
    seed: int,
) -> None:
    """Write one self-contained HTML report (charts, tables, methods with citations) of FILE.

    Every analysis the columns allow is run: the intimacy process model and mediation for a
    diary, the actor-partner model for dyads, the outcome correlations for EIS scores.
    """
    frame = read_table(file)
    options = ReportOptions(
        person=person,
        occasion=occasion,
        intimacy=intimacy,
        emotional=emotional or None,
        factual=factual or None,
        partner=partner or None,
        responsiveness=responsiveness or None,
        dyad=dyad,
        role=role,
        apim_x=apim_x,
        apim_y=apim_y,
        eis=eis,
        outcomes=outcomes or None,
        seed=seed,
        draws=draws,
        title=title,
    )
    steps = report_steps(frame, options)
    width = max(len(step.label) for step in steps)
    with click.progressbar(
        length=len(steps),
        label="Analysing".ljust(width),
        file=sys.stderr,
        show_pos=True,
    ) as bar:
        started: list[str] = []

        def progress(label: str) -> None:
            bar.label = label.ljust(width)
            bar.update(1 if started else 0)
            started.append(label)

        results = analysis_report(frame, options, progress=progress)
        bar.label = "Done".ljust(width)
        bar.update(1)
    document = render_report(results)
    try:
        output.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(
            f"Cannot write the report to {output}: {exc.strerror}.",
            hint="Choose a folder you can write to with -o.",
        ) from exc
    _notes(results.notes)
    click.echo(f"Wrote {output} ({len(document) // 1024} KB).")
