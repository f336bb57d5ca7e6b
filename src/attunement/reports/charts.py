"""Small, dependency-free SVG charts for reports and the web dashboard.

Every function returns one ``<svg>`` element as a string. The charts

- scale to the width of their container (``viewBox`` plus ``width="100%"``), so a chart drawn
  at 480 x 320 units fills a phone's screen and stays crisp on a desktop;
- carry an accessible name and description (``role="img"``, ``<title>``, ``<desc>``, linked by
  ``aria-labelledby``); the description defaults to a plain-words summary of the data;
- have a title, axis labels and "nice" tick values (1, 2, 2.5 or 5 times a power of ten);
- use the Okabe-Ito colour-blind-safe palette and also set a CSS class on every mark, so a page
  may restyle them (``.att-chart .att-series-0`` and so on);
- skip missing values (``None`` or NaN): a trend line breaks at a gap instead of bridging it.

x values of a trend chart may be numbers, :class:`datetime.date` or
:class:`datetime.datetime` (ticks then read as dates). Bad input (no data, series of unequal
length, non-numeric values) raises :class:`~attunement.errors.InvalidInputError`.

>>> svg = scatter_chart([1, 2, 3], [2, 4, 5], title="Disclosure and intimacy",
...                     x_label="Disclosure", y_label="Intimacy")
>>> svg.startswith("<svg")
True
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from xml.sax.saxutils import escape

from attunement.errors import InvalidInputError

__all__ = [
    "PALETTE",
    "Series",
    "bar_chart",
    "forest_chart",
    "nice_ticks",
    "scatter_chart",
    "trend_chart",
]

#: Okabe & Ito (2008) colour-blind-safe colours, black left out (used for axes and text).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")

XValue = float | int | date | datetime
_Formatter = Callable[[float], str]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ROW_CHAR = 8.0  # generous width of one glyph of a 13-unit row label, so labels never clip
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass(frozen=True)
class Series:
    """One named line of a trend chart: ``x`` and ``y`` of equal length (``None`` = missing)."""

    name: str
    x: Sequence[XValue]
    y: Sequence[float | int | None]


@dataclass(frozen=True)
class _Frame:
    """The drawing area inside the margins."""

    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top


@dataclass(frozen=True)
class _Scale:
    """A linear map from a data domain to a pixel range."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if self.hi == self.lo:
            return (self.start + self.end) / 2
        return self.start + (value - self.lo) / (self.hi - self.lo) * (self.end - self.start)


# --------------------------------------------------------------------------- public charts


def trend_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_min: float | None = None,
    y_max: float | None = None,
    desc: str | None = None,
    width: int = 480,
    height: int = 320,
) -> str:
    """A line chart with a point at every observation, one line per series.

    ``y_min``/``y_max`` fix the y-axis (e.g. a scale's range, 5 to 25 for the EIS total) so that
    charts of different people are comparable; otherwise the axis spans the data. A value
    outside the fixed range widens the axis instead of being drawn off the chart.
    """
    if not series:
        raise InvalidInputError("A trend chart needs at least one series.")
    cleaned: list[tuple[str, list[tuple[float, float] | None]]] = []
    kinds: set[str] = set()
    for s in series:
        if len(s.x) != len(s.y):
            raise InvalidInputError(
                f"Series {s.name!r} has {len(s.x)} x values but {len(s.y)} y values.",
                hint="Give one y value per x value (None for a missing one).",
            )
        points: list[tuple[float, float] | None] = []
        for xv, yv in zip(s.x, s.y, strict=True):
            kinds.add(_x_kind(xv))
            y = _number(yv, f"series {s.name!r}")
            points.append(None if y is None else (_x_number(xv), y))
        cleaned.append((s.name, points))
    if len(kinds - {"missing"}) > 1:
        raise InvalidInputError(
            "The x values mix numbers and dates.", hint="Use only numbers or only dates on x."
        )
    kind = next(iter(kinds - {"missing"}), "number")
    present = [p for _, pts in cleaned for p in pts if p is not None]
    if not present:
        raise InvalidInputError(f"No values to plot in {title!r}: every value is missing.")
    frame = _frame(width, height, legend=len(series) > 1)
    xs = [p[0] for p in present]
    ys = [p[1] for p in present]
    x_ticks = _date_ticks(min(xs), max(xs)) if kind != "number" else nice_ticks(min(xs), max(xs))
    y_ticks = nice_ticks(*_limits(ys, y_min, y_max))
    x_scale = _Scale(x_ticks[0], x_ticks[-1], frame.x0, frame.x1)
    y_scale = _Scale(y_ticks[0], y_ticks[-1], frame.y0, frame.y1)
    x_format = _date_formatter(x_ticks) if kind != "number" else _tick_formatter(x_ticks)
    body = [
        _axes(frame, x_ticks, y_ticks, x_scale, y_scale, x_format, _tick_formatter(y_ticks)),
    ]
    for index, (name, pts) in enumerate(cleaned):
        colour = PALETTE[index % len(PALETTE)]
        cls = f"att-series att-series-{index}"
        for segment in _segments(pts):
            if len(segment) > 1:
                path = " ".join(f"{x_scale(x):.2f},{y_scale(y):.2f}" for x, y in segment)
                body.append(
                    f'<polyline class="{cls} att-line" points="{path}" fill="none" '
                    f'stroke="{colour}" stroke-width="2.5" stroke-linejoin="round"/>'
                )
        for point in pts:
            if point is None:
                continue
            x, y = point
            label = f"{name}: {_format_x(x, kind)}, {_fmt(y)}"
            body.append(
                f'<circle class="{cls} att-point" cx="{x_scale(x):.2f}" cy="{y_scale(y):.2f}" '
                f'r="4" fill="{colour}" data-x="{_format_x(x, kind)}" data-y="{y!r}">'
                f"<title>{escape(label)}</title></circle>"
            )
    if len(series) > 1:
        body.append(_legend(frame, [name for name, _ in cleaned]))
    summary = desc or _trend_summary(cleaned, kind, y_label)
    return _svg(width, height, title, summary, x_label, y_label, frame, body, "trend")


def scatter_chart(
    x: Sequence[float | int | None],
    y: Sequence[float | int | None],
    *,
    title: str,
    x_label: str,
    y_label: str,
    fit_line: bool = True,
    x_min: float | None = None,
    x_max: float | None = None,
    y_min: float | None = None,
    y_max: float | None = None,
    desc: str | None = None,
    width: int = 480,
    height: int = 320,
) -> str:
    """A scatter plot with the ordinary least-squares line y = b0 + b1 x drawn over the data.

    Pairs with a missing value are left out. The fitted line is drawn over the observed x range
    only, and only when there are at least two distinct x values. ``x_min`` ... ``y_max`` fix
    the axes (e.g. a 1-7 rating scale); data outside them widen the axis rather than vanish.
    """
    if len(x) != len(y):
        raise InvalidInputError(
            f"A scatter chart needs as many x as y values (got {len(x)} and {len(y)})."
        )
    pairs: list[tuple[float, float]] = []
    for xv, yv in zip(x, y, strict=True):
        xn = _number(xv, x_label)
        yn = _number(yv, y_label)
        if xn is not None and yn is not None:
            pairs.append((xn, yn))
    if not pairs:
        raise InvalidInputError(f"No complete (x, y) pairs to plot in {title!r}.")
    frame = _frame(width, height, legend=False)
    xs = [p[0] for p in pairs]
    ys = [p[1] for p in pairs]
    x_ticks = nice_ticks(*_limits(xs, x_min, x_max))
    y_ticks = nice_ticks(*_limits(ys, y_min, y_max))
    x_scale = _Scale(x_ticks[0], x_ticks[-1], frame.x0, frame.x1)
    y_scale = _Scale(y_ticks[0], y_ticks[-1], frame.y0, frame.y1)
    body = [
        _axes(
            frame,
            x_ticks,
            y_ticks,
            x_scale,
            y_scale,
            _tick_formatter(x_ticks),
            _tick_formatter(y_ticks),
        )
    ]
    for xv, yv in pairs:
        body.append(
            f'<circle class="att-series att-series-0 att-point" cx="{x_scale(xv):.2f}" '
            f'cy="{y_scale(yv):.2f}" r="4" fill="{PALETTE[0]}" fill-opacity="0.7" '
            f'data-x="{xv!r}" data-y="{yv!r}"><title>{escape(f"{_fmt(xv)}, {_fmt(yv)}")}'
            "</title></circle>"
        )
    fit = _least_squares(xs, ys) if fit_line else None
    if fit is not None:
        b0, b1 = fit
        lo, hi = min(xs), max(xs)
        body.append(
            f'<line class="att-fit" x1="{x_scale(lo):.2f}" y1="{y_scale(b0 + b1 * lo):.2f}" '
            f'x2="{x_scale(hi):.2f}" y2="{y_scale(b0 + b1 * hi):.2f}" stroke="{PALETTE[1]}" '
            f'stroke-width="2.5" data-intercept="{b0!r}" data-slope="{b1!r}">'
            f"<title>{escape(f'Fitted line: y = {_fmt(b0)} + {_fmt(b1)} x')}</title></line>"
        )
    summary = desc or (
        f"Scatter plot of {len(pairs)} points, {y_label} against {x_label}"
        + (f"; least-squares slope {_fmt(fit[1])}." if fit is not None else ".")
    )
    return _svg(width, height, title, summary, x_label, y_label, frame, body, "scatter")


def bar_chart(
    categories: Sequence[str],
    groups: Mapping[str, Sequence[float | int | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_min: float | None = None,
    y_max: float | None = None,
    desc: str | None = None,
    width: int = 480,
    height: int = 320,
) -> str:
    """Grouped (side-by-side) bars: one cluster per category, one bar per group in each.

    ``groups`` maps a group name (e.g. each partner) to one value per category. Bars start at
    zero when zero lies in the axis range, otherwise at the bottom of the axis. A missing value
    leaves its slot empty.
    """
    if not categories:
        raise InvalidInputError("A bar chart needs at least one category.")
    if not groups:
        raise InvalidInputError("A bar chart needs at least one group of values.")
    values: dict[str, list[float | None]] = {}
    for name, vals in groups.items():
        if len(vals) != len(categories):
            raise InvalidInputError(
                f"Group {name!r} has {len(vals)} values for {len(categories)} categories.",
                hint="Give one value per category (None for a missing one).",
            )
        values[name] = [_number(v, f"group {name!r}") for v in vals]
    present = [v for vals in values.values() for v in vals if v is not None]
    if not present:
        raise InvalidInputError(f"No values to plot in {title!r}: every value is missing.")
    # bars start at zero unless a fixed lower limit says otherwise (e.g. a 1-7 scale)
    lo, _ = _limits(present if y_min is not None else [*present, 0.0], y_min, y_max)
    _, hi = _limits(present if y_max is not None else [*present, 0.0], y_min, y_max)
    y_ticks = nice_ticks(lo, hi)
    frame = _frame(width, height, legend=len(groups) > 1)
    y_scale = _Scale(y_ticks[0], y_ticks[-1], frame.y0, frame.y1)
    base_value = min(max(0.0, y_ticks[0]), y_ticks[-1])
    base = y_scale(base_value)
    band = (frame.x1 - frame.x0) / len(categories)
    inner = band * 0.8
    bar_w = inner / len(groups)
    body = [_y_axis(frame, y_ticks, y_scale, _tick_formatter(y_ticks))]
    for ci, category in enumerate(categories):
        centre = frame.x0 + band * (ci + 0.5)
        body.append(
            f'<text class="att-tick-label" x="{centre:.2f}" y="{frame.y0 + 18:.2f}" '
            f'text-anchor="middle">{escape(_shorten(category, band))}</text>'
        )
        for gi, (name, vals) in enumerate(values.items()):
            value = vals[ci]
            if value is None:
                continue
            left = centre - inner / 2 + gi * bar_w
            top = min(base, y_scale(value))
            heights = abs(base - y_scale(value))
            label = f"{name}, {category}: {_fmt(value)}"
            body.append(
                f'<rect class="att-series att-series-{gi} att-bar" x="{left + 1:.2f}" '
                f'y="{top:.2f}" width="{max(bar_w - 2, 1):.2f}" height="{heights:.2f}" '
                f'fill="{PALETTE[gi % len(PALETTE)]}" data-value="{value!r}">'
                f"<title>{escape(label)}</title></rect>"
            )
    body.append(
        f'<line class="att-axis" x1="{frame.x0}" y1="{frame.y0}" x2="{frame.x1}" '
        f'y2="{frame.y0}" stroke="#333"/>'
    )
    if len(groups) > 1:
        body.append(_legend(frame, list(values)))
    summary = desc or _bar_summary(categories, values, y_label)
    return _svg(width, height, title, summary, x_label, y_label, frame, body, "bar")


def forest_chart(
    labels: Sequence[str],
    estimates: Sequence[float],
    ci_low: Sequence[float | None],
    ci_high: Sequence[float | None],
    *,
    title: str,
    x_label: str,
    reference: float | None = 0.0,
    desc: str | None = None,
    width: int = 480,
    height: int | None = None,
) -> str:
    """A coefficient (forest) plot: one row per term, a point at the estimate and a horizontal
    line from ``ci_low`` to ``ci_high``; a dashed vertical line marks ``reference`` (no effect).

    The height grows with the number of rows unless given.
    """
    n = len(labels)
    if n == 0:
        raise InvalidInputError("A coefficient plot needs at least one estimate.")
    if not (len(estimates) == len(ci_low) == len(ci_high) == n):
        raise InvalidInputError(
            "A coefficient plot needs one estimate, ci_low and ci_high per label."
        )
    rows: list[tuple[str, float, float | None, float | None]] = []
    for label, est, lo, hi in zip(labels, estimates, ci_low, ci_high, strict=True):
        e = _number(est, f"estimate of {label!r}")
        if e is None:
            raise InvalidInputError(f"The estimate of {label!r} is missing.")
        rows.append((label, e, _number(lo, "ci_low"), _number(hi, "ci_high")))
    label_width = min(width * 0.45, 20 + _ROW_CHAR * max(len(r[0]) for r in rows))
    row_h = 32
    height = height or int(70 + 56 + row_h * n)
    frame = _Frame(width, height, left=label_width, right=30, top=52, bottom=56)
    spread = [v for r in rows for v in r[1:] if v is not None]
    if reference is not None:
        spread.append(reference)
    x_ticks = nice_ticks(min(spread), max(spread))
    x_scale = _Scale(x_ticks[0], x_ticks[-1], frame.x0, frame.x1)
    step = (frame.y0 - frame.y1) / n
    fmt = _tick_formatter(x_ticks)
    body = [_x_axis(frame, x_ticks, x_scale, fmt, grid=True)]
    if reference is not None:
        rx = x_scale(reference)
        body.append(
            f'<line class="att-reference" x1="{rx:.2f}" y1="{frame.y1}" x2="{rx:.2f}" '
            f'y2="{frame.y0}" stroke="#555" stroke-dasharray="4 4"/>'
        )
    for i, (label, est, lo, hi) in enumerate(rows):
        cy = frame.y1 + step * (i + 0.5)
        body.append(
            f'<text class="att-row-label" x="{frame.x0 - 8:.2f}" y="{cy + 4:.2f}" '
            f'text-anchor="end" font-size="13">'
            f"{escape(_shorten(label, label_width - 12, _ROW_CHAR))}</text>"
        )
        if lo is not None and hi is not None:
            body.append(
                f'<line class="att-interval" x1="{x_scale(lo):.2f}" y1="{cy:.2f}" '
                f'x2="{x_scale(hi):.2f}" y2="{cy:.2f}" stroke="{PALETTE[0]}" stroke-width="2.5"'
                f' data-low="{lo!r}" data-high="{hi!r}"/>'
            )
        interval = f" [{_fmt(lo)}, {_fmt(hi)}]" if lo is not None and hi is not None else ""
        body.append(
            f'<rect class="att-estimate" x="{x_scale(est) - 5:.2f}" y="{cy - 5:.2f}" '
            f'width="10" height="10" fill="{PALETTE[0]}" data-estimate="{est!r}">'
            f"<title>{escape(f'{label}: {_fmt(est)}{interval}')}</title></rect>"
        )
    summary = desc or "Estimates with intervals: " + "; ".join(
        f"{label} {_fmt(est)}"
        + (f" ({_fmt(lo)} to {_fmt(hi)})" if lo is not None and hi is not None else "")
        for label, est, lo, hi in rows
    )
    return _svg(width, height, title, summary, x_label, None, frame, body, "forest")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]``: steps of 1, 2, 2.5 or 5 times a power of ten.

    The first tick is at or below ``lo`` and the last at or above ``hi``; about ``count``
    intervals. A zero-width (or numerically negligible) range is widened by one unit (or 10 %
    of its size) on each side.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InvalidInputError("Axis limits must be finite numbers.")
    if hi < lo:
        lo, hi = hi, lo
    if hi - lo <= 1e-9 * max(1.0, abs(lo), abs(hi)):  # too narrow for float ticks: widen
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-12))
    first = float(math.floor(lo / step + 1e-9)) * step
    last = float(math.ceil(hi / step - 1e-9)) * step
    n = round((last - first) / step)
    digits = max(0, 3 - math.floor(math.log10(step)))
    return [_clean(first + i * step, digits) for i in range(n + 1)]


# --------------------------------------------------------------------------- building blocks


def _svg(
    width: int,
    height: int,
    title: str,
    desc: str,
    x_label: str | None,
    y_label: str | None,
    frame: _Frame,
    body: list[str],
    kind: str,
) -> str:
    digest = hashlib.sha1(
        f"{kind}{title}{desc}{len(body)}{body[-1] if body else ''}".encode()
    ).hexdigest()[:10]
    uid = f"att-{kind}-{digest}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="att-chart att-chart-{kind}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'style="max-width:{width}px;height:auto;display:block" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" font-family="{escape(_FONT)}" '
        f'font-size="14" fill="#222">',
        f'<title id="{uid}-title">{escape(title)}</title>',
        f'<desc id="{uid}-desc">{escape(desc)}</desc>',
        f'<rect class="att-background" width="{width}" height="{height}" fill="#fff"/>',
        f'<text class="att-title" x="{width / 2:.1f}" y="24" text-anchor="middle" '
        f'font-size="17" font-weight="600">{escape(title)}</text>',
        *body,
    ]
    if x_label:
        parts.append(
            f'<text class="att-axis-label att-x-label" x="{(frame.x0 + frame.x1) / 2:.1f}" '
            f'y="{height - 12}" text-anchor="middle">{escape(x_label)}</text>'
        )
    if y_label:
        cy = (frame.y0 + frame.y1) / 2
        parts.append(
            f'<text class="att-axis-label att-y-label" x="16" y="{cy:.1f}" '
            f'text-anchor="middle" transform="rotate(-90 16 {cy:.1f})">{escape(y_label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _frame(width: int, height: int, *, legend: bool) -> _Frame:
    return _Frame(width, height, left=64, right=30, top=60 if legend else 44, bottom=56)


def _axes(
    frame: _Frame,
    x_ticks: list[float],
    y_ticks: list[float],
    x_scale: _Scale,
    y_scale: _Scale,
    x_format: _Formatter,
    y_format: _Formatter,
) -> str:
    return "\n".join(
        [
            _y_axis(frame, y_ticks, y_scale, y_format),
            _x_axis(frame, x_ticks, x_scale, x_format, grid=False),
        ]
    )


def _y_axis(frame: _Frame, ticks: list[float], scale: _Scale, fmt: _Formatter) -> str:
    parts = ['<g class="att-y-axis" font-size="13">']
    for tick in ticks:
        y = scale(tick)
        parts.append(
            f'<line class="att-grid" x1="{frame.x0}" y1="{y:.2f}" x2="{frame.x1}" '
            f'y2="{y:.2f}" stroke="#e3e3e3"/>'
            f'<text class="att-tick-label" x="{frame.x0 - 6}" y="{y + 4:.2f}" '
            f'text-anchor="end" data-value="{tick!r}">{escape(fmt(tick))}</text>'
        )
    parts.append(
        f'<line class="att-axis" x1="{frame.x0}" y1="{frame.y0}" x2="{frame.x0}" '
        f'y2="{frame.y1}" stroke="#333"/></g>'
    )
    return "".join(parts)


def _x_axis(
    frame: _Frame, ticks: list[float], scale: _Scale, fmt: _Formatter, *, grid: bool
) -> str:
    parts = ['<g class="att-x-axis" font-size="13">']
    for tick in ticks:
        x = scale(tick)
        if grid:
            parts.append(
                f'<line class="att-grid" x1="{x:.2f}" y1="{frame.y1}" x2="{x:.2f}" '
                f'y2="{frame.y0}" stroke="#e3e3e3"/>'
            )
        parts.append(
            f'<line class="att-tick" x1="{x:.2f}" y1="{frame.y0}" x2="{x:.2f}" '
            f'y2="{frame.y0 + 5}" stroke="#333"/>'
            f'<text class="att-tick-label" x="{x:.2f}" y="{frame.y0 + 18}" '
            f'text-anchor="middle" data-value="{tick!r}">{escape(fmt(tick))}</text>'
        )
    parts.append(
        f'<line class="att-axis" x1="{frame.x0}" y1="{frame.y0}" x2="{frame.x1}" '
        f'y2="{frame.y0}" stroke="#333"/></g>'
    )
    return "".join(parts)


def _legend(frame: _Frame, names: list[str]) -> str:
    parts = ['<g class="att-legend" font-size="12">']
    x = frame.x0
    y = 42.0
    for index, name in enumerate(names):
        text = _shorten(name, 160)
        span = 22 + 7 * len(text) + 16
        if x + span > frame.x1 and x > frame.x0:
            break  # no room: the <title> of each mark still names its series
        parts.append(
            f'<rect class="att-series att-series-{index}" x="{x:.1f}" y="{y - 9:.1f}" '
            f'width="14" height="10" fill="{PALETTE[index % len(PALETTE)]}"/>'
            f'<text class="att-legend-label" x="{x + 20:.1f}" y="{y:.1f}">{escape(text)}</text>'
        )
        x += span
    parts.append("</g>")
    return "".join(parts)


# --------------------------------------------------------------------------- helpers


def _tick_formatter(ticks: list[float]) -> _Formatter:
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    if decimals == 0 and any(abs(t - round(t)) > 1e-9 for t in ticks):
        decimals = 1
    if any(abs(t * 10**decimals - round(t * 10**decimals)) > 1e-6 for t in ticks):
        decimals += 1  # a step of 2.5 needs one more digit

    def fmt(value: float) -> str:
        text = f"{value:.{decimals}f}"
        return "0" if float(text) == 0 else text.replace("-", "\u2212")

    return fmt


def _date_ticks(lo: float, hi: float) -> list[float]:
    if hi - lo <= 1e-9 * max(1.0, abs(lo), abs(hi)):
        # Every point on one moment: a day either side of a date, half a day around a time
        # (nice_ticks would widen by 10 % of the days since 1970, about six years).
        pad = 1.0 if abs(lo - round(lo)) < 1e-9 else 0.5
        lo, hi = lo - pad, hi + pad
    span = hi - lo
    raw = span / 5
    if span < 2:  # within two days: ticks on whole hours (1, 2, 3, 6 or 12 of them)
        hours = next(h / 24 for h in (1, 2, 3, 6, 12, 24) if h / 24 >= raw)
        start = math.floor(lo / hours + 1e-9) * hours
        hourly = [start]
        while hourly[-1] < hi - 1e-9:
            hourly.append(start + len(hourly) * hours)
        return hourly
    step = next((s for s in (1, 2, 7, 14, 28, 56, 91, 182, 365) if s >= raw), None)
    if step is None:
        step = 365 * math.ceil(raw / 365)
    first = math.floor(lo / step) * step if step < 7 else math.floor(lo)
    ticks = [float(first)]
    while ticks[-1] < hi - 1e-9:
        ticks.append(ticks[-1] + step)
    return ticks


def _date_formatter(ticks: list[float]) -> _Formatter:
    """Day and month ("3 Feb") for spans under a year, month and year ("Feb 2026") beyond."""
    long_span = ticks[-1] - ticks[0] > 365
    hourly = len(ticks) > 1 and ticks[1] - ticks[0] < 1 - 1e-9

    def fmt(value: float) -> str:
        moment = _EPOCH + timedelta(minutes=round(value * 1440))  # whole minutes: no 16:59
        if abs(value - round(value)) > 1e-6 and hourly:
            return f"{moment:%H:%M}"
        return f"{moment:%b %Y}" if long_span else f"{moment.day} {moment:%b}"

    return fmt


def _x_kind(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "number"


def _x_number(value: XValue) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (moment - _EPOCH).total_seconds() / 86400
    if isinstance(value, date):
        return float((value - _EPOCH.date()).days)
    number = _number(value, "x")
    if number is None:
        raise InvalidInputError("An x value of a trend chart is missing.")
    return number


def _format_x(value: float, kind: str) -> str:
    if kind == "date":
        return (_EPOCH + timedelta(days=value)).date().isoformat()
    if kind == "datetime":
        return (_EPOCH + timedelta(days=value)).strftime("%Y-%m-%d %H:%M")
    return _fmt(value)


def _number(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, str, bytes)):
        raise InvalidInputError(
            f"A chart value of {what} is not a number.",
            hint="Give numbers only.",
        )
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"A chart value of {what} is not a number: {value!r}.") from exc
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise InvalidInputError(f"A chart value of {what} is infinite.")
    return number


def _limits(values: list[float], low: float | None, high: float | None) -> tuple[float, float]:
    """The axis range: the fixed limits where given, widened to include every value."""
    lo = min(values) if low is None else min(low, *values)
    hi = max(values) if high is None else max(high, *values)
    return lo, hi


def _segments(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def _least_squares(xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    n = len(xs)
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if n < 2 or sxx <= 1e-12 * max(1.0, mx * mx):
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return my - slope * mx, slope


def _clean(value: float, digits: int) -> float:
    rounded = round(value, digits)
    return 0.0 if rounded == 0 else rounded


def _fmt(value: float | None) -> str:
    if value is None:
        return "NA"
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1e-2 or abs(value) >= 1e4 else f"{value:.2f}"


def _shorten(text: str, room: float, char_width: float = 7.5) -> str:
    """``text`` cut with an ellipsis to fit ``room`` units at about ``char_width`` per glyph."""
    limit = max(4, int(room / char_width))
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _trend_summary(
    cleaned: list[tuple[str, list[tuple[float, float] | None]]], kind: str, y_label: str
) -> str:
    parts = []
    for name, pts in cleaned:
        present = [p for p in pts if p is not None]
        if not present:
            parts.append(f"{name}: no values")
            continue
        first, last = present[0], present[-1]
        parts.append(
            f"{name}: {len(present)} values of {y_label}, from {_fmt(first[1])} at "
            f"{_format_x(first[0], kind)} to {_fmt(last[1])} at {_format_x(last[0], kind)}"
        )
    return "Line chart. " + "; ".join(parts) + "."


def _bar_summary(
    categories: Sequence[str], values: dict[str, list[float | None]], y_label: str
) -> str:
    parts = []
    for name, vals in values.items():
        shown = ", ".join(f"{c} {_fmt(v)}" for c, v in zip(categories, vals, strict=True))
        parts.append(f"{name}: {shown}" if len(values) > 1 else shown)
    return f"Bar chart of {y_label}. " + "; ".join(parts) + "."
