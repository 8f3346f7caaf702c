"""The audit report: one model (:mod:`.model`) rendered as HTML, Markdown or a workbook."""

from __future__ import annotations

from shadowscan.report.model import ReportData, build_report, build_report_from_frames

__all__ = ["ReportData", "build_report", "build_report_from_frames"]
