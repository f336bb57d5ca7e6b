"""Process-model summaries, the balance indicator and suggested practices, by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.errors import InvalidInputError
from attunement.practices import (
    disclosure_balance,
    eis_change,
    process_summary,
    suggest_practices,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def records(person: str, rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "person": person,
                "occurred_at": T0 + timedelta(days=i),
                "self_disclosure": sd,
                "partner_disclosure": pd_,
                "responsiveness": resp,
                "intimacy": intim,
            }
            for i, (sd, pd_, resp, intim) in enumerate(rows)
        ]
    )


def test_summary_means_by_hand() -> None:
    frame = pd.concat(
        [
            records("ada", [(5, 3, 2, 4), (6, 3, 3, 5), (4, 3, 4, 3)]),
            records("ben", [(2, 6, 6, 6)]),
        ]
    )
    summary = process_summary(frame).set_index("person")
    assert summary.loc["ada", "records"] == 3
    assert summary.loc["ada", "self_disclosure"] == pytest.approx(5.0)
    assert summary.loc["ada", "responsiveness"] == pytest.approx(3.0)
    assert summary.loc["ben", "intimacy"] == pytest.approx(6.0)


def test_balance_by_hand() -> None:
    row = process_summary(records("ada", [(5, 3, 5, 5)] * 3)).iloc[0]
    balance = disclosure_balance(row)
    assert balance.value == pytest.approx(1 - 2 / 6)  # 0.667
    assert balance.label == "one-sided"
    assert balance.leaning == "you_share_more"
    even = disclosure_balance(process_summary(records("ada", [(4, 4.5, 5, 5)] * 3)).iloc[0])
    assert (even.value, even.label) == (pytest.approx(1 - 0.5 / 6), "balanced")
    assert disclosure_balance(None).value is None
    few = disclosure_balance(process_summary(records("ada", [(7, 1, 5, 5)] * 2)).iloc[0])
    assert few.label == "not enough records yet"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(1, 7)] * 4), min_size=3, max_size=20))
def test_balance_is_between_0_and_1_and_symmetric(rows: list[tuple[int, int, int, int]]) -> None:
    row = process_summary(records("ada", rows)).iloc[0]
    swapped = process_summary(records("ada", [(b, a, c, d) for a, b, c, d in rows])).iloc[0]
    value = disclosure_balance(row).value
    assert value is not None
    assert 0 <= value <= 1
    assert disclosure_balance(swapped).value == pytest.approx(value)


def test_eis_change_latest_three_against_three_before() -> None:
    checkins = pd.DataFrame(
        {
            "person": ["ada"] * 6 + ["ben"],
            "taken_at": [T0 + timedelta(weeks=i) for i in range(6)] + [T0],
            "eis_total": [22, 21, 23, 19, 18, 20, 10],
        }
    )
    assert eis_change(checkins, "ada") == pytest.approx(19 - 22)
    assert eis_change(checkins, "ben") is None


def test_low_responsiveness_suggests_active_listening_with_evidence() -> None:
    mine = process_summary(records("ada", [(5, 5, 3, 4)] * 4)).iloc[0]
    (first,) = suggest_practices(mine, None, partner_name="Ben")
    assert first.practice_id == "active_listening"
    assert "3.0 of 7" in first.reason
    citations = [e.citation for e in first.evidence]
    assert any(c.startswith("Reis, H. T., & Shaver, P. (1988)") for c in citations)
    assert any(c.startswith("Laurenceau, J.-P., Barrett, L. F., & Pietromonaco") for c in citations)


def test_partners_shared_view_and_imbalance_and_falling_eis() -> None:
    mine = process_summary(records("ada", [(6, 2, 6, 5)] * 4)).iloc[0]
    theirs = process_summary(records("ben", [(3, 5, 3, 4)] * 4)).iloc[0]
    found = suggest_practices(mine, theirs, partner_name="Ben", eis_drop=-3)
    assert [s.practice_id for s in found] == ["active_listening", "check_in", "raise_early"]
    assert "In the records Ben shared" in found[0].reason
    assert "you share more" in found[1].reason
    assert "fell by 3.0 points" in found[2].reason


def test_all_well_suggests_appreciation_and_too_few_records_nothing() -> None:
    mine = process_summary(records("ada", [(5, 5, 6, 6)] * 3)).iloc[0]
    assert [s.practice_id for s in suggest_practices(mine, None, partner_name="B")] == [
        "appreciation"
    ]
    few = process_summary(records("ada", [(1, 7, 1, 1)] * 2)).iloc[0]
    assert suggest_practices(few, None, partner_name="B") == []
    assert suggest_practices(None, None, partner_name="B") == []


def test_missing_columns_are_named() -> None:
    with pytest.raises(InvalidInputError) as err:
        process_summary(pd.DataFrame({"person": ["a"]}))
    assert {p.column for p in err.value.problems} == {
        "self_disclosure",
        "partner_disclosure",
        "responsiveness",
        "intimacy",
    }
