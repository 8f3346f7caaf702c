"""The audit report as Markdown (for tickets, wikis and e-mail)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shadowscan.outputs import SINKS
from shadowscan.outputs._report_sink import ReportSink

if TYPE_CHECKING:
    from shadowscan.report.model import ReportData


@SINKS.register("md")
class MarkdownSink(ReportSink):
    name = "md"
    summary = "Audit report as Markdown: the HTML report's sections, charts as tables."
    extensions = (".md",)

    def render(self, report: ReportData) -> str:
        from shadowscan.report.markdown import render_markdown

        return render_markdown(report)
