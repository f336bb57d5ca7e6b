"""Cross-sectional APIM and the asymmetry index, against nlme::gls (reference_process/apim.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attunement.analysis.dyadic import apim, apim_diary, dyad_asymmetry, partner_values
from attunement.datafile import read_table
from attunement.errors import InvalidInputError

REF = Path(__file__).parent / "reference_process"
R_TERMS = {
    "rolecarer": ("carer", "intercept"),
    "rolepatient": ("patient", "intercept"),
    "rolecarer:x_actor": ("carer", "actor"),
    "rolepatient:x_actor": ("patient", "actor"),
    "rolecarer:x_partner": ("carer", "partner"),
    "rolepatient:x_partner": ("patient", "partner"),
    "(Intercept)": ("all", "intercept"),
    "x_actor": ("all", "actor"),
    "x_partner": ("all", "partner"),
}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return read_table(REF / "apim_data.csv")


@pytest.mark.parametrize("distinguishable", [True, False])
@pytest.mark.parametrize("method", ["REML", "ML"])
def test_apim_matches_nlme_gls(data: pd.DataFrame, distinguishable: bool, method: str) -> None:
    ref = pd.read_csv(REF / "apim_r.csv")
    kind = "distinguishable" if distinguishable else "indistinguishable"
    ref = ref[ref["model"] == f"{kind}_{method}"]
    fit = apim(data, role="role" if distinguishable else None, reml=method == "REML")
    effects = fit.effects.set_index(["role", "effect"])
    for row in ref.itertuples():
        got = effects.loc[R_TERMS[str(row.term)]]
        # Both fits reach the same log-likelihood to 1e-10, but the criterion is flat in rho
        # (R's and our rho differ by ~1e-6), which moves estimates and SEs by ~1e-7 relative.
        # A p-value moves by about |t| times the relative change of t: hence rel=1e-4 there.
        assert got["estimate"] == pytest.approx(row.estimate, rel=1e-6, abs=1e-8)
        assert got["se"] == pytest.approx(row.se, rel=1e-6)
        assert got["p_val"] == pytest.approx(row.p_val, rel=1e-4)
        assert got["df"] == row.df
    first = ref.iloc[0]
    assert fit.loglik == pytest.approx(first["loglik"], abs=1e-7)
    assert fit.residual_cor == pytest.approx(first["rho"], rel=1e-5)
    sds = list(fit.residual_sd.values())
    assert sds[0] == pytest.approx(first["sigma_carer"], rel=1e-6)
    assert sds[-1] == pytest.approx(first["sigma_patient"], rel=1e-6)
    assert fit.n_dropped == 2
    assert fit.n_dyads == 120
    assert "2 of 240 persons were left out" in fit.messages[0]


def test_k_ratio_interval_is_seeded_and_brackets_the_estimate(data: pd.DataFrame) -> None:
    one = apim(data, role="role", seed=7)
    two = apim(data, role="role", seed=7)
    other = apim(data, role="role", seed=8)
    pd.testing.assert_frame_equal(one.k, two.k)
    assert not one.k.equals(other.k)
    effects = one.effects.set_index(["role", "effect"])["estimate"]
    for row in one.k.itertuples():
        assert row.estimate == pytest.approx(
            effects[(row.role, "partner")] / effects[(row.role, "actor")]
        )
        assert row.ci_low < row.estimate < row.ci_high
    patterns = dict(zip(one.k["role"], one.k["pattern"], strict=True))
    # carer: partner effect near zero -> actor-only; patient: p close to a -> couple
    assert patterns == {"carer": "actor-only", "patient": "couple"}
    # Monte Carlo error of the bounds with 20,000 draws is small
    assert abs(one.k["ci_low"].iloc[0] - other.k["ci_low"].iloc[0]) < 0.02


def test_apim_result_serialises(data: pd.DataFrame) -> None:
    out = apim(data, role="role").to_dict()
    assert set(out["effects"]) == {"carer", "patient"}
    assert set(out["effects"]["carer"]) == {"intercept", "actor", "partner"}
    assert out["effects"]["carer"]["actor"]["estimate"] == pytest.approx(0.526591882801249)
    patterns = {(k["role"], k["level"]): k["pattern"] for k in out["k"]}
    assert patterns[("patient", "overall")] == "couple"
    assert out["diary"] is False


def test_asymmetry_matches_r(data: pd.DataFrame) -> None:
    ref = pd.read_csv(REF / "asymmetry_r.csv")
    got = dyad_asymmetry(data, value="x", role="role")
    assert got["dyad"].tolist() == ref["dyad"].tolist()
    np.testing.assert_allclose(got["difference"], ref["difference"], atol=1e-12)
    np.testing.assert_allclose(got["std_difference"], ref["std_difference"], rtol=1e-12)
    first = got.iloc[2]  # d003: the patient has the higher x
    assert first["more_invested"] == "d003-b"
    assert first["abs_difference"] == pytest.approx(abs(first["difference"]))


def test_asymmetry_without_roles_orders_by_person_and_handles_ties() -> None:
    frame = pd.DataFrame(
        {
            "dyad": [1, 1, 2, 2, 3],
            "person": ["b", "a", "c", "d", "e"],
            "eis_total": [20, 15, 18, 18, 9],
        }
    )
    got = dyad_asymmetry(frame)
    assert got["person_1"].tolist() == ["a", "c"]
    assert got["difference"].tolist() == [-5.0, 0.0]
    assert got["more_invested"].tolist() == ["b", "equal"]


def test_partner_values_keeps_order_and_marks_absent_partners() -> None:
    frame = pd.DataFrame({"dyad": [1, 2, 1, 3], "person": ["a", "c", "b", "e"], "x": [1, 2, 3, 4]})
    out = partner_values(frame, dyad="dyad", person="person", columns=["x"])
    assert out["x_partner"].iloc[0] == 3
    assert np.isnan(out["x_partner"].iloc[1])
    assert out["x_partner"].iloc[2] == 1
    assert np.isnan(out["x_partner"].iloc[3])
    assert out.index.equals(frame.index)


def test_bad_dyadic_input_is_explained(data: pd.DataFrame) -> None:
    crowded = data.copy()
    crowded.loc[crowded.index[2], "dyad"] = "d001"
    with pytest.raises(InvalidInputError, match="more than two persons"):
        apim(crowded, role="role")
    same_role = data.copy()
    same_role.loc[same_role.index[1], "role"] = "carer"
    with pytest.raises(InvalidInputError, match="same role"):
        apim(same_role, role="role")
    three = data.copy()
    three.loc[three.index[0], "role"] = "other"
    with pytest.raises(InvalidInputError, match="exactly two roles"):
        apim(three, role="role")
    text = data.copy().astype({"x": object})
    text.loc[text.index[3], "x"] = "high"
    with pytest.raises(InvalidInputError, match="not numbers") as info:
        apim(text)
    assert info.value.problems[0].line == 5
    twins = data.copy()
    twins["x"] = twins.groupby("dyad")["x"].transform("mean")  # partners share x
    with pytest.raises(InvalidInputError, match="collinear"):
        apim(twins)
    with pytest.raises(InvalidInputError, match="more than one row"):
        apim(pd.concat([data, data.iloc[:1]]))
    with pytest.raises(InvalidInputError, match="at least 3 dyads"):
        apim(data.iloc[:4])


DIARY_TERMS = {
    "member_1": ("carer", "intercept"),
    "member_2": ("patient", "intercept"),
    **{
        f"member_{m}_{p}": (role, p)
        for m, role in ((1, "carer"), (2, "patient"))
        for p in ("actor_within", "partner_within", "actor_between", "partner_between")
    },
    "(Intercept)": ("all", "intercept"),
    **{
        p: ("all", p)
        for p in ("actor_within", "partner_within", "actor_between", "partner_between")
    },
}


@pytest.mark.parametrize("distinguishable", [True, False])
def test_diary_apim_matches_nlme_and_lme4(distinguishable: bool) -> None:
    diary = read_table(REF / "apim_diary_data.csv")
    ref = pd.read_csv(REF / "apim_diary_fixed_r.csv")
    kind = "distinguishable" if distinguishable else "indistinguishable"
    ref = ref[ref["model"] == kind]
    varcomp = pd.read_csv(REF / "apim_diary_varcomp_r.csv").set_index("name")["value"]
    fit = apim_diary(diary, occasion="day", role="role" if distinguishable else None)
    effects = fit.effects.set_index(["role", "effect"])
    for row in ref.itertuples():
        got = effects.loc[DIARY_TERMS[str(row.term)]]
        assert got["estimate"] == pytest.approx(row.estimate, rel=1e-5, abs=1e-7)
        assert got["se"] == pytest.approx(row.se, rel=1e-5)
    assert fit.fit is not None
    assert fit.fit.n_obs == varcomp["n_rows"]
    assert fit.n_dropped == 4  # two missing y, one missing x and that row's partner
    if distinguishable:
        assert fit.loglik == pytest.approx(varcomp["loglik_dist"], abs=1e-6)
        assert fit.residual_sd["carer"] == pytest.approx(varcomp["sigma_carer"], rel=1e-5)
        assert fit.residual_sd["patient"] == pytest.approx(varcomp["sigma_patient"], rel=1e-5)
        cov = fit.fit.random_cov.to_numpy()
        assert cov[0, 1] == pytest.approx(varcomp["cov_12"], rel=1e-4)
    else:
        assert fit.fit.reml_criterion == pytest.approx(varcomp["reml_ind"], abs=1e-6)
        assert fit.residual_sd["all"] == pytest.approx(varcomp["sigma_ind"], rel=1e-5)
    levels = set(fit.k["level"])
    assert levels == {"within", "between"}
    assert np.isnan(fit.residual_cor)
    assert fit.to_dict()["diary"] is True


def test_diary_apim_bad_input() -> None:
    diary = read_table(REF / "apim_diary_data.csv")
    with pytest.raises(InvalidInputError, match="more than one row for one occasion"):
        apim_diary(pd.concat([diary, diary.iloc[:1]]), occasion="day")
    with pytest.raises(InvalidInputError, match="do not have: occasion"):
        apim_diary(diary)


def test_complete_distinguishable_dyads_reduce_to_ols_per_role(data: pd.DataFrame) -> None:
    """Same regressors in both equations (SUR): GLS equals OLS of each role, for any rho."""
    complete = data[data.groupby("dyad")["y"].transform(lambda v: v.notna().all())]
    fit = apim(complete, role="role").effects.set_index(["role", "effect"])
    wide = complete.pivot(index="dyad", columns="role", values=["x", "y"])
    for own, other in (("carer", "patient"), ("patient", "carer")):
        design = np.column_stack([np.ones(len(wide)), wide[("x", own)], wide[("x", other)]])
        beta, *_ = np.linalg.lstsq(design, wide[("y", own)].to_numpy(), rcond=None)
        for effect, value in zip(("intercept", "actor", "partner"), beta, strict=True):
            assert fit.loc[(own, effect), "estimate"] == pytest.approx(value, rel=1e-7)


def test_row_order_and_role_names_do_not_matter(data: pd.DataFrame) -> None:
    base = apim(data, role="role").effects
    shuffled = apim(data.sample(frac=1.0, random_state=3), role="role").effects
    pd.testing.assert_frame_equal(base, shuffled, rtol=1e-7)
    renamed = data.assign(role=data["role"].map({"carer": "b_carer", "patient": "a_patient"}))
    swapped = apim(renamed, role="role").effects.set_index(["role", "effect"])
    for row in base.itertuples():
        new_role = {"carer": "b_carer", "patient": "a_patient"}[str(row.role)]
        assert swapped.loc[(new_role, str(row.effect)), "estimate"] == pytest.approx(
            row.estimate, rel=1e-7
        )


def test_dyad_wide_tables_stack_to_the_long_layout(data: pd.DataFrame, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from attunement.analysis import dyads_to_long
    from attunement.cli import cli

    members = data.assign(member=data["person"].str[-1])
    wide = members.pivot(index="dyad", columns="member", values=["person", "role", "x", "y"])
    wide.columns = [
        f"{'participant' if name == 'person' else name}_{member}" for name, member in wide.columns
    ]
    wide = wide.reset_index().rename(columns={"dyad": "dyad_id"})
    long = dyads_to_long(wide)
    assert list(long.columns) == ["dyad_id", "person", "role", "x", "y", "member"]
    assert long["person"].tolist() == data["person"].tolist()
    expected = apim(data, role="role").effects
    got = apim(long, dyad="dyad_id", role="role").effects
    pd.testing.assert_frame_equal(expected, got)
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    result = CliRunner().invoke(
        cli, ["analyze", "apim", str(path), "--wide", "--x", "x", "--y", "y", "--role", "role"]
    )
    assert result.exit_code == 0, result.output
    assert "120 dyads" in result.output
    with pytest.raises(InvalidInputError, match="No column pairs"):
        dyads_to_long(data.rename(columns={"dyad": "dyad_id"}))
