"""The lme4 formula parser and the model matrices it builds (names checked against R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attunement.analysis.formula import build_design, parse_formula
from attunement.errors import InvalidInputError


def test_random_slope_formula() -> None:
    f = parse_formula("y ~ x1 + x2 + (1 + x1 | g)")
    assert f.response == "y"
    assert f.fixed.intercept
    assert f.fixed.labels() == ["x1", "x2"]
    assert f.random is not None
    assert f.random.group == "g"
    assert len(f.random.blocks) == 1
    assert f.random.blocks[0].intercept
    assert f.random.blocks[0].labels() == ["x1"]


@pytest.mark.parametrize(
    ("text", "intercept", "labels"),
    [
        ("y ~ x", True, ["x"]),
        ("y ~ 0 + x", False, ["x"]),
        ("y ~ x - 1", False, ["x"]),
        ("y ~ -1 + x", False, ["x"]),
        ("y ~ 1", True, []),
        ("y ~ a * b", True, ["a", "b", "a:b"]),
        ("y ~ a:b", True, ["a:b"]),
        ("y ~ a * b - a:b", True, ["a", "b"]),
        # R orders terms by degree, then appearance; variables by first appearance
        ("y ~ b:a + a * x", True, ["a", "x", "b:a", "a:x"]),
        ("y ~ x * z * w", True, ["x", "z", "w", "x:z", "x:w", "z:w", "x:z:w"]),
        ("y ~ (a + b):c", True, ["a:c", "b:c"]),
        ("y ~ `my var` + x", True, ["my var", "x"]),
    ],
)
def test_fixed_terms_in_r_order(text: str, intercept: bool, labels: list[str]) -> None:
    f = parse_formula(text)
    assert f.fixed.intercept is intercept
    assert f.fixed.labels() == labels
    assert f.random is None


@pytest.mark.parametrize(
    ("text", "intercept", "labels"),
    [
        ("y ~ x + (1 | g)", True, []),
        ("y ~ x + (x | g)", True, ["x"]),
        ("y ~ x + (0 + x | g)", False, ["x"]),
        ("y ~ x + (-1 + x | g)", False, ["x"]),
        ("y ~ 0 + role1 + role2 + (0 + role1 + role2 | dyad)", False, ["role1", "role2"]),
    ],
)
def test_random_terms(text: str, intercept: bool, labels: list[str]) -> None:
    f = parse_formula(text)
    assert f.random is not None
    (block,) = f.random.blocks
    assert block.intercept is intercept
    assert block.labels() == labels


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("~ x", "start with the response"),
        ("y ~ log(x)", "functions of columns"),
        ("y ~ I(x)", "functions of columns"),
        ("y ~ x + (1 | g) + (0 + x | h)", "second grouping column"),
        ("y ~ x + (1 | g/h)", "nested or crossed"),
        ("y ~ x + (1 | g:h)", "nested or crossed"),
        ("y ~ x +", "expected a column name"),
        ("y ~ x $ z", "unexpected character"),
        ("y ~ 2 + x", "a number 2"),
        ("y ~ 0", "no fixed effects"),
        ("y ~ y + x", "also appears"),
        ("y ~ x + (0 | g)", "no effects"),
        ("y ~ x + (1 + z | z)", "also a variable"),
        ("y x", "expected '~'"),
        ("y ~ (x + z", "expected ')'"),
    ],
)
def test_errors_are_clear(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_formula(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "text", ["y ~ x + (1 | g) + (0 + x | g)", "y ~ x + (1 + x || g)", "y ~ x + (x || g)"]
)
def test_uncorrelated_blocks(text: str) -> None:
    f = parse_formula(text)
    assert f.random is not None
    assert [(b.intercept, b.labels()) for b in f.random.blocks] == [(True, []), (False, ["x"])]


def test_double_bar_splits_every_term() -> None:
    f = parse_formula("y ~ a + b + (1 + a + b || g) + (0 + c | g)")
    assert f.random is not None
    assert [b.labels() for b in f.random.blocks] == [[], ["a"], ["b"], ["c"]]
    assert f.variables() == ["y", "a", "b", "c", "g"]


def test_an_effect_in_two_blocks_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="appears in two random-effects terms: x"):
        build_design(parse_formula("y ~ x + (1 + x | g) + (0 + x | g)"), _frame())


def test_error_points_at_the_position() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_formula("y ~ x + log(z)")
    assert "position 9" in str(info.value)
    assert "\n        ^" in str(info.value)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "x": [0.5, 1.0, -1.0, 2.0, 0.0, 1.5],
            "f": ["u", "v", "w", "u", "v", "w"],
            "ok": [True, False, True, True, False, True],
            "g": ["p", "p", "q", "q", "r", "r"],
            "y2": [0.1, 0.3, 0.2, 0.5, 0.4, 0.6],
        }
    )


# Column names checked with R 4.2: colnames(model.matrix(<rhs>, d)).
@pytest.mark.parametrize(
    ("rhs", "names"),
    [
        ("x + f", ["(Intercept)", "x", "fv", "fw"]),
        ("0 + f", ["fu", "fv", "fw"]),
        ("x:f", ["(Intercept)", "x:fu", "x:fv", "x:fw"]),
        ("0 + f + x:f", ["fu", "fv", "fw", "fu:x", "fv:x", "fw:x"]),
        ("f * x", ["(Intercept)", "fv", "fw", "x", "fv:x", "fw:x"]),
        ("x + f:x - 1", ["x", "x:fu", "x:fv", "x:fw"]),
        ("y2 + f:x - 1", ["y2", "fu:x", "fv:x", "fw:x"]),
        ("ok", ["(Intercept)", "okTRUE"]),
    ],
)
def test_factor_columns_named_as_r(rhs: str, names: list[str]) -> None:
    design = build_design(parse_formula(f"y ~ {rhs} + (1 | g)"), _frame())
    assert design.x_names == names


def test_treatment_contrast_values() -> None:
    design = build_design(parse_formula("y ~ f * x + (1 | g)"), _frame())
    frame = _frame()
    fv = (frame["f"] == "v").to_numpy(float)
    np.testing.assert_array_equal(design.x[:, 1], fv)
    np.testing.assert_array_equal(design.x[:, 4], fv * frame["x"].to_numpy())
    assert design.group_levels == ["p", "q", "r"]
    np.testing.assert_array_equal(design.group_codes, [0, 0, 1, 1, 2, 2])


def test_categorical_keeps_its_level_order() -> None:
    frame = _frame()
    frame["f"] = pd.Categorical(frame["f"], categories=["w", "u", "v"])
    design = build_design(parse_formula("y ~ f + (1 | g)"), frame)
    assert design.x_names == ["(Intercept)", "fu", "fv"]


def test_dyadic_two_intercept_design() -> None:
    frame = pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 4.0],
            "role1": [1, 0, 1, 0],
            "role2": [0, 1, 0, 1],
            "dyad": [1, 1, 2, 2],
        }
    )
    design = build_design(
        parse_formula("y ~ 0 + role1 + role2 + (0 + role1 + role2 | dyad)"), frame
    )
    assert design.x_names == ["role1", "role2"]
    assert design.z_names == ["role1", "role2"]
    np.testing.assert_array_equal(design.z, frame[["role1", "role2"]].to_numpy(float))


def test_missing_values_are_dropped_listwise_and_counted() -> None:
    frame = _frame()
    frame.loc[1, "x"] = np.nan
    frame.loc[3, "f"] = None
    design = build_design(parse_formula("y ~ x + f + (1 | g)"), frame)
    assert design.n_dropped == 2
    assert design.dropped_columns == ["x", "f"]
    assert list(design.rows) == [0, 2, 4, 5]


def test_missing_columns_are_all_named() -> None:
    with pytest.raises(InvalidInputError) as info:
        build_design(parse_formula("y ~ a + b + (1 | h)"), _frame())
    assert "a, b, h" in str(info.value)


def test_text_in_a_numeric_column_is_listed_by_line() -> None:
    frame = _frame()
    frame["x"] = ["1", "2", "three", "4", "n/a", "6"]
    frame.index = pd.RangeIndex(2, 8, name="line")
    with pytest.raises(InvalidInputError) as info:
        build_design(parse_formula("y ~ x + (1 | g)"), frame)
    text = str(info.value)
    assert "line 4, column 'x': not a number (got 'three')" in text
    assert "line 6" in text


def test_text_response_is_refused() -> None:
    frame = _frame()
    with pytest.raises(InvalidInputError, match="not numeric"):
        build_design(parse_formula("f ~ x + (1 | g)"), frame)


names = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)


@given(st.lists(names, min_size=1, max_size=5, unique=True), names)
def test_sums_of_names_round_trip(predictors: list[str], group: str) -> None:
    predictors = [p for p in predictors if p not in ("y", group)]
    if not predictors or group == "y":
        return
    text = f"y ~ {' + '.join(predictors)} + (1 + {predictors[0]} | {group})"
    f = parse_formula(text)
    assert f.fixed.labels() == predictors
    assert f.random is not None
    assert f.random.group == group
    assert f.random.blocks[0].labels() == [predictors[0]]
    assert parse_formula(f.text) == f


@given(st.lists(names, min_size=2, max_size=4, unique=True))
def test_star_expands_to_all_interactions(variables: list[str]) -> None:
    variables = [v for v in variables if v != "y"]
    f = parse_formula("y ~ " + " * ".join(variables))
    assert len(f.fixed.terms) == 2 ** len(variables) - 1
    degrees = [len(t) for t in f.fixed.terms]
    assert degrees == sorted(degrees)


def test_dates_are_refused_with_a_hint() -> None:
    frame = _frame()
    frame["when"] = pd.date_range("2024-01-01", periods=6)
    with pytest.raises(InvalidInputError, match="days since the start"):
        build_design(parse_formula("y ~ when + (1 | g)"), frame)


@given(st.text(alphabet="yxg01 ~+-*:|()/^.`a", max_size=30))
def test_any_text_parses_or_raises_invalid_input(text: str) -> None:
    message = ""
    try:
        parsed = parse_formula(text)
    except InvalidInputError as exc:
        message = str(exc)
    else:
        assert parsed.response
        assert parsed.fixed.intercept or parsed.fixed.terms
        return
    assert message.startswith(("Cannot read the model formula", "The model", "The response"))
