"""The html, md and xlsx sinks: registered by name and extension, whole-scan reports through
``write_result``, findings-only reports through ``write``, and golden output."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from shadowscan.api import scan
from shadowscan.errors import UsageError
from shadowscan.outputs import SINKS
from shadowscan.report.html import render_html
from shadowscan.report.markdown import render_markdown
from shadowscan.report.model import build_report_from_frames
from shadowscan.report.xlsx import render_xlsx
from tests.outputs.fixtures import events, findings
from tests.outputs.golden import GOLDEN, check_golden

GENERATED = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("name", "extensions", "binary"),
    [("html", (".html", ".htm"), False), ("md", (".md",), False), ("xlsx", (".xlsx",), True)],
)
def test_registered(name: str, extensions: tuple[str, ...], binary: bool) -> None:
    sink = SINKS.get(name)
    assert sink.extensions == extensions and sink.binary is binary and sink.wants_result


@pytest.mark.parametrize("name", ["html", "md"])
def test_write_from_findings_alone(name: str) -> None:
    out = io.StringIO()
    SINKS.get(name)().write(findings(), out, kind="findings")
    assert "Not available: this report was made from findings alone" in out.getvalue()


def test_xlsx_write_from_findings_alone() -> None:
    out = io.BytesIO()
    SINKS.get("xlsx")().write(findings(), out, kind="findings")
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert book["Findings"].max_row == 4


@pytest.mark.parametrize("name", ["html", "md", "xlsx"])
def test_events_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="report of findings"):
        SINKS.get(name)().write(events(), io.BytesIO(), kind="events")


def test_write_result_reports_the_data_quality_of_the_scan() -> None:
    result = scan(["sample_logs/squid"])
    out = io.StringIO()
    SINKS.get("html")().write_result(result, out)
    html = out.getvalue()
    assert "Not available" not in html.split('id="data-quality"')[1].split("</section>")[0]
    assert result.stats.files[0].path in html
    md = io.StringIO()
    SINKS.get("md")().write_result(result, md)
    assert "### Log files" in md.getvalue()


def test_golden() -> None:
    report = build_report_from_frames(findings(), generated_at=GENERATED)
    check_golden(render_html(report), GOLDEN / "html" / "findings.html")
    check_golden(render_markdown(report), GOLDEN / "md" / "findings.md")
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(report)))
    dump = [
        f"{sheet.title}!{cell.coordinate}\t{type(cell.value).__name__}\t{cell.value!r}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]
    check_golden("\n".join(dump) + "\n", GOLDEN / "xlsx" / "findings.xlsx.txt")
