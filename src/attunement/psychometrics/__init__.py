"""Reliability of questionnaire scales: alpha, omega, item statistics, diary reliability.

Every function takes a tidy pandas DataFrame and returns one with fixed snake_case columns:

- :func:`cronbach_alpha`: alpha with Feldt's confidence interval (one row).
- :func:`item_statistics`: corrected item-total correlation and alpha if item deleted (per item).
- :func:`omega_total`: McDonald's omega from a one-factor minres model (one row);
  :func:`factor_loadings` gives that model's loadings (per item).
- :func:`scale_reliability`: all of the above for one scale (what ``attunement reliability``
  prints).
- :func:`multilevel_reliability`: the generalizability coefficients R_KF, R_1R, R_KR, R_C (and
  the nested R_KRN, R_CN) of a diary scale (Cranford et al., 2006; Shrout & Lane, 2012).

Values agree with R's psych package (2.2.9); see ``docs/reliability.md``.
"""

from attunement.psychometrics.alpha import (
    ALPHA_COLUMNS,
    ITEM_STATISTICS_COLUMNS,
    cronbach_alpha,
    feldt_interval,
    item_statistics,
)
from attunement.psychometrics.multilevel import MULTILEVEL_COLUMNS, multilevel_reliability
from attunement.psychometrics.omega import (
    FACTOR_LOADING_COLUMNS,
    OMEGA_COLUMNS,
    OneFactorFit,
    factor_loadings,
    fit_one_factor,
    omega_total,
)
from attunement.psychometrics.report import ScaleReliability, scale_reliability

__all__ = [
    "ALPHA_COLUMNS",
    "FACTOR_LOADING_COLUMNS",
    "ITEM_STATISTICS_COLUMNS",
    "MULTILEVEL_COLUMNS",
    "OMEGA_COLUMNS",
    "OneFactorFit",
    "ScaleReliability",
    "cronbach_alpha",
    "factor_loadings",
    "feldt_interval",
    "fit_one_factor",
    "item_statistics",
    "multilevel_reliability",
    "omega_total",
    "scale_reliability",
]
