"""McDonald's omega from a one-factor model fitted by minimum residual (minres).

The factor model is fitted to the item correlation matrix R (as ``psych::omega`` and
``psych::fa`` do by default). Minres, also called unweighted least squares on the
off-diagonal elements (Harman & Jones, 1966), chooses the loadings lambda that minimise

    sum over i < j of (r_ij - lambda_i lambda_j)^2,

the communalities being lambda_i^2 and the uniquenesses u2_i = 1 - lambda_i^2. We minimise
this criterion directly with Newton's method (exact gradient and Hessian, started from
principal axes with squared multiple correlations), to a gradient below 1e-12. psych reaches
the same optimum through L-BFGS-B over the uniquenesses, which it bounds below by 0.005; when
our solution would need a uniqueness below 0.005 (a Heywood case), we fit psych's bounded
criterion instead (L-BFGS-B with the analytic gradient of the principal-axis loadings) and
report ``heywood = True``.

Items whose loading comes out negative are reflected (as psych::omega does with
``flip = TRUE``) before the sums below, so omega describes the scale with those items reversed;
the per-item table from :func:`factor_loadings` shows the original signs.

With V = 1'R1 (the variance of the standardised sum score):

- omega_total = (V - sum u2) / V  (McDonald, 1999), psych's ``omega.tot``: the share of the
  sum score's variance that is common variance.
- omega_h = (sum lambda)^2 / V, psych's ``omega_h``; with one factor it is the share due to that
  factor, measured against the observed variance.
- omega_implied = (sum lambda)^2 / ((sum lambda)^2 + sum u2), McDonald's (1999) formula with
  the model-implied variance of the sum score in the denominator.

The three agree when the one-factor model reproduces the correlations exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from attunement.errors import InvalidInputError, Problem
from attunement.psychometrics._item_matrix import FloatArray, item_covariance

__all__ = [
    "FACTOR_LOADING_COLUMNS",
    "OMEGA_COLUMNS",
    "OneFactorFit",
    "factor_loadings",
    "fit_one_factor",
    "omega_total",
]

OMEGA_COLUMNS = (
    "omega_total",
    "omega_h",
    "omega_implied",
    "rmsr",
    "heywood",
    "n",
    "n_excluded",
    "k",
)
FACTOR_LOADING_COLUMNS = ("item", "loading", "communality", "uniqueness")

# psych's lower bound on a uniqueness in fa(fm = "minres")
_MIN_UNIQUENESS = 0.005
_GRADIENT_TOLERANCE = 1e-12


@dataclass(frozen=True, slots=True)
class OneFactorFit:
    """A fitted one-factor minres model of a correlation matrix."""

    loadings: FloatArray
    correlation: FloatArray
    heywood: bool
    iterations: int

    @property
    def uniquenesses(self) -> FloatArray:
        result: FloatArray = 1 - self.loadings**2
        return result

    @property
    def rmsr(self) -> float:
        """Root mean square of the off-diagonal residual correlations (psych's ``rms``)."""
        residual = self.correlation - np.outer(self.loadings, self.loadings)
        k = residual.shape[0]
        off = residual[~np.eye(k, dtype=bool)]
        return float(np.sqrt(np.mean(off**2)))


def omega_total(items: pd.DataFrame) -> pd.DataFrame:
    """McDonald's omega total of a scale from a one-factor minres model (one row).

    ``items`` holds one numeric column per item and one row per respondent; rows with any
    missing item are left out. Columns: ``omega_total`` (psych::omega's ``omega.tot``),
    ``omega_h`` (psych's ``omega_h`` for one factor), ``omega_implied`` ((sum lambda)^2 /
    ((sum lambda)^2 + sum u2)), ``rmsr`` (fit: root mean square residual correlation),
    ``heywood`` (a uniqueness hit psych's bound 0.005), ``n``, ``n_excluded`` and ``k``.
    Needs at least three items (with two, one factor is not identified).
    """
    summary = item_covariance(items, min_items=3, min_rows=3)
    fit = fit_one_factor(_correlation(summary.covariance, summary.columns))
    signs = np.where(fit.loadings < 0, -1.0, 1.0)
    reflected = fit.correlation * np.outer(signs, signs)
    total = float(reflected.sum())
    unique = float(fit.uniquenesses.sum())
    common = float(np.abs(fit.loadings).sum()) ** 2
    row = [
        (total - unique) / total,
        common / total,
        common / (common + unique),
        fit.rmsr,
        fit.heywood,
        summary.n,
        summary.n_excluded,
        summary.k,
    ]
    return pd.DataFrame([row], columns=list(OMEGA_COLUMNS))


def factor_loadings(items: pd.DataFrame) -> pd.DataFrame:
    """Standardised one-factor minres loadings, one row per item.

    Columns: ``item``, ``loading`` (signed so that the loadings sum to a positive number),
    ``communality`` (loading squared) and ``uniqueness`` (1 - communality). These equal
    ``psych::fa(items, nfactors = 1)``'s loadings, ``h2`` and ``u2`` (up to psych's optimiser
    tolerance).
    """
    summary = item_covariance(items, min_items=3, min_rows=3)
    fit = fit_one_factor(_correlation(summary.covariance, summary.columns))
    return pd.DataFrame(
        {
            "item": list(summary.columns),
            "loading": fit.loadings,
            "communality": fit.loadings**2,
            "uniqueness": fit.uniquenesses,
        },
        columns=list(FACTOR_LOADING_COLUMNS),
    )


def fit_one_factor(correlation: FloatArray) -> OneFactorFit:
    """Fit one factor to a correlation matrix by minres (see the module docstring)."""
    r = np.asarray(correlation, dtype=np.float64)
    k = r.shape[0]
    if k < 3:
        raise InvalidInputError("A one-factor model needs at least three items.")
    loadings, iterations, converged = _newton(r, _start(r))
    heywood = bool(np.max(loadings**2) > 1 - _MIN_UNIQUENESS)
    if heywood or not converged:
        loadings, iterations = _bounded(r, loadings)
        heywood = True if heywood else bool(np.max(loadings**2) >= 1 - _MIN_UNIQUENESS - 1e-9)
    if loadings.sum() < 0:
        loadings = -loadings
    return OneFactorFit(loadings=loadings, correlation=r, heywood=heywood, iterations=iterations)


def _correlation(cov: FloatArray, columns: tuple[str, ...]) -> FloatArray:
    sd = np.sqrt(np.diag(cov))
    constant = [columns[i] for i in np.flatnonzero(~(sd > 0))]
    if constant:
        raise InvalidInputError(
            "Omega needs items that vary; these items have the same answer everywhere.",
            hint="Leave the constant items out of the factor model.",
            problems=[Problem("no variance", column=c) for c in constant],
        )
    result: FloatArray = cov / np.outer(sd, sd)
    np.fill_diagonal(result, 1.0)
    return result


def _start(r: FloatArray) -> FloatArray:
    """First principal axis of R with squared multiple correlations on the diagonal.

    When R is singular (fewer respondents than items, or a redundant item) the largest absolute
    correlation of each item stands in for its squared multiple correlation.
    """
    fallback = np.max(np.abs(r - np.eye(r.shape[0])), axis=0)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            smc = 1 - 1 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        smc = fallback
    smc = np.where(np.isfinite(smc) & (smc >= 0) & (smc <= 1), smc, fallback)
    reduced = r.copy()
    np.fill_diagonal(reduced, smc)
    values, vectors = np.linalg.eigh(reduced)
    result: FloatArray = vectors[:, -1] * np.sqrt(max(values[-1], 1e-6))
    return result


def _criterion(r: FloatArray, lam: FloatArray) -> float:
    residual = r - np.outer(lam, lam)
    np.fill_diagonal(residual, 0.0)
    return float((residual**2).sum() / 2)


def _newton(r: FloatArray, lam: FloatArray, max_iter: int = 200) -> tuple[FloatArray, int, bool]:
    """Minimise sum_{i<j} (r_ij - l_i l_j)^2 over l by damped Newton steps."""
    k = r.shape[0]
    off = ~np.eye(k, dtype=bool)
    value = _criterion(r, lam)
    for iteration in range(1, max_iter + 1):
        residual = np.where(off, r - np.outer(lam, lam), 0.0)
        gradient = -2 * residual @ lam
        if np.max(np.abs(gradient)) < _GRADIENT_TOLERANCE:
            return lam, iteration, True
        squares = lam**2
        hessian = -2 * (r - 2 * np.outer(lam, lam))
        np.fill_diagonal(hessian, 2 * (squares.sum() - squares))
        try:
            step = -np.linalg.solve(hessian, gradient)
            if float(step @ gradient) >= 0:
                step = -gradient
        except np.linalg.LinAlgError:
            step = -gradient
        scale = 1.0
        while scale > 1e-12:
            candidate = lam + scale * step
            new_value = _criterion(r, candidate)
            if new_value <= value:
                break
            scale /= 2
        else:
            return lam, iteration, False
        lam, value = candidate, new_value
    return lam, max_iter, False


def _bounded(r: FloatArray, lam: FloatArray) -> tuple[FloatArray, int]:
    """psych's bounded criterion: minres over uniquenesses psi in [0.005, 1] (Heywood cases).

    For given psi the loadings are the first principal axis of R with 1 - psi on the diagonal,
    lambda = sqrt(e1) v1; the gradient follows from the first-order perturbation of the
    eigenpair: de1/dpsi_m = -v1_m^2, dv1/dpsi_m = -sum_j v_j v_jm v1_m / (e1 - e_j).
    """
    k = r.shape[0]
    off = ~np.eye(k, dtype=bool)

    def axis(psi: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        reduced = r.copy()
        np.fill_diagonal(reduced, 1 - psi)
        values, vectors = np.linalg.eigh(reduced)
        return values, vectors, vectors[:, -1], vectors[:, -1] * np.sqrt(max(values[-1], 0.0))

    def objective(psi: FloatArray) -> tuple[float, FloatArray]:
        values, vectors, v1, loadings = axis(psi)
        e1 = max(float(values[-1]), 1e-12)
        residual = np.where(off, r - np.outer(loadings, loadings), 0.0)
        d_loadings = -2 * residual @ loadings  # derivative of the criterion in the loadings
        others = vectors[:, :-1]
        gaps = np.maximum(e1 - values[:-1], 1e-12)
        d_vector = -others @ ((others * v1[:, None]).T / gaps[:, None])
        jacobian = -np.outer(v1, v1**2) / (2 * np.sqrt(e1)) + np.sqrt(e1) * d_vector
        return float((residual**2).sum() / 2), jacobian.T @ d_loadings

    start = np.clip(1 - lam**2, _MIN_UNIQUENESS, 1.0)
    # k x k problems: BLAS threads only add overhead (and stall on a busy machine)
    with threadpool_limits(limits=1, user_api="blas"):
        result = optimize.minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(_MIN_UNIQUENESS, 1.0)] * k,
            options={"ftol": 1e-16, "gtol": 1e-12, "maxiter": 10_000},
        )
    return axis(np.asarray(result.x, dtype=np.float64))[3], int(result.nit)
