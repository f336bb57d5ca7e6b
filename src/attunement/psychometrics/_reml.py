"""REML estimates of the variance components of a random-effects model with crossed factors.

The model is y = 1 mu + sum_r Z_r u_r + e, with u_r ~ N(0, s2_r I) for each random factor r
(person, time, item, their interactions) and e ~ N(0, s2 I). It is what
``lme4::lmer(values ~ 1 + (1 | id) + (1 | time) + ...)`` fits, and we use lme4's profiled REML
criterion (Bates, Maechler, Bolker & Walker, 2015, J. Stat. Softw. 67(1), section 3) with
relative standard deviations theta_r = sqrt(s2_r / s2) and Lambda = diag(theta_r, repeated):

    A = Lambda Z'Z Lambda + I,   c_u'c_u = y'Z Lambda A^-1 Lambda Z'y  (likewise for X = 1),
    R_X^2 = n - c_X'c_X,   mu = (1'y - c_X'c_u) / R_X^2,   r^2 = y'y - c_u'c_u - mu (1'y - c_X'c_u),
    REML criterion = log|A| + log R_X^2 + (n - 1) (1 + log(2 pi r^2 / (n - 1))),

with s2 = r^2 / (n - 1). A is sparse; its determinant and solves come from a sparse LU
factorisation (SuperLU, symmetric mode, with a fill-reducing ordering found once). The
criterion is minimised over theta >= 0 by L-BFGS-B with central-difference gradients (the
criterion is even in each theta_r, so differences across zero are valid), from a start the
caller supplies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse
from scipy.sparse import linalg as sparse_linalg
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from attunement.psychometrics._item_matrix import FloatArray

__all__ = ["RemlFit", "RemlProblem", "reml_components"]

IntArray = npt.NDArray[np.intp]

_STEP = 1e-6


@dataclass(frozen=True, slots=True)
class RemlFit:
    """Variance components (one per factor, in the order given) and the residual variance."""

    components: tuple[float, ...]
    residual: float
    theta: tuple[float, ...]
    criterion: float
    converged: bool


class RemlProblem:
    """The sufficient statistics of one model: Z'Z, Z'y, Z'1, y'y, 1'y and n."""

    def __init__(self, y: FloatArray, factors: Sequence[IntArray]) -> None:
        n = y.shape[0]
        sizes = [int(codes.max()) + 1 for codes in factors]
        offsets = np.cumsum([0, *sizes[:-1]])
        rows = np.concatenate([np.arange(n)] * len(factors))
        cols = np.concatenate([c + o for c, o in zip(factors, offsets, strict=True)])
        z = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, sum(sizes)))
        ztz = sparse.csc_matrix(z.T @ z)
        self.identity = sparse.identity(ztz.shape[0], format="csc")
        # A fill-reducing order computed once (A's pattern does not depend on theta) and
        # applied to Z'Z, so every later factorisation skips the ordering step.
        order = _splu(sparse.csc_matrix(ztz + self.identity), "MMD_AT_PLUS_A").perm_c
        inverse = np.argsort(order)
        self.n = n
        self.ztz = sparse.csc_matrix(ztz[inverse][:, inverse])
        self.zty = np.asarray(z.T @ y).ravel()[inverse]
        self.ztx = np.asarray(z.sum(axis=0)).ravel()[inverse]
        self.yty, self.xty = float(y @ y), float(y.sum())
        self.block = np.repeat(np.arange(len(factors)), sizes)[inverse]

    def criterion(self, theta: FloatArray) -> tuple[float, float]:
        """The REML criterion (-2 restricted log-likelihood) at theta, and s2 there."""
        lam = np.asarray(theta, dtype=np.float64)[self.block]
        scale = sparse.diags(lam)
        a = sparse.csc_matrix(scale @ self.ztz @ scale + self.identity)
        lu = _splu(a, "NATURAL")
        log_det = float(np.log(np.abs(lu.U.diagonal())).sum())
        rhs = np.column_stack([lam * self.zty, lam * self.ztx])
        solved = lu.solve(rhs)
        cuu = float(rhs[:, 0] @ solved[:, 0])
        cxu = float(rhs[:, 1] @ solved[:, 0])
        cxx = float(rhs[:, 1] @ solved[:, 1])
        rx2 = self.n - cxx
        mu = (self.xty - cxu) / rx2
        r2 = max(self.yty - cuu - mu * (self.xty - cxu), 1e-300)
        dof = self.n - 1
        value = log_det + float(np.log(rx2)) + dof * (1 + float(np.log(2 * np.pi * r2 / dof)))
        return value, r2 / dof


def _splu(a: sparse.csc_matrix, ordering: str) -> sparse_linalg.SuperLU:
    return sparse_linalg.splu(
        a, permc_spec=ordering, options={"SymmetricMode": True}, diag_pivot_thresh=0
    )


def reml_components(
    y: FloatArray, factors: Sequence[IntArray], *, start: FloatArray | None = None
) -> RemlFit:
    """REML variance components of ``y`` with one random intercept per coded factor.

    ``factors`` hold integer codes 0..m_r-1 per row, one array per random factor; ``start``
    is a starting theta (relative standard deviations; default all 1, as lme4).
    """
    problem = RemlProblem(y, factors)
    k = len(factors)

    def with_gradient(theta: FloatArray) -> tuple[float, FloatArray]:
        value = problem.criterion(theta)[0]
        gradient = np.empty(k)
        for r in range(k):
            step = np.zeros(k)
            step[r] = _STEP
            up = problem.criterion(theta + step)[0]
            down = problem.criterion(theta - step)[0]
            gradient[r] = (up - down) / (2 * _STEP)
        return value, gradient

    first = np.ones(k) if start is None else np.maximum(np.asarray(start, dtype=np.float64), 0)
    # small dense pieces only: BLAS threads add overhead and stall on a busy machine
    with threadpool_limits(limits=1, user_api="blas"):
        result = optimize.minimize(
            with_gradient,
            first,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * k,
            options={"ftol": 1e-13, "gtol": 1e-5, "maxiter": 500},
        )
    theta = np.asarray(result.x, dtype=np.float64)
    value, sigma2 = problem.criterion(theta)
    gradient = with_gradient(theta)[1]
    interior = theta > 1e-8
    converged = bool(np.all(np.abs(gradient[interior]) < 1e-3)) and bool(
        np.all(gradient[~interior] > -1e-3)
    )
    return RemlFit(
        components=tuple(float(sigma2 * t**2) for t in theta),
        residual=float(sigma2),
        theta=tuple(float(t) for t in theta),
        criterion=float(value),
        converged=converged,
    )
