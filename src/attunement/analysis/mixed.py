"""Linear mixed models fitted by REML or ML from per-group sufficient statistics.

The model (Bates, Maechler, Bolker & Walker 2015, "Fitting Linear Mixed-Effects Models Using
lme4", J. Stat. Softw. 67(1), doi:10.18637/jss.v067.i01) for the rows of group i is

    y_i = X_i beta + Z_i b_i + e_i,   b_i ~ N(0, sigma^2 Lambda Lambda'),
    e_i ~ N(0, sigma^2 diag(delta_s(ij)^2)),

with Lambda the q x q lower-triangular *relative covariance factor* (parameters ``theta``, in
lme4's column-major order; block-diagonal when the random effects form independent blocks, as in
``(1 | g) + (0 + x | g)``) and delta_s = 1 for every row unless ``residual_groups`` names a
column whose levels s get their own residual standard deviation sigma * delta_s (the first level
is the reference, delta = 1), as nlme's ``varIdent(form = ~ 1 | column)`` (Pinheiro & Bates 2000,
section 5.2.3).

Dividing the rows of stratum s by delta_s turns the model into one with a common residual
variance; the log-likelihood then gains the Jacobian -sum_s n_s log(delta_s). Everything the
likelihood needs from the data are, per group and stratum, the cross products of the columns
[X, Z, y]: X_i'X_i, X_i'Z_i, Z_i'Z_i, X_i'y_i, Z_i'y_i, y_i'y_i and n_i. They are computed in
one vectorised pass (:func:`lmm_statistics`); afterwards nothing depends on the number of rows.
The response enters as y - X b_ols (b_ols a least-squares fit, added back to the estimates): an
exact reparametrisation that keeps y'y and X'y free of cancellation when y has a large mean.

For given theta (and delta) the profiled criterion is computed group by group (section 3 of
Bates et al.), with L_i the Cholesky factor of Lambda' Z_i'Z_i Lambda + I:

    c_i = L_i^-1 Lambda' Z_i'y_i,   C_i = L_i^-1 Lambda' Z_i'X_i,
    R_X'R_X = X'X - sum C_i'C_i,   beta = (R_X'R_X)^-1 (X'y - sum C_i'c_i),
    r^2 = y'y - sum c_i'c_i - beta'(X'y - sum C_i'c_i),
    -2 log L_ML   = 2 sum log|L_i| + n (1 + log(2 pi r^2 / n)),
    REML criterion = 2 sum log|L_i| + log|R_X|^2 + (n - p)(1 + log(2 pi r^2 / (n - p))).

The blocks are q x q with q small (1-4 in practice), so the per-group Cholesky factors and
triangular solves are written out element by element, each element one NumPy operation over all
groups at once.

The gradient with respect to Sigma = Lambda Lambda' is analytic: with V_i = I + Z_i Sigma Z_i',
M_i = Z_i'V_i^-1 Z_i, P_i = Z_i'V_i^-1 X_i and u_i = Z_i'V_i^-1 (y_i - X_i beta),

    d crit / d Sigma = sum M_i - [REML] sum P_i (R_X'R_X)^-1 P_i' - (dof / r^2) sum u_i u_i',

and d crit / d Lambda = 2 (d crit / d Sigma) Lambda. The criterion is minimised by L-BFGS-B with
lme4's bounds (diagonal of Lambda >= 0); the gradients in the residual-variance ratios are
analytic too (see ``_Model._delta_gradient``).

Standard errors of the fixed effects are sqrt(diag(sigma^2 (R_X'R_X)^-1)) as in lme4. Degrees of
freedom are Satterthwaite's as computed by lmerTest (Kuznetsova, Brockhoff & Christensen 2017,
J. Stat. Softw. 82(13)): df = 2 v^2 / (g' A g) with v = Var(beta_j), g its gradient in the
variance parameters (theta, sigma) and A = 2 H^-1 from the Hessian H of the deviance, both by
central differences at the optimum (H from the analytic gradient). Convergence: L-BFGS-B's own
stop, or else lme4's check (the gradient scaled by the Hessian below 0.002).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from attunement.analysis.formula import Design, build_design, parse_formula
from attunement.errors import InvalidInputError, Problem

__all__ = [
    "LmmResult",
    "LmmStatistics",
    "check_statistics",
    "fit_lmm",
    "fit_lmm_statistics",
    "lmm_statistics",
]

SINGULAR_TOLERANCE = 1e-4
"""A diagonal element of Lambda below this counts as zero (lme4's ``isSingular`` default)."""

_Array = np.ndarray


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class LmmStatistics:
    """Per-group (and per residual stratum) sufficient statistics of a linear mixed model.

    ``cross`` has shape (S, m, m, G): for every residual stratum s and group g the cross
    products of the m distinct columns of [X, Z, y] (``columns``; y is last). ``counts`` has
    shape (S, G). ``x_index`` / ``z_index`` pick the columns of X and Z out of the m.

    ``beta_offset``: when set, the response column holds y - X beta_offset (beta_offset an
    ordinary least-squares fit). This exact reparametrisation (beta = beta_offset + the fitted
    shift) keeps the cross products of the response small, so the residual sum of squares is
    not lost to cancellation when y has a large mean; the fit adds the offset back.
    """

    columns: list[str]
    x_index: list[int]
    z_index: list[int]
    cross: _Array
    counts: _Array
    group: str
    group_levels: list[str]
    strata: list[str] = field(default_factory=list)
    residual_groups: str | None = None
    beta_offset: _Array | None = None
    z_blocks: list[int] = field(default_factory=list)

    def blocks(self) -> list[list[int]]:
        """Positions (within Z) of each independent block of random effects."""
        labels = self.z_blocks or [0] * len(self.z_index)
        return [[k for k, b in enumerate(labels) if b == block] for block in sorted(set(labels))]

    @property
    def n_obs(self) -> int:
        return int(self.counts.sum())

    @property
    def n_groups(self) -> int:
        return int(self.counts.shape[1])


def lmm_statistics(
    design: Design,
    strata_codes: _Array | None = None,
    strata: list[str] | None = None,
    residual_groups: str | None = None,
) -> LmmStatistics:
    """Compute the per-group cross products of [X, Z, y] in one vectorised pass.

    ``strata_codes`` (0-based codes into ``strata``, the levels of the ``residual_groups``
    column) split each group's statistics by residual stratum.
    """
    formula = design.formula
    if formula.random is None:
        raise InvalidInputError("The model has no random-effects term.")
    names: list[str] = []
    blocks: list[_Array] = []
    for name, column in zip(design.x_names, design.x.T, strict=True):
        if name not in names:
            names.append(name)
            blocks.append(column)
    z_index = []
    for name, column in zip(design.z_names, design.z.T, strict=True):
        if name not in names:
            names.append(name)
            blocks.append(column)
        z_index.append(names.index(name))
    x_index = [names.index(name) for name in design.x_names]
    names.append(formula.response)
    offset = _least_squares(design.x, design.y)
    blocks.append(design.y - design.x @ offset)
    n_groups = len(design.group_levels)
    n_strata = 1 if strata_codes is None else len(strata or [])
    codes = design.group_codes
    if strata_codes is not None:
        codes = strata_codes.astype(np.intp) * n_groups + codes
    size = n_strata * n_groups
    m = len(blocks)
    cross = np.empty((m, m, size))
    for a in range(m):
        for b in range(a, m):
            cross[a, b] = np.bincount(codes, weights=blocks[a] * blocks[b], minlength=size)
            cross[b, a] = cross[a, b]
    counts = np.bincount(codes, minlength=size).astype(float).reshape(n_strata, n_groups)
    per_stratum = cross.reshape(m, m, n_strata, n_groups).transpose(2, 0, 1, 3).copy()
    return LmmStatistics(
        columns=names,
        x_index=x_index,
        z_index=z_index,
        cross=per_stratum,
        counts=counts,
        group=formula.random.group,
        group_levels=design.group_levels,
        strata=list(strata or []),
        residual_groups=None if strata_codes is None else residual_groups,
        beta_offset=offset,
        z_blocks=list(design.z_blocks),
    )


def _least_squares(x: _Array, y: _Array) -> _Array:
    """Ordinary least-squares coefficients of y on X (see ``LmmStatistics.beta_offset``)."""
    return _normal_equations(x.T @ x, x.T @ y)


def _normal_equations(xtx: _Array, xty: _Array) -> _Array:
    """Solve X'X b = X'y, scaled, tolerating rank deficiency (any solution will do)."""
    scale = np.sqrt(np.where(np.diag(xtx) > 0, np.diag(xtx), 1.0))
    solution = np.linalg.lstsq(xtx / np.outer(scale, scale), xty / scale, rcond=None)[0]
    return np.asarray(solution / scale)


# --------------------------------------------------------------------------- small blocks


def _chol_stack(a: _Array) -> _Array:
    """Cholesky factors of a stack of q x q matrices stored as (q, q, G)."""
    q = a.shape[0]
    low = np.zeros_like(a)
    for j in range(q):
        s = a[j, j].copy()
        for k in range(j):
            s -= low[j, k] * low[j, k]
        low[j, j] = np.sqrt(s)
        for i in range(j + 1, q):
            t = a[i, j].copy()
            for k in range(j):
                t -= low[i, k] * low[j, k]
            low[i, j] = t / low[j, j]
    return low


def _forward_stack(low: _Array, b: _Array) -> _Array:
    """Solve L X = B for stacks: L (q, q, G), B (q, m, G)."""
    q = low.shape[0]
    out = np.empty_like(b)
    for i in range(q):
        t = b[i].copy()
        for k in range(i):
            t -= low[i, k] * out[k]
        out[i] = t / low[i, i]
    return out


def _backward_stack(low: _Array, b: _Array) -> _Array:
    """Solve L' X = B for stacks: L (q, q, G), B (q, m, G)."""
    q = low.shape[0]
    out = np.empty_like(b)
    for i in reversed(range(q)):
        t = b[i].copy()
        for k in range(i + 1, q):
            t -= low[k, i] * out[k]
        out[i] = t / low[i, i]
    return out


def _left(mat: _Array, stack: _Array) -> _Array:
    """mat @ stack_g for every g: mat (m, r) small, stack (r, c, G) -> (m, c, G)."""
    out = np.zeros((mat.shape[0], *stack.shape[1:]))
    for i in range(mat.shape[0]):
        for k in range(mat.shape[1]):
            coef = float(mat[i, k])
            if coef != 0.0:
                out[i] += coef * stack[k]
    return out


def _right(stack: _Array, mat: _Array) -> _Array:
    """stack_g @ mat for every g: stack (a, r, G), mat (r, m) small -> (a, m, G)."""
    out = np.zeros((stack.shape[0], mat.shape[1], stack.shape[2]))
    for j in range(mat.shape[1]):
        for k in range(mat.shape[0]):
            coef = float(mat[k, j])
            if coef != 0.0:
                out[:, j] += coef * stack[:, k]
    return out


def _gram(stack: _Array) -> _Array:
    """sum over g of stack_g' stack_g: stack (r, m, G) -> (m, m)."""
    total = np.zeros((stack.shape[1], stack.shape[1]))
    for k in range(stack.shape[0]):
        block = np.ascontiguousarray(stack[k])
        total += block @ block.T
    return total


def _cross(stack: _Array, vectors: _Array) -> _Array:
    """sum over g of stack_g' v_g: stack (r, m, G), vectors (r, G) -> (m,)."""
    total = np.zeros(stack.shape[1])
    for k in range(stack.shape[0]):
        total += stack[k] @ vectors[k]
    return total


def _theta_index(blocks: list[list[int]]) -> tuple[_Array, _Array]:
    """Row and column (in Lambda) of each theta in lme4's order: block by block, each block's
    lower triangle column by column."""
    rows: list[int] = []
    cols: list[int] = []
    for block in blocks:
        for j, col in enumerate(block):
            for row in block[j:]:
                rows.append(row)
                cols.append(col)
    return np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)


# --------------------------------------------------------------------------- criterion


@dataclass
class _Evaluation:
    criterion: float
    beta: _Array
    r2: float
    rx: _Array  # upper Cholesky factor of R_X'R_X
    logdet: float
    gradient: _Array | None = None
    delta_gradient: _Array | None = None


class _Model:
    """The profiled criterion of one model, evaluated from sufficient statistics."""

    def __init__(self, statistics: LmmStatistics, *, reml: bool) -> None:
        self.reml = reml
        c = statistics.cross
        xi, zi, yi = statistics.x_index, statistics.z_index, len(statistics.columns) - 1
        self.ztz = c[:, zi][:, :, zi]  # (S, q, q, G)
        self.ztx = c[:, zi][:, :, xi]  # (S, q, p, G)
        self.zty = c[:, zi, yi]  # (S, q, G)
        self.xtx = c[:, xi][:, :, xi].sum(axis=-1)  # (S, p, p)
        self.xty = c[:, xi, yi].sum(axis=-1)  # (S, p)
        self.yty = c[:, yi, yi].sum(axis=-1)  # (S,)
        self.n_strata = c.shape[0]
        self.stratum_n = statistics.counts.sum(axis=1)
        self.n = float(self.stratum_n.sum())
        self.q = len(zi)
        self.p = len(xi)
        self.rows, self.cols = _theta_index(statistics.blocks())
        self.n_theta = len(self.rows)
        self.lower = np.array(
            [0.0 if r == col else -np.inf for r, col in zip(self.rows, self.cols, strict=True)]
        )
        self._weighted_cache: tuple[tuple[float, ...], tuple[_Array, ...]] | None = None

    # ---- parameters
    def lam(self, theta: _Array) -> _Array:
        lam = np.zeros((self.q, self.q))
        lam[self.rows, self.cols] = theta
        return lam

    def weighted(self, log_delta: _Array) -> tuple[_Array, ...]:
        key = tuple(float(v) for v in log_delta)
        if self._weighted_cache is not None and self._weighted_cache[0] == key:
            return self._weighted_cache[1]
        if self.n_strata == 1:
            parts = (self.ztz[0], self.ztx[0], self.zty[0], self.xtx[0], self.xty[0], self.yty[0])
        else:
            w = np.exp(-2.0 * np.concatenate([[0.0], log_delta]))
            parts = (
                np.tensordot(w, self.ztz, axes=(0, 0)),
                np.tensordot(w, self.ztx, axes=(0, 0)),
                np.tensordot(w, self.zty, axes=(0, 0)),
                np.tensordot(w, self.xtx, axes=(0, 0)),
                np.tensordot(w, self.xty, axes=(0, 0)),
                np.asarray(w @ self.yty),
            )
        self._weighted_cache = (key, parts)
        return parts

    def jacobian_term(self, log_delta: _Array) -> float:
        """2 sum_s n_s log(delta_s): -2 times the log-Jacobian of the row scaling."""
        if self.n_strata == 1:
            return 0.0
        return float(2.0 * self.stratum_n[1:] @ log_delta)

    # ---- the profiled criterion
    def evaluate(
        self, theta: _Array, log_delta: _Array, *, gradient: bool, sigma: float | None = None
    ) -> _Evaluation:
        """The profiled criterion at (theta, log delta), with its gradient in theta if asked.

        With ``sigma`` the gradient is that of the deviance with sigma held fixed (not profiled).
        """
        ztz, ztx, zty, xtx, xty, yty = self.weighted(log_delta)
        p = self.p
        lam = self.lam(theta)
        low, lt_ztz, rzx, cu = self._factor(lam, ztz, ztx, zty)
        logdet = 2.0 * float(sum(np.log(low[k, k]).sum() for k in range(self.q)))
        xtx_c = xtx - _gram(rzx)
        xty_c = xty - _cross(rzx, cu)
        try:
            rx = np.linalg.cholesky(xtx_c).T
        except np.linalg.LinAlgError:
            return _Evaluation(math.inf, np.full(p, np.nan), math.nan, np.eye(p), logdet)
        beta = _solve_upper_pair(rx, xty_c)
        r2 = float(yty - float(np.sum(cu * cu)) - float(beta @ xty_c))
        if not r2 > 0:
            return _Evaluation(math.inf, beta, r2, rx, logdet)
        dof = self.n - p if self.reml else self.n
        crit = logdet + dof * (1.0 + math.log(2.0 * math.pi * r2 / dof))
        if self.reml:
            crit += 2.0 * float(np.log(np.abs(np.diag(rx))).sum())
        crit += self.jacobian_term(log_delta)
        result = _Evaluation(crit, beta, r2, rx, logdet)
        if gradient:
            uu_scale = dof / r2 if sigma is None else 1.0 / sigma**2
            result.gradient = self._gradient(
                lam, low, lt_ztz, ztz, ztx, zty, rzx, cu, result, uu_scale
            )
            if self.n_strata > 1:
                result.delta_gradient = self._delta_gradient(
                    lam, low, ztx, zty, log_delta, result, uu_scale
                )
        return result

    def _delta_gradient(
        self,
        lam: _Array,
        low: _Array,
        ztx_w: _Array,
        zty_w: _Array,
        log_delta: _Array,
        ev: _Evaluation,
        uu_scale: float,
    ) -> _Array:
        """d criterion / d log delta_s for s >= 1, analytic.

        With U = W^-1 + Z Sigma Z' (W = diag(w), w_s = delta_s^-2) and E_s the rows of level s,
        d/dw_s of log|U|, [REML] log|X'U^-1 X| and r^2 are -tr(E_s U^-1)/w_s^2,
        tr(A^-1 X'U^-1 E_s U^-1 X)/w_s^2 and |E_s U^-1 e|^2 / w_s^2, where per group
        U_i^-1 = W_i - W_i Z_i S_i Z_i' W_i with S_i = K_i'K_i, K_i = L_i^-1 Lambda'. On the
        rows of level s, U^-1 e = w_s (e - Z v) with v = S Z'W e, and U^-1 X = w_s (X - Z P)
        with P = S Z'W X, so every term needs only the per-level statistics.
        """
        q = self.q
        n_groups = low.shape[-1]
        kmat = _forward_stack(low, np.broadcast_to(lam.T[:, :, None], (q, q, n_groups)).copy())
        smat = np.zeros((q, q, n_groups))
        for a in range(q):
            for b in range(q):
                for c in range(q):
                    smat[a, b] += kmat[c, a] * kmat[c, b]
        beta = ev.beta
        zwe = zty_w - _right(ztx_w, beta[:, None])[:, 0, :]  # Z'W e   (q, G)
        v = np.einsum("abg,bg->ag", smat, zwe)
        pmat = np.einsum("abg,bjg->ajg", smat, ztx_w)  # S Z'W X   (q, p, G)
        a_inv = np.linalg.inv(ev.rx) @ np.linalg.inv(ev.rx).T
        weights = np.exp(-2.0 * np.concatenate([[0.0], log_delta]))
        out = np.empty(self.n_strata - 1)
        for s in range(1, self.n_strata):
            ztz_s, ztx_s, zty_s = self.ztz[s], self.ztx[s], self.zty[s]
            trace = float(np.einsum("abg,bag->", ztz_s, smat))
            d_logdet = -(self.stratum_n[s] / weights[s] - trace)
            ee = float(self.yty[s] - 2.0 * beta @ self.xty[s] + beta @ self.xtx[s] @ beta)
            zse = zty_s - _right(ztx_s, beta[:, None])[:, 0, :]  # Z_s'e_s   (q, G)
            quad = ee - 2.0 * float(np.sum(v * zse)) + float(np.einsum("ag,abg,bg->", v, ztz_s, v))
            total = d_logdet + uu_scale * quad
            if self.reml:
                cross = np.einsum("aig,ajg->ij", ztx_s, pmat)
                inner = np.einsum("aig,abg,bjg->ij", pmat, ztz_s, pmat)
                q_s = self.xtx[s] - cross - cross.T + inner
                total += float(np.sum(a_inv * q_s))
            out[s - 1] = -2.0 * weights[s] * total
        return out

    def _factor(
        self, lam: _Array, ztz: _Array, ztx: _Array, zty: _Array
    ) -> tuple[_Array, _Array, _Array, _Array]:
        """L_i, Lambda'Z_i'Z_i, C_i = L_i^-1 Lambda'Z_i'X_i and c_i = L_i^-1 Lambda'Z_i'y_i."""
        lt_ztz = _left(lam.T, ztz)  # Lambda' Z'Z  (q, q, G)
        a = _right(lt_ztz, lam)  # Lambda' Z'Z Lambda
        for k in range(self.q):
            a[k, k] += 1.0
        low = _chol_stack(a)
        rzx = _forward_stack(low, _left(lam.T, ztx))  # (q, p, G)
        cu = _forward_stack(low, _left(lam.T, zty[:, None, :]))[:, 0, :]  # (q, G)
        return low, lt_ztz, rzx, cu

    def _gradient(
        self,
        lam: _Array,
        low: _Array,
        lt_ztz: _Array,
        ztz: _Array,
        ztx: _Array,
        zty: _Array,
        rzx: _Array,
        cu: _Array,
        ev: _Evaluation,
        uu_scale: float,
    ) -> _Array:
        q = self.q
        kz = _forward_stack(low, lt_ztz)  # L^-1 Lambda' Z'Z  (q, q, G)
        sum_m = ztz.sum(axis=-1) - _gram(kz)
        proj = ztx.copy()  # P = Z'V^-1 X   (q, p, G)
        zvy = zty.copy()
        for k in range(q):
            proj -= kz[k][:, None, :] * rzx[k][None, :, :]
            zvy -= kz[k] * cu[k]
        u = zvy - _right(proj, ev.beta[:, None])[:, 0, :]
        g_sigma = sum_m - uu_scale * (u @ u.T)
        if self.reml:
            pq = _right(proj, np.linalg.inv(ev.rx))  # P R_X^-1   (q, p, G)
            g_sigma -= _gram(pq.transpose(1, 0, 2))
        g_sigma = 0.5 * (g_sigma + g_sigma.T)
        g_lam = 2.0 * g_sigma @ lam
        return np.asarray(g_lam[self.rows, self.cols])

    def conditional_modes(self, theta: _Array, log_delta: _Array, beta: _Array) -> _Array:
        """b_i = Lambda L_i^-T (c_i - C_i beta), the predicted random effects (q, G)."""
        ztz, ztx, zty, *_ = self.weighted(log_delta)
        lam = self.lam(theta)
        low, _, rzx, cu = self._factor(lam, ztz, ztx, zty)
        resid = cu - _right(rzx, beta[:, None])[:, 0, :]
        spherical = _backward_stack(low, resid[:, None, :])[:, 0, :]
        return np.asarray(lam @ spherical)

    # ---- the deviance with sigma as a parameter (for Satterthwaite's df)
    def deviance_varpar(self, full: _Array) -> float:
        """The deviance (-2 log L, REML or ML) at varpar = (theta, log delta, sigma)."""
        theta = full[: self.n_theta]
        log_delta = full[self.n_theta : -1]
        sigma = full[-1]
        ev = self.evaluate(theta, log_delta, gradient=False)
        dof = self.n - self.p if self.reml else self.n
        dev = ev.logdet + dof * math.log(2 * math.pi * sigma**2) + ev.r2 / sigma**2
        if self.reml:
            dev += 2.0 * float(np.log(np.abs(np.diag(ev.rx))).sum())
        return float(dev + self.jacobian_term(log_delta))

    def gradient_varpar(self, full: _Array) -> _Array:
        """Gradient of :meth:`deviance_varpar`, analytic in theta, log delta and sigma."""
        theta = full[: self.n_theta]
        log_delta = full[self.n_theta : -1]
        sigma = float(full[-1])
        ev = self.evaluate(theta, log_delta, gradient=True, sigma=sigma)
        grad = np.empty_like(full)
        grad[: self.n_theta] = ev.gradient if ev.gradient is not None else np.nan
        dof = self.n - self.p if self.reml else self.n
        grad[-1] = 2.0 * dof / sigma - 2.0 * ev.r2 / sigma**3
        if ev.delta_gradient is not None:
            grad[self.n_theta : -1] = ev.delta_gradient
        return grad

    def vcov_varpar(self, full: _Array) -> _Array:
        ev = self.evaluate(full[: self.n_theta], full[self.n_theta : -1], gradient=False)
        rx_inv = np.linalg.inv(ev.rx)
        return np.asarray(full[-1] ** 2 * (rx_inv @ rx_inv.T))


def _solve_upper_pair(rx: _Array, rhs: _Array) -> _Array:
    """Solve (R'R) x = rhs for upper-triangular R."""
    from scipy.linalg import solve_triangular

    tmp = solve_triangular(rx, rhs, trans="T")
    return np.asarray(solve_triangular(rx, tmp))


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class LmmResult:
    """A fitted linear mixed model.

    ``fixed``: one row per fixed effect with columns ``term``, ``estimate``, ``se``, ``df``
    (Satterthwaite), ``t``, ``p_val`` (two-sided, t with ``df``).
    ``random``: the variance components as lme4's ``as.data.frame(VarCorr(fit))``: columns
    ``group``, ``var1``, ``var2``, ``vcov`` (variance or covariance), ``sdcor`` (standard
    deviation or correlation); the residual rows have ``group == "Residual"`` and, with
    ``residual_groups``, ``var1`` naming the level.
    ``random_cov``: the q x q covariance matrix of the random effects (DataFrame).
    ``ranef``: predicted random effects (conditional modes), one row per group and effect:
    ``group``, ``term``, ``estimate``.
    ``vcov``: covariance matrix of the fixed effects. ``sigma``: the residual standard deviation
    (of the reference level when ``residual_groups`` is used; ``residual_sd`` holds all).
    ``reml_criterion`` (REML fits; ``None`` for ML), ``deviance`` (-2 ``loglik``: the REML
    criterion for REML fits), ``loglik`` (lme4's ``logLik``: the REML log-likelihood for REML
    fits). ``converged``, ``singular`` and ``messages`` (plain-words diagnostics).
    """

    formula: str
    reml: bool
    fixed: pd.DataFrame
    random: pd.DataFrame
    random_cov: pd.DataFrame
    ranef: pd.DataFrame
    vcov: pd.DataFrame
    sigma: float
    residual_sd: dict[str, float]
    reml_criterion: float | None
    deviance: float
    loglik: float
    converged: bool
    singular: bool
    messages: tuple[str, ...]
    n_obs: int
    n_groups: int
    n_dropped: int
    group: str
    theta: tuple[float, ...]
    iterations: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``attunement fit --json``: fixed, random, sigma, criterion, converged.

        ``fixed`` maps each term to ``estimate``, ``se``, ``df``, ``t``, ``p_val``; ``random``
        maps the grouping column to ``sd`` (per effect) and ``cor`` (pairs), and ``Residual`` to
        ``sd`` (a number, or per level with ``residual_groups``).
        """
        fixed = {
            str(row.term): {
                "estimate": _clean(row.estimate),
                "se": _clean(row.se),
                "df": _clean(row.df),
                "t": _clean(row.t),
                "p_val": _clean(row.p_val),
            }
            for row in self.fixed.itertuples()
        }
        random: dict[str, Any] = {}
        for label, comps in self.random.groupby("group", sort=False):
            if label == "Residual":
                continue
            rows = list(zip(comps["var1"], comps["var2"], comps["sdcor"], strict=True))
            random[str(label)] = {
                "sd": {str(v1): _clean(sd) for v1, v2, sd in rows if not isinstance(v2, str)},
                "cor": [
                    {"var1": str(v1), "var2": str(v2), "cor": _clean(r)}
                    for v1, v2, r in rows
                    if isinstance(v2, str)
                ],
            }
        residual: float | dict[str, float] | None = _clean(self.sigma)
        if len(self.residual_sd) > 1:
            residual = {k: float(v) for k, v in self.residual_sd.items()}
        return {
            "fixed": fixed,
            "random": {**random, "Residual": {"sd": residual}},
            "sigma": _clean(self.sigma),
            "reml_criterion": None if self.reml_criterion is None else _clean(self.reml_criterion),
            "converged": bool(self.converged),
        }

    def summary(self) -> str:
        """A readable report in the manner of lme4's ``summary()``."""
        method = "REML" if self.reml else "maximum likelihood (ML)"
        lines = [f"Linear mixed model fit by {method}", f"Formula: {self.formula}"]
        if self.reml_criterion is not None:
            lines.append(f"REML criterion at convergence: {self.reml_criterion:.4f}")
        else:
            lines.append(f"deviance (-2 logLik): {self.deviance:.4f}")
        lines.append(f"logLik: {self.loglik:.4f}   converged: {'yes' if self.converged else 'NO'}")
        lines.append(
            f"Observations: {self.n_obs}   groups ({self.group}): {self.n_groups}"
            + (f"   rows left out (missing values): {self.n_dropped}" if self.n_dropped else "")
        )
        lines += ["", "Random effects:"]
        table = self.random.copy()
        table["var2"] = table["var2"].fillna("")
        table["var1"] = table["var1"].fillna("")
        lines.append(
            "  "
            + table.to_string(index=False, float_format=lambda v: f"{v:.6g}").replace("\n", "\n  ")
        )
        lines += ["", "Fixed effects (Satterthwaite df):"]
        lines.append(
            "  "
            + self.fixed.to_string(index=False, float_format=lambda v: f"{v:.6g}").replace(
                "\n", "\n  "
            )
        )
        if self.messages:
            lines += ["", *(f"Note: {m}" for m in self.messages)]
        return "\n".join(lines)


def _clean(value: Any) -> Any:
    value = float(value)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------- fitting


def fit_lmm(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = True,
    residual_groups: str | None = None,
) -> LmmResult:
    """Fit a linear mixed model written in lme4's syntax, by REML (default) or ML.

    ``residual_groups`` names a column whose levels each get their own residual variance (nlme's
    ``weights = varIdent(form = ~ 1 | column)``); the first level (sorted) is the reference.

    Rows with a missing value in any column used are left out (listwise); the count is reported
    in ``messages`` and ``n_dropped``. Raises :class:`~attunement.errors.InvalidInputError` for
    formulas it cannot fit, unusable columns, collinear predictors and too few observations.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(30), 8)
    >>> x = rng.normal(size=g.size)
    >>> y = 1 + 0.5 * x + rng.normal(size=30)[g] + rng.normal(size=g.size)
    >>> fit = fit_lmm("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}))
    >>> list(fit.fixed["term"])
    ['(Intercept)', 'x']
    """
    parsed = parse_formula(formula)
    if parsed.random is None:
        raise InvalidInputError(
            "The formula has no random-effects term, so this is not a mixed model.",
            hint="Add a term such as '(1 | person)' naming the grouping column.",
        )
    frame = data
    strata_codes = None
    strata: list[str] = []
    if residual_groups is not None:
        if residual_groups not in data.columns:
            raise InvalidInputError(
                f"The residual_groups column {residual_groups!r} is not in the table.",
                hint="Columns in the table: " + ", ".join(map(str, data.columns)) + ".",
            )
        frame = data.loc[data[residual_groups].notna()]
    design = build_design(parsed, frame)
    n_dropped = design.n_dropped + (len(data) - len(frame))
    if residual_groups is not None:
        codes, uniques = pd.factorize(frame.loc[design.rows, residual_groups], sort=True)
        strata = [str(u) for u in uniques]
        strata_codes = np.asarray(codes)
        if len(strata) < 2:
            raise InvalidInputError(
                f"The residual_groups column {residual_groups!r} has only one level.",
                hint="Give a column with at least two levels, or leave residual_groups out.",
            )
    statistics = lmm_statistics(design, strata_codes, strata, residual_groups)
    check_statistics(
        statistics, design.x_names, design.z_names, parsed.response, float(np.ptp(design.y))
    )
    messages = []
    if n_dropped:
        cols = list(design.dropped_columns)
        if residual_groups is not None and len(frame) < len(data):
            cols.append(residual_groups)
        messages.append(
            f"{n_dropped} row(s) with missing values (in {', '.join(cols)}) were left out "
            "(listwise deletion)."
        )
    return fit_lmm_statistics(
        statistics,
        formula=parsed.text,
        reml=reml,
        x_names=design.x_names,
        z_names=design.z_names,
        n_dropped=n_dropped,
        messages=messages,
    )


def check_statistics(
    statistics: LmmStatistics,
    x_names: list[str],
    z_names: list[str],
    response: str,
    response_range: float,
) -> None:
    """Refuse, in plain words, models the statistics cannot identify.

    Too few groups or observations for the random effects (lme4's checks), a constant response,
    collinear fixed effects (named) and random effects that are zero in every row.
    """
    group = statistics.group
    n = statistics.n_obs
    n_groups = statistics.n_groups
    q = len(z_names)
    if n_groups < 2:
        raise InvalidInputError(
            f"The grouping column {group!r} has {n_groups} level(s); a mixed model needs several.",
            hint="Check the grouping column (for example a person or dyad id).",
        )
    if n <= q * n_groups:
        singles = int((statistics.counts.sum(axis=0) == 1).sum())
        if q == 1:
            detail = (
                f"{n} observations in {n_groups} groups of {group!r}: every group has one "
                "observation, so group and residual variance cannot be told apart."
            )
        else:
            detail = (
                f"{n} observations for {q} random effects in each of {n_groups} groups of "
                f"{group!r} ({singles} group(s) have a single observation): random slopes "
                "need several observations per group with different predictor values."
            )
        raise InvalidInputError(
            "Too few observations to estimate the random effects. " + detail,
            hint="Use a random intercept only, '(1 | group)', or collect more observations.",
        )
    if response_range == 0.0:
        raise InvalidInputError(
            f"The response {response!r} has the same value in every row.",
            hint="A model needs a response that varies.",
        )
    total = statistics.cross.sum(axis=(0, 3))
    xi, zi = statistics.x_index, statistics.z_index
    _check_collinear(total[np.ix_(xi, xi)], x_names, "fixed")
    for name, k in zip(z_names, zi, strict=True):
        if total[k, k] == 0:
            raise InvalidInputError(
                f"The random effect {name!r} is zero in every row.",
                hint="Drop it from the random-effects term.",
            )


def _check_collinear(xtx: _Array, names: list[str], kind: str) -> None:
    """Name the columns that are linear combinations of earlier ones (Gram-Schmidt order)."""
    scale = np.sqrt(np.diag(xtx))
    problems = []
    kept: list[int] = []
    for j, name in enumerate(names):
        if scale[j] == 0:
            problems.append(Problem(f"{name} is zero in every row", column=name))
            continue
        if kept:
            sub = xtx[np.ix_(kept, kept)]
            coef = np.linalg.solve(sub, xtx[kept, j])
            residual = xtx[j, j] - xtx[kept, j] @ coef
            # about R's QR tolerance (1e-7 on the norm scale): a predictor whose mean is a
            # million times its SD is still told apart from the intercept
            if residual <= 1e-13 * xtx[j, j]:
                weights = np.abs(coef) * scale[kept] / scale[j]
                partners = [names[k] for k, w in zip(kept, weights, strict=True) if w > 1e-6]
                problems.append(
                    Problem(
                        f"{name} is a linear combination of " + ", ".join(partners),
                        column=name,
                    )
                )
                continue
        kept.append(j)
    if problems:
        raise InvalidInputError(
            f"Collinear {kind}-effect predictors: "
            + ", ".join(str(p.column) for p in problems)
            + ".",
            problems=problems,
            hint="Drop one of each set of collinear predictors (lme4 would drop them silently).",
        )


def fit_lmm_statistics(
    statistics: LmmStatistics,
    *,
    formula: str,
    reml: bool = True,
    x_names: list[str],
    z_names: list[str],
    n_dropped: int = 0,
    messages: list[str] | None = None,
) -> LmmResult:
    """Fit from sufficient statistics (see :func:`lmm_statistics`); :func:`fit_lmm` calls this.

    The work is many small matrix products, for which BLAS threads only add waiting: the fit
    runs with one BLAS thread.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(statistics, formula, reml, x_names, z_names, n_dropped, messages)


def _fit(
    statistics: LmmStatistics,
    formula: str,
    reml: bool,
    x_names: list[str],
    z_names: list[str],
    n_dropped: int,
    messages: list[str] | None,
) -> LmmResult:
    model = _Model(statistics, reml=reml)
    notes = list(messages or [])
    n_delta = model.n_strata - 1
    identity = np.where(model.rows == model.cols, 1.0, 0.0)
    moments = _moment_start(statistics, model)
    theta0 = identity if moments is None else moments
    x0 = np.concatenate([theta0, np.zeros(n_delta)])
    bounds: list[tuple[float | None, float | None]] = [
        (lo if math.isfinite(lo) else None, None) for lo in model.lower
    ]
    bounds += [(-15.0, 15.0)] * n_delta

    def objective(params: _Array) -> tuple[float, _Array]:
        theta, log_delta = params[: model.n_theta], params[model.n_theta :]
        ev = model.evaluate(theta, log_delta, gradient=True)
        if not math.isfinite(ev.criterion) or ev.gradient is None:
            return 1e300, np.zeros_like(params)
        grad = np.empty_like(params)
        grad[: model.n_theta] = ev.gradient
        if ev.delta_gradient is not None:
            grad[model.n_theta :] = ev.delta_gradient
        return ev.criterion, grad

    start = objective(x0)[0]
    if not math.isfinite(start) or start >= 1e300:
        raise InvalidInputError(
            "The model cannot be evaluated at its starting values.",
            hint="Check the predictors for extreme values or near-collinearity.",
        )

    def minimise(start: _Array) -> Any:
        return optimize.minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20},
        )

    opt = minimise(x0)
    params = np.asarray(opt.x, dtype=float)
    # A fit on the boundary (a singular fit) may be a local optimum on the way: restart from
    # it with its zero diagonals nudged inward (as lme4 does) and from the other start, and
    # keep the best criterion.
    at_bound = (model.lower[: model.n_theta] == 0) & (params[: model.n_theta] <= 1e-6)
    if at_bound.any():
        nudged = params.copy()
        nudged[: model.n_theta][at_bound] = 0.1
        restarts: list[_Array] = [nudged]
        if moments is not None:
            restarts.append(np.concatenate([identity, np.zeros(n_delta)]))
        for point in restarts:
            again = minimise(point)
            if again.fun < opt.fun - 1e-10:
                opt = again
                params = np.asarray(opt.x, dtype=float)
    theta = params[: model.n_theta]
    log_delta = params[model.n_theta :]
    theta[(model.lower[: model.n_theta] == 0) & (theta < 1e-10)] = 0.0
    params = np.concatenate([theta, log_delta])
    ev = model.evaluate(theta, log_delta, gradient=True)
    # L-BFGS-B's own stop is trusted; otherwise (often a line search that can gain nothing more
    # at the optimum) lme4's scaled-gradient check decides.
    converged = math.isfinite(ev.criterion) and (
        bool(opt.success) or _scaled_gradient(objective, params, model.lower) < 2e-3
    )
    if not converged:
        notes.append(
            f"The optimiser did not converge ({opt.message}); the estimates may be wrong. "
            "Simplify the random effects or rescale the predictors."
        )
    dof = model.n - model.p if reml else model.n
    sigma = math.sqrt(ev.r2 / dof)
    lam = model.lam(theta)
    random_cov = sigma**2 * (lam @ lam.T)
    rx_inv = np.linalg.inv(ev.rx)
    vcov = sigma**2 * (rx_inv @ rx_inv.T)
    se = np.sqrt(np.diag(vcov))
    singular, singular_notes = _singularity(theta, model, z_names, statistics.group)
    notes.extend(singular_notes)
    df = _satterthwaite(
        model,
        theta,
        log_delta,
        sigma,
        notes,
        labels=_varpar_labels(model, z_names, statistics),
        terms=x_names,
    )
    offset = statistics.beta_offset
    beta = ev.beta if offset is None else ev.beta + offset
    t_values = beta / se
    p_values = 2.0 * stats.t.sf(np.abs(t_values), df)
    fixed = pd.DataFrame(
        {
            "term": x_names,
            "estimate": beta,
            "se": se,
            "df": df,
            "t": t_values,
            "p_val": p_values,
        }
    )
    deltas = np.exp(np.concatenate([[0.0], log_delta]))
    levels = statistics.strata or [""]
    residual_sd = {level: sigma * float(d) for level, d in zip(levels, deltas, strict=True)}
    random = _variance_table(
        random_cov, z_names, statistics.group, residual_sd, statistics.blocks()
    )
    modes = model.conditional_modes(theta, log_delta, ev.beta)
    ranef = pd.DataFrame(
        {
            "group": np.repeat(np.array(statistics.group_levels, dtype=object), model.q),
            "term": np.tile(np.array(z_names, dtype=object), statistics.n_groups),
            "estimate": modes.T.reshape(-1),
        }
    )
    deviance = ev.criterion
    return LmmResult(
        formula=formula,
        reml=reml,
        fixed=fixed,
        random=random,
        random_cov=pd.DataFrame(random_cov, index=z_names, columns=z_names),
        ranef=ranef,
        vcov=pd.DataFrame(vcov, index=x_names, columns=x_names),
        sigma=sigma,
        residual_sd=residual_sd,
        reml_criterion=deviance if reml else None,
        deviance=deviance,
        loglik=-0.5 * deviance,
        converged=converged,
        singular=singular,
        messages=tuple(notes),
        n_obs=statistics.n_obs,
        n_groups=statistics.n_groups,
        n_dropped=n_dropped,
        group=statistics.group,
        theta=tuple(float(t) for t in theta),
        iterations=int(opt.nit),
    )


def _moment_start(statistics: LmmStatistics, model: _Model) -> _Array | None:
    """A start for theta from per-group least squares (a method-of-moments estimate).

    For every group with enough rows and a well-conditioned Z_i'Z_i, b_i = (Z_i'Z_i)^-1 Z_i'y_i
    on the response after the pooled least-squares fit; sigma^2 is the pooled within-group
    residual variance and Sigma = cov(b_i) - sigma^2 mean((Z_i'Z_i)^-1), made positive definite.
    Close to the optimum, it keeps L-BFGS-B away from the boundary traps that the identity start
    can fall into with several correlated random effects. ``None`` when too few groups qualify.
    """
    q = model.q
    cross = statistics.cross.sum(axis=0)
    zi, yi = statistics.z_index, len(statistics.columns) - 1
    n = statistics.counts.sum(axis=0)
    ztz = cross[np.ix_(zi, zi)]  # (q, q, G)
    diag = np.stack([ztz[k, k] for k in range(q)])
    positive = np.all(diag > 0, axis=0) & (n >= q + 2)
    if positive.sum() < 2 * q + 2:
        return None
    ztz = ztz[:, :, positive]
    low = _chol_stack(ztz)
    # det(A) / prod(diag(A)) in (0, 1]: near 0 when Z_i'Z_i is near singular
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.prod(np.stack([low[k, k] ** 2 / ztz[k, k] for k in range(q)]), axis=0)
    good = np.isfinite(ratio) & (ratio > 1e-8)
    if good.sum() < 2 * q + 2:
        return None
    low, ztz = low[:, :, good], ztz[:, :, good]
    used = np.flatnonzero(positive)[good]
    zty = cross[zi, yi][:, used]
    coef = _backward_stack(low, _forward_stack(low, zty[:, None, :]))[:, 0, :]  # (q, G)
    rss = cross[yi, yi][used] - np.sum(coef * zty, axis=0)
    sigma2 = float(rss.sum() / (n[used] - q).sum())
    if not sigma2 > 0:
        return None
    eye = np.broadcast_to(np.eye(q)[:, :, None], (q, q, used.size))
    inverse_mean = _backward_stack(low, _forward_stack(low, eye)).mean(axis=-1)
    cov = np.atleast_2d(np.cov(coef)) - sigma2 * inverse_mean
    values, vectors = np.linalg.eigh(0.5 * (cov + cov.T) / sigma2)
    values = np.maximum(values, 1e-3 * max(float(values.max()), 1e-2))
    relative = (vectors * values) @ vectors.T
    lam = np.zeros((q, q))
    for block in statistics.blocks():
        lam[np.ix_(block, block)] = np.linalg.cholesky(relative[np.ix_(block, block)])
    start = lam[model.rows, model.cols]
    return np.asarray(start) if np.all(np.isfinite(start)) else None


def _scaled_gradient(objective: Any, params: _Array, lower: _Array) -> float:
    """lme4's convergence check: the gradient scaled by the Hessian, max |min(H^-1 g, g)|.

    Parameters on their bound are left out. The Hessian is taken by central differences of the
    gradient. Returns ``inf`` when the Hessian is not positive definite.
    """
    lower_all = np.concatenate([lower, np.full(params.size - lower.size, -np.inf)])
    free = np.flatnonzero(params > lower_all + 1e-8)
    if free.size == 0:
        return 0.0
    grad = objective(params)[1][free]
    hess = np.empty((free.size, free.size))
    for row, i in enumerate(free):
        step = 1e-5 * max(abs(params[i]), 0.1)
        up, down = params.copy(), params.copy()
        up[i] += step
        down[i] -= step
        hess[row] = (objective(up)[1] - objective(down)[1])[free] / (2 * step)
    hess = 0.5 * (hess + hess.T)
    try:
        factor = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return math.inf
    scaled = np.linalg.solve(factor.T, grad)
    return float(np.max(np.minimum(np.abs(scaled), np.abs(grad))))


def _singularity(
    theta: _Array, model: _Model, z_names: list[str], group: str
) -> tuple[bool, list[str]]:
    """lme4's singular-fit check, explained: a variance at zero or a correlation at +-1."""
    lam = model.lam(theta)
    diag = np.diag(lam)
    at_zero = [k for k in range(model.q) if diag[k] < SINGULAR_TOLERANCE]
    if not at_zero:
        return False, []
    cov = lam @ lam.T
    notes = []
    for k in at_zero:
        row_norm = math.sqrt(float(cov[k, k]))
        if row_norm < SINGULAR_TOLERANCE:
            notes.append(
                f"Singular fit: the variance of {z_names[k]} across {group} is estimated at zero "
                f"(the data show no differences between {group} groups in {z_names[k]} beyond "
                "the residual noise). Consider dropping that random effect."
            )
            continue
        sds = np.sqrt(np.maximum(np.diag(cov), 1e-300))
        cors = cov[k, :k] / (sds[k] * sds[:k])
        j = int(np.argmax(np.abs(cors))) if k else 0
        sign = "+1" if cors[j] > 0 else "-1"
        notes.append(
            f"Singular fit: the correlation of the random effects {z_names[j]} and "
            f"{z_names[k]} across {group} is estimated at {sign} (one of them carries no "
            "information beyond the other). Consider a simpler random-effects term."
        )
    return True, notes


def _variance_table(
    cov: _Array,
    names: list[str],
    group: str,
    residual_sd: dict[str, float],
    blocks: list[list[int]],
) -> pd.DataFrame:
    """lme4's ``as.data.frame(VarCorr(fit))``: per block its variances, then its covariances;
    the second block of the same grouping column is named ``group.1``, and so on."""
    rows: list[dict[str, Any]] = []
    sds = np.sqrt(np.diag(cov))
    for number, block in enumerate(blocks):
        label = group if number == 0 else f"{group}.{number}"
        for k in block:
            rows.append(
                {"group": label, "var1": names[k], "var2": None, "vcov": cov[k, k], "sdcor": sds[k]}
            )
        for a, j in enumerate(block):
            for k in block[a + 1 :]:
                denom = sds[j] * sds[k]
                cor = cov[j, k] / denom if denom > 0 else math.nan
                rows.append(
                    {
                        "group": label,
                        "var1": names[j],
                        "var2": names[k],
                        "vcov": cov[j, k],
                        "sdcor": cor,
                    }
                )
    for level, sd in residual_sd.items():
        rows.append(
            {"group": "Residual", "var1": level or None, "var2": None, "vcov": sd**2, "sdcor": sd}
        )
    return pd.DataFrame(rows, columns=["group", "var1", "var2", "vcov", "sdcor"])


def _varpar_labels(model: _Model, z_names: list[str], statistics: LmmStatistics) -> list[str]:
    """Plain-words names of varpar = (theta, log delta, sigma), for messages.

    theta (a lower-triangular element of Lambda, the relative Cholesky factor) is named by the
    variance or covariance it mainly sets: a diagonal element the variance of its random
    effect, an element below the diagonal the covariance of its row's and its column's random
    effects. sigma is the residual SD of the reference level, log delta_s that of level s.
    """
    labels = [
        f"the variance of {z_names[r]} across {statistics.group}"
        if r == c
        else f"the covariance of {z_names[c]} and {z_names[r]} across {statistics.group}"
        for r, c in zip(model.rows, model.cols, strict=True)
    ]
    labels += [
        f"the residual variance of {statistics.residual_groups} = {level}"
        for level in statistics.strata[1:]
    ]
    reference = (
        f" of {statistics.residual_groups} = {statistics.strata[0]}" if statistics.strata else ""
    )
    labels.append(f"the residual variance{reference}")
    return labels


def _satterthwaite(
    model: _Model,
    theta: _Array,
    log_delta: _Array,
    sigma: float,
    notes: list[str],
    *,
    labels: list[str],
    terms: list[str],
) -> _Array:
    """Satterthwaite degrees of freedom per fixed effect, as lmerTest computes them.

    The Hessian of the deviance in varpar = (theta, log delta, sigma) is taken by central
    differences of its analytic gradient; parameters on the boundary (a zero variance) are held
    fixed, as the asymptotics do not apply to them. The df do not depend on how the variance
    parameters are written (theta, log delta and sigma here; nlme's or the natural
    variances give the same df, see tests/analysis/reference/satterthwaite_varident.R).

    A df below 1 is explained in ``notes``: with H = sum_k lambda_k v_k v_k', the denominator
    g'Ag = 2 sum_k (v_k'g)^2 / lambda_k, and the note names the parameter that dominates the
    eigenvector v_k contributing most (a direction in which the deviance is nearly flat).
    """
    base = np.concatenate([theta, log_delta, [sigma]])
    free = np.ones(base.size, dtype=bool)
    free[: model.n_theta] = ~((model.lower[: model.n_theta] == 0) & (theta < SINGULAR_TOLERANCE))
    index = np.flatnonzero(free)
    steps = 1e-4 * np.maximum(np.abs(base), 0.05)
    k = index.size
    hess = np.empty((k, k))
    jac = np.empty((k, model.p))
    for row, i in enumerate(index):
        up, down = base.copy(), base.copy()
        up[i] += steps[i]
        down[i] -= steps[i]
        hess[row] = (model.gradient_varpar(up) - model.gradient_varpar(down))[index] / (
            2 * steps[i]
        )
        jac[row] = (np.diag(model.vcov_varpar(up)) - np.diag(model.vcov_varpar(down))) / (
            2 * steps[i]
        )
    hess = 0.5 * (hess + hess.T)
    try:
        a_mat = 2.0 * np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        notes.append("Satterthwaite degrees of freedom could not be computed (flat likelihood).")
        return np.full(model.p, np.nan)
    var_beta = np.diag(model.vcov_varpar(base))
    denom = np.einsum("ip,ij,jp->p", jac, a_mat, jac)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = 2.0 * var_beta**2 / denom
    low = np.flatnonzero(df < 1.0)
    if low.size:
        notes.append(_low_df_note(hess, jac, low, [labels[i] for i in index], terms))
    return np.asarray(df)


def _low_df_note(
    hess: _Array, jac: _Array, low: _Array, labels: list[str], terms: list[str]
) -> str:
    """Explain Satterthwaite df below 1: which nearly flat variance parameter causes them."""
    values, vectors = np.linalg.eigh(hess)
    causes: list[str] = []
    for j in low:
        share = (vectors.T @ jac[:, j]) ** 2 / np.where(values > 0, values, np.nan)
        if not np.isfinite(share).any():
            continue
        direction = vectors[:, int(np.nanargmax(share))]
        cause = labels[int(np.argmax(np.abs(direction)))]
        if cause not in causes:
            causes.append(cause)
    names = ", ".join(terms[j] for j in low)
    flat = " and ".join(causes) if causes else "a variance parameter"
    return (
        f"Satterthwaite degrees of freedom below 1 for {names}: their standard errors depend on "
        f"{flat}, which the data barely determine (the likelihood is nearly flat in it), so "
        "their t-tests and p-values are not reliable. The model is close to unidentified, for "
        "example when a fixed effect and a random-effect covariance describe the same thing "
        "(a group mean of one response predicting another, with correlated random "
        "intercepts); simplify the random or the fixed effects."
    )
