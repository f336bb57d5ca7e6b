"""``attunement fit FORMULA FILE``: a linear mixed model in lme4's syntax (thin shell over
:func:`attunement.analysis.fit_lmm`)."""

from __future__ import annotations

import json

import click

from attunement.analysis import fit_lmm
from attunement.cli._group import EXIT_USAGE, cli
from attunement.datafile import read_table

__all__ = ["fit"]


@cli.command()
@click.argument("formula")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--reml/--ml",
    default=True,
    show_default=True,
    help="Fit by restricted maximum likelihood (REML, as lme4's default) or by maximum likelihood.",
)
@click.option(
    "--residual-groups",
    metavar="COLUMN",
    default=None,
    help="Give each level of COLUMN its own residual variance (nlme's varIdent).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def fit(formula: str, file: str, reml: bool, residual_groups: str | None, as_json: bool) -> None:
    """Fit the linear mixed model FORMULA (lme4 syntax) to the table in FILE.

    Example: attunement fit "intimacy ~ disclosure + (1 + disclosure | person)" diary.csv

    Rows with a missing value in a column of the formula are left out (the count is shown).
    The exit status is 2 when the model cannot be fitted or the optimiser did not converge.
    """
    result = fit_lmm(formula, read_table(file), reml=reml, residual_groups=residual_groups)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        for message in result.messages:
            click.echo(f"Note: {message}", err=True)
    else:
        click.echo(result.summary())
    if not result.converged:
        click.echo("Error: the model did not converge; the estimates above may be wrong.", err=True)
        raise click.exceptions.Exit(EXIT_USAGE)
