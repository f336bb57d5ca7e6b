"""Actor-partner interdependence models (APIM) of dyads: couples, friends, patient and carer.

In a dyad each person's outcome may depend on their own predictor (the **actor** effect) and on
their partner's (the **partner** effect); the two outcomes' residuals are correlated (Kenny,
Kashy & Cook, 2006, *Dyadic Data Analysis*; Cook & Kenny, 2005, *International Journal of
Behavioral Development* 29, 101-109):

    y_1 = i_1 + a_1 x_1 + p_12 x_2 + e_1,    y_2 = i_2 + a_2 x_2 + p_21 x_1 + e_2,
    Var(e_r) = sigma_r^2,  Cor(e_1, e_2) = rho.

**Distinguishable dyads** (the members differ by a role, e.g. patient and carer, or man and
woman in different-sex couples) get their own intercept, actor and partner effects and residual
variance per role. **Indistinguishable dyads** (roommates, many same-sex couples) share one set
of effects and one residual variance; rho is then the partial intraclass correlation.

Estimation is generalised least squares of the stacked two-person data with an unstructured 2 x 2
residual covariance per dyad, by REML (default) or ML, exactly the model of R's
``nlme::gls(y ~ 0 + role + role:x_actor + role:x_partner, correlation = corSymm(form = ~ r | dyad),
weights = varIdent(form = ~ 1 | role))`` for distinguishable dyads and
``nlme::gls(y ~ x_actor + x_partner, correlation = corCompSymm(form = ~ 1 | dyad))`` for
indistinguishable ones (Kenny's multilevel formulation with compound symmetry; unlike a random
dyad intercept it allows a negative rho). A dyad with one member's outcome missing still counts
with that member's row. Standard errors come from (X' V^-1 X)^-1 at the estimated covariance
(times N / (N - p) for ML fits); t tests use N - p degrees of freedom; both as ``nlme`` does.

**k = p / a** (Kenny & Ledermann, 2010, *Journal of Family Psychology* 24, 359-366) tells the
pattern: k = 1 couple-oriented (own and partner's x matter equally), k = 0 actor-only, k = -1
contrast. Its confidence interval is a Monte Carlo interval (Selig & Preacher, 2008): draws of
(a, p) from the normal distribution with the estimates' covariance, percentiles of p / a. The
ratio is meaningful only when the actor effect clearly differs from zero; the result says so
when its CI includes zero. (Kenny and Ledermann use a bootstrap; the Monte Carlo interval
approximates it without refitting.)

**Asymmetry** (:func:`dyad_asymmetry`): for a per-person score such as the Emotional Intimacy
Scale or daily disclosure, the signed difference between the members, its absolute size and its
size in units of the sample's standard deviation of individual scores, and which member scores
higher, i.e. is "more invested". Difference scores as dyadic indices follow Kenny, Kashy &
Cook (2006, ch. 3); the idea that the less involved partner holds more power is Waller's
"principle of least interest" (Sprecher, Schmeeckle & Felmlee, 2006, *Journal of Family
Issues* 27, 1255-1280) [U: the index is this project's operationalisation, not a published
scale].

Input is long: one row per person (cross-sectional) with columns for the dyad, the person, the
role (distinguishable dyads), the predictor x and the outcome y. A dyad-wide export (partners side
by side) must be made long first, one row per person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from attunement.analysis._input import complete_rows, require_columns, require_numeric
from attunement.analysis.centring import person_mean_centre
from attunement.analysis.mixed import LmmResult, fit_lmm
from attunement.errors import InvalidInputError, Problem

__all__ = [
    "ApimResult",
    "apim",
    "apim_diary",
    "dyad_asymmetry",
    "dyads_to_long",
    "partner_values",
]

_Array = np.ndarray
_PATTERNS = {"actor-only": 0.0, "couple": 1.0, "contrast": -1.0}


@dataclass(frozen=True)
class ApimResult:
    """A fitted APIM.

    ``effects``: one row per role (``"all"`` for indistinguishable dyads) and effect
    (``intercept``, ``actor``, ``partner``, plus ``actor_within``... for diary models) with
    ``estimate``, ``se``, ``df``, ``t``, ``p_val``, ``ci_low``, ``ci_high``.
    ``k``: per role and ``level`` (``overall``; ``within`` and ``between`` for diaries) the ratio
    p / a with its Monte Carlo ``ci_low``/``ci_high`` and ``pattern`` (the patterns whose k
    value, 1, 0 or -1, lies inside the CI).
    ``residual_sd`` per role, ``residual_cor`` the correlation of the partners' residuals (NaN
    for diary models, which model partner similarity by correlated random intercepts instead).
    ``fit``: the mixed model of a diary APIM (``None`` for cross-sectional data).
    """

    distinguishable: bool
    roles: tuple[str, ...]
    effects: pd.DataFrame
    k: pd.DataFrame
    residual_sd: dict[str, float]
    residual_cor: float
    loglik: float
    reml: bool
    n_dyads: int
    n_persons: int
    n_dropped: int
    converged: bool
    messages: tuple[str, ...]
    vcov: pd.DataFrame
    fit: LmmResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: effects by role, k, residuals, counts and messages."""
        effects: dict[str, dict[str, dict[str, float | None]]] = {}
        for row in self.effects.itertuples():
            effects.setdefault(str(row.role), {})[str(row.effect)] = {
                key: _num(getattr(row, key))
                for key in ("estimate", "se", "df", "t", "p_val", "ci_low", "ci_high")
            }
        return {
            "model": "apim",
            "distinguishable": self.distinguishable,
            "roles": list(self.roles),
            "effects": effects,
            "k": [
                {
                    "role": str(row.role),
                    "level": str(row.level),
                    "estimate": _num(row.estimate),
                    "ci_low": _num(row.ci_low),
                    "ci_high": _num(row.ci_high),
                    "pattern": str(row.pattern),
                }
                for row in self.k.itertuples()
            ],
            "residual_sd": {k: _num(v) for k, v in self.residual_sd.items()},
            "residual_cor": _num(self.residual_cor),
            "loglik": _num(self.loglik),
            "reml": self.reml,
            "n_dyads": self.n_dyads,
            "n_persons": self.n_persons,
            "n_dropped": self.n_dropped,
            "converged": self.converged,
            "diary": self.fit is not None,
            "random": None if self.fit is None else self.fit.to_dict()["random"],
            "messages": list(self.messages),
        }


def apim(
    frame: pd.DataFrame,
    *,
    dyad: str = "dyad",
    person: str = "person",
    x: str = "x",
    y: str = "y",
    role: str | None = None,
    reml: bool = True,
    confidence: float = 0.95,
    draws: int = 20_000,
    seed: int | None = 0,
) -> ApimResult:
    """Fit a cross-sectional APIM; distinguishable when ``role`` names a column of two levels.

    ``frame`` is long: one row per person. The partner's predictor is found by dyad. Rows with a
    missing x, y or id are left out (listwise; the count is in ``n_dropped`` and ``messages``),
    and so are persons whose partner has no x (their partner effect cannot be formed).
    ``seed`` seeds the Monte Carlo draws of the k interval (``None``: fresh randomness).
    """
    _check_options(confidence, draws)
    data = _load(
        frame,
        [dyad, person],
        role,
        [x, y],
        what="APIM",
        repeated="Some persons have more than one row, but a cross-sectional APIM needs one per "
        "person.",
        hint="For diaries (one row per person and occasion) use apim_diary.",
    )
    with_partner = partner_values(data, dyad=dyad, person=person, columns=[x])
    with_partner = with_partner.rename(columns={x: "x_actor", f"{x}_partner": "x_partner"})
    roles = _roles(with_partner, dyad, person, role)
    used, n_dropped, messages = _complete(
        with_partner,
        ["x_actor", "x_partner", y],
        dyad,
        n_total=len(frame),
        what="An APIM",
        dropped="persons were left out: a missing x or y, or a partner without x",
    )
    role_codes = (
        np.zeros(len(used), dtype=int)
        if role is None
        else used[role].astype(str).map({r: i for i, r in enumerate(roles)}).to_numpy()
    )
    design, names = _design(used, role_codes, roles, ["x_actor", "x_partner"], role is not None)
    fit = _fit_dyad_gls(
        used[y].to_numpy(float),
        design,
        names,
        used[dyad].astype(str).to_numpy(),
        used[person].astype(str).to_numpy(),
        role_codes,
        distinguishable=role is not None,
        reml=reml,
    )
    messages.extend(fit.messages)
    effects = _effects_table(fit, names, confidence)
    k = _k_table(
        fit.beta,
        fit.vcov,
        names,
        roles if role else ("all",),
        confidence=confidence,
        draws=draws,
        seed=seed,
        messages=messages,
    )
    residual_sd = (
        {r: float(s) for r, s in zip(roles, fit.sigma, strict=True)}
        if role
        else {"all": float(fit.sigma[0])}
    )
    return ApimResult(
        distinguishable=role is not None,
        roles=tuple(roles) if role else ("all",),
        effects=effects,
        k=k,
        residual_sd=residual_sd,
        residual_cor=float(fit.rho),
        loglik=float(fit.loglik),
        reml=reml,
        n_dyads=int(used[dyad].nunique()),
        n_persons=len(used),
        n_dropped=n_dropped,
        converged=fit.converged,
        messages=tuple(messages),
        vcov=pd.DataFrame(fit.vcov, index=names, columns=names),
    )


def apim_diary(
    frame: pd.DataFrame,
    *,
    dyad: str = "dyad",
    person: str = "person",
    occasion: str = "occasion",
    x: str = "x",
    y: str = "y",
    role: str | None = None,
    reml: bool = True,
    confidence: float = 0.95,
    draws: int = 20_000,
    seed: int | None = 0,
) -> ApimResult:
    """Fit a diary APIM: actor and partner effects split into within- and between-person parts.

    ``frame`` is long: one row per person and occasion; partners are matched by dyad and
    ``occasion``. Each person's x is person-mean centred (see
    :func:`~attunement.analysis.centring.person_mean_centre`); the partner's within part is the
    partner's deviation from *their* mean on the same occasion, the partner's between part their
    centred mean. The mixed model (Laurenceau & Bolger, 2005; Kenny, Kashy & Cook, 2006, ch. 13)
    for distinguishable dyads is

        y ~ 0 + role_1 + role_2 + role_r:(actor_within + partner_within + actor_between
            + partner_between) + (0 + role_1 + role_2 | dyad),

    with a residual variance per role (nlme's ``varIdent``): each role its own intercept,
    effects and residual variance, and correlated random intercepts of the two partners.
    Indistinguishable dyads share one set of effects and one residual variance; the two
    members' random intercepts (member 1 = the id that sorts first) stay correlated with free
    variances, an approximation of Kenny's equal-variance model that lme4-type engines cannot
    constrain. The partners' same-day residuals are not correlated in this model (a
    simplification many diary APIMs make).
    """
    _check_options(confidence, draws)
    data = _load(
        frame,
        [dyad, person, occasion],
        role,
        [x, y],
        what="diary APIM",
        repeated="Some persons have more than one row for one occasion.",
        hint="Give one row per person and occasion (or number the occasions uniquely).",
    )
    centred = person_mean_centre(data, person, [x])
    centred = centred.rename(
        columns={f"{x}_within": "actor_within", f"{x}_between": "actor_between"}
    )
    with_partner = partner_values(
        centred,
        dyad=dyad,
        person=person,
        columns=["actor_within", "actor_between"],
        occasion=occasion,
    ).rename(
        columns={
            "actor_within_partner": "partner_within",
            "actor_between_partner": "partner_between",
        }
    )
    roles = _roles(with_partner, dyad, person, role)
    predictors = ["actor_within", "partner_within", "actor_between", "partner_between"]
    used, n_dropped, messages = _complete(
        with_partner,
        [*predictors, y],
        dyad,
        n_total=len(frame),
        what="A diary APIM",
        dropped="rows were left out: a missing x or y, or no partner row with x on the same "
        "occasion",
    )
    if role is None:
        first = used.groupby(dyad)[person].transform(lambda p: p.astype(str).min())
        codes = np.where(used[person].astype(str) == first, 0, 1)
    else:
        codes = used[role].astype(str).map({r: i for i, r in enumerate(roles)}).to_numpy()
    model = pd.DataFrame(
        {
            "dyad": used[dyad].astype(str).to_numpy(),
            "y": used[y].to_numpy(float),
            "member_1": (codes == 0).astype(float),
            "member_2": (codes == 1).astype(float),
            "role": np.where(codes == 0, "member_1", "member_2"),
        }
    )
    if role is None:
        for p in predictors:
            model[p] = used[p].to_numpy(float)
        fixed = predictors
        names = [f"all:{e}" for e in ["intercept", *predictors]]
        formula = f"y ~ {' + '.join(fixed)} + (0 + member_1 + member_2 | dyad)"
        residual_groups = None
    else:
        fixed = ["member_1", "member_2"]
        for member in ("member_1", "member_2"):
            for p in predictors:
                model[f"{member}_{p}"] = model[member] * used[p].to_numpy(float)
                fixed.append(f"{member}_{p}")
        names = [f"{roles[0]}:intercept", f"{roles[1]}:intercept"] + [
            f"{roles[m]}:{p}" for m in (0, 1) for p in predictors
        ]
        formula = f"y ~ 0 + {' + '.join(fixed)} + (0 + member_1 + member_2 | dyad)"
        residual_groups = "role"
    fit = fit_lmm(formula, model, reml=reml, residual_groups=residual_groups)
    messages.extend(fit.messages)
    if not fit.converged:
        raise InvalidInputError(
            "The diary APIM did not converge, so its estimates cannot be trusted.",
            hint="Check for dyads with very few days or near-constant x; rescale x.",
            problems=[Problem(m) for m in fit.messages],
        )
    table = fit.fixed.copy()
    table["name"] = names
    split = table["name"].str.rsplit(":", n=1, expand=True)
    crit = stats.t.ppf(0.5 + confidence / 2, table["df"].to_numpy(float))
    effects = pd.DataFrame(
        {
            "role": split[0],
            "effect": split[1],
            "estimate": table["estimate"],
            "se": table["se"],
            "df": table["df"],
            "t": table["t"],
            "p_val": table["p_val"],
            "ci_low": table["estimate"] - crit * table["se"],
            "ci_high": table["estimate"] + crit * table["se"],
        }
    )
    order = {e: i for i, e in enumerate(["intercept", *predictors])}
    effects = effects.sort_values(
        ["role", "effect"], key=lambda c: c.map(order) if c.name == "effect" else c
    ).reset_index(drop=True)
    vcov = fit.vcov.to_numpy(float)
    k = _k_table(
        table["estimate"].to_numpy(float),
        vcov,
        names,
        roles if role else ("all",),
        confidence=confidence,
        draws=draws,
        seed=seed,
        messages=messages,
        levels=("within", "between"),
    )
    if role:
        residual_sd = {roles[0]: fit.residual_sd["member_1"], roles[1]: fit.residual_sd["member_2"]}
    else:
        residual_sd = {"all": float(fit.sigma)}
    return ApimResult(
        distinguishable=role is not None,
        roles=tuple(roles) if role else ("all",),
        effects=effects,
        k=k,
        residual_sd=residual_sd,
        residual_cor=float("nan"),
        loglik=float(fit.loglik),
        reml=reml,
        n_dyads=int(used[dyad].nunique()),
        n_persons=int(used.groupby([dyad, person]).ngroups),
        n_dropped=n_dropped,
        converged=fit.converged,
        messages=tuple(messages),
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        fit=fit,
    )


def partner_values(
    frame: pd.DataFrame,
    *,
    dyad: str,
    person: str,
    columns: Sequence[str],
    occasion: str | None = None,
) -> pd.DataFrame:
    """Add ``<col>_partner``: the value of the other member of the dyad (at the same occasion).

    Every dyad may have at most two persons. Rows whose partner is absent (or has no row at that
    occasion) get a missing value. The index and row order of ``frame`` are kept.
    """
    keys = [dyad] + ([occasion] if occasion else [])
    require_columns(frame, [*keys, person, *columns], what="partner lookup")
    sizes = frame.groupby(dyad, sort=False, observed=True)[person].nunique()
    crowded = sizes[sizes > 2]
    if len(crowded):
        raise InvalidInputError(
            f"{len(crowded)} dyad(s) have more than two persons.",
            hint="A dyad is two people: check the dyad and person columns.",
            problems=[
                Problem(f"{int(n)} persons", column=dyad, value=str(d)) for d, n in crowded.items()
            ][:50],
        )
    left = frame.reset_index(names="__row__")
    right = left[[*keys, person, *columns]].rename(
        columns={person: "__partner__", **{c: f"{c}_partner" for c in columns}}
    )
    merged = left.merge(right, on=keys, how="left")
    merged = merged[merged[person] != merged["__partner__"]]
    merged = merged.drop_duplicates("__row__")
    out = left.merge(
        merged[["__row__", *[f"{c}_partner" for c in columns]]], on="__row__", how="left"
    )
    out = out.set_index("__row__")
    out.index.name = frame.index.name
    return out


def dyads_to_long(
    frame: pd.DataFrame,
    *,
    dyad: str = "dyad_id",
    person: str = "participant",
    suffixes: tuple[str, str] = ("_a", "_b"),
) -> pd.DataFrame:
    """Stack a dyad-wide table (partners side by side) into the long layout the APIMs read.

    Columns ending in the two ``suffixes`` (the store's dyad exports use ``_a`` and ``_b``,
    e.g. ``eis_total_a``, ``eis_total_b``) become one column without the suffix, one row per
    member; other columns (the dyad id, day, week, ...) are repeated on both rows. A column
    ``member`` holds ``a``/``b`` (the suffix without its separator), and ``person`` the
    member's id from ``<person><suffix>`` (e.g. ``participant_a``), or ``<dyad>:<member>``
    when there is no such column. Rows keep the order of the wide table, member a first.
    """
    require_columns(frame, [dyad], what="dyad-wide table")
    first, second = suffixes
    if not first or not second or first == second:
        raise InvalidInputError("Give two different, non-empty suffixes (such as _a and _b).")
    bases = [str(c)[: -len(first)] for c in frame.columns if str(c).endswith(first)]
    paired = [b for b in bases if f"{b}{second}" in frame.columns and b]
    if not paired:
        raise InvalidInputError(
            f"No column pairs ending in {first!r} and {second!r} were found.",
            hint="A dyad-wide table has each partner's value side by side, e.g. eis_total_a "
            "and eis_total_b.",
        )
    suffixed = {f"{b}{sfx}" for b in paired for sfx in suffixes}
    shared = [c for c in frame.columns if c not in suffixed]
    parts = []
    for order, sfx in enumerate(suffixes):
        member = sfx.lstrip("_-. ") or sfx
        part = frame[shared].copy()
        for base in paired:
            part[base] = frame[f"{base}{sfx}"].to_numpy()
        part["member"] = member
        if person not in paired:
            part["person"] = frame[dyad].astype(str) + f":{member}"
        else:
            part = part.rename(columns={person: "person"})
        part["__wide_row__"] = np.arange(len(frame))
        part["__order__"] = order
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["__wide_row__", "__order__"], kind="stable")
    return out.drop(columns=["__wide_row__", "__order__"]).reset_index(drop=True)


def dyad_asymmetry(
    frame: pd.DataFrame,
    *,
    dyad: str = "dyad",
    person: str = "person",
    value: str = "eis_total",
    role: str | None = None,
) -> pd.DataFrame:
    """Per dyad: how far apart the two members' scores are, and who scores higher.

    One row per dyad with both scores present: ``dyad``, ``person_1``, ``person_2``,
    ``value_1``, ``value_2``, ``difference`` (value_1 - value_2), ``abs_difference``,
    ``std_difference`` (difference / SD of all individual scores), ``more_invested`` (the
    person with the higher score, or ``"equal"``). Member 1 is the first role level when
    ``role`` is given, otherwise the member whose id sorts first. With repeated rows per person
    (diaries) each person's mean is used.
    """
    columns = [dyad, person] + ([role] if role else [])
    require_columns(frame, [*columns, value], what="asymmetry index")
    data = require_numeric(frame, [value])
    _check_ids(data, columns)
    per_person = data.groupby(columns, sort=True, observed=True)[value].mean().reset_index()
    per_person = per_person.dropna(subset=[value])
    if role:
        order = _roles(per_person, dyad, person, role)
        per_person["__order__"] = per_person[role].astype(str).map(order.index)
    else:
        per_person["__order__"] = per_person.groupby(dyad)[person].rank(method="first")
    per_person = per_person.sort_values([dyad, "__order__"])
    sd = float(per_person[value].std(ddof=1))
    rows = []
    for dyad_id, members in per_person.groupby(dyad, sort=True):
        if len(members) != 2:
            continue
        first, second = members.iloc[0], members.iloc[1]
        diff = float(first[value] - second[value])
        rows.append(
            {
                "dyad": dyad_id,
                "person_1": first[person],
                "person_2": second[person],
                "value_1": float(first[value]),
                "value_2": float(second[value]),
                "difference": diff,
                "abs_difference": abs(diff),
                "std_difference": diff / sd if sd > 0 else float("nan"),
                "more_invested": first[person]
                if diff > 0
                else second[person]
                if diff < 0
                else "equal",
            }
        )
    if not rows:
        raise InvalidInputError(
            f"No dyad has a {value!r} score for both members.",
            hint="The asymmetry index compares the two members of each dyad.",
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the GLS engine


@dataclass(frozen=True)
class _DyadFit:
    beta: _Array
    vcov: _Array
    sigma: _Array  # per role (one value when indistinguishable)
    rho: float
    loglik: float
    df: int
    converged: bool
    messages: tuple[str, ...]


def _fit_dyad_gls(
    y: _Array,
    design: _Array,
    names: list[str],
    dyads: _Array,
    persons: _Array,
    roles: _Array,
    *,
    distinguishable: bool,
    reml: bool,
) -> _DyadFit:
    """GLS with a 2 x 2 residual covariance per dyad (one or two rows per dyad), REML or ML.

    The covariance parameters (log sigma per role, atanh rho) are optimised numerically; for
    each value beta is the GLS estimate, found by whitening each dyad's rows with the inverse
    Cholesky factor of its covariance block.
    """
    n, p = design.shape
    _check_collinear(design, names)
    order = np.lexsort((roles, persons, dyads))
    y, design, dyads, roles = y[order], design[order], dyads[order], roles[order]
    first = np.r_[True, dyads[1:] != dyads[:-1]]
    second = ~first  # the second row of a two-person dyad
    pair_first = np.r_[second[1:], False] & first  # first rows that have a second row
    i1 = np.flatnonzero(pair_first)
    i2 = i1 + 1
    if distinguishable and np.any(roles[i1] == roles[i2]):
        bad = sorted(set(dyads[i1][roles[i1] == roles[i2]]))
        raise InvalidInputError(
            f"{len(bad)} dyad(s) have two members with the same role.",
            hint="In distinguishable dyads each dyad has one member of each role.",
            problems=[Problem("both members have one role", value=d) for d in bad[:50]],
        )
    n_sigma = 2 if distinguishable else 1

    def whiten(params: _Array) -> tuple[_Array, _Array, float]:
        sig = np.exp(params[:n_sigma])
        rho = float(np.tanh(params[n_sigma]))
        s_row = sig[roles] if distinguishable else np.full(n, sig[0])
        wy = y / s_row
        wx = design / s_row[:, None]
        # the pair block of correlations [[1, rho], [rho, 1]] has Cholesky [[1, 0], [rho, c]]
        c = np.sqrt(1 - rho * rho)
        wy2 = (wy[i2] - rho * wy[i1]) / c
        wx2 = (wx[i2] - rho * wx[i1]) / c
        out_y = wy.copy()
        out_x = wx.copy()
        out_y[i2] = wy2
        out_x[i2] = wx2
        logdet = 2 * float(np.log(s_row).sum()) + len(i1) * float(np.log(c * c))
        return out_y, out_x, logdet

    def criterion(params: _Array) -> float:
        wy, wx, logdet = whiten(params)
        q, r = np.linalg.qr(wx)
        beta = np.linalg.solve(r, q.T @ wy)
        resid = wy - wx @ beta
        value = logdet + float(resid @ resid) + n * np.log(2 * np.pi)
        if reml:
            value += 2 * float(np.log(np.abs(np.diag(r))).sum()) - p * np.log(2 * np.pi)
        return float(value)

    start = _start(y, design, roles, i1, i2, n_sigma)
    result = optimize.minimize(criterion, start, method="BFGS", options={"gtol": 1e-7})
    polish = optimize.minimize(
        criterion, result.x, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12}
    )
    best = polish if polish.fun <= result.fun else result
    converged = bool(result.success or polish.success)
    messages: list[str] = []
    rho = float(np.tanh(best.x[n_sigma]))
    if abs(rho) > 0.999:
        messages.append(
            "The partners' residuals are almost perfectly correlated: the model is near the "
            "edge of what the data can identify."
        )
    if not converged:
        messages.append("The optimiser did not report convergence; treat the results with care.")
    wy, wx, _ = whiten(best.x)
    q, r = np.linalg.qr(wx)
    beta = np.linalg.solve(r, q.T @ wy)
    r_inv = np.linalg.inv(r)
    # nlme scales the ML covariance of beta by N / (N - p), as if sigma were estimated by REML
    scale = 1.0 if reml else n / (n - p)
    return _DyadFit(
        beta=beta,
        vcov=scale * (r_inv @ r_inv.T),
        sigma=np.exp(best.x[:n_sigma]),
        rho=rho,
        loglik=-0.5 * float(best.fun),
        df=n - p,
        converged=converged,
        messages=tuple(messages),
    )


def _start(
    y: _Array, design: _Array, roles: _Array, i1: _Array, i2: _Array, n_sigma: int
) -> _Array:
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    if n_sigma == 2:
        sds = [float(np.std(resid[roles == r])) or 1.0 for r in (0, 1)]
    else:
        sds = [float(np.std(resid)) or 1.0]
    rho = 0.0
    if len(i1) > 2:
        rho = float(np.clip(np.corrcoef(resid[i1], resid[i2])[0, 1], -0.9, 0.9))
        if not np.isfinite(rho):
            rho = 0.0
    return np.array([*np.log(sds), np.arctanh(rho)])


def _check_collinear(design: _Array, names: list[str]) -> None:
    singular_values = np.linalg.svd(design, compute_uv=False)
    if singular_values[-1] <= 1e-10 * singular_values[0]:
        _, r = np.linalg.qr(design)
        weak = [names[i] for i in np.flatnonzero(np.abs(np.diag(r)) <= 1e-8 * np.abs(r[0, 0]))]
        raise InvalidInputError(
            "The predictors are collinear: one is a linear combination of others"
            + (f" ({', '.join(weak)})." if weak else "."),
            hint="Check for a predictor that is constant, or that partners always share the "
            "same x (then actor and partner effects cannot be told apart).",
        )


# --------------------------------------------------------------------------- tables


def _design(
    data: pd.DataFrame,
    role_codes: _Array,
    roles: Sequence[str],
    predictors: list[str],
    distinguishable: bool,
) -> tuple[_Array, list[str]]:
    values = data[predictors].to_numpy(float)
    effects = ["intercept", *[_effect_name(p) for p in predictors]]
    if not distinguishable:
        return np.column_stack([np.ones(len(data)), values]), [f"all:{e}" for e in effects]
    columns = []
    names: list[str] = []
    for code, role in enumerate(roles):
        indicator = (role_codes == code).astype(float)
        columns.append(indicator)
        columns.extend(indicator * values[:, j] for j in range(values.shape[1]))
        names.extend(f"{role}:{e}" for e in effects)
    return np.column_stack(columns), names


def _effect_name(column: str) -> str:
    return column.removeprefix("x_")


def _effects_table(fit: _DyadFit, names: list[str], confidence: float) -> pd.DataFrame:
    se = np.sqrt(np.diag(fit.vcov))
    t = fit.beta / se
    crit = stats.t.ppf(0.5 + confidence / 2, fit.df)
    rows = []
    for name, est, s, tv in zip(names, fit.beta, se, t, strict=True):
        role, effect = name.rsplit(":", 1)
        rows.append(
            {
                "role": role,
                "effect": effect,
                "estimate": float(est),
                "se": float(s),
                "df": float(fit.df),
                "t": float(tv),
                "p_val": float(2 * stats.t.sf(abs(tv), fit.df)),
                "ci_low": float(est - crit * s),
                "ci_high": float(est + crit * s),
            }
        )
    return pd.DataFrame(rows)


def _k_table(
    beta: _Array,
    vcov: _Array,
    names: list[str],
    roles: Sequence[str],
    *,
    confidence: float,
    draws: int,
    seed: int | None,
    messages: list[str],
    levels: Sequence[str] = ("overall",),
) -> pd.DataFrame:
    """k = partner / actor per role (and level), with a Monte Carlo interval (seeded).

    For level ``"overall"`` the effects are named ``actor``/``partner``; otherwise
    ``actor_<level>``/``partner_<level>``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for role, level in ((r, lv) for r in roles for lv in levels):
        suffix = "" if level == "overall" else f"_{level}"
        ia = names.index(f"{role}:actor{suffix}")
        ip = names.index(f"{role}:partner{suffix}")
        mean = beta[[ia, ip]]
        cov = vcov[np.ix_([ia, ip], [ia, ip])]
        sample = rng.multivariate_normal(mean, cov, size=draws, method="cholesky")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = sample[:, 1] / sample[:, 0]
        tail = (1 - confidence) / 2
        low, high = np.quantile(ratios, [tail, 1 - tail])
        estimate = float(mean[1] / mean[0]) if mean[0] != 0 else float("nan")
        inside = [name for name, value in _PATTERNS.items() if low <= value <= high]
        se_a = float(np.sqrt(cov[0, 0]))
        if abs(mean[0]) < stats.norm.ppf(0.5 + confidence / 2) * se_a:
            whose = "" if role == "all" else f" of {role}"
            which = "" if level == "overall" else f" ({level} persons)"
            messages.append(
                f"The actor effect{whose}{which} does not clearly differ from zero, so "
                "k = partner / actor is unstable; read its interval with care."
            )
        rows.append(
            {
                "role": role,
                "level": level,
                "estimate": estimate,
                "ci_low": float(low),
                "ci_high": float(high),
                "pattern": ", ".join(inside) if inside else "none of couple/actor-only/contrast",
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- checks


def _load(
    frame: pd.DataFrame,
    keys: list[str],
    role: str | None,
    values: list[str],
    *,
    what: str,
    repeated: str,
    hint: str,
) -> pd.DataFrame:
    """Columns present, values numeric, ids complete, one row per key."""
    id_columns = keys + ([role] if role else [])
    require_columns(frame, [*id_columns, *values], what=what)
    data = require_numeric(frame, values)
    _check_ids(data, id_columns)
    if data.duplicated(keys).any():
        raise InvalidInputError(repeated, hint=hint, problems=_duplicate_problems(data, keys))
    return data


def _complete(
    data: pd.DataFrame,
    columns: list[str],
    dyad: str,
    *,
    n_total: int,
    what: str,
    dropped: str,
) -> tuple[pd.DataFrame, int, list[str]]:
    """Listwise deletion with the count in a message; at least three dyads must remain."""
    used = complete_rows(data, columns).frame
    n_dropped = n_total - len(used)
    messages = []
    if n_dropped:
        messages.append(f"{n_dropped} of {n_total} {dropped} (listwise deletion).")
    if used[dyad].nunique() < 3:
        raise InvalidInputError(
            f"{what} needs at least 3 dyads with data; found {used[dyad].nunique()}."
        )
    return used, n_dropped, messages


def _check_options(confidence: float, draws: int) -> None:
    if not 0 < confidence < 1:
        raise InvalidInputError(f"confidence must lie between 0 and 1, not {confidence!r}.")
    if draws < 1000:
        raise InvalidInputError(f"Use at least 1000 Monte Carlo draws, not {draws}.")


def _check_ids(data: pd.DataFrame, columns: Sequence[str]) -> None:
    problems = []
    for column in columns:
        for line in data.index[data[column].isna()][:50]:
            problems.append(Problem("missing id", line=_line(data, line), column=column))
    if problems:
        raise InvalidInputError(
            f"{len(problems)} row(s) have no {' / '.join(columns)} value.",
            hint="Every row needs a dyad, a person (and a role) id.",
            problems=problems,
        )


def _roles(data: pd.DataFrame, dyad: str, person: str, role: str | None) -> list[str]:
    if role is None:
        return ["all"]
    column = data[role]
    if isinstance(column.dtype, pd.CategoricalDtype):
        levels = [str(v) for v in column.cat.categories if (column == v).any()]
    else:
        levels = sorted({str(v) for v in column})
    if len(levels) != 2:
        raise InvalidInputError(
            f"Distinguishable dyads need exactly two roles in {role!r}; found {len(levels)}"
            + (f": {', '.join(levels[:10])}." if levels else "."),
            hint="Leave out the role option for indistinguishable dyads.",
        )
    mixed = data.groupby([dyad, person], observed=True)[role].nunique()
    if (mixed > 1).any():
        raise InvalidInputError(
            f"{int((mixed > 1).sum())} person(s) have more than one role.",
            hint="A person keeps one role in a dyad.",
        )
    return levels


def _duplicate_problems(data: pd.DataFrame, keys: list[str]) -> list[Problem]:
    dup = data[data.duplicated(keys, keep=False)]
    return [
        Problem("repeated person", line=_line(data, line), value="/".join(map(str, row)))
        for line, row in zip(dup.index[:50], dup[keys].to_numpy()[:50], strict=False)
    ]


def _line(data: pd.DataFrame, label: object) -> int | None:
    if data.index.name == "line" and isinstance(label, (int, np.integer)):
        return int(label)
    return None


def _num(value: Any) -> float | None:
    number = float(value)
    return None if not np.isfinite(number) else number
