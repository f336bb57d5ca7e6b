"""Reliability of diary (intensive longitudinal) scales by generalizability theory.

Each of P persons answers the same K items on each of T occasions (days). The variance of an
answer Y_pti is split into components by a three-way crossed random-effects model
(Cranford et al., 2006; Shrout & Lane, 2012):

    person (P), time (T), item (I), person x time (PT), person x item (PI),
    time x item (TI) and residual (e, the three-way interaction and error).

Estimation: analysis of variance with expected mean squares, on complete (balanced) data. With
MS_x the mean squares of the crossed three-way ANOVA,

    s2_P  = (MS_P - MS_PT - MS_PI + MS_e) / (T K)     s2_PT = (MS_PT - MS_e) / K
    s2_T  = (MS_T - MS_PT - MS_TI + MS_e) / (P K)     s2_PI = (MS_PI - MS_e) / T
    s2_I  = (MS_I - MS_PI - MS_TI + MS_e) / (P T)     s2_TI = (MS_TI - MS_e) / P
    s2_e  = MS_e

exactly as ``psych::multilevel.reliability(aov = TRUE)``. ANOVA estimates can be negative (a
component whose true value is near zero); they are reported as estimated, as psych does, and
flagged in ``negative_variance``. With balanced data and positive estimates, REML (psych's
``lmer = TRUE`` path) gives the same values.

Coefficients (formulas as in psych 2.2.9's source, which corrects a typo in Shrout & Lane's
equation 7):

    R_KF = (s2_P + s2_PI/K) / (s2_P + s2_PI/K + s2_e/(T K))
    R_1R = (s2_P + s2_PI/K) / (s2_P + s2_PI/K + s2_T + s2_PT + s2_e/K)
    R_KR = (s2_P + s2_PI/K) / (s2_P + s2_PI/K + (s2_T + s2_PT)/T + s2_e/(T K))
    R_C  = s2_PT / (s2_PT + s2_e/K)

The nested variants treat occasions as nested within persons (no common calendar), with
components person (s2_Pn), time within person (s2_T(P)) and residual (s2_en) from the nested
ANOVA (the REML estimates of ``lme(values ~ 1, random = ~1 | id/time)`` on balanced data when
positive):

    R_KRN = s2_Pn / (s2_Pn + s2_T(P)/T + s2_en/(T K))
    R_CN  = s2_T(P) / (s2_T(P) + s2_en/K)

Unbalanced data (a missing answer, a person without some day) are refused by the ANOVA
estimator, listing every missing (person, time, item) cell; ``incomplete="drop_persons"`` keeps
only the persons with every answer and reports how many were left out. ``estimator="reml"``
fits the same crossed (and nested) random-effects models by REML (see ``_reml``), as psych's
``lmer = TRUE`` path does with lme4, and accepts gaps; T and K are then the numbers of distinct
occasions and items, as in psych.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from attunement.errors import InvalidInputError, Problem
from attunement.psychometrics._item_matrix import FloatArray
from attunement.psychometrics._reml import reml_components

__all__ = ["MULTILEVEL_COLUMNS", "multilevel_reliability"]

MULTILEVEL_COLUMNS = (
    "r_kf",
    "r_1r",
    "r_kr",
    "r_c",
    "r_krn",
    "r_cn",
    "n_persons",
    "n_times",
    "n_items",
    "n_persons_excluded",
    "var_person",
    "var_time",
    "var_item",
    "var_person_time",
    "var_person_item",
    "var_time_item",
    "var_residual",
    "var_nested_person",
    "var_nested_time",
    "var_nested_residual",
    "negative_variance",
    "estimator",
    "converged",
)

Incomplete = Literal["raise", "drop_persons"]
Estimator = Literal["anova", "reml"]


def multilevel_reliability(
    frame: pd.DataFrame,
    *,
    person: str,
    time: str,
    item: str,
    value: str,
    incomplete: Incomplete = "raise",
    estimator: Estimator = "anova",
) -> pd.DataFrame:
    """Generalizability coefficients of a diary scale from long data (one row per answer).

    ``frame`` has one row per (person, time, item) with the answer in ``value`` (reverse-keyed
    already). Returns one row with the columns of :data:`MULTILEVEL_COLUMNS`: the coefficients
    ``r_kf``, ``r_1r``, ``r_kr``, ``r_c`` (crossed design), ``r_krn``, ``r_cn`` (time nested in
    persons), the design size, the seven crossed variance components ``var_*``, the three nested
    ones ``var_nested_*``, ``negative_variance`` (an ANOVA estimate came out below zero),
    ``estimator`` and ``converged`` (always true for ANOVA).

    ``estimator="anova"`` (default) needs a complete diary (see ``incomplete``);
    ``estimator="reml"`` estimates the same components by REML, as psych's ``lmer = TRUE`` path
    (and lme4) do, and accepts missing answers.
    See the module docstring for the formulas (Cranford et al., 2006; Shrout & Lane, 2012).
    """
    if estimator not in ("anova", "reml"):
        raise InvalidInputError(
            f"Unknown estimator {estimator!r}.", hint="Use 'anova' (complete diaries) or 'reml'."
        )
    cube, n_excluded = _answer_cube(
        frame, person, time, item, value, incomplete, allow_gaps=estimator == "reml"
    )
    converged = True
    components: tuple[float, ...]
    nested: tuple[float, ...]
    if estimator == "anova":
        components = _crossed_components(cube)
        nested = _nested_components(cube)
    else:
        cube = _without_empty_levels(cube)
        components, nested, converged = _reml_components(cube)
    n_p, n_t, n_k = cube.shape
    s_p, s_t, _s_i, s_pt, s_pi, _s_ti, s_e = components
    between = s_p + s_pi / n_k
    ns_p, ns_t, ns_e = nested
    scale = sum(abs(c) for c in (*components, *nested))

    def ratio(numerator: float, denominator: float) -> float:
        # a denominator that is zero up to rounding gives no coefficient, not +-1e16
        return numerator / denominator if abs(denominator) > 1e-10 * scale else float("nan")

    row = {
        "r_kf": ratio(between, between + s_e / (n_t * n_k)),
        "r_1r": ratio(between, between + s_t + s_pt + s_e / n_k),
        "r_kr": ratio(between, between + (s_t + s_pt) / n_t + s_e / (n_t * n_k)),
        "r_c": ratio(s_pt, s_pt + s_e / n_k),
        "r_krn": ratio(ns_p, ns_p + ns_t / n_t + ns_e / (n_t * n_k)),
        "r_cn": ratio(ns_t, ns_t + ns_e / n_k),
        "n_persons": n_p,
        "n_times": n_t,
        "n_items": n_k,
        "n_persons_excluded": n_excluded,
        "var_person": s_p,
        "var_time": components[1],
        "var_item": components[2],
        "var_person_time": s_pt,
        "var_person_item": s_pi,
        "var_time_item": components[5],
        "var_residual": s_e,
        "var_nested_person": ns_p,
        "var_nested_time": ns_t,
        "var_nested_residual": ns_e,
        "negative_variance": bool(min(*components, *nested) < 0),
        "estimator": estimator,
        "converged": converged,
    }
    return pd.DataFrame([[row[name] for name in MULTILEVEL_COLUMNS]], columns=MULTILEVEL_COLUMNS)


def _crossed_components(y: FloatArray) -> tuple[float, float, float, float, float, float, float]:
    n_p, n_t, n_k = y.shape
    m = y.mean()
    mp, mt, mi = y.mean(axis=(1, 2)), y.mean(axis=(0, 2)), y.mean(axis=(0, 1))
    mpt, mpi, mti = y.mean(axis=2), y.mean(axis=1), y.mean(axis=0)
    ms_p = n_t * n_k * float(((mp - m) ** 2).sum()) / (n_p - 1)
    ms_t = n_p * n_k * float(((mt - m) ** 2).sum()) / (n_t - 1)
    ms_i = n_p * n_t * float(((mi - m) ** 2).sum()) / (n_k - 1)
    pt = mpt - mp[:, None] - mt[None, :] + m
    pi = mpi - mp[:, None] - mi[None, :] + m
    ti = mti - mt[:, None] - mi[None, :] + m
    ms_pt = n_k * float((pt**2).sum()) / ((n_p - 1) * (n_t - 1))
    ms_pi = n_t * float((pi**2).sum()) / ((n_p - 1) * (n_k - 1))
    ms_ti = n_p * float((ti**2).sum()) / ((n_t - 1) * (n_k - 1))
    residual = (
        y
        - mpt[:, :, None]
        - mpi[:, None, :]
        - mti[None, :, :]
        + mp[:, None, None]
        + mt[None, :, None]
        + mi[None, None, :]
        - m
    )
    ms_e = float((residual**2).sum()) / ((n_p - 1) * (n_t - 1) * (n_k - 1))
    return (
        (ms_p - ms_pt - ms_pi + ms_e) / (n_t * n_k),
        (ms_t - ms_pt - ms_ti + ms_e) / (n_p * n_k),
        (ms_i - ms_pi - ms_ti + ms_e) / (n_p * n_t),
        (ms_pt - ms_e) / n_k,
        (ms_pi - ms_e) / n_t,
        (ms_ti - ms_e) / n_p,
        ms_e,
    )


def _without_empty_levels(cube: FloatArray) -> FloatArray:
    seen = ~np.isnan(cube)
    result: FloatArray = cube[seen.any(axis=(1, 2))][:, seen.any(axis=(0, 2))][
        :, :, seen.any(axis=(0, 1))
    ]
    return result


def _reml_components(
    cube: FloatArray,
) -> tuple[tuple[float, ...], tuple[float, ...], bool]:
    """REML crossed and nested components; starts from the ANOVA of a gap-filled diary."""
    _n_p, n_t, n_k = cube.shape
    seen = ~np.isnan(cube)
    p, t, i = np.nonzero(seen)
    y = cube[seen]
    filled = _additive_fill(cube)
    crossed_start = _crossed_components(filled)
    nested_start = _nested_components(filled)
    if not crossed_start[-1] > 0 or not nested_start[-1] > 0:
        raise InvalidInputError(
            "The diary has no residual variance: every answer is explained exactly.",
            hint="Check that the value column holds the answers.",
        )
    crossed = reml_components(
        y,
        [p, t, i, p * n_t + t, p * n_k + i, t * n_k + i],
        start=_relative_sd(crossed_start),
    )
    nested = reml_components(y, [p, p * n_t + t], start=_relative_sd(nested_start))
    return (
        (*crossed.components, crossed.residual),
        (*nested.components, nested.residual),
        crossed.converged and nested.converged,
    )


def _additive_fill(cube: FloatArray) -> FloatArray:
    """Missing answers replaced by grand mean + person, time and item effects (for a start)."""
    m = float(np.nanmean(cube))
    mp = np.nanmean(cube, axis=(1, 2))
    mt = np.nanmean(cube, axis=(0, 2))
    mi = np.nanmean(cube, axis=(0, 1))
    guess = mp[:, None, None] + mt[None, :, None] + mi[None, None, :] - 2 * m
    result: FloatArray = np.where(np.isnan(cube), guess, cube)
    return result


def _relative_sd(components: tuple[float, ...]) -> FloatArray:
    """Start values theta_r = sd_r / sd_e, kept away from 0 (a stationary point of REML)."""
    residual = components[-1]
    return np.sqrt(np.maximum(np.asarray(components[:-1]) / residual, 1e-2))


def _nested_components(y: FloatArray) -> tuple[float, float, float]:
    n_p, n_t, n_k = y.shape
    m = y.mean()
    mp = y.mean(axis=(1, 2))
    mpt = y.mean(axis=2)
    ms_p = n_t * n_k * float(((mp - m) ** 2).sum()) / (n_p - 1)
    ms_tp = n_k * float(((mpt - mp[:, None]) ** 2).sum()) / (n_p * (n_t - 1))
    ms_w = float(((y - mpt[:, :, None]) ** 2).sum()) / (n_p * n_t * (n_k - 1))
    return (ms_p - ms_tp) / (n_t * n_k), (ms_tp - ms_w) / n_k, ms_w


def _answer_cube(
    frame: pd.DataFrame,
    person: str,
    time: str,
    item: str,
    value: str,
    incomplete: Incomplete,
    *,
    allow_gaps: bool,
) -> tuple[FloatArray, int]:
    """Check the long table and arrange it as an array [person, time, item]."""
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(f"Expected a pandas DataFrame, got {type(frame).__name__}.")
    if incomplete not in ("raise", "drop_persons"):
        raise InvalidInputError(
            f"Unknown choice for incomplete data: {incomplete!r}.",
            hint="Use 'raise' or 'drop_persons'.",
        )
    names = {"person": person, "time": time, "item": item, "value": value}
    missing = [Problem(f"no such column (the {role})", column=c) for role, c in names.items()]
    missing = [p for p in missing if p.column not in frame.columns]
    if missing:
        raise InvalidInputError(
            "The diary table lacks columns that were named.",
            hint="Columns present: " + ", ".join(map(str, frame.columns)),
            problems=missing,
        )
    keys = frame[[person, time, item]]
    numbers = pd.to_numeric(frame[value], errors="coerce")
    problems: list[Problem] = []
    for position in np.flatnonzero(numbers.isna().to_numpy() & frame[value].notna().to_numpy()):
        problems.append(
            Problem(
                "not a number",
                line=_line(frame, int(position)),
                column=value,
                value=frame[value].iat[int(position)],
            )
        )
    for column in (person, time, item):
        for position in np.flatnonzero(keys[column].isna().to_numpy()):
            problems.append(Problem("missing", line=_line(frame, int(position)), column=column))
    duplicated = keys.duplicated(keep="first").to_numpy() & keys.notna().all(axis=1).to_numpy()
    for position in np.flatnonzero(duplicated):
        problems.append(
            Problem(
                "a second answer for the same person, time and item",
                line=_line(frame, int(position)),
                value=" / ".join(str(v) for v in keys.iloc[int(position)]),
            )
        )
    if problems:
        raise InvalidInputError(
            f"The diary table has {len(problems)} problem(s).",
            hint="Each (person, time, item) needs exactly one numeric answer.",
            problems=problems,
        )
    usable = numbers.notna().to_numpy()
    person_codes, persons = pd.factorize(keys[person], sort=True)
    time_codes, times = pd.factorize(keys[time], sort=True)
    item_codes, items = pd.factorize(keys[item], sort=True)
    cube = np.full((len(persons), len(times), len(items)), np.nan)
    cube[person_codes[usable], time_codes[usable], item_codes[usable]] = numbers.to_numpy()[usable]
    gaps = np.isnan(cube)
    n_excluded = 0
    if gaps.any() and not (allow_gaps and incomplete == "raise"):
        if incomplete == "raise":
            cells = np.argwhere(gaps)
            raise InvalidInputError(
                f"The diary is incomplete: {len(cells)} (person, time, item) answer(s) are "
                "missing, and the ANOVA estimates need every answer.",
                hint="Estimate by REML, which allows gaps (estimator='reml', --reml on the "
                "command line), or keep only complete persons (incomplete='drop_persons', "
                "--drop-incomplete).",
                problems=[
                    Problem(
                        "no answer",
                        value=f"{persons[p]} / {times[t]} / {items[i]}",
                        allowed=f"one answer per {person} / {time} / {item}",
                    )
                    for p, t, i in cells
                ],
            )
        complete = ~gaps.any(axis=(1, 2))
        n_excluded = int((~complete).sum())
        cube = cube[complete]
    sizes = {"persons": cube.shape[0], "times": cube.shape[1], "items": cube.shape[2]}
    small = [f"{count} {what}" for what, count in sizes.items() if count < 2]
    if small:
        raise InvalidInputError(
            "Multilevel reliability needs at least 2 persons, 2 times and 2 items with complete "
            f"answers; got {', '.join(small)}.",
            hint="R_C needs several items a day; use 2 or more items per daily construct.",
        )
    return cube, n_excluded


def _line(frame: pd.DataFrame, position: int) -> int:
    if frame.index.name == "line":
        return int(frame.index[position])
    return position + 1
