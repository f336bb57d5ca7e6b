"""Statistical analysis of relationship data: linear mixed models written as in lme4.

:func:`fit_lmm` fits two-level linear mixed models (random intercepts, correlated random slopes,
the two-intercept models of dyads) by REML or ML from per-group sufficient statistics, with
results equal to lme4's. See ``docs/mixed-models.md``.

Built on it: person-mean centring, the intimacy process model and 1-1-1 mediation
(:func:`process_model`, :func:`mediation_111`), actor-partner models of dyads (:func:`apim`) and
correlations of emotional intimacy with outcome scales (:func:`outcome_correlations`). See
``docs/analysis.md``.
"""

from __future__ import annotations

from attunement.analysis.centring import person_mean_centre
from attunement.analysis.dyadic import (
    ApimResult,
    apim,
    apim_diary,
    dyad_asymmetry,
    dyads_to_long,
    partner_values,
)
from attunement.analysis.formula import Formula, parse_formula
from attunement.analysis.mixed import (
    LmmResult,
    LmmStatistics,
    fit_lmm,
    fit_lmm_statistics,
    lmm_statistics,
)
from attunement.analysis.mixed_sql import fit_lmm_sql, lmm_statistics_sql
from attunement.analysis.outcomes import benjamini_hochberg, outcome_correlations
from attunement.analysis.process import (
    MediationResult,
    ProcessResult,
    mediation_111,
    process_model,
)

__all__ = [
    "ApimResult",
    "Formula",
    "LmmResult",
    "LmmStatistics",
    "MediationResult",
    "ProcessResult",
    "apim",
    "apim_diary",
    "benjamini_hochberg",
    "dyad_asymmetry",
    "dyads_to_long",
    "fit_lmm",
    "fit_lmm_sql",
    "fit_lmm_statistics",
    "lmm_statistics",
    "lmm_statistics_sql",
    "mediation_111",
    "outcome_correlations",
    "parse_formula",
    "partner_values",
    "person_mean_centre",
    "process_model",
]
