"""One self-contained HTML report of a diary or dyadic data set: plots, tables, methods.

:func:`analysis_report` runs every analysis the columns of a table allow, and
:func:`render_report` turns the results into one HTML file with inline CSS and inline SVG charts
(:mod:`attunement.reports.charts`), no scripts and no external assets, so it can be e-mailed,
archived or opened offline. The sections:

- **Data**: rows, persons, dyads, occasions, missing values.
- **Intimacy over time**: a trend chart of intimacy by occasion (each person when there are a
  few, else the mean across persons).
- **The intimacy process model** (:func:`~attunement.analysis.process_model`): a coefficient
  plot, within- vs between-person slopes as grouped bars, the table, the emotional-vs-factual
  contrast.
- **Does feeling understood carry the effect?** (:func:`~attunement.analysis.mediation_111`):
  paths a, b, c', the indirect and total effects with Monte Carlo intervals.
- **Partners** (:func:`~attunement.analysis.apim_diary` / :func:`~attunement.analysis.apim`,
  :func:`~attunement.analysis.dyad_asymmetry`): actor and partner effects, k, asymmetry.
- **Emotional intimacy and well-being** (:func:`~attunement.analysis.outcome_correlations`).
- **Methods**: a paragraph naming what was done, with citations, and notes on dropped rows,
  singular fits and skipped sections.

A section whose columns are absent is skipped with a note; a section that fails on bad input
(e.g. a model that does not converge) is reported in the notes, not as a crash. If no section
can run, :class:`~attunement.errors.InvalidInputError` says which columns are needed.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from attunement import __version__
from attunement.analysis import (
    ApimResult,
    MediationResult,
    ProcessResult,
    apim,
    apim_diary,
    dyad_asymmetry,
    mediation_111,
    outcome_correlations,
    process_model,
)
from attunement.analysis._input import require_numeric
from attunement.analysis.outcomes import OUTCOME_COLUMNS
from attunement.errors import AttunementError, InvalidInputError
from attunement.reports.charts import (
    Series,
    bar_chart,
    forest_chart,
    scatter_chart,
    trend_chart,
)

__all__ = [
    "REFERENCES",
    "ReportOptions",
    "ReportResults",
    "analysis_report",
    "render_report",
    "report_steps",
    "table_html",
]

Progress = Callable[[str], None]

#: Full citations, keyed by the short form used in the methods paragraph.
REFERENCES: dict[str, str] = {
    "Bates et al., 2015": "Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear "
    "mixed-effects models using lme4. Journal of Statistical Software, 67(1), 1-48. "
    "https://doi.org/10.18637/jss.v067.i01",
    "Bauer et al., 2006": "Bauer, D. J., Preacher, K. J., & Gil, K. M. (2006). Conceptualizing and "
    "testing random indirect effects and moderated mediation in multilevel models. "
    "Psychological Methods, 11(2), 142-163.",
    "Benjamini & Hochberg, 1995": "Benjamini, Y., & Hochberg, Y. (1995). Controlling the false "
    "discovery rate. Journal of the Royal Statistical Society B, 57(1), 289-300.",
    "Bolger & Laurenceau, 2013": "Bolger, N., & Laurenceau, J.-P. (2013). Intensive longitudinal "
    "methods. Guilford Press.",
    "Kenny et al., 2003": "Kenny, D. A., Korchmaros, J. D., & Bolger, N. (2003). Lower level "
    "mediation in multilevel models. Psychological Methods, 8(2), 115-128.",
    "Kenny et al., 2006": "Kenny, D. A., Kashy, D. A., & Cook, W. L. (2006). Dyadic data "
    "analysis. Guilford Press.",
    "Kenny & Ledermann, 2010": "Kenny, D. A., & Ledermann, T. (2010). Detecting, measuring, and "
    "testing dyadic patterns in the actor-partner interdependence model. Journal of Family "
    "Psychology, 24(3), 359-366.",
    "Kuznetsova et al., 2017": "Kuznetsova, A., Brockhoff, P. B., & Christensen, R. H. B. "
    "(2017). lmerTest package: Tests in linear mixed effects models. Journal of Statistical "
    "Software, 82(13), 1-26.",
    "Laurenceau et al., 1998": "Laurenceau, J.-P., Barrett, L. F., & Pietromonaco, P. R. (1998). "
    "Intimacy as an interpersonal process: The importance of self-disclosure, partner "
    "disclosure, and perceived partner responsiveness in interpersonal exchanges. Journal of "
    "Personality and Social Psychology, 74(5), 1238-1251.",
    "Reis & Shaver, 1988": "Reis, H. T., & Shaver, P. (1988). Intimacy as an interpersonal "
    "process. In S. Duck (Ed.), Handbook of personal relationships (pp. 367-389). Wiley.",
    "Selig & Preacher, 2008": "Selig, J. P., & Preacher, K. J. (2008). Monte Carlo method for "
    "assessing mediation: An interactive tool for creating confidence intervals for indirect "
    "effects [Computer software].",
    "Sinclair & Dowdy, 2005": "Sinclair, V. G., & Dowdy, S. W. (2005). Development and validation "
    "of the Emotional Intimacy Scale. Journal of Nursing Measurement, 13(3), 193-206.",
}


@dataclass(frozen=True)
class ReportOptions:
    """Which columns hold what. A section runs when its columns are in the table.

    ``apim_x``/``apim_y`` default to the emotional-disclosure and intimacy columns for diaries;
    for one-row-per-person data name them (e.g. ``eis_total`` and ``swls_total``).
    """

    person: str = "person"
    occasion: str = "occasion"
    intimacy: str = "intimacy"
    emotional: str | None = "emotional_disclosure"
    factual: str | None = "factual_disclosure"
    partner: str | None = "partner_disclosure"
    responsiveness: str | None = "responsiveness"
    dyad: str = "dyad"
    role: str | None = None
    apim_x: str | None = None
    apim_y: str | None = None
    eis: str = "eis_total"
    outcomes: tuple[str, ...] | None = None
    seed: int | None = 0
    draws: int = 20_000
    title: str = "attunement report"


@dataclass
class ReportResults:
    """What :func:`analysis_report` computed; :func:`render_report` turns it into HTML."""

    options: ReportOptions
    summary: dict[str, Any] = field(default_factory=dict)
    trend: list[Series] = field(default_factory=list)
    trend_label: str = ""
    person_means: pd.DataFrame | None = None
    process: ProcessResult | None = None
    mediation: MediationResult | None = None
    apim: ApimResult | None = None
    asymmetry: pd.DataFrame | None = None
    asymmetry_value: str = ""
    outcomes: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    created: str = ""


@dataclass(frozen=True)
class _Step:
    label: str
    run: Callable[[pd.DataFrame, ReportResults], None]
    needs: tuple[str, ...]


def report_steps(frame: pd.DataFrame, options: ReportOptions) -> list[_Step]:
    """The analysis steps that will run on ``frame`` (in order), for a progress bar."""
    has = set(frame.columns)
    steps = [_Step("Describing the data", _describe, ())]
    diary_columns = (options.person, options.intimacy)
    predictors = [c for c in (options.emotional, options.factual, options.partner) if c]
    if set(diary_columns) <= has and any(p in has for p in predictors):
        steps.append(_Step("Fitting the intimacy process model", _process, diary_columns))
        if options.responsiveness in has and options.emotional in has:
            steps.append(_Step("Fitting the 1-1-1 mediation model", _mediation, diary_columns))
    if options.dyad in has and options.person in has:
        steps.append(_Step("Fitting the actor-partner model", _apim, (options.dyad,)))
        steps.append(_Step("Comparing partners", _asymmetry, (options.dyad,)))
    if options.eis in has:
        steps.append(_Step("Correlating intimacy with outcomes", _outcomes, (options.eis,)))
    return steps


def analysis_report(
    frame: pd.DataFrame,
    options: ReportOptions | None = None,
    *,
    progress: Progress | None = None,
) -> ReportResults:
    """Run the analyses the table's columns allow; ``progress`` is called before each step."""
    options = options or ReportOptions()
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InvalidInputError("The report needs a table with at least one row.")
    results = ReportResults(options=options, created=datetime.now(UTC).strftime("%Y-%m-%d"))
    steps = report_steps(frame, options)
    if len(steps) == 1:
        raise InvalidInputError(
            "Nothing to report: the table has none of the columns the analyses need.",
            hint=(
                f"A diary needs {options.person!r}, {options.intimacy!r} and a disclosure "
                f"column such as {options.emotional!r}; dyads need {options.dyad!r}; the "
                f"outcome correlations need {options.eis!r}. Name your columns with the "
                "options (e.g. --intimacy closeness)."
            ),
        )
    for step in steps:
        if progress is not None:
            progress(step.label)
        try:
            step.run(frame, results)
        except AttunementError as exc:
            results.notes.append(_skipped_note(step.label, exc))
    return results


def _skipped_note(label: str, error: AttunementError, shown: int = 3) -> str:
    """The note for a section that failed: the message and the first places to fix."""
    note = f"{label}: skipped. {error.message}"
    if error.problems:
        places = [problem.describe() for problem in error.problems[:shown]]
        more = len(error.problems) - shown
        if more > 0:
            places.append(f"and {more} more")
        note += " " + "; ".join(places) + "."
    return note


# --------------------------------------------------------------------------- steps


def _describe(frame: pd.DataFrame, results: ReportResults) -> None:
    o = results.options
    summary: dict[str, Any] = {"Rows": len(frame)}
    if o.person in frame.columns:
        summary["Persons"] = int(frame[o.person].nunique())
    if o.dyad in frame.columns:
        summary["Dyads"] = int(frame[o.dyad].nunique())
    if o.occasion in frame.columns:
        summary["Occasions (distinct)"] = int(frame[o.occasion].nunique())
    watched = [
        c
        for c in (o.intimacy, o.emotional, o.factual, o.partner, o.responsiveness, o.eis)
        if c and c in frame.columns
    ]
    for column in watched:
        values = pd.to_numeric(frame[column], errors="coerce")
        summary[f"{column}: mean (SD), missing"] = (
            f"{_f(values.mean())} ({_f(values.std())}), {int(values.isna().sum())}"
        )
    results.summary = summary
    if {o.person, o.occasion, o.intimacy} <= set(frame.columns):
        data = frame[[o.person, o.occasion, o.intimacy]].copy()
        data[o.intimacy] = pd.to_numeric(data[o.intimacy], errors="coerce")
        data[o.occasion] = pd.to_numeric(data[o.occasion], errors="coerce")
        data = data.dropna()
        if data.empty:
            return
        persons = data[o.person].unique()
        if len(persons) <= 6:
            for who in persons:
                rows = data[data[o.person] == who].sort_values(o.occasion)
                results.trend.append(
                    Series(str(who), rows[o.occasion].tolist(), rows[o.intimacy].tolist())
                )
            results.trend_label = f"{o.intimacy} of each person by {o.occasion}"
        else:
            means = data.groupby(o.occasion)[o.intimacy].mean().sort_index()
            results.trend.append(Series("mean", means.index.tolist(), means.tolist()))
            results.trend_label = f"mean {o.intimacy} across {len(persons)} persons by {o.occasion}"
    emotional = o.emotional
    if emotional and {o.person, o.intimacy, emotional} <= set(frame.columns):
        numeric = frame[[o.person]].copy()
        for column in (emotional, o.intimacy):
            numeric[column] = pd.to_numeric(frame[column], errors="coerce")
        results.person_means = numeric.groupby(o.person).mean().dropna()


def _process(frame: pd.DataFrame, results: ReportResults) -> None:
    o = results.options
    has = set(frame.columns)

    def present(column: str | None) -> str | None:
        return column if column in has else None

    def fit(random: Literal["slopes", "intercept"]) -> ProcessResult:
        return process_model(
            frame,
            person=o.person,
            intimacy=o.intimacy,
            emotional=present(o.emotional),
            factual=present(o.factual),
            partner=present(o.partner),
            random=random,
        )

    try:
        results.process = fit("slopes")
    except InvalidInputError as exc:
        if "converge" not in exc.message and "Too few" not in exc.message:
            raise
        results.notes.append(
            "The process model with random slopes could not be fitted "
            f"({exc.message}); a random-intercept model was fitted instead."
        )
        results.process = fit("intercept")
    results.notes.extend(f"Process model: {m}" for m in results.process.messages)


def _mediation(frame: pd.DataFrame, results: ReportResults) -> None:
    o = results.options
    if o.emotional is None or o.responsiveness is None:
        return
    x, m = o.emotional, o.responsiveness

    def fit(random_c_prime: bool) -> MediationResult:
        return mediation_111(
            frame,
            person=o.person,
            x=x,
            m=m,
            y=o.intimacy,
            seed=o.seed,
            draws=o.draws,
            random_c_prime=random_c_prime,
        )

    try:
        results.mediation = fit(True)
    except InvalidInputError as exc:
        if "converge" not in exc.message and "Too few" not in exc.message:
            raise
        results.notes.append(
            f"The mediation model with a random c' path could not be fitted ({exc.message}); "
            "it was fitted with a fixed c' path."
        )
        results.mediation = fit(False)
    results.notes.extend(f"Mediation: {m}" for m in results.mediation.messages)


def _apim(frame: pd.DataFrame, results: ReportResults) -> None:
    o = results.options
    diary = o.occasion in frame.columns
    x = o.apim_x or (o.emotional if diary else None)
    y = o.apim_y or (o.intimacy if diary else None)
    if not x or not y or x not in frame.columns or y not in frame.columns:
        results.notes.append(
            "Actor-partner model: skipped; name the predictor and outcome (apim_x, apim_y)."
        )
        return
    if diary:
        results.apim = apim_diary(
            frame,
            dyad=o.dyad,
            person=o.person,
            occasion=o.occasion,
            x=x,
            y=y,
            role=o.role,
            seed=o.seed,
            draws=o.draws,
        )
    else:
        results.apim = apim(
            frame, dyad=o.dyad, person=o.person, x=x, y=y, role=o.role, seed=o.seed, draws=o.draws
        )
    results.notes.extend(f"Actor-partner model: {m}" for m in results.apim.messages)


def _asymmetry(frame: pd.DataFrame, results: ReportResults) -> None:
    o = results.options
    value = next(
        (c for c in (o.eis, o.intimacy) if c in frame.columns),
        None,
    )
    if value is None:
        return
    results.asymmetry = dyad_asymmetry(
        frame, dyad=o.dyad, person=o.person, value=value, role=o.role
    )
    results.asymmetry_value = value


def _outcomes(frame: pd.DataFrame, results: ReportResults) -> None:
    o = results.options
    outcomes = [c for c in (o.outcomes or OUTCOME_COLUMNS) if c in frame.columns]
    if not outcomes:
        results.notes.append(
            f"Outcome correlations: skipped; no outcome columns ({', '.join(OUTCOME_COLUMNS)})."
        )
        return
    data = frame
    if o.person in frame.columns and frame[o.person].duplicated().any():
        numeric = require_numeric(frame, [o.eis, *outcomes])[[o.eis, *outcomes]]
        data = numeric.groupby(frame[o.person]).mean()
        results.notes.append(
            "Outcome correlations use one row per person (the mean of each person's rows)."
        )
    results.outcomes = outcome_correlations(data, o.eis, outcomes)


# --------------------------------------------------------------------------- rendering

_CSS = """
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #222;
  margin: 0 auto; padding: 1rem; max-width: 62rem; background: #fff; }
h1 { font-size: 1.6rem; margin: .5rem 0; } h2 { font-size: 1.25rem; margin-top: 2rem;
  border-bottom: 1px solid #ddd; padding-bottom: .25rem; } h3 { font-size: 1.05rem; }
.meta { color: #555; font-size: .9rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr));
  gap: 1rem; }
figure { margin: 0; } figcaption { font-size: .85rem; color: #555; }
.table-wrap { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; font-size: .9rem; min-width: 100%; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e5e5e5; text-align: right;
  white-space: nowrap; }
th:first-child, td:first-child, th.text, td.text { text-align: left; }
td.text { white-space: normal; min-width: 6rem; }
thead th { background: #f5f7fa; }
.notes li { margin-bottom: .25rem; } .key { font-weight: 600; }
.references { font-size: .85rem; } .references li { margin-bottom: .35rem; }
@media print { .charts { display: block; } figure { break-inside: avoid; } }
"""


def render_report(results: ReportResults) -> str:
    """The whole report as one HTML document (inline CSS and SVG, no scripts or links out)."""
    o = results.options
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(o.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(o.title)}</h1>",
        f'<p class="meta">Made with attunement {_e(__version__)} on {_e(results.created)}. '
        "attunement is not therapy and does not replace it.</p></header>",
        "<main>",
        _data_section(results),
    ]
    if results.process is not None:
        parts.append(_process_section(results.process))
    if results.mediation is not None:
        parts.append(_mediation_section(results.mediation))
    if results.apim is not None or results.asymmetry is not None:
        parts.append(_dyad_section(results))
    if results.outcomes is not None:
        parts.append(_outcomes_section(results.outcomes))
    parts.append(_methods_section(results))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _data_section(results: ReportResults) -> str:
    rows = "".join(
        f'<tr><td class="text">{_e(k)}</td><td>{_e(str(v))}</td></tr>'
        for k, v in results.summary.items()
    )
    out = [
        "<section><h2>The data</h2>",
        f'<div class="table-wrap"><table><tbody>{rows}</tbody></table></div>',
    ]
    charts = []
    if results.trend:
        o = results.options
        charts.append(
            _figure(
                trend_chart(
                    results.trend,
                    title="Intimacy over time",
                    x_label=o.occasion,
                    y_label=o.intimacy,
                ),
                results.trend_label.capitalize() + ".",
            )
        )
    means = results.person_means
    o = results.options
    if means is not None and len(means) >= 3 and o.emotional:
        charts.append(
            _figure(
                scatter_chart(
                    means[o.emotional].tolist(),
                    means[o.intimacy].tolist(),
                    title="People who disclose more",
                    x_label=f"mean {o.emotional}",
                    y_label=f"mean {o.intimacy}",
                ),
                "Each point is one person's mean; the line is the least-squares fit "
                "(between-person association, not a within-person effect).",
            )
        )
    if charts:
        out.append(f'<div class="charts">{"".join(charts)}</div>')
    out.append("</section>")
    return "\n".join(out)


def _process_section(process: ProcessResult) -> str:
    effects = process.effects[process.effects["term"] != "(Intercept)"]
    forest = forest_chart(
        effects["term"].tolist(),
        effects["estimate"].tolist(),
        effects["ci_low"].tolist(),
        effects["ci_high"].tolist(),
        title="What predicts intimacy",
        x_label="Change in intimacy per unit (95% CI)",
    )
    by_name = dict(zip(process.effects["term"], process.effects["estimate"], strict=True))
    predictors = [p for p in ("emotional", "factual", "partner") if f"{p}_within" in by_name]
    bars = bar_chart(
        [p.capitalize() for p in predictors],
        {
            "Within person": [by_name[f"{p}_within"] for p in predictors],
            "Between persons": [by_name[f"{p}_between"] for p in predictors],
        },
        title="Within- and between-person slopes",
        x_label="Disclosure",
        y_label="Slope",
    )
    out = [
        "<section><h2>The intimacy process model</h2>",
        "<p>Does an interaction feel closer when a person shares feelings, shares facts, or "
        "hears their partner open up? Within-person slopes compare a person's interactions "
        "with their own average; between-person slopes compare people.</p>",
        '<div class="charts">',
        _figure(forest, "Fixed effects with 95% confidence intervals (Satterthwaite df)."),
        _figure(bars, "Within-person (interaction-level) versus between-person slopes."),
        "</div>",
        table_html(
            process.effects,
            ["term", "estimate", "se", "df", "t", "p_val", "ci_low", "ci_high"],
        ),
    ]
    contrast = process.emotional_vs_factual
    if contrast is not None:
        out.append(
            "<p><span class=key>Emotional versus factual disclosure</span> (within persons): "
            f"difference {_f(contrast['estimate'])}, 95% CI [{_f(contrast['ci_low'])}, "
            f"{_f(contrast['ci_high'])}], {_p_phrase(contrast['p_val'])}.</p>"
        )
    fit = process.fit
    out.append(
        f'<p class="meta">{process.n_obs} interactions of {process.n_persons} persons; '
        f"REML criterion {_f(fit.reml_criterion)}; "
        f"{'singular fit; ' if fit.singular else ''}formula <code>{_e(fit.formula)}</code>.</p>"
    )
    out.append("</section>")
    return "\n".join(out)


def _mediation_section(mediation: MediationResult) -> str:
    paths = mediation.paths
    shown = paths[paths["quantity"] != "proportion_mediated"]
    labels = {
        "a": "a: disclosure → responsiveness",
        "b": "b: responsiveness → intimacy",
        "c_prime": "c′: direct effect",
        "sigma_ab": "σab: cov(a, b)",
        "indirect": "indirect: ab + σab",
        "total": "total effect",
    }
    forest = forest_chart(
        [labels.get(str(q), str(q)) for q in shown["quantity"]],
        shown["estimate"].tolist(),
        shown["ci_low"].tolist(),
        shown["ci_high"].tolist(),
        title="Paths of the mediation",
        x_label=f"Estimate ({round(mediation.confidence * 100)}% CI)",
    )
    row = paths[paths["quantity"] == "proportion_mediated"].iloc[0]
    proportion = {k: float(row[k]) for k in ("estimate", "ci_low", "ci_high")}
    return "\n".join(
        [
            "<section><h2>Does feeling understood carry the effect?</h2>",
            "<p>Within persons: emotional disclosure (x) → perceived partner responsiveness "
            "(m) → intimacy (y), with paths that may differ between people. The average "
            "indirect effect is ab + σab.</p>",
            _charts(
                _figure(
                    forest,
                    "a, b and c′: Wald intervals; σab: normal; indirect and total: Monte Carlo.",
                )
            ),
            table_html(paths, ["quantity", "estimate", "se", "ci_low", "ci_high", "ci_method"]),
            f"<p>Proportion mediated: {_f(proportion['estimate'])} "
            f"[{_f(proportion['ci_low'])}, {_f(proportion['ci_high'])}] "
            f"({mediation.draws:,} Monte Carlo draws, seed {mediation.seed}).</p>",
            _mediation_between(mediation.between_paths),
            f'<p class="meta">{mediation.n_obs} occasions of {mediation.n_persons} persons; '
            f"formula <code>{_e(mediation.fit.formula)}</code>, residual SD per equation "
            f"{_e(', '.join(f'{k} {_f(v)}' for k, v in mediation.fit.residual_sd.items()))}.</p>",
            "</section>",
        ]
    )


def _mediation_between(between: pd.DataFrame | None) -> str:
    """The between-person decomposition of the mediation (empty when it was not fitted)."""
    if between is None or between.empty:
        return ""
    return "\n".join(
        [
            "<h3>Between persons</h3>",
            "<p>The same paths among people's averages: a_between, a person's mean disclosure → "
            "their mean responsiveness; b_between, mean responsiveness → mean intimacy, holding "
            "mean disclosure; indirect_between = a_between × b_between. These compare people "
            "(between-person associations), not what happens within a person; a dash means "
            "the data cannot give that value (see the notes).</p>",
            table_html(
                between,
                ["quantity", "estimate", "se", "ci_low", "ci_high", "ci_method"],
                caption="Between-person paths of the mediation",
            ),
        ]
    )


def _dyad_section(results: ReportResults) -> str:
    out = ["<section><h2>Partners</h2>"]
    fit = results.apim
    if fit is not None:
        effects = fit.effects[fit.effects["effect"] != "intercept"]
        labels = [
            f"{r}: {e}" if fit.distinguishable else str(e)
            for r, e in zip(effects["role"], effects["effect"], strict=True)
        ]
        forest = forest_chart(
            labels,
            effects["estimate"].tolist(),
            effects["ci_low"].tolist(),
            effects["ci_high"].tolist(),
            title="Actor and partner effects",
            x_label="Effect (95% CI)",
        )
        kind = "distinguishable" if fit.distinguishable else "indistinguishable"
        design = "diary" if fit.fit is not None else "cross-sectional"
        out += [
            f"<p>Actor-partner interdependence model ({design}, {kind} dyads): the actor "
            "effect is how a person's own predictor goes with their outcome, the partner effect "
            "how their partner's does. k = partner / actor: 1 couple pattern, 0 actor-only, "
            "−1 contrast.</p>",
            _charts(_figure(forest, f"{fit.n_dyads} dyads, {fit.n_persons} persons.")),
            table_html(
                fit.effects,
                ["role", "effect", "estimate", "se", "df", "p_val", "ci_low", "ci_high"],
            ),
            "<h3>k = partner / actor</h3>",
            table_html(fit.k, ["role", "level", "estimate", "ci_low", "ci_high", "pattern"]),
        ]
    asym = results.asymmetry
    if asym is not None and not asym.empty:
        shown = asym.head(30)
        bars = bar_chart(
            [str(d) for d in shown["dyad"]],
            {"difference (SD units)": shown["std_difference"].tolist()},
            title="Who is more invested?",
            x_label="Dyad",
            y_label="Member 1 − member 2 (SD)",
        )
        out += [
            f"<h3>Asymmetry of {_e(results.asymmetry_value)}</h3>",
            _charts(
                _figure(
                    bars,
                    "Difference between the members of each dyad, in SDs of individual scores "
                    "(first 30 dyads).",
                )
            ),
            table_html(
                asym.head(50),
                ["dyad", "value_1", "value_2", "difference", "std_difference", "more_invested"],
            ),
        ]
    out.append("</section>")
    return "\n".join(out)


def _outcomes_section(table: pd.DataFrame) -> str:
    forest = forest_chart(
        table["y"].tolist(),
        table["r"].tolist(),
        table["ci_low"].tolist(),
        table["ci_high"].tolist(),
        title="Emotional intimacy and well-being",
        x_label="Correlation r (95% CI)",
    )
    return "\n".join(
        [
            "<section><h2>Emotional intimacy and well-being</h2>",
            f'<div class="charts">{_figure(forest, "Correlations with Fisher-z intervals.")}</div>',
            table_html(table, ["x", "y", "n", "r", "ci_low", "ci_high", "p_val", "p_fdr"]),
            "</section>",
        ]
    )


def _methods_section(results: ReportResults) -> str:
    sentences: list[str] = []
    cited: list[str] = []

    def cite(*keys: str) -> str:
        for key in keys:
            if key not in cited:
                cited.append(key)
        return "(" + "; ".join(keys) + ")"

    if results.process is not None or results.mediation is not None:
        sentences.append(
            "Time-varying predictors were split into within-person deviations from each "
            "person's mean and grand-mean-centred person means "
            + cite("Bolger & Laurenceau, 2013")
            + "."
        )
        sentences.append(
            "Linear mixed models were fitted by restricted maximum likelihood "
            + cite("Bates et al., 2015")
            + " with Satterthwaite degrees of freedom "
            + cite("Kuznetsova et al., 2017")
            + "."
        )
    if results.process is not None:
        sentences.append(
            "Intimacy was modelled from emotional, factual and partner disclosure following "
            "the interpersonal process model of intimacy "
            + cite("Reis & Shaver, 1988", "Laurenceau et al., 1998")
            + ", with random intercepts"
            + (" and slopes" if results.process.fit.random_cov.shape[0] > 1 else "")
            + " by person."
        )
    if results.mediation is not None:
        sentences.append(
            "Mediation by perceived partner responsiveness was tested in a 1-1-1 multilevel "
            "model that stacks mediator and outcome with separate residual variances and "
            "random a and b paths " + cite("Bauer et al., 2006") + "; the average indirect "
            "effect is ab + σab " + cite("Kenny et al., 2003") + ", with a Monte Carlo "
            "confidence interval " + cite("Selig & Preacher, 2008") + "."
        )
    if results.apim is not None:
        sentences.append(
            "Dyadic data were analysed with the actor-partner interdependence model "
            + cite("Kenny et al., 2006")
            + "; the ratio k of partner to actor effect indicates the dyadic pattern "
            + cite("Kenny & Ledermann, 2010")
            + "."
        )
    if results.outcomes is not None:
        sentences.append(
            "Emotional intimacy " + cite("Sinclair & Dowdy, 2005") + " was correlated with the "
            "outcome scales (Pearson r, Fisher-z intervals), and p-values were adjusted for the "
            "false discovery rate " + cite("Benjamini & Hochberg, 1995") + "."
        )
    notes = "".join(f"<li>{_e(n)}</li>" for n in results.notes)
    references = "".join(f"<li>{_e(REFERENCES[k])}</li>" for k in sorted(cited))
    return "\n".join(
        [
            "<section><h2>Methods</h2>",
            f"<p>{_e(' '.join(sentences)) if sentences else 'Descriptive statistics only.'}</p>",
            f'<h3>Notes</h3><ul class="notes">{notes}</ul>' if notes else "",
            f'<h3>References</h3><ol class="references">{references}</ol>' if references else "",
            "</section>",
        ]
    )


def table_html(frame: pd.DataFrame, columns: Sequence[str], *, caption: str | None = None) -> str:
    """An HTML table of ``columns`` (those present): numbers rounded, p-values as p."""
    present = [c for c in columns if c in frame.columns]
    head = "".join(f'<th scope="col" class="{_align(frame[c])}">{_e(c)}</th>' for c in present)
    body = []
    for _, row in frame[present].iterrows():
        cells = []
        for column in present:
            value = row[column]
            text = _p(value) if column.startswith("p_") else _cell(value)
            cells.append(f'<td class="{_align(frame[column])}">{_e(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _charts(*figures: str) -> str:
    return f'<div class="charts">{"".join(figures)}</div>'


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _align(column: pd.Series) -> str:
    return "num" if pd.api.types.is_numeric_dtype(column) else "text"


def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return _f(float(value))
    return str(value)


def _f(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    if value != 0 and abs(value) < 0.001:
        return f"{value:.2e}"
    return f"{value:.3f}".replace("-", "−")


def _p(value: object) -> str:
    if not isinstance(value, (int, float, np.floating)) or not np.isfinite(float(value)):
        return "–"
    number = float(value)
    return "< .001" if number < 0.001 else f"{number:.3f}"


def _p_phrase(value: float) -> str:
    text = _p(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
