"""Benchmark: random-slope linear mixed models against statsmodels MixedLM and lme4.

Fits ``y ~ x1 + x2 + (1 + x1 | g)`` by REML on simulated diary-shaped data (groups of 8-60 rows)
at about 13k, 130k and 1.3M rows with

1. ``attunement.analysis.fit_lmm`` (from the DataFrame: model matrices, the one pass over the
   rows for the per-group statistics, the optimisation, Satterthwaite df);
2. statsmodels ``MixedLM(...).fit(method=["lbfgs"])`` (the lbfgs-only chain; its default chain is
   several times slower and did not converge on 126k rows in our notes). Skipped at 1.3M rows,
   where it takes many minutes;
3. lme4 1.1 ``lmer`` with its default optimiser, through ``Rscript``, timing the ``lmer`` call
   only (reading the CSV is not counted). Skipped when Rscript or lme4 is missing.

Prints times, ratios and the largest differences in the estimates (fixed effects, standard
errors, random-effect SDs and correlation, residual SD) of each peer against ours.
Aim (issue 5): at least 10x faster than lme4 and 100x faster than statsmodels at 130k rows.

With ``--mediation N`` it also fits the stacked 1-1-1 mediation model (Bauer, Preacher & Gil
2006) with four correlated random effects on N persons x 30 days x 2 rows, with and without
separate residual variances for mediator and outcome, against lme4 (which has one residual
variance only).

With ``--robustness K`` it checks the optimiser instead of the clock: K random datasets with
2-4 correlated random effects (15-120 groups of 2-25 rows, many of them singular fits), REML and
ML, each criterion against lme4's with tight and with default tolerances.

Run: ``python benchmarks/lmm.py [--sizes 400,4000,40000] [--no-r] [--no-statsmodels]
[--repeats 3] [--mediation 2100] [--robustness 16]`` (sizes are numbers of groups).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attunement.analysis import fit_lmm

FORMULA = "y ~ x1 + x2 + (1 + x1 | g)"
STATSMODELS_MAX_ROWS = 200_000

R_SCRIPT = r"""
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); d$g <- factor(d$g)
warn <- character(0)
t0 <- proc.time()[["elapsed"]]
fit <- withCallingHandlers(lmer(y ~ x1 + x2 + (1 + x1 | g), data = d),
  warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") },
  message = function(m) { warn <<- c(warn, conditionMessage(m)); invokeRestart("muffleMessage") })
secs <- proc.time()[["elapsed"]] - t0
co <- summary(fit)$coefficients
vc <- as.data.frame(VarCorr(fit))
cat(jsonlite::toJSON(list(seconds = secs, estimate = unname(co[, 1]), se = unname(co[, 2]),
  sdcor = vc$sdcor, criterion = REMLcrit(fit), warnings = warn), auto_unbox = TRUE, digits = NA))
"""


MEDIATION = "z ~ 0 + Sm + Sy + Sm:x + Sy:m + Sy:x + (0 + Sm + Sy + Sm:x + Sy:m | id)"

R_MEDIATION = R_SCRIPT.replace("y ~ x1 + x2 + (1 + x1 | g)", MEDIATION).replace(
    "d$g <- factor(d$g)", "d$id <- factor(d$id)"
)


def simulate_mediation(persons: int, days: int = 30, seed: int = 7) -> pd.DataFrame:
    """Stacked long data: one mediator row (Sm = 1) and one outcome row (Sy = 1) per day."""
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(persons), days)
    ab = rng.multivariate_normal([0.5, 0.4], [[0.04, 0.015], [0.015, 0.04]], persons)
    x = rng.normal(size=pid.size)
    m = 0.2 * rng.normal(size=persons)[pid] + ab[pid, 0] * x + rng.normal(scale=0.8, size=pid.size)
    y = (
        0.3 * rng.normal(size=persons)[pid]
        + ab[pid, 1] * m
        + 0.1 * x
        + rng.normal(scale=1.3, size=pid.size)
    )
    mediator = pd.DataFrame({"id": pid, "dv": "m", "z": m, "Sm": 1.0, "Sy": 0.0, "x": x, "m": 0.0})
    outcome = pd.DataFrame({"id": pid, "dv": "y", "z": y, "Sm": 0.0, "Sy": 1.0, "x": x, "m": m})
    return pd.concat([mediator, outcome], ignore_index=True)


def mediation(persons: int, use_r: bool, workdir: Path) -> None:
    data = simulate_mediation(persons)
    print(f"\n{len(data):,} stacked rows, {persons:,} persons: {MEDIATION} (REML)")
    start = time.perf_counter()
    same = fit_lmm(MEDIATION, data)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    separate = fit_lmm(MEDIATION, data, residual_groups="dv")
    separate_s = time.perf_counter() - start
    print(f"  attunement   {ours_s:8.3f} s  one residual variance, converged={same.converged}")
    print(
        f"  attunement   {separate_s:8.3f} s  separate residual variances (varIdent), "
        f"converged={separate.converged}"
    )
    if not use_r:
        print("  lme4         skipped (--no-r)")
        return
    r = lme4_fit(data, workdir, R_MEDIATION)
    if r is None:
        print("  lme4         skipped (no Rscript with lme4)")
        return
    mine = {
        "estimate": same.fixed["estimate"].to_numpy(),
        "se": same.fixed["se"].to_numpy(),
        "sdcor": same.random["sdcor"].to_numpy(),
    }
    print(
        f"  lme4         {r[0]:8.3f} s  one residual variance, ratio {r[0] / ours_s:7.1f}x  "
        f"{largest_differences(mine, r[1])}"
    )
    said = "; ".join(r[1]["warnings"])
    print(
        f"  REML criterion: attunement {same.deviance:.4f}, lme4 {r[1]['criterion']:.4f} "
        f"(lower is better){'; lme4 said: ' + said if said else ''}"
    )


R_ROBUSTNESS = r"""
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
specs <- read.csv(args[1], stringsAsFactors = FALSE)
tight <- lmerControl(optimizer = "nloptwrap", optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14,
  xtol_rel = 1e-12, ftol_rel = 1e-15, maxeval = 1e5), check.conv.singular = "ignore")
crit <- function(f) if (isREML(f)) REMLcrit(f) else deviance(f)
for (i in seq_len(nrow(specs))) {
  d <- read.csv(specs$file[i]); d$g <- factor(d$g)
  for (reml in c(TRUE, FALSE)) {
    a <- suppressWarnings(lmer(as.formula(specs$formula[i]), d, REML = reml, control = tight))
    b <- suppressWarnings(suppressMessages(lmer(as.formula(specs$formula[i]), d, REML = reml)))
    cat(i - 1, reml, sprintf("%.12f", min(crit(a), crit(b))), "
")
  }
}
"""


def robustness(count: int, workdir: Path) -> None:
    specs = []
    for k in range(count):
        rng = np.random.default_rng(1000 + k)
        groups, q = int(rng.integers(15, 120)), int(rng.integers(2, 5))
        g = np.repeat(np.arange(groups), rng.integers(2, 25, groups))
        x = rng.normal(size=(g.size, 3))
        factor = rng.normal(size=(q, q)) * rng.uniform(0.05, 1.0, q)
        b = rng.multivariate_normal(np.zeros(q), factor @ factor.T, groups)
        z = np.column_stack([np.ones(g.size), x])[:, :q]
        noise = rng.normal(size=g.size) * rng.uniform(0.3, 2.0)
        y = 1 + x @ np.array([0.5, -0.3, 0.2]) + np.sum(z * b[g], axis=1) + noise
        data = pd.DataFrame({"y": y, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "g": g})
        file = workdir / f"robust{k}.csv"
        data.round(5).to_csv(file, index=False)
        effects = ["1", "1 + x1", "1 + x1 + x2", "1 + x1 + x2 + x3"][q - 1]
        specs.append({"file": str(file), "formula": f"y ~ x1 + x2 + x3 + ({effects} | g)"})
    pd.DataFrame(specs).to_csv(workdir / "specs.csv", index=False)
    (workdir / "robust.R").write_text(R_ROBUSTNESS)
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("robustness check skipped: no Rscript")
        return
    proc = subprocess.run(
        [rscript, str(workdir / "robust.R"), str(workdir / "specs.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print(f"robustness check skipped: {proc.stderr.strip().splitlines()[-1:]}")
        return
    worst = -np.inf
    print(f"\nOptimiser check on {count} random datasets (criterion minus lme4's best):")
    for line in proc.stdout.split("\n"):
        if not line.strip():
            continue
        k, reml, best = line.split()
        spec = specs[int(k)]
        fit = fit_lmm(spec["formula"], pd.read_csv(spec["file"]), reml=reml == "TRUE")
        diff = fit.deviance - float(best)
        worst = max(worst, diff)
        print(
            f"  {k:>3} {'REML' if reml == 'TRUE' else 'ML  '} {spec['formula']:<40} "
            f"{diff:+.2e}{'  singular' if fit.singular else ''}"
        )
    print(f"  worst: {worst:+.2e} ({'never worse than lme4' if worst < 1e-6 else 'WORSE'})")


def simulate(groups: int, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(8, 61, groups)
    g = np.repeat(np.arange(groups), sizes)
    n = g.size
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    cov = np.array([[1.0, 0.3], [0.3, 0.25]])
    b = rng.multivariate_normal([0.0, 0.0], cov, groups)
    y = 1.0 + 0.5 * x1 - 0.3 * x2 + b[g, 0] + b[g, 1] * x1 + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": g})


def ours(data: pd.DataFrame, repeats: int) -> tuple[float, dict[str, Any]]:
    best = np.inf
    fit = None
    for _ in range(repeats):
        start = time.perf_counter()
        fit = fit_lmm(FORMULA, data)
        best = min(best, time.perf_counter() - start)
    assert fit is not None
    return best, {
        "estimate": fit.fixed["estimate"].to_numpy(),
        "se": fit.fixed["se"].to_numpy(),
        "sdcor": fit.random["sdcor"].to_numpy(),
        "converged": fit.converged,
    }


def statsmodels_fit(data: pd.DataFrame) -> tuple[float, dict[str, Any]] | None:
    try:
        import statsmodels.formula.api as smf
    except ImportError:
        return None
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.mixedlm("y ~ x1 + x2", data, groups=data["g"], re_formula="~x1")
        result = model.fit(reml=True, method=["lbfgs"])
    seconds = time.perf_counter() - start
    cov = np.asarray(result.cov_re)
    sds = np.sqrt(np.diag(cov))
    sdcor = np.array([sds[0], sds[1], cov[0, 1] / (sds[0] * sds[1]), np.sqrt(result.scale)])
    return seconds, {
        "estimate": np.asarray(result.fe_params),
        "se": np.asarray(result.bse_fe),
        "sdcor": sdcor,
        "converged": bool(result.converged),
    }


def lme4_fit(
    data: pd.DataFrame, workdir: Path, script_text: str = R_SCRIPT
) -> tuple[float, dict[str, Any]] | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    csv = workdir / "data.csv"
    data.to_csv(csv, index=False)
    script = workdir / "fit.R"
    script.write_text(script_text)
    proc = subprocess.run(
        [rscript, str(script), str(csv)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        print(f"  lme4 skipped: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    out = json.loads(proc.stdout)
    if isinstance(out["warnings"], str):  # jsonlite unboxes a single warning
        out["warnings"] = [out["warnings"]]
    return float(out["seconds"]), {
        "estimate": np.asarray(out["estimate"]),
        "se": np.asarray(out["se"]),
        "sdcor": np.asarray(out["sdcor"]),
        "converged": not out["warnings"],
        "warnings": out["warnings"],
        "criterion": float(out["criterion"]),
    }


def largest_differences(mine: dict[str, Any], peer: dict[str, Any]) -> str:
    parts = []
    for key in ("estimate", "se", "sdcor"):
        rel = np.max(np.abs(peer[key] - mine[key]) / np.maximum(np.abs(mine[key]), 1e-12))
        parts.append(f"{key} {rel:.1e}")
    return "max relative difference: " + ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="400,4000,40000", help="numbers of groups")
    parser.add_argument("--repeats", type=int, default=3, help="best of R runs (ours)")
    parser.add_argument("--no-r", action="store_true", help="skip lme4")
    parser.add_argument("--no-statsmodels", action="store_true", help="skip statsmodels")
    parser.add_argument(
        "--mediation", type=int, default=0, metavar="N", help="also the stacked model, N persons"
    )
    parser.add_argument(
        "--robustness", type=int, default=0, metavar="K", help="optimiser check, K datasets"
    )
    args = parser.parse_args()
    fit_lmm(FORMULA, simulate(50))  # warm up imports
    with tempfile.TemporaryDirectory() as tmp:
        if args.robustness:
            robustness(args.robustness, Path(tmp))
        if args.mediation:
            mediation(args.mediation, not args.no_r, Path(tmp))
        for groups in (int(s) for s in args.sizes.split(",") if s):
            data = simulate(groups)
            print(f"\n{len(data):,} rows, {groups:,} groups: {FORMULA} (REML)")
            mine_s, mine = ours(data, args.repeats)
            print(f"  attunement   {mine_s:8.3f} s  converged={mine['converged']}")
            if args.no_statsmodels:
                print("  statsmodels  skipped (--no-statsmodels)")
            elif len(data) > STATSMODELS_MAX_ROWS:
                print(
                    f"  statsmodels  skipped above {STATSMODELS_MAX_ROWS:,} rows "
                    "(it would take many minutes)"
                )
            else:
                sm = statsmodels_fit(data)
                if sm is None:
                    print("  statsmodels  not installed")
                else:
                    print(
                        f"  statsmodels  {sm[0]:8.3f} s  converged={sm[1]['converged']}  "
                        f"ratio {sm[0] / mine_s:7.1f}x  {largest_differences(mine, sm[1])}"
                    )
            if args.no_r:
                print("  lme4         skipped (--no-r)")
                continue
            r = lme4_fit(data, Path(tmp))
            if r is None:
                print("  lme4         skipped (no Rscript with lme4)")
                continue
            note = "" if r[1]["converged"] else f"  lme4 said: {'; '.join(r[1]['warnings'])[:160]}"
            print(
                f"  lme4         {r[0]:8.3f} s  ratio {r[0] / mine_s:7.1f}x  "
                f"{largest_differences(mine, r[1])}{note}"
            )


if __name__ == "__main__":
    main()
