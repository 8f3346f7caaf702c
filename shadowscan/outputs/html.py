"""The audit report as one self-contained HTML page (strict CSP, no network requests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shadowscan.outputs import SINKS
from shadowscan.outputs._report_sink import ReportSink

if TYPE_CHECKING:
    from shadowscan.report.model import ReportData


@SINKS.register("html")
class HtmlSink(ReportSink):
    name = "html"
    summary = "Audit report: one self-contained HTML page, sortable tables, printable."
    extensions = (".html", ".htm")

    def render(self, report: ReportData) -> str:
        from shadowscan.report.html import render_html

        return render_html(report)
