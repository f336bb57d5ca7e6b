"""The interpersonal process model of intimacy and its 1-1-1 multilevel mediation.

**The intimacy model** (Reis & Shaver, 1988; Laurenceau, Barrett & Pietromonaco, 1998, *JPSP*
74, 1238-1251). In an event-contingent or daily diary, the intimacy a person feels after an
interaction t is predicted by their own emotional and factual self-disclosure and by their
partner's disclosure, each split into within- and between-person parts
(:func:`~attunement.analysis.centring.person_mean_centre`):

    intimacy_ti = g0 + g1 emotional_within + g2 emotional_between + g3 factual_within
                  + g4 factual_between + g5 partner_within + g6 partner_between
                  + u0_i + u1_i emotional_within + u3_i factual_within + u5_i partner_within + e_ti

with person-level random intercept and slopes (``random="slopes"``, the default; correlated, as
in lme4's ``(1 + ... | person)``) or a random intercept only (``random="intercept"``). The paper
reports (abstract [V]) that intimacy reflected self- and partner disclosure at the level of the
interaction and that emotional disclosure predicted intimacy more strongly than factual; the
analysis details and coefficients are not verified here [U]. :func:`process_model` also tests
the within-person difference g1 - g3 (emotional minus factual).

**1-1-1 mediation** (Bauer, Preacher & Gil, 2006, *Psychological Methods* 11, 142-163): does
disclosure X bring people closer (Y, intimacy) *because* they feel understood (M, perceived
partner responsiveness)? Within persons,

    M_ti = d_Mi + a_i X_ti + e_Mti,      Y_ti = d_Yi + b_i M_ti + c'_i X_ti + e_Yti,

with random intercepts d_Mi, d_Yi and random slopes a_i, b_i (and c'_i unless
``random_c_prime=False``), all correlated. Following Bauer et al., M and Y are stacked into one
response z with indicators s_M and s_Y, and one mixed model is fitted,

    z ~ 0 + s_M + s_Y + s_M:X + s_Y:M + s_Y:X [+ between parts]
        + (0 + s_M + s_Y + s_M:X + s_Y:M [+ s_Y:X] | person),

with separate residual variances for the M and Y rows (``residual_groups``, nlme's
``varIdent``), so that the covariance sigma_ab of a_i and b_i is estimated. X and M enter as
person-mean-centred (within) parts, so a, b and c' are pure within-person effects (Zhang, Zyphur
& Preacher, 2009, *Organizational Research Methods* 12, 695-719; Bauer's note on centring in
1-1-1 models). With ``between=True`` (default) X's person mean enters both equations
(``s_m_x_between``, ``s_y_x_between``).

**The mediator's person mean is not in the outcome equation.** With M person-mean centred, the
mediator's random intercept d_Mi is M's (latent) person mean, and the between-person association
of M and Y is carried by cov(d_M, d_Y). Adding the observed mean of M as a fixed effect in the
outcome equation describes that association twice: with T occasions the person means give
Var(mbar) = tau_M + sigma_M^2/T and Cov(ybar, mbar) = beta Var(mbar) + tau_MY, so beta and
tau_MY are separable only through differences in T between persons. In the former default
(mean in, intercepts correlated) the REML Hessian had one eigenvalue of 0.12 against 158-43,000,
Satterthwaite df below 1 and between-person estimates that moved from -0.07 to 0.55 with the
random-effect structure; ``benchmarks/mediation_recovery.py`` shows the within-person paths are
unaffected by leaving it out, and that the between-person M -> Y slope is then recovered, as
the slope of the latent person means, by cov(d_M, d_Y) / var(d_M) (Lüdtke et al. 2008's latent
covariate; the MSEM view of Preacher, Zyphur & Zhang 2010), up to an O(1/T) bias of about
b sigma_M^2 / (T tau_M) when Y responds to M's deviation from its latent rather than its
observed person mean (numbers in docs/analysis.md).

The **average indirect effect** is E(a_i b_i) = a b + sigma_ab (Kenny, Korchmaros & Bolger,
2003); the **total effect** c = c' + a b + sigma_ab; the **proportion mediated** is
(a b + sigma_ab) / c, meaningful only when c is clearly away from zero.

The **Monte Carlo confidence interval** (Selig & Preacher, 2008; Preacher & Selig, 2012) draws
(a, b, c') from the normal distribution with the estimates and their estimated covariance (the
fixed-effect covariance of the fit) and, independently, sigma_ab from a normal with its estimate
and asymptotic variance, then takes percentiles of a b + sigma_ab (and of the total effect and
proportion). Fixed effects and variance parameters are asymptotically independent in linear
mixed models, so drawing them independently is the large-sample distribution. The mixed-model
engine does not report the covariance of its variance parameters, so the variance of sigma_ab is
computed here from the **expected (Fisher) information** of the REML (or ML) likelihood in the
variance parameters at the estimates, I_jk = 1/2 tr(P dV/dpsi_j P dV/dpsi_k) with P the REML
projection (V^-1 for ML) (Searle, Casella & McCulloch, 1992, ch. 6). R's ``nlme`` uses the
observed information (a numerical Hessian) instead; the two agree asymptotically and, on the
reference data, to a few per cent (see the tests). The reported ``se`` of the indirect effect is
the standard deviation of its Monte Carlo draws. Draws come from a seeded NumPy generator, so a
seed reproduces the interval exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from attunement.analysis._input import complete_rows, require_columns, require_numeric
from attunement.analysis.centring import person_mean_centre
from attunement.analysis.mixed import LmmResult, fit_lmm
from attunement.errors import InvalidInputError, Problem

__all__ = [
    "MediationResult",
    "ProcessResult",
    "mediation_111",
    "process_model",
]

_Array = np.ndarray


# --------------------------------------------------------------------------- intimacy model


@dataclass(frozen=True)
class ProcessResult:
    """The intimacy model fitted to a diary.

    ``effects``: one row per fixed effect (``term``, ``estimate``, ``se``, ``df``, ``t``,
    ``p_val``, ``ci_low``, ``ci_high``); terms are ``(Intercept)``, ``emotional_within``,
    ``emotional_between``, ``factual_within``, ``factual_between``, ``partner_within``,
    ``partner_between`` (predictors left out are absent). ``emotional_vs_factual``: the
    within-person difference g1 - g3 with ``estimate``, ``se``, ``df``, ``t``, ``p_val``,
    ``ci_low``, ``ci_high``. ``fit``: the full mixed model (variance components, diagnostics).
    """

    effects: pd.DataFrame
    emotional_vs_factual: dict[str, float] | None
    fit: LmmResult
    n_persons: int
    n_obs: int
    n_dropped: int
    messages: tuple[str, ...]
    columns: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "intimacy_process",
            "effects": {
                str(row.term): {k: _num(getattr(row, k)) for k in _STAT_KEYS}
                for row in self.effects.itertuples()
            },
            "emotional_vs_factual": None
            if self.emotional_vs_factual is None
            else {k: _num(v) for k, v in self.emotional_vs_factual.items()},
            "random": self.fit.to_dict()["random"],
            "formula": self.fit.formula,
            "columns": self.columns,
            "n_persons": self.n_persons,
            "n_obs": self.n_obs,
            "n_dropped": self.n_dropped,
            "converged": self.fit.converged,
            "singular": self.fit.singular,
            "messages": list(self.messages),
        }


_STAT_KEYS = ("estimate", "se", "df", "t", "p_val", "ci_low", "ci_high")


def process_model(
    frame: pd.DataFrame,
    *,
    person: str = "person",
    intimacy: str = "intimacy",
    emotional: str | None = "emotional_disclosure",
    factual: str | None = "factual_disclosure",
    partner: str | None = "partner_disclosure",
    random: Literal["slopes", "intercept"] = "slopes",
    reml: bool = True,
    confidence: float = 0.95,
) -> ProcessResult:
    """Fit the intimacy model of Laurenceau, Barrett & Pietromonaco (1998) to a long diary.

    ``frame`` has one row per person and interaction (or day). Give ``None`` for a predictor the
    diary lacks (at least one is needed). Rows with a missing value in a model column are left
    out (listwise; counted in ``n_dropped`` and ``messages``).
    """
    if random not in ("slopes", "intercept"):
        raise InvalidInputError(f"random must be 'slopes' or 'intercept', not {random!r}.")
    _check_confidence(confidence)
    predictors = {
        name: column
        for name, column in (("emotional", emotional), ("factual", factual), ("partner", partner))
        if column
    }
    if not predictors:
        raise InvalidInputError("Name at least one disclosure column for the intimacy model.")
    columns = {"person": person, "intimacy": intimacy, **predictors}
    data, n_dropped, messages = _prepare(frame, columns, what="intimacy model")
    data = person_mean_centre(data, "person", list(predictors))
    within = [f"{p}_within" for p in predictors]
    fixed = [term for p in predictors for term in (f"{p}_within", f"{p}_between")]
    random_part = " + ".join(["1", *within]) if random == "slopes" else "1"
    formula = f"intimacy ~ {' + '.join(fixed)} + ({random_part} | person)"
    fit = _fit(formula, data, reml=reml)
    messages.extend(fit.messages)
    effects = _with_ci(fit.fixed, confidence)
    contrast = None
    if "emotional" in predictors and "factual" in predictors:
        contrast = _contrast(fit, "emotional_within", "factual_within", confidence)
    return ProcessResult(
        effects=effects,
        emotional_vs_factual=contrast,
        fit=fit,
        n_persons=fit.n_groups,
        n_obs=fit.n_obs,
        n_dropped=n_dropped,
        messages=tuple(messages),
        columns=dict(columns),
    )


# --------------------------------------------------------------------------- mediation


@dataclass(frozen=True)
class MediationResult:
    """A 1-1-1 mediation: paths, indirect and total effect, proportion mediated.

    ``paths``: one row per quantity (``a``, ``b``, ``c_prime``, ``sigma_ab``, ``indirect``,
    ``total``, ``proportion_mediated``) with ``estimate``, ``se`` (NaN where not defined),
    ``ci_low``, ``ci_high`` and ``ci_method`` (``"wald"`` for a, b and c' from the t
    distribution with Satterthwaite df; ``"wald-normal"`` for sigma_ab; ``"monte-carlo"`` for
    the rest). ``fit``: the stacked mixed model.

    ``between_paths`` (``between=True``; else ``None``): the between-person decomposition, same
    columns, quantities ``a_between`` (X's person mean -> M's), ``b_between`` (M's latent person
    mean -> Y's, holding X's mean: cov(d_M, d_Y) / var(d_M)), ``c_prime_between``,
    ``indirect_between`` (a_between * b_between) and ``total_between`` (X's person mean -> Y's).
    """

    paths: pd.DataFrame
    fit: LmmResult
    random_cov: pd.DataFrame
    n_persons: int
    n_obs: int
    n_dropped: int
    draws: int
    seed: int | None
    confidence: float
    messages: tuple[str, ...]
    columns: dict[str, str]
    between_paths: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _paths_dict(self.paths)
        out.update(
            {
                "between": None if self.between_paths is None else _paths_dict(self.between_paths),
                "model": "mediation_111",
                "confidence": self.confidence,
                "draws": self.draws,
                "seed": self.seed,
                "columns": self.columns,
                "formula": self.fit.formula,
                "random": self.fit.to_dict()["random"],
                "residual_sd": {k: _num(v) for k, v in self.fit.residual_sd.items()},
                "n_persons": self.n_persons,
                "n_obs": self.n_obs,
                "n_dropped": self.n_dropped,
                "converged": self.fit.converged,
                "singular": self.fit.singular,
                "messages": list(self.messages),
            }
        )
        return out


def _paths_dict(paths: pd.DataFrame) -> dict[str, Any]:
    return {
        str(row.quantity): {
            "estimate": _num(row.estimate),
            "se": _num(row.se),
            "ci_low": _num(row.ci_low),
            "ci_high": _num(row.ci_high),
            "ci_method": str(row.ci_method),
        }
        for row in paths.itertuples()
    }


def mediation_111(
    frame: pd.DataFrame,
    *,
    person: str = "person",
    x: str = "emotional_disclosure",
    m: str = "responsiveness",
    y: str = "intimacy",
    random_c_prime: bool = True,
    between: bool = True,
    reml: bool = True,
    confidence: float = 0.95,
    draws: int = 20_000,
    seed: int | None = 0,
) -> MediationResult:
    """Fit the stacked 1-1-1 mediation model of Bauer, Preacher & Gil (2006).

    One row per person and occasion with the predictor ``x`` (e.g. emotional disclosure), the
    mediator ``m`` (perceived partner responsiveness) and the outcome ``y`` (intimacy). Rows
    missing any of them are left out (listwise; counted). ``seed`` seeds the Monte Carlo draws.

    ``between=True`` adds X's person mean to both equations and returns the between-person
    decomposition in ``between_paths``; ``between=False`` leaves person means out (the random
    intercepts absorb all between-person differences) and reports within-person paths only.
    The mediator's observed person mean is never a predictor of the outcome (not identified
    beside the correlated random intercepts; see the module docstring).
    """
    _check_confidence(confidence)
    if draws < 1000:
        raise InvalidInputError(f"Use at least 1000 Monte Carlo draws, not {draws}.")
    columns = {"person": person, "x": x, "m": m, "y": y}
    if len({x, m, y}) < 3:
        raise InvalidInputError("x, m and y must be three different columns.")
    data, n_dropped, messages = _prepare(frame, columns, what="1-1-1 mediation")
    data = person_mean_centre(data, "person", ["x", "m"])
    stacked = _stack(data, between=between)
    fixed_terms, random_terms = _mediation_terms(between=between, random_c_prime=random_c_prime)
    formula = f"z ~ 0 + {' + '.join(fixed_terms)} + (0 + {' + '.join(random_terms)} | person)"
    fit = _fit(formula, stacked, reml=reml, residual_groups="equation")
    messages.extend(fit.messages)
    estimates = _fixed_lookup(fit)
    path_terms = ["a_path", "b_path", "c_path"]
    vcov = _submatrix(fit.vcov, path_terms)
    g = fit.random_cov
    sigma_ab = float(_submatrix(g, ["a_path", "b_path"])[0, 1])
    info_cov = _variance_parameter_covariance(stacked, fit, fixed_terms, random_terms)
    var_sigma_ab = float(_submatrix(info_cov, ["a_path|b_path"])[0, 0])
    if not np.isfinite(var_sigma_ab) or var_sigma_ab <= 0:
        messages.append(
            "The sampling variance of the a-b slope covariance could not be estimated (the "
            "information matrix is not positive definite, as in singular fits); the Monte "
            "Carlo interval treats that covariance as known, so it is too narrow."
        )
        var_sigma_ab = 0.0
    mean = np.array([estimates[t]["estimate"] for t in path_terms])
    rng = np.random.default_rng(seed)
    sample = rng.multivariate_normal(mean, vcov, size=draws, method="cholesky")
    cov_draws = rng.normal(sigma_ab, np.sqrt(var_sigma_ab), size=draws)
    indirect_draws = sample[:, 0] * sample[:, 1] + cov_draws
    total_draws = indirect_draws + sample[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        proportion_draws = indirect_draws / total_draws
    a, b, c_prime = mean
    indirect = a * b + sigma_ab
    total = indirect + c_prime
    tail = (1 - confidence) / 2
    z = stats.norm.ppf(1 - tail)

    def mc(values: _Array) -> tuple[float, float]:
        low, high = np.quantile(values, [tail, 1 - tail])
        return float(low), float(high)

    rows = []
    for quantity, term in (("a", "a_path"), ("b", "b_path"), ("c_prime", "c_path")):
        row = estimates[term]
        crit = float(stats.t.ppf(1 - tail, row["df"]))
        est, se = row["estimate"], row["se"]
        rows.append(_path_row(quantity, est, se, est - crit * se, est + crit * se, "wald"))
    se_sigma_ab = float(np.sqrt(var_sigma_ab)) if var_sigma_ab > 0 else float("nan")
    rows.append(
        _path_row(
            "sigma_ab",
            sigma_ab,
            se_sigma_ab,
            sigma_ab - z * se_sigma_ab,
            sigma_ab + z * se_sigma_ab,
            "wald-normal",
        )
    )
    rows.append(
        _path_row("indirect", indirect, float(np.std(indirect_draws, ddof=1)), *mc(indirect_draws))
    )
    rows.append(_path_row("total", total, float(np.std(total_draws, ddof=1)), *mc(total_draws)))
    low_t, high_t = mc(total_draws)
    proportion = indirect / total if total != 0 else float("nan")
    rows.append(_path_row("proportion_mediated", proportion, float("nan"), *mc(proportion_draws)))
    if low_t <= 0 <= high_t:
        messages.append(
            "The total effect's interval includes zero, so the proportion mediated is "
            "unstable and hard to interpret."
        )
    between_paths = None
    if between:
        occasions = float(data.groupby("person").size().median())
        between_paths = _between_paths(
            fit, info_cov, rng, draws, confidence, messages, occasions=occasions
        )
    return MediationResult(
        paths=pd.DataFrame(rows),
        fit=fit,
        random_cov=g,
        n_persons=fit.n_groups,
        n_obs=len(data),
        n_dropped=n_dropped,
        draws=draws,
        seed=seed,
        confidence=confidence,
        messages=tuple(messages),
        columns=dict(columns),
        between_paths=between_paths,
    )


def _between_paths(
    fit: LmmResult,
    info_cov: pd.DataFrame,
    rng: np.random.Generator,
    draws: int,
    confidence: float,
    messages: list[str],
    *,
    occasions: float,
) -> pd.DataFrame:
    """The between-person paths from X's person mean and the random intercepts.

    d_M and d_Y are the person's latent means of M and Y net of X's person mean, so the
    between-person M -> Y slope holding X's mean is b_B = cov(d_M, d_Y) / var(d_M) (the
    latent-covariate slope, free of the unreliability of observed person means; Lüdtke et al.
    2008). a_B and the total c_B are the fixed effects of X's mean; c'_B = c_B - a_B b_B. Monte
    Carlo: (a_B, c_B) from their estimated covariance and, independently, (var d_M, cov) from
    the inverse observed information, as for the within-person indirect effect.
    """
    tail = (1 - confidence) / 2
    fixed = _fixed_lookup(fit)
    terms = ["s_m_x_between", "s_y_x_between"]
    mean = np.array([fixed[t]["estimate"] for t in terms])
    sample = rng.multivariate_normal(mean, _submatrix(fit.vcov, terms), size=draws)
    g = _submatrix(fit.random_cov, ["s_m", "s_y"])
    tau_m, tau_my = float(g[0, 0]), float(g[0, 1])
    cov_g = _submatrix(info_cov, ["s_m|s_m", "s_m|s_y"])
    nan = float("nan")
    if tau_m < 1e-8 or not np.all(np.isfinite(cov_g)) or np.linalg.eigvalsh(cov_g)[0] <= 0:
        messages.append(
            "The mediator's person means hardly vary beyond what X's person mean explains (or "
            "their variance is not estimable), so the between-person mediator -> outcome path "
            "is not reported."
        )
        b_b, g_draws = nan, np.full((draws, 2), nan)
    else:
        b_b = tau_my / tau_m
        g_draws = rng.multivariate_normal([tau_m, tau_my], cov_g, size=draws)
        # reliability of an observed person mean of M: tau_M / (tau_M + sigma_M^2 / T)
        reliability = tau_m / (tau_m + fit.residual_sd["mediator"] ** 2 / occasions)
        if reliability < 0.9:
            messages.append(
                f"With a median of {occasions:g} occasions per person, a person's average "
                f"mediator is measured with a reliability of only about {reliability:.2f}, so "
                "the between-person paths may be off by roughly "
                f"{100 * (1 - reliability) / reliability:.0f} % (bias of order 1/occasions; "
                "see docs/analysis.md). The within-person paths are not affected."
            )
    with np.errstate(divide="ignore", invalid="ignore"):
        b_draws = np.where(g_draws[:, 0] > 0, g_draws[:, 1] / g_draws[:, 0], nan)
    if np.isfinite(b_b) and np.isnan(b_draws).mean() > 0.01:
        messages.append(
            "The variance of the mediator's person means is not clearly above zero, so the "
            "between-person mediator -> outcome slope (a ratio with that variance below) has "
            "no usable interval and none is reported."
        )
    a_b, c_b = mean
    indirect_draws = sample[:, 0] * b_draws
    direct_draws = sample[:, 1] - indirect_draws

    def mc(estimate: float, values: _Array, quantity: str) -> dict[str, Any]:
        if not np.isfinite(estimate) or np.isnan(values).mean() > 0.01:
            return _path_row(quantity, estimate, nan, nan, nan)
        low, high = np.nanquantile(values, [tail, 1 - tail])
        return _path_row(quantity, estimate, float(np.nanstd(values, ddof=1)), low, high)

    rows = []
    for quantity, term in (("a_between", terms[0]), ("total_between", terms[1])):
        row = fixed[term]
        crit = float(stats.t.ppf(1 - tail, row["df"]))
        est, se = row["estimate"], row["se"]
        rows.append(_path_row(quantity, est, se, est - crit * se, est + crit * se, "wald"))
    rows.insert(1, mc(b_b, b_draws, "b_between"))
    rows.insert(2, mc(c_b - a_b * b_b, direct_draws, "c_prime_between"))
    rows.insert(3, mc(a_b * b_b, indirect_draws, "indirect_between"))
    return pd.DataFrame(rows)


def _mediation_terms(*, between: bool, random_c_prime: bool) -> tuple[list[str], list[str]]:
    """Fixed and random terms of the stacked model.

    The outcome equation never holds the mediator's person mean: with the person-mean-centred
    mediator, the mediator's random intercept d_M *is* its (latent) person mean, so a fixed
    effect of the observed mean beside a free cov(d_M, d_Y) describes the between-person
    association of M and Y twice and is not identified (see the module docstring).
    """
    fixed = ["s_m", "s_y", "a_path", "b_path", "c_path"]
    if between:
        fixed += ["s_m_x_between", "s_y_x_between"]
    random = ["s_m", "s_y", "a_path", "b_path"] + (["c_path"] if random_c_prime else [])
    return fixed, random


def _path_row(
    quantity: str, estimate: float, se: float, low: float, high: float, method: str = ""
) -> dict[str, Any]:
    return {
        "quantity": quantity,
        "estimate": estimate,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "ci_method": method or "monte-carlo",
    }


def _stack(data: pd.DataFrame, *, between: bool) -> pd.DataFrame:
    """Two rows per occasion: the mediator row (z = m) and the outcome row (z = y)."""
    n = len(data)
    s_m = np.r_[np.ones(n), np.zeros(n)]
    s_y = 1 - s_m
    x_w = np.tile(data["x_within"].to_numpy(float), 2)
    m_w = np.tile(data["m_within"].to_numpy(float), 2)
    stacked = pd.DataFrame(
        {
            "person": np.tile(data["person"].to_numpy(), 2),
            "equation": np.r_[np.full(n, "mediator"), np.full(n, "outcome")],
            "z": np.r_[data["m"].to_numpy(float), data["y"].to_numpy(float)],
            "s_m": s_m,
            "s_y": s_y,
            "a_path": s_m * x_w,
            "b_path": s_y * m_w,
            "c_path": s_y * x_w,
        }
    )
    if between:
        x_b = np.tile(data["x_between"].to_numpy(float), 2)
        m_b = np.tile(data["m_between"].to_numpy(float), 2)
        stacked["s_m_x_between"] = s_m * x_b
        stacked["s_y_m_between"] = s_y * m_b
        stacked["s_y_x_between"] = s_y * x_b
    return stacked


def _variance_parameter_covariance(
    stacked: pd.DataFrame,
    fit: LmmResult,
    fixed: list[str],
    random: list[str],
    *,
    information: Literal["observed", "expected"] = "observed",
    blocks: list[list[str]] | None = None,
) -> pd.DataFrame:
    """Inverse information of the variance parameters (G elements, residual variances).

    Parameters psi: the elements G_jk (j <= k) of the random-effect covariance matrix, named
    ``"j|k"``, then the residual variance of each equation, ``"residual|<level>"``. V is linear
    in psi, with dV/dpsi_a = D_a. With W_i = V_i^-1, C = (sum X_i'W_i X_i)^-1 and P the REML
    projection (W - W X C X' W; W itself for ML):

        expected  I_ab = 1/2 tr(P D_a P D_b)
        observed  J_ab = y'P D_a P D_b P y - 1/2 tr(P D_a P D_b)

    (the Hessian of the restricted, or beta-profiled ML, log-likelihood; second derivatives of
    V vanish). P y = W r with r the GLS residuals. The trace splits over persons as
    sum_i tr(W_i D_a W_i D_b) - 2 tr(C T_ab) + tr(C S_a C S_b) with S_a = sum X_i'W_i D_a W_i X_i
    and T_ab = sum X_i'W_i D_a W_i D_b W_i X_i (the last two terms only for REML).

    ``blocks``: independent blocks of random effects (covariances across blocks are fixed at
    zero and are not parameters); by default one block of all of ``random``.
    """
    g = _submatrix(fit.random_cov, random)
    q = len(random)
    block_of = {name: b for b, names in enumerate(blocks or [random]) for name in names}
    pairs = [
        (j, k) for j in range(q) for k in range(j, q) if block_of[random[j]] == block_of[random[k]]
    ]
    levels = list(fit.residual_sd)
    names = [f"{random[j]}|{random[k]}" for j, k in pairs] + [f"residual|{lv}" for lv in levels]
    n_par = len(names)
    p = len(fixed)
    trace_ww = np.zeros((n_par, n_par))
    xtwx = np.zeros((p, p))
    s_sum = np.zeros((n_par, p, p))
    t_sum = np.zeros((n_par * p, n_par * p))
    uwu = np.zeros((n_par, n_par))
    xwu = np.zeros((p, n_par))
    level_codes = stacked["equation"].map({lv: i for i, lv in enumerate(levels)}).to_numpy()
    residual_var = np.array([fit.residual_sd[lv] ** 2 for lv in levels])
    x_all = stacked[fixed].to_numpy(float)
    z_all = stacked[random].to_numpy(float)
    beta = np.array([_fixed_lookup(fit)[t]["estimate"] for t in fixed])
    resid_all = stacked["z"].to_numpy(float) - x_all @ beta
    n_g = len(pairs)
    basis = np.zeros((n_g, q, q))  # E_a: dG / dpsi_a
    for a, (j, k) in enumerate(pairs):
        basis[a, j, k] = basis[a, k, j] = 1.0
    n_s = len(levels)
    # Persons with the same number of rows are handled together; every term is reduced to
    # q x q, q x p and p x p blocks (D_a = Z E_a Z' for the G elements, diag(e_s) for the
    # residual variances), so nothing of size (parameters x n x n) is ever formed.
    by_size: dict[int, list[_Array]] = {}
    for index in stacked.groupby("person", sort=False).indices.values():
        by_size.setdefault(len(index), []).append(np.asarray(index))
    for n_i, members in by_size.items():
        step = max(1, int(4e6 // (n_i * n_i)))
        for first in range(0, len(members), step):
            rows = np.stack(members[first : first + step])
            x_b, z_b = x_all[rows], z_all[rows]
            ind = (level_codes[rows][:, :, None] == np.arange(n_s)).astype(float)  # (B, n, S)
            v = z_b @ g @ z_b.transpose(0, 2, 1)
            v += np.einsum("brs,s,rc->brc", ind, residual_var, np.eye(n_i))
            w = np.linalg.inv(v)
            wz, wx = w @ z_b, w @ x_b
            wr = np.einsum("brc,bc->br", w, resid_all[rows])
            m = z_b.transpose(0, 2, 1) @ wz  # Z'WZ (B, q, q)
            qm = z_b.transpose(0, 2, 1) @ wx  # Z'WX (B, q, p)
            zr = np.einsum("bri,br->bi", z_b, wr)
            y_g = np.einsum("aij,bj->bai", basis, zr)  # E_a Z'W r
            me = np.einsum("bij,ajk->baik", m, basis)
            n_mat = np.einsum("bri,brs,brj->bsij", wz, ind, wz)
            h = np.einsum("bri,brs,br->bsi", wz, ind, wr)
            sr = ind * wr[:, :, None]  # e_s * W r: (B, n, S)
            # tr(W D_a W D_b)
            trace_ww[:n_g, :n_g] += np.einsum("baik,bcki->ac", me, me)
            gs = np.einsum("aij,bsji->as", basis, n_mat)
            trace_ww[:n_g, n_g:] += gs
            trace_ww[n_g:, :n_g] += gs.T
            ind_t = ind.transpose(0, 2, 1)
            trace_ww[n_g:, n_g:] += (ind_t @ (w * w) @ ind).sum(axis=0)
            # u_a' W u_b with u_a = D_a W r
            uwu[:n_g, :n_g] += np.einsum("bai,bij,bcj->ac", y_g, m, y_g)
            gs = np.einsum("bai,bsi->as", y_g, h)
            uwu[:n_g, n_g:] += gs
            uwu[n_g:, :n_g] += gs.T
            uwu[n_g:, n_g:] += (sr.transpose(0, 2, 1) @ w @ sr).sum(axis=0)
            # X'W u_a and X'W X
            xwu[:, :n_g] += np.einsum("bip,bai->pa", qm, y_g)
            xwu[:, n_g:] += np.einsum("brp,brs->ps", wx, sr)
            xtwx += np.einsum("brp,brq->pq", x_b, wx)
            if fit.reml:
                p_s = np.einsum("bri,brs,brp->bsip", wz, ind, wx)
                qe = np.einsum("bip,aij->bapj", qm, basis)  # Q'E_a
                eq = np.einsum("aij,bjp->baip", basis, qm)  # E_a Q
                s_sum[:n_g] += np.einsum("bapj,bjq->apq", qe, qm)
                s_sum[n_g:] += np.einsum("brp,brs,brq->spq", wx, ind, wx)
                t4 = t_sum.reshape(n_par, p, n_par, p)
                batch = len(rows)
                qem = (qe @ m[:, None]).reshape(batch, n_g * p, q)  # Q'E_a M
                eq_flat = eq.transpose(0, 2, 1, 3).reshape(batch, q, n_g * p)  # E_c Q
                t4[:n_g, :, :n_g, :] += (qem @ eq_flat).sum(axis=0).reshape(n_g, p, n_g, p)
                t4[:n_g, :, n_g:, :] += np.einsum("bapj,bsjq->apsq", qe, p_s)
                t4[n_g:, :, :n_g, :] += np.einsum("bsjp,bcjq->spcq", p_s, eq)
                # (WX)' diag(e_s) W diag(e_t) WX through two batched matrix products
                wx_s = np.einsum("brs,brp->bsrp", ind, wx).reshape(len(rows), n_s, n_i, p)
                w_wx_t = w[:, None] @ wx_s  # W diag(e_t) WX: (B, S, n, p)
                left_s = wx_s.transpose(0, 1, 3, 2).reshape(len(rows), n_s * p, n_i)
                right_t = w_wx_t.transpose(0, 2, 1, 3).reshape(len(rows), n_i, n_s * p)
                t4[n_g:, :, n_g:, :] += (left_s @ right_t).sum(axis=0).reshape(n_s, p, n_s, p)
    c = np.linalg.inv(xtwx)
    quadratic = uwu - xwu.T @ c @ xwu  # y'P D_a P D_b P y, for REML and profiled ML alike
    trace = trace_ww
    if fit.reml:
        t4 = t_sum.reshape(n_par, p, n_par, p)
        trace = trace_ww - 2 * np.einsum("qp,apbq->ab", c, t4)
        cs = np.einsum("pq,aqr->apr", c, s_sum)
        trace += np.einsum("apq,bqp->ab", cs, cs)
    info = 0.5 * trace if information == "expected" else quadratic - 0.5 * trace
    info = (info + info.T) / 2
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.full_like(info, np.nan)
    return pd.DataFrame(cov, index=names, columns=names)


# --------------------------------------------------------------------------- shared steps


def _prepare(
    frame: pd.DataFrame, columns: Mapping[str, str], *, what: str
) -> tuple[pd.DataFrame, int, list[str]]:
    """Rename to internal names, check numbers, drop incomplete rows, check persons."""
    require_columns(frame, list(columns.values()), what=what)
    reverse = {v: k for k, v in columns.items()}
    if len(reverse) < len(columns):
        raise InvalidInputError(f"The {what} needs a different column for each role.")
    numeric = [c for k, c in columns.items() if k != "person"]
    data = require_numeric(frame, numeric)[list(columns.values())].rename(columns=reverse)
    prepared = complete_rows(data, list(columns))
    messages = [m for m in [prepared.message()] if m]
    data = prepared.frame
    if data.empty:
        raise InvalidInputError(f"No complete rows for the {what}: every row misses a value.")
    counts = data.groupby("person", sort=False).size()
    singles = int((counts < 2).sum())
    if singles == len(counts):
        raise InvalidInputError(
            f"Every person has a single complete observation, so the {what} cannot separate "
            "within- from between-person effects.",
            hint="A diary needs several occasions per person.",
        )
    if singles:
        messages.append(
            f"{singles} person(s) have a single complete observation: they inform the "
            "between-person effects only."
        )
    constant = [
        columns[k]
        for k in columns
        if k != "person" and float(np.ptp(data[k].to_numpy(float))) == 0.0
    ]
    if constant:
        raise InvalidInputError(
            f"The {what} needs variation, but these columns have one value in every row: "
            + ", ".join(constant)
            + ".",
            problems=[Problem("no variation", column=c) for c in constant],
        )
    return data, prepared.n_dropped, messages


def _fit(
    formula: str, data: pd.DataFrame, *, reml: bool, residual_groups: str | None = None
) -> LmmResult:
    fit = fit_lmm(formula, data, reml=reml, residual_groups=residual_groups)
    if not fit.converged:
        raise InvalidInputError(
            "The mixed model did not converge, so its estimates cannot be trusted.",
            hint="Simplify the random effects (e.g. random='intercept' or "
            "random_c_prime=False), or check the data for outliers and near-constant columns.",
            problems=[Problem(m) for m in fit.messages],
        )
    return fit


def _with_ci(fixed: pd.DataFrame, confidence: float) -> pd.DataFrame:
    out = fixed.copy()
    crit = stats.t.ppf(0.5 + confidence / 2, out["df"].to_numpy(float))
    out["ci_low"] = out["estimate"] - crit * out["se"]
    out["ci_high"] = out["estimate"] + crit * out["se"]
    return out[["term", *_STAT_KEYS]].reset_index(drop=True)


def _contrast(fit: LmmResult, first: str, second: str, confidence: float) -> dict[str, float]:
    """first - second, its SE from the fixed-effect covariance, t on the smaller df."""
    vc = _submatrix(fit.vcov, [first, second])
    fixed = _fixed_lookup(fit)
    estimate = fixed[first]["estimate"] - fixed[second]["estimate"]
    variance = float(vc[0, 0] + vc[1, 1] - 2 * vc[0, 1])
    se = float(np.sqrt(variance))
    df = min(fixed[first]["df"], fixed[second]["df"])
    t = estimate / se
    crit = stats.t.ppf(0.5 + confidence / 2, df)
    return {
        "estimate": estimate,
        "se": se,
        "df": df,
        "t": t,
        "p_val": float(2 * stats.t.sf(abs(t), df)),
        "ci_low": estimate - crit * se,
        "ci_high": estimate + crit * se,
    }


def _fixed_lookup(fit: LmmResult) -> dict[str, dict[str, float]]:
    """term -> {estimate, se, df} as plain floats."""
    table = fit.fixed
    return {
        str(term): {"estimate": float(e), "se": float(s), "df": float(d)}
        for term, e, s, d in zip(
            table["term"], table["estimate"], table["se"], table["df"], strict=True
        )
    }


def _submatrix(frame: pd.DataFrame, names: list[str]) -> _Array:
    """The rows and columns ``names`` of a labelled square matrix, as a float array."""
    labels = [str(c) for c in frame.columns]
    index = [labels.index(n) for n in names]
    return np.asarray(frame.to_numpy(float)[np.ix_(index, index)])


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise InvalidInputError(f"confidence must lie between 0 and 1, not {confidence!r}.")


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None
