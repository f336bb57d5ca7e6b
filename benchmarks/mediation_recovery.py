"""Which stacked 1-1-1 mediation model recovers known effects? A seeded simulation.

Data: ``PERSONS`` persons with 12-18 occasions each. X varies between persons (person means
N(4, 0.8^2)) and within (N(0, 1)). Between persons (on the observed mean of X, i.e. conditional
on the design, and on the *latent* person mean M^B of the mediator, Lüdtke et al. 2008):

    M^B_i = 3 + a_B (xbar_i - 4) + u_Mi,     Y^B_i = 2 + b_B (M^B_i - 3) + c'_B (xbar_i - 4) + u_Yi

with a_B = 0.3, b_B = 0.4, c'_B = 0.2, Var(u_M) = Var(u_Y) = 0.5. Within persons
(Bauer, Preacher & Gil 2006):

    M_ti = M^B_i + a_i xw_ti + e_M,     Y_ti = Y^B_i + b_i (M_ti - M^B_i) + c'_i xw_ti + e_Y

with a = 0.4, b = 0.5, c' = 0.15, Var(a_i) = Var(b_i) = 0.09, sigma_ab = 0.045,
Var(c'_i) = 0.03, residual SDs 0.6 (M) and 0.8 (Y). With the second argument ``observed``, Y
responds to M's deviation from its observed person mean, M_ti - mbar_i, instead. Indirect
effect ab + sigma_ab = 0.245; between-person indirect effect a_B b_B = 0.12, total c_B = 0.32.

Specifications compared (all stacked, varIdent residuals, REML, X and M person-mean centred):

- ``old``: the former default: person means of X and M in the outcome equation, all five random
  effects correlated (the between-person M -> Y effect is the fixed effect of mbar);
- ``a``: the new default, ``mediation_111`` itself: no mediator mean in the outcome equation,
  all random effects correlated, X's mean in both equations; between-person M -> Y effect =
  cov(d_M, d_Y) / var(d_M), the slope of the latent person means (its interval, and those of
  c'_B and a_B b_B, by Monte Carlo);
- ``c``: the old fixed part, but the mediator's random intercept uncorrelated with all others;
- ``b``: between-person effects from an OLS regression of person means (Zhang, Zyphur &
  Preacher 2009's between part), within-person effects as ``a``.

Printed: bias (mean estimate - truth), RMSE and coverage of the nominal 95 % intervals (Wald t
with Satterthwaite df for fixed effects; Wald normal from the observed information for
sigma_ab; Monte Carlo for the indirect effects), the share of fits with a Satterthwaite df
below 1 and the median smallest df.
Usage: ``python benchmarks/mediation_recovery.py [reps] [latent|observed]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

from attunement.analysis import process
from attunement.analysis.centring import person_mean_centre
from attunement.analysis.mixed import fit_lmm
from attunement.analysis.process import mediation_111

PERSONS = 300
TRUTH = {
    "a": 0.4,
    "b": 0.5,
    "c_prime": 0.15,
    "sigma_ab": 0.045,
    "indirect": 0.4 * 0.5 + 0.045,
    "a_between": 0.3,
    "b_between": 0.4,
    "c_prime_between": 0.2,
    "indirect_between": 0.12,
    "total_between": 0.32,
}
DRAWS = 4000


def simulate(rng: np.random.Generator, centre: str = "latent") -> pd.DataFrame:
    g = np.array([[0.09, 0.045, 0.0], [0.045, 0.09, 0.0], [0.0, 0.0, 0.03]])
    frames = []
    for i in range(PERSONS):
        k = int(rng.integers(12, 19))
        x = rng.normal(4, 0.8) + rng.normal(0, 1, k)
        xbar = x.mean()
        xw = x - xbar
        v = rng.multivariate_normal(np.zeros(3), g)
        m_b = 3 + 0.3 * (xbar - 4) + rng.normal(0, np.sqrt(0.5))
        y_b = 2 + 0.4 * (m_b - 3) + 0.2 * (xbar - 4) + rng.normal(0, np.sqrt(0.5))
        m = m_b + (0.4 + v[0]) * xw + rng.normal(0, 0.6, k)
        m_centre = m_b if centre == "latent" else m.mean()
        y = y_b + (0.5 + v[1]) * (m - m_centre) + (0.15 + v[2]) * xw + rng.normal(0, 0.8, k)
        frames.append(pd.DataFrame({"person": f"p{i:03d}", "x": x, "m": m, "y": y}))
    return pd.concat(frames, ignore_index=True)


SPECS = {
    "old": (
        ["s_m_x_between", "s_y_m_between", "s_y_x_between"],
        "(0 + s_m + s_y + a_path + b_path + c_path | person)",
        [["s_m", "s_y", "a_path", "b_path", "c_path"]],
    ),
    "a": (
        ["s_m_x_between", "s_y_x_between"],
        "(0 + s_m + s_y + a_path + b_path + c_path | person)",
        [["s_m", "s_y", "a_path", "b_path", "c_path"]],
    ),
    "c": (
        ["s_m_x_between", "s_y_m_between", "s_y_x_between"],
        "(0 + s_m | person) + (0 + s_y + a_path + b_path + c_path | person)",
        [["s_m"], ["s_y", "a_path", "b_path", "c_path"]],
    ),
}


def one_spec(
    name: str, data: pd.DataFrame, stacked: pd.DataFrame, rng: np.random.Generator
) -> dict[str, tuple[float, float, float]]:
    """estimate, ci_low, ci_high per quantity (NaN interval where none is computed)."""
    between, random_part, blocks = SPECS[name]
    fixed = ["s_m", "s_y", "a_path", "b_path", "c_path", *between]
    fit = fit_lmm(
        f"z ~ 0 + {' + '.join(fixed)} + {random_part}", stacked, residual_groups="equation"
    )
    table = fit.fixed.set_index("term")
    out: dict[str, tuple[float, float, float]] = {}

    def wald(term: str) -> tuple[float, float, float]:
        est, se, df = (float(table.loc[term, k]) for k in ("estimate", "se", "df"))
        crit = stats.t.ppf(0.975, df) if np.isfinite(df) and df > 0 else np.inf
        return est, est - crit * se, est + crit * se

    for quantity, term in (("a", "a_path"), ("b", "b_path"), ("c_prime", "c_path")):
        out[quantity] = wald(term)
    random = [n for block in blocks for n in block]
    g = fit.random_cov.loc[random, random]
    info = process._variance_parameter_covariance(stacked, fit, fixed, random, blocks=blocks)
    sab = float(g.loc["a_path", "b_path"])
    var_sab = float(info.loc["a_path|b_path", "a_path|b_path"])
    se_sab = np.sqrt(var_sab) if var_sab > 0 else np.nan
    out["sigma_ab"] = (sab, sab - 1.96 * se_sab, sab + 1.96 * se_sab)
    path = ["a_path", "b_path", "c_path"]
    mean = table.loc[path, "estimate"].to_numpy(float)
    draws = rng.multivariate_normal(mean, fit.vcov.loc[path, path].to_numpy(float), DRAWS)
    ind = draws[:, 0] * draws[:, 1] + rng.normal(sab, se_sab if se_sab > 0 else 0.0, DRAWS)
    out["indirect"] = (mean[0] * mean[1] + sab, *np.quantile(ind, [0.025, 0.975]))
    out["a_between"] = wald("s_m_x_between")
    if name == "a":
        tau_m, tau_my = float(g.loc["s_m", "s_m"]), float(g.loc["s_m", "s_y"])
        b_b = tau_my / tau_m
        c_b = float(table.loc["s_y_x_between", "estimate"])
        a_b = out["a_between"][0]
        nan = float("nan")
        out["b_between"] = (b_b, nan, nan)
        out["c_prime_between"] = (c_b - a_b * b_b, nan, nan)
        out["indirect_between"] = (a_b * b_b, nan, nan)
    else:
        out["b_between"] = wald("s_y_m_between")
        out["c_prime_between"] = wald("s_y_x_between")
        a_b, b_b = out["a_between"][0], out["b_between"][0]
        out["indirect_between"] = (a_b * b_b, float("nan"), float("nan"))
    out["_min_df"] = (float(fit.fixed["df"].min()), float("nan"), float("nan"))
    return out


def library(raw: pd.DataFrame, rng: np.random.Generator) -> dict[str, tuple[float, float, float]]:
    """Specification ``a`` as the library fits it (within and between-person paths)."""
    result = mediation_111(raw, x="x", m="m", y="y", draws=DRAWS, seed=int(rng.integers(2**31)))
    assert result.between_paths is not None
    out = {
        str(row.quantity): (float(row.estimate), float(row.ci_low), float(row.ci_high))
        for table in (result.paths, result.between_paths)
        for row in table.itertuples()
    }
    out["_min_df"] = (float(result.fit.fixed["df"].min()), float("nan"), float("nan"))
    return out


def person_means(data: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """Between-person effects from OLS on person means (x_between, m_between, y mean)."""
    means = data.groupby("person").agg(x=("x_between", "first"), m=("m", "mean"), y=("y", "mean"))
    out: dict[str, tuple[float, float, float]] = {}

    def ols(y: np.ndarray, cols: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
        x = np.column_stack([np.ones(len(y)), *cols])
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ beta
        dof = len(y) - x.shape[1]
        cov = resid @ resid / dof * np.linalg.inv(x.T @ x)
        return beta, np.sqrt(np.diag(cov)), dof

    x, m, y = (means[c].to_numpy(float) for c in ("x", "m", "y"))
    beta, se, dof = ols(m, [x])
    crit = stats.t.ppf(0.975, dof)
    out["a_between"] = (beta[1], beta[1] - crit * se[1], beta[1] + crit * se[1])
    beta, se, dof = ols(y, [m, x])
    out["b_between"] = (beta[1], beta[1] - crit * se[1], beta[1] + crit * se[1])
    out["c_prime_between"] = (beta[2], beta[2] - crit * se[2], beta[2] + crit * se[2])
    out["indirect_between"] = (out["a_between"][0] * beta[1], float("nan"), float("nan"))
    return out


def main(reps: int, centre: str) -> None:
    rng = np.random.default_rng(20261122)
    results: dict[str, list[dict[str, tuple[float, float, float]]]] = {
        k: [] for k in ("old", "a", "c", "b")
    }
    low_df = dict.fromkeys(("old", "a", "c"), 0)
    seconds = dict.fromkeys(("old", "a", "c"), 0.0)
    for _ in range(reps):
        raw = simulate(rng, centre)
        data = person_mean_centre(raw, "person", ["x", "m"])
        stacked = process._stack(data, between=True)
        for name in ("old", "a", "c"):
            start = time.perf_counter()
            res = library(raw, rng) if name == "a" else one_spec(name, data, stacked, rng)
            seconds[name] += time.perf_counter() - start
            results[name].append(res)
            low_df[name] += res["_min_df"][0] < 1
        results["b"].append(person_means(data))
    print(
        f"{reps} replications, {PERSONS} persons x 12-18 occasions, Y responds to M's deviation "
        f"from its {centre} person mean; truth in brackets"
    )
    header = f"{'quantity':<24}{'spec':>5}{'mean':>9}{'bias':>9}{'rmse':>8}{'cover':>7}"
    print(header)
    for quantity, truth in TRUTH.items():
        for name, rows in results.items():
            if quantity not in rows[0]:
                continue
            est = np.array([r[quantity][0] for r in rows])
            lo = np.array([r[quantity][1] for r in rows])
            hi = np.array([r[quantity][2] for r in rows])
            cover = np.mean((lo <= truth) & (truth <= hi)) if np.isfinite(lo).all() else np.nan
            cover_text = f"{cover:7.2f}" if np.isfinite(cover) else f"{'-':>7}"
            print(
                f"{quantity + f' [{truth:g}]':<24}{name:>5}{est.mean():9.4f}"
                f"{est.mean() - truth:9.4f}{np.sqrt(np.mean((est - truth) ** 2)):8.4f}" + cover_text
            )
    for name in ("old", "a", "c"):
        dfs = np.array([r["_min_df"][0] for r in results[name]])
        print(
            f"{name}: fits with a Satterthwaite df < 1: {low_df[name]}/{reps}; median smallest "
            f"df {np.median(dfs):.2f}; {seconds[name] / reps:.2f} s per fit and interval"
        )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 30,
        sys.argv[2] if len(sys.argv) > 2 else "latent",
    )
