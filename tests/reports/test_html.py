"""The self-contained HTML report: sections, charts, tables, methods; no external assets."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from attunement.datafile import read_table
from attunement.errors import InvalidInputError
from attunement.reports.html import (
    REFERENCES,
    ReportOptions,
    analysis_report,
    render_report,
    report_steps,
    table_html,
)

REF = Path(__file__).parent.parent / "analysis" / "reference_process"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(document: str) -> _Collector:
    parser = _Collector()
    parser.feed(document)
    return parser


@pytest.fixture(scope="module")
def diary_report() -> str:
    diary = read_table(REF / "process_data.csv")
    steps: list[str] = []
    results = analysis_report(diary, ReportOptions(draws=2000), progress=steps.append)
    assert steps == [
        "Describing the data",
        "Fitting the intimacy process model",
        "Fitting the 1-1-1 mediation model",
    ]
    assert results.process is not None
    assert results.mediation is not None
    return render_report(results)


def test_report_is_self_contained(diary_report: str) -> None:
    parsed = _parse(diary_report)
    tags = [t for t, _ in parsed.tags]
    assert "script" not in tags
    assert "link" not in tags
    assert "img" not in tags
    for _, attrs in parsed.tags:
        for name in ("src", "href"):
            assert name not in attrs
    assert not re.search(r"url\(|@import|https?://[^\s<]*\.(css|js)", diary_report)
    assert '<meta name="viewport"' in diary_report


def test_report_has_charts_tables_and_methods(diary_report: str) -> None:
    svgs = re.findall(r"<svg.*?</svg>", diary_report, flags=re.S)
    assert len(svgs) >= 5  # trend, scatter, forest, bars, mediation forest
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.attrib["role"] == "img"
    titles = [ET.fromstring(s).findtext("{http://www.w3.org/2000/svg}title") for s in svgs]
    assert "What predicts intimacy" in titles
    assert "Paths of the mediation" in titles
    text = " ".join(_parse(diary_report).text)
    assert "The intimacy process model" in text
    assert "emotional_within" in text
    assert "Emotional versus factual disclosure" in text
    assert "Proportion mediated" in text
    between = re.search(
        r"<caption>Between-person paths of the mediation</caption>.*?</table>", diary_report, re.S
    )
    assert between is not None
    rows = re.findall(r"<tr><td[^>]*>(\w+)</td>", between.group(0))
    assert rows == [
        "a_between",
        "b_between",
        "c_prime_between",
        "indirect_between",
        "total_between",
    ]
    assert "Laurenceau et al., 1998" in text
    assert "Bauer et al., 2006" in text
    assert REFERENCES["Selig & Preacher, 2008"][:40] in text
    assert "2 of 1872 rows had a missing value" in text  # listwise deletion noted


def test_dyadic_report_with_asymmetry_and_notes() -> None:
    diary = read_table(REF / "apim_diary_data.csv")
    options = ReportOptions(occasion="day", intimacy="y", emotional="x", role="role", draws=2000)
    results = analysis_report(diary, options)
    assert results.apim is not None
    assert results.apim.distinguishable
    assert results.asymmetry is not None
    document = render_report(results)
    text = " ".join(_parse(document).text)
    assert "Actor-partner interdependence model (diary, distinguishable dyads)" in text
    assert "Kenny & Ledermann, 2010" in text
    assert "Asymmetry of y" in text
    assert "Who is more invested?" in document


def test_outcome_section_uses_one_row_per_person() -> None:
    data = read_table(REF / "outcomes.csv")
    results = analysis_report(data)
    assert results.outcomes is not None
    assert list(results.outcomes["y"])[:2] == ["swls_total", "pss10_total"]
    document = render_report(results)
    assert "Emotional intimacy and well-being" in document
    assert "Benjamini &amp; Hochberg, 1995" in document


def test_failed_sections_become_notes_and_empty_tables_are_refused() -> None:
    diary = read_table(REF / "process_data.csv")
    flat = diary.assign(factual_disclosure=1.0)  # the process model refuses a constant column
    results = analysis_report(flat, ReportOptions(responsiveness=None, draws=2000))
    assert results.process is None
    assert any("one value in every row" in n for n in results.notes)
    with pytest.raises(InvalidInputError, match="Nothing to report"):
        analysis_report(pd.DataFrame({"a": [1, 2]}))
    assert [s.label for s in report_steps(pd.DataFrame({"a": [1]}), ReportOptions())] == [
        "Describing the data"
    ]


def test_table_html_escapes_and_formats() -> None:
    frame = pd.DataFrame({"term": ["<b>x</b>"], "estimate": [0.123456], "p_val": [0.0000123]})
    out = table_html(frame, ["term", "estimate", "p_val", "absent"])
    assert "&lt;b&gt;x&lt;/b&gt;" in out
    assert "0.123" in out
    assert "&lt; .001" in out
    assert "absent" not in out


def test_a_section_skipped_on_bad_values_names_the_cells() -> None:
    diary = read_table(REF / "process_data.csv").astype({"intimacy": object})
    diary.loc[5, "intimacy"] = "high"
    results = analysis_report(diary, ReportOptions(responsiveness=None, draws=2000))
    assert results.process is None
    assert results.notes == [
        "Fitting the intimacy process model: skipped. 1 value(s) in the model columns are not "
        "numbers. line 5, column 'intimacy': not a number (got 'high')."
    ]
