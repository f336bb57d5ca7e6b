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
from attunement.reports.html import (
    ReportOptions,
    ReportResults,
    analysis_report,
    render_report,
    table_html,
)

__all__ = [
    "PALETTE",
    "ReportOptions",
    "ReportResults",
    "Series",
    "analysis_report",
    "bar_chart",
    "forest_chart",
    "nice_ticks",
    "render_report",
    "scatter_chart",
    "table_html",
    "trend_chart",
]
