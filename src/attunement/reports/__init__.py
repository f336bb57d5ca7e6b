"""Reports: SVG charts and self-contained HTML reports of analyses.

The charts in :mod:`attunement.reports.charts` are shared by the HTML reports
(``attunement report``) and the web dashboard.
"""

from attunement.reports.charts import (
    PALETTE,
    Series,
    bar_chart,
    forest_chart,
    nice_ticks,
    scatter_chart,
    trend_chart,
)

__all__ = [
    "PALETTE",
    "Series",
    "bar_chart",
    "forest_chart",
    "nice_ticks",
    "scatter_chart",
    "trend_chart",
]
