"""SVG charts: parsed with xml.etree, checking accessibility, scales and every mark's position."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attunement.errors import InvalidInputError
from attunement.reports import (
    Series,
    bar_chart,
    forest_chart,
    nice_ticks,
    scatter_chart,
    trend_chart,
)

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def tick_map(root: ET.Element, axis: str) -> dict[float, float]:
    """Data value -> pixel position, read from the tick labels of one axis."""
    group = root.find(f"s:g[@class='att-{axis}-axis']", NS)
    assert group is not None
    coord = "x" if axis == "x" else "y"
    out = {}
    for text in group.findall("s:text", NS):
        pixel = float(text.attrib[coord])
        if axis == "y":
            pixel -= 4  # labels sit 4 units below their grid line to centre the glyphs
        out[float(text.attrib["data-value"])] = pixel
    return out


def to_pixel(ticks: dict[float, float], value: float) -> float:
    (v0, p0), (v1, p1) = min(ticks.items()), max(ticks.items())
    return p0 + (value - v0) / (v1 - v0) * (p1 - p0)


def check_accessible(root: ET.Element, title: str) -> None:
    assert root.attrib["role"] == "img"
    assert root.attrib["width"] == "100%"
    assert root.attrib["viewBox"].startswith("0 0 ")
    title_el = root.find("s:title", NS)
    desc_el = root.find("s:desc", NS)
    assert title_el is not None
    assert title_el.text == title
    assert desc_el is not None
    assert desc_el.text
    assert root.attrib["aria-labelledby"] == f"{title_el.attrib['id']} {desc_el.attrib['id']}"


def test_scatter_points_and_fitted_line_sit_where_the_data_say() -> None:
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    y = [2.0, 3.0, 5.0, 4.0, 6.0]
    root = parse(scatter_chart(x, y, title="Disclosure", x_label="Emotional", y_label="Intimacy"))
    check_accessible(root, "Disclosure")
    xt, yt = tick_map(root, "x"), tick_map(root, "y")
    assert min(xt) <= 1
    assert max(xt) >= 5
    assert min(yt) <= 2
    assert max(yt) >= 6
    circles = root.findall("s:circle", NS)
    assert len(circles) == 5
    for c, xv, yv in zip(circles, x, y, strict=True):
        assert float(c.attrib["cx"]) == pytest.approx(to_pixel(xt, xv), abs=0.01)
        assert float(c.attrib["cy"]) == pytest.approx(to_pixel(yt, yv), abs=0.01)
    fit = root.find("s:line[@class='att-fit']", NS)
    assert fit is not None
    # OLS by hand: mean x 3, mean y 4, Sxy 9, Sxx 10 -> slope 0.9, intercept 1.3
    assert float(fit.attrib["data-slope"]) == pytest.approx(0.9)
    assert float(fit.attrib["data-intercept"]) == pytest.approx(1.3)
    assert float(fit.attrib["y2"]) == pytest.approx(to_pixel(yt, 1.3 + 0.9 * 5), abs=0.01)
    labels = [t.text for t in root.findall("s:text", NS)]
    assert "Emotional" in labels
    assert "Intimacy" in labels


def test_scatter_skips_incomplete_pairs_and_needs_spread_for_a_line() -> None:
    root = parse(
        scatter_chart(
            [1, None, 3, math.nan, 4], [2, 3, None, 1, 5], title="t", x_label="a", y_label="b"
        )
    )
    assert len(root.findall("s:circle", NS)) == 2
    assert root.find("s:line[@class='att-fit']", NS) is not None
    flat = parse(scatter_chart([2, 2], [1, 3], title="t", x_label="a", y_label="b"))
    assert flat.find("s:line[@class='att-fit']", NS) is None


def test_trend_breaks_at_gaps_and_uses_fixed_axis() -> None:
    days = [date(2026, 3, d) for d in (1, 2, 3, 4, 5)]
    root = parse(
        trend_chart(
            [
                Series("Ana", days, [10, 12, None, 20, 21]),
                Series("Ben", days, [15, 16, 17, 18, 19]),
            ],
            title="EIS & you <3",
            x_label="Day",
            y_label="EIS total",
            y_min=5,
            y_max=25,
        )
    )
    check_accessible(root, "EIS & you <3")
    yt = tick_map(root, "y")
    assert min(yt) == 5
    assert max(yt) == 25
    lines = root.findall("s:polyline", NS)
    # Ana: two runs (before and after the gap); Ben: one run
    assert len(lines) == 3
    assert [len(line.attrib["points"].split()) for line in lines] == [2, 2, 5]
    circles = root.findall("s:circle", NS)
    assert len(circles) == 9
    ana_first = circles[0]
    assert ana_first.attrib["data-x"] == "2026-03-01"
    assert float(ana_first.attrib["cy"]) == pytest.approx(to_pixel(yt, 10), abs=0.01)
    # dates are spaced in proportion to days
    xs = [float(c.attrib["cx"]) for c in circles[4:]]
    gaps = {round(b - a, 2) for a, b in itertools.pairwise(xs)}
    assert len(gaps) == 1
    legend = root.find("s:g[@class='att-legend']", NS)
    assert legend is not None
    assert [t.text for t in legend.findall("s:text", NS)] == ["Ana", "Ben"]


def test_bar_chart_heights_are_proportional_and_start_at_zero() -> None:
    root = parse(
        bar_chart(
            ["Emotional", "Factual"],
            {"Within": [0.4, 0.1], "Between": [0.6, -0.2]},
            title="Slopes",
            x_label="Predictor",
            y_label="Slope",
        )
    )
    check_accessible(root, "Slopes")
    yt = tick_map(root, "y")
    zero = to_pixel(yt, 0.0)
    bars = root.findall("s:rect[@data-value]", NS)
    assert len(bars) == 4
    for bar in bars:
        value = float(bar.attrib["data-value"])
        top = float(bar.attrib["y"])
        height = float(bar.attrib["height"])
        assert height == pytest.approx(abs(to_pixel(yt, value) - zero), abs=0.02)
        if value >= 0:
            assert top + height == pytest.approx(zero, abs=0.02)
        else:
            assert top == pytest.approx(zero, abs=0.02)
    # side by side: the two bars of a category do not overlap
    first, second = bars[0], bars[1]
    assert float(first.attrib["x"]) + float(first.attrib["width"]) <= float(second.attrib["x"])


def test_forest_plot_rows_intervals_and_reference() -> None:
    root = parse(
        forest_chart(
            ["a", "b", "indirect"],
            [0.4, 0.5, 0.22],
            [0.3, 0.4, 0.15],
            [0.5, 0.6, 0.3],
            title="Mediation",
            x_label="Estimate",
        )
    )
    check_accessible(root, "Mediation")
    xt = tick_map(root, "x")
    ref = root.find("s:line[@class='att-reference']", NS)
    assert ref is not None
    assert float(ref.attrib["x1"]) == pytest.approx(to_pixel(xt, 0.0), abs=0.01)
    intervals = root.findall("s:line[@class='att-interval']", NS)
    assert [float(i.attrib["x1"]) for i in intervals] == pytest.approx(
        [to_pixel(xt, v) for v in (0.3, 0.4, 0.15)], abs=0.01
    )
    marks = root.findall("s:rect[@class='att-estimate']", NS)
    assert [float(m.attrib["x"]) + 5 for m in marks] == pytest.approx(
        [to_pixel(xt, v) for v in (0.4, 0.5, 0.22)], abs=0.01
    )
    rows = [float(m.attrib["y"]) for m in marks]
    assert rows == sorted(rows)


def test_bad_input_is_explained() -> None:
    with pytest.raises(InvalidInputError, match="not a number"):
        scatter_chart(["a", 1], [1, 2], title="t", x_label="x", y_label="y")
    with pytest.raises(InvalidInputError, match="as many x as y"):
        scatter_chart([1], [1, 2], title="t", x_label="x", y_label="y")
    with pytest.raises(InvalidInputError, match="every value is missing"):
        trend_chart([Series("a", [1, 2], [None, None])], title="t", x_label="x", y_label="y")
    with pytest.raises(InvalidInputError, match="mix numbers and dates"):
        trend_chart(
            [Series("a", [1, date(2026, 1, 1)], [1, 2])], title="t", x_label="x", y_label="y"
        )
    with pytest.raises(InvalidInputError, match="2 values for 3 categories"):
        bar_chart(["a", "b", "c"], {"g": [1, 2]}, title="t", x_label="x", y_label="y")


def test_ids_differ_between_charts_on_one_page() -> None:
    one = parse(scatter_chart([1, 2], [1, 2], title="A", x_label="x", y_label="y"))
    two = parse(scatter_chart([1, 2], [2, 1], title="A", x_label="x", y_label="y"))
    assert one.find("s:title", NS).attrib["id"] != two.find("s:title", NS).attrib["id"]  # type: ignore[union-attr]


def test_nice_ticks_examples() -> None:
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(5, 25) == [5.0, 10.0, 15.0, 20.0, 25.0]
    assert nice_ticks(-0.13, 0.42) == [-0.2, 0.0, 0.2, 0.4, 0.6]
    assert nice_ticks(0, 10) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(0, 1e6, allow_nan=False),
)
def test_nice_ticks_cover_the_range_with_round_even_steps(lo: float, width: float) -> None:
    hi = lo + width
    ticks = nice_ticks(lo, hi)
    # the axis may stop short of the data by at most a billionth of the range (float slack)
    slack = 1e-9 * max(1.0, abs(lo), abs(hi))
    assert ticks[0] <= lo + slack
    assert ticks[-1] >= hi - slack
    assert 2 <= len(ticks) <= 13
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    step = steps[0]
    assert all(math.isclose(s, step, rel_tol=1e-6) for s in steps)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))


def test_fixed_axes_widen_for_data_outside_them() -> None:
    root = parse(
        scatter_chart(
            [1, 4, 7],
            [2, 3, 9],
            title="Ratings",
            x_label="x",
            y_label="y",
            x_min=1,
            x_max=7,
            y_min=1,
            y_max=7,
        )
    )
    xt, yt = tick_map(root, "x"), tick_map(root, "y")
    assert min(xt) <= 1
    assert max(xt) >= 7
    assert max(yt) >= 9  # the 9 is kept on the chart
    top = parse(
        trend_chart([Series("a", [1, 2], [3, 30])], title="t", x_label="x", y_label="y", y_max=25)
    )
    assert max(tick_map(top, "y")) >= 30
    for circle in top.findall("s:circle", NS):
        assert float(circle.attrib["cy"]) >= 0


@pytest.mark.parametrize(
    ("x", "label"),
    [
        ([date(2026, 3, 4), date(2026, 3, 4)], "4 Mar"),
        ([datetime(2026, 3, 4, 18, 30, tzinfo=UTC)], "18:00"),
    ],
)
def test_points_on_one_day_get_an_axis_of_about_a_day_around_them(
    x: list[date], label: str
) -> None:
    # Regression: a zero-width date axis was widened by 10 % of the days since 1970 (2019-2032).
    chart = trend_chart([Series("Ana", x, [3.0] * len(x))], title="t", x_label="When", y_label="v")
    root = parse(chart)
    xt = tick_map(root, "x")
    assert max(xt) - min(xt) <= 2.0  # days, not years
    circle = root.find("s:circle", NS)
    assert circle is not None
    assert min(xt.values()) < float(circle.attrib["cx"]) < max(xt.values())  # inside, centred
    labels = [str(t.text) for t in root.findall("s:g[@class='att-x-axis']/s:text", NS)]
    assert label in labels
    assert not any("20" in t.split()[-1] for t in labels if " " in t)  # no "Feb 2026" years
