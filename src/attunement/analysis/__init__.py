"""Statistical analysis of relationship data: linear mixed models written as in lme4.

:func:`fit_lmm` fits two-level linear mixed models (random intercepts, correlated random slopes,
the two-intercept models of dyads) by REML or ML from per-group sufficient statistics, with
results equal to lme4's. See ``docs/mixed-models.md``.
"""

from __future__ import annotations

from attunement.analysis.formula import Formula, parse_formula
from attunement.analysis.mixed import (
    LmmResult,
    LmmStatistics,
    fit_lmm,
    fit_lmm_statistics,
    lmm_statistics,
)

__all__ = [
    "Formula",
    "LmmResult",
    "LmmStatistics",
    "fit_lmm",
    "fit_lmm_statistics",
    "lmm_statistics",
    "parse_formula",
]
