"""What the report sinks (html, md, xlsx) share: they render the whole scan, not a frame.

The report modules are imported when a report is written, not when the sink registers, so
listing output formats stays cheap and ``shadowscan.report`` can use the other sinks' helpers.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import IO, TYPE_CHECKING, Any, ClassVar

import polars as pl

from shadowscan.errors import UsageError
from shadowscan.outputs.base import Sink

if TYPE_CHECKING:
    from shadowscan.api import ScanResult
    from shadowscan.report.model import ReportData


class ReportSink(Sink):
    wants_result: ClassVar[bool] = True

    @abstractmethod
    def render(self, report: ReportData) -> str | bytes:
        """The report in this sink's format."""

    def write(self, frame: pl.DataFrame, stream: IO[Any], *, kind: str) -> None:
        """A report from the findings alone (its data-quality section says so)."""
        if kind != "findings":
            raise UsageError(f"--output-format {self.name} writes a report of findings, not {kind}")
        from shadowscan.report.model import build_report_from_frames

        stream.write(self.render(build_report_from_frames(frame)))

    def write_result(
        self, result: ScanResult, stream: IO[Any], *, daily: pl.DataFrame | None = None
    ) -> None:
        from shadowscan.report.model import build_report

        stream.write(self.render(build_report(result, daily=daily)))
