"""``attunement fit FORMULA FILE``: a linear mixed model in lme4's syntax.

A thin shell over :func:`attunement.analysis.fit_lmm` and, with ``--table``, over
:func:`attunement.analysis.fit_lmm_sql`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import sqlalchemy as sa

from attunement.analysis import LmmResult, fit_lmm, fit_lmm_sql
from attunement.cli._group import EXIT_USAGE, cli
from attunement.datafile import read_table
from attunement.errors import InvalidInputError

__all__ = ["fit"]


@cli.command()
@click.argument("formula")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
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
@click.option(
    "--table",
    metavar="NAME",
    default=None,
    help="Fit to this table of the database at --database-url instead of a FILE; only one row "
    "per group leaves the database.",
)
@click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help="SQLAlchemy URL of the database holding --table (sqlite:///diary.db, postgresql://...).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def fit(
    formula: str,
    file: str | None,
    reml: bool,
    residual_groups: str | None,
    table: str | None,
    database_url: str | None,
    as_json: bool,
) -> None:
    """Fit the linear mixed model FORMULA (lme4 syntax) to the table in FILE.

    Example: attunement fit "intimacy ~ disclosure + (1 + disclosure | person)" diary.csv

    Rows with a missing value in a column of the formula are left out (the count is shown).
    The exit status is 2 when the model cannot be fitted or the optimiser did not converge.
    """
    if table is not None:
        if file is not None or database_url is None:
            raise InvalidInputError(
                "--table reads from a database: give --database-url and no FILE.",
                hint='Example: attunement fit "y ~ x + (1 | g)" --table diary '
                "--database-url sqlite:///diary.db",
            )
        result = _fit_in_database(formula, table, database_url, reml, residual_groups)
    elif file is None:
        raise InvalidInputError(
            "Give the FILE with the data (or --table with --database-url).",
            hint='Example: attunement fit "y ~ x + (1 | person)" diary.csv',
        )
    else:
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


def _fit_in_database(
    formula: str, table: str, url: str, reml: bool, residual_groups: str | None
) -> LmmResult:
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidInputError(f"Not a database URL: {url!r}.") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database not in ("", ":memory:") and not Path(database).is_file():
            raise InvalidInputError(f"No SQLite database at {database}.")
    try:
        engine = sa.create_engine(parsed)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise InvalidInputError(f"Cannot use the database URL {url!r}: {exc}") from exc
    try:
        with engine.connect() as connection:
            return fit_lmm_sql(
                connection, table, formula, reml=reml, residual_groups=residual_groups
            )
    except sa.exc.OperationalError as exc:
        raise InvalidInputError(
            f"Cannot read the database: {str(exc.orig).strip()}",
            hint="Check the URL, that the server runs and that you may read the table.",
        ) from exc
    finally:
        engine.dispose()
