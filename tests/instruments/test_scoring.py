"""Hand-checked scores for every shipped instrument, and the error cases of scoring."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import attunement.instruments.scoring as scoring_module
from attunement.errors import InvalidInputError
from attunement.instruments import (
    instrument_ids,
    keyed_items,
    load_instrument,
    score,
    score_with_report,
)

NA = np.nan


def frame(instrument_id: str, rows: list[list[object]], **extra: list[object]) -> pd.DataFrame:
    columns = list(load_instrument(instrument_id).columns)
    data = pd.DataFrame(rows, columns=columns, dtype=object)
    for name, values in extra.items():
        data[name] = values
    return data


def test_module_example_runs() -> None:
    result = doctest.testmod(scoring_module)
    assert result.attempted > 0
    assert result.failed == 0


def test_every_instrument_has_a_hand_checked_test_below() -> None:
    covered = {"eis", "ios", "swls", "pss10", "pss4", "mspss", "interaction", "pain", "fatigue"}
    covered.add("ecr_rs")
    assert covered == set(instrument_ids())


# -- EIS -----------------------------------------------------------------------------------


def test_eis_sum_prorating_and_labels() -> None:
    data = frame(
        "eis",
        [
            [5, 4, 4, 5, 3],  # 21
            [5, 4, NA, 5, 3],  # 4 of 5 answered: 17 / 4 * 5 = 21.25
            [5, NA, NA, 5, 3],  # 3 of 5: below 80 %, missing
            ["strongly agree", "Agree ", " AGREE", "Strongly Agree", "neither agree nor disagree"],
            [" 1", "2 ", "3", 4.0, "5"],  # 15
        ],
    )
    totals = score(data, "eis")["eis_total"].tolist()
    assert totals[0] == 21
    assert totals[1] == pytest.approx(21.25)
    assert np.isnan(totals[2])
    assert totals[3:] == [21, 15]
    assert "eis_band" not in score(data, "eis").columns


# -- IOS -----------------------------------------------------------------------------------


def test_ios_single_pictorial_item() -> None:
    data = frame("ios", [[1], [7], [NA], ["no overlap"], ["Most overlap"]])
    totals = score(data, "ios")["ios_total"].tolist()
    assert totals[:2] == [1, 7]
    assert np.isnan(totals[2])
    assert totals[3:] == [1, 7]


# -- SWLS ----------------------------------------------------------------------------------


def test_swls_sum_and_diener_bands() -> None:
    data = frame(
        "swls",
        [
            [7, 6, 5, 6, 7],  # 31 extremely satisfied
            [4, 4, 4, 4, 4],  # 20 neutral
            [1, 1, 1, 1, 1],  # 5 extremely dissatisfied
            [5, 5, 5, 5, 5],  # 25 slightly satisfied
            [5, 5, 5, 5, 6],  # 26 satisfied
            [5, 4, 4, 4, NA],  # 17 / 4 * 5 = 21.25: slightly satisfied
            [2, 2, 2, 3, 3],  # 12 dissatisfied
            [3, 3, 3, 4, 4],  # 17 slightly dissatisfied
            [NA, NA, 4, 4, 4],  # missing
        ],
    )
    out = score(data, "swls")
    assert out["swls_total"].iloc[:8].tolist() == [31, 20, 5, 25, 26, 21.25, 12, 17]
    assert out["swls_band"].iloc[:8].tolist() == [
        "extremely satisfied",
        "neutral",
        "extremely dissatisfied",
        "slightly satisfied",
        "satisfied",
        "slightly satisfied",
        "dissatisfied",
        "slightly dissatisfied",
    ]
    assert pd.isna(out["swls_total"].iloc[8])
    assert pd.isna(out["swls_band"].iloc[8])
    assert out["swls_band"].cat.ordered
    assert out["swls_band"].cat.categories[0] == "extremely dissatisfied"


def test_prorated_score_between_bands_takes_the_lower_band() -> None:
    # 20.5 is not a possible SWLS sum of 5 items, so build it from the band rule directly:
    # 4 answered items summing to 16.4 cannot occur either; use the MSPSS gap instead (below).
    data = frame("swls", [[4, 4, 4, 4, NA], [4, 4, 4, 5, NA]])  # 20.0 and 21.25
    assert score(data, "swls")["swls_band"].tolist() == ["neutral", "slightly satisfied"]


# -- PSS -----------------------------------------------------------------------------------


def test_pss10_reverse_keys_prorating_and_convention_bands() -> None:
    data = frame(
        "pss10",
        [
            [3, 2, 3, 1, 1, 2, 1, 0, 3, 2],  # reversed 4,5,7,8 -> 3,3,3,4: sum 28
            [2] * 10,  # 20
            [0, 0, 0, 4, 4, 0, 4, 4, 0, 0],  # every keyed item 0
            [3, 2, 3, 1, 1, 2, 1, 0, 3, NA],  # 26 / 9 * 10
            [3, 2, 3, 1, 1, 2, 1, NA, NA, NA],  # 7 of 10: missing
            [4, 4, 4, 0, 0, 4, 0, 0, 4, 4],  # 40
        ],
    )
    out = score(data, "pss10")
    totals = out["pss10_total"].tolist()
    assert totals[0] == 28
    assert totals[1] == 20
    assert totals[2] == 0
    assert totals[3] == pytest.approx(26 / 9 * 10)
    assert np.isnan(totals[4])
    assert totals[5] == 40
    bands = out["pss10_band"].tolist()
    assert bands[:4] == ["high", "moderate", "low", "high"]
    assert pd.isna(bands[4])


def test_pss4_reverse_keys_labels_and_all_items_needed() -> None:
    data = frame("pss4", [[3, 1, 0, 2], [1, "very often", 4, " 0 "], [3, 1, 0, NA]])
    totals = score(data, "pss4")["pss4_total"].tolist()
    assert totals[:2] == [12, 1]  # 3 + 3 + 4 + 2; 1 + 0 + 0 + 0
    assert np.isnan(totals[2])  # 3 of 4 is below 80 %


# -- MSPSS ---------------------------------------------------------------------------------


def test_mspss_means_subscales_and_bands() -> None:
    base = [7, 6, 5, 4, 7, 3, 2, 5, 3, 6, 4, 1]
    data = frame(
        "mspss",
        [
            base,
            [*base[:11], NA],  # item 12 (friends) missing
            [6] * 12,
            [2] * 12,
            [5] * 11 + [NA],  # 55 / 11 = 5.0: moderate
            [5] * 10 + [6, NA],  # 56 / 11 = 5.09: between 5 and 5.1 -> moderate
            [3] * 11 + [2],  # 35 / 12 = 2.92: low
        ],
    )
    out = score(data, "mspss")
    first = out.iloc[0]
    assert first["mspss_total"] == pytest.approx(53 / 12)
    assert first["mspss_significant_other"] == pytest.approx(6.5)
    assert first["mspss_family"] == pytest.approx(4.5)
    assert first["mspss_friends"] == pytest.approx(2.25)
    assert first["mspss_band"] == "moderate"
    second = out.iloc[1]
    assert second["mspss_total"] == pytest.approx(52 / 11)
    assert np.isnan(second["mspss_friends"])  # 3 of 4 items
    assert second["mspss_family"] == pytest.approx(4.5)
    assert out["mspss_band"].tolist()[2:] == ["high", "low", "moderate", "moderate", "low"]


# -- interaction record --------------------------------------------------------------------


def test_interaction_record_parts_and_responsiveness_mean() -> None:
    data = frame(
        "interaction",
        [
            [2, 3, 5, 4, 6, 5, 7, 6],
            [2, 3, 5, 4, 6, NA, 7, "very much"],
            ["Not at all", 1, 1, 1, "somewhat", 4, 4, 1],
        ],
    )
    out = score(data, "interaction")
    assert "interaction_total" not in out.columns
    row = out.iloc[0]
    assert row["interaction_self_disclosure"] == pytest.approx(10 / 3)
    assert row["interaction_partner_disclosure"] == 4
    assert row["interaction_responsiveness"] == 6
    assert row["interaction_intimacy"] == 6
    assert np.isnan(out.iloc[1]["interaction_responsiveness"])  # 2 of 3 items
    assert out.iloc[1]["interaction_intimacy"] == 7
    assert out.iloc[2]["interaction_self_disclosure"] == 1
    assert out.iloc[2]["interaction_responsiveness"] == 4


# -- single ratings ------------------------------------------------------------------------


def test_pain_and_fatigue_ratings() -> None:
    pain = score(frame("pain", [[0], [10], [" 7 "], ["No pain"]]), "pain")
    assert pain["pain_total"].tolist() == [0, 10, 7, 0]
    fatigue = score(frame("fatigue", [[3], ["worst fatigue imaginable"]]), "fatigue")
    assert fatigue["fatigue_total"].tolist() == [3, 10]


def test_pain_rejects_out_of_range_and_fractions() -> None:
    with pytest.raises(InvalidInputError) as info:
        score(frame("pain", [[11], [3.5], [-1]]), "pain")
    reasons = [p.message for p in info.value.problems]
    assert reasons == [
        "outside the scale 0 to 10",
        "not a whole number",
        "outside the scale 0 to 10",
    ]


# -- ECR-RS --------------------------------------------------------------------------------


def test_ecr_rs_avoidance_and_anxiety() -> None:
    data = frame("ecr_rs", [[7, 6, 7, 5, 2, 1, 3, 4, 2], [1, 1, 1, 1, 7, 7, 7, 7, 7]])
    out = score(data, "ecr_rs")
    # items 1-4 reversed (8 - x): 1, 2, 1, 3; avoidance = (1+2+1+3+2+1)/6
    assert out["ecr_rs_avoidance"].tolist() == pytest.approx([10 / 6, 7.0])
    assert out["ecr_rs_anxiety"].tolist() == pytest.approx([3.0, 7.0])


# -- keyed items ---------------------------------------------------------------------------


def test_keyed_items_apply_reverse_keys() -> None:
    data = frame("pss4", [[3, 1, 0, "2"]])
    data.index = pd.Index([7], name="line")
    keyed = keyed_items(data, "pss4")
    assert keyed.columns.tolist() == ["pss4_1", "pss4_2", "pss4_3", "pss4_4"]
    assert keyed.index.tolist() == [7]
    assert keyed.iloc[0].tolist() == [3.0, 3.0, 4.0, 2.0]
    assert keyed.dtypes.unique().tolist() == [np.dtype("float64")]


# -- pass-through, mapping, purity ---------------------------------------------------------


def test_other_columns_pass_through_and_input_is_untouched() -> None:
    data = frame("eis", [[5, 4, 4, 5, 3]], person=["ana"], when=["2026-01-01"])
    before = data.copy()
    out = score(data, "eis")
    pd.testing.assert_frame_equal(data, before)
    assert out.columns.tolist() == [*before.columns, "eis_total"]
    assert out["person"].tolist() == ["ana"]
    pd.testing.assert_frame_equal(out[before.columns], before)


def test_existing_score_columns_are_replaced() -> None:
    data = frame("eis", [[5, 4, 4, 5, 3]], eis_total=[99])
    out = score(data, "eis")
    assert out["eis_total"].tolist() == [21]
    assert out.columns.tolist().count("eis_total") == 1


def test_mapping_renames_item_columns() -> None:
    data = pd.DataFrame({"q1": [5], "q2": [4], "eis_3": [4], "q4": [5], "q5": [3]})
    out = score(data, "eis", mapping={"q1": "eis_1", "q2": "eis_2", "q4": "eis_4", "q5": "eis_5"})
    assert out["eis_total"].tolist() == [21]
    assert "q1" in out.columns


def test_mapping_errors_are_listed_together() -> None:
    data = pd.DataFrame({"q1": [5], "eis_2": [4], "eis_3": [4]})
    with pytest.raises(InvalidInputError) as info:
        score(data, "eis", mapping={"q1": "eis_1", "nope": "eis_4", "eis_2": "eis_9"})
    problems = {(p.column, p.message) for p in info.value.problems}
    assert ("nope", "mapped column is not in the table") in problems
    assert ("eis_9", "mapping target is not an item of this instrument") in problems
    assert ("eis_4", "missing item column") not in problems  # mapped, though wrongly
    assert ("eis_5", "missing item column") in problems


def test_missing_item_columns_are_named() -> None:
    data = pd.DataFrame({"eis_1": [5], "eis_2": [4], "eis_4": [4]})
    with pytest.raises(InvalidInputError) as info:
        score(data, "eis")
    assert [p.column for p in info.value.problems] == ["eis_3", "eis_5"]
    assert "eis_3" in str(info.value)


# -- invalid answers -----------------------------------------------------------------------


def test_every_invalid_cell_is_listed_with_its_line() -> None:
    data = frame(
        "eis",
        [
            [5, 4, 4, 5, 2.5],
            [5, 6, 4, "often", 3],
            [1, 2, 3, 4, "maybe"],
        ],
    )
    data.index = pd.Index([2, 3, 4], name="line")
    with pytest.raises(InvalidInputError) as info:
        score(data, "eis")
    problems = info.value.problems
    assert [(p.line, p.column, p.value) for p in problems] == [
        (2, "eis_5", 2.5),
        (3, "eis_2", 6),
        (3, "eis_4", "often"),
        (4, "eis_5", "maybe"),
    ]
    assert problems[2].message == "not a number or a label of the scale"
    assert problems[0].allowed is not None
    assert "strongly agree" in problems[0].allowed
    assert "4 answers cannot be scored" in str(info.value)


def test_rows_are_numbered_from_one_without_a_line_index() -> None:
    data = frame("ios", [[1], [8]])
    with pytest.raises(InvalidInputError) as info:
        score(data, "ios")
    assert [(p.line, p.value) for p in info.value.problems] == [(2, 8)]


def test_invalid_as_missing_reports_the_count() -> None:
    data = frame("eis", [[5, 4, 4, 5, 9], [5, "x", 4, 0, 3], [1, 2, 3, 4, 5]])
    result = score_with_report(data, "eis", invalid="missing")
    assert result.invalid_count == 3
    assert len(result.problems) == 3
    totals = result.scores["eis_total"].tolist()
    assert totals[0] == pytest.approx(18 / 4 * 5)  # the 9 is dropped, 4 of 5 remain
    assert np.isnan(totals[1])  # 3 of 5 remain
    assert totals[2] == 15
    clean = score_with_report(data.iloc[[2]], "eis", invalid="missing")
    assert clean.invalid_count == 0


def test_booleans_and_infinities_are_invalid() -> None:
    data = pd.DataFrame({"ios_1": [True, False]})
    with pytest.raises(InvalidInputError):
        score(data, "ios")
    with pytest.raises(InvalidInputError):
        score(pd.DataFrame({"ios_1": [np.inf, 3.0]}), "ios")
    with pytest.raises(InvalidInputError):
        score(pd.DataFrame({"ios_1": ["inf", "3"]}), "ios")


def test_unknown_invalid_option_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="not an option"):
        score(frame("ios", [[1]]), "ios", invalid="ignore")  # type: ignore[arg-type]


# -- dtypes --------------------------------------------------------------------------------


def test_nullable_categorical_and_string_dtypes() -> None:
    ints = pd.DataFrame({"ios_1": pd.array([3, None, 5], dtype="Int64")})
    out = score(ints, "ios")["ios_total"]
    assert out.iloc[0] == 3
    assert np.isnan(out.iloc[1])
    cats = pd.DataFrame({"ios_1": pd.Categorical(["2", "no overlap", None])})
    assert score(cats, "ios")["ios_total"].tolist()[:2] == [2, 1]
    strings = pd.DataFrame({"ios_1": pd.array(["4", "", " 6 "], dtype="string")})
    totals = score(strings, "ios")["ios_total"].tolist()
    assert totals[0] == 4
    assert np.isnan(totals[1])
    assert totals[2] == 6


def test_empty_table_gets_empty_score_columns() -> None:
    data = frame("swls", [])
    out = score(data, "swls")
    assert out.columns.tolist()[-2:] == ["swls_total", "swls_band"]
    assert len(out) == 0
