"""The audit report as an Excel workbook; formula injection neutralised."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shadowscan.outputs import SINKS
from shadowscan.outputs._report_sink import ReportSink

if TYPE_CHECKING:
    from shadowscan.report.model import ReportData


@SINKS.register("xlsx")
class XlsxSink(ReportSink):
    name = "xlsx"
    summary = "Audit report workbook: Summary, Findings, Departments, Data quality sheets."
    extensions = (".xlsx",)
    binary = True

    def render(self, report: ReportData) -> bytes:
        from shadowscan.report.xlsx import render_xlsx

        return render_xlsx(report)
