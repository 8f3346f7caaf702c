"""The audit report as an Excel workbook: Summary, Findings, Departments, Data quality.

Formula injection is closed twice: every text cell is written as an explicit string (never
parsed as a formula, number or URL), and a text starting with ``= + - @``, a tab, a
carriage return or NUL also gets a leading ``'`` as in the CSV output, so the cell stays
inert even after a user edits it or the sheet is exported again. Times are real Excel
datetimes in UTC; byte counts are numbers.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import polars as pl
import xlsxwriter  # type: ignore[import-untyped]

from shadowscan.report.model import ReportData

#: Excel's row limit, less the header.
MAX_ROWS = 1_048_575
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
_WIDTH = 60


def neutralise(text: str) -> str:
    """A text that can never start a formula (the CSV rule)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Writer:
    def __init__(self, book: Any) -> None:
        self.book = book
        self.bold = book.add_format({"bold": True})
        self.when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.day = book.add_format({"num_format": "yyyy-mm-dd"})

    def cell(self, sheet: Any, row: int, col: int, value: Any) -> None:
        if value is None:
            sheet.write_blank(row, col, None)
        elif isinstance(value, dt.datetime):
            naive = value.astimezone(dt.UTC).replace(tzinfo=None)
            sheet.write_datetime(row, col, naive, self.when)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), self.day)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value)
        elif isinstance(value, list):
            sheet.write_string(row, col, neutralise("; ".join(neutralise(str(v)) for v in value)))
        else:
            sheet.write_string(row, col, neutralise(str(value)))

    def frame(self, sheet: Any, frame: pl.DataFrame, start: int = 0) -> int:
        """Write ``frame`` with a header row from ``start``; returns the next free row."""
        for col, name in enumerate(frame.columns):
            sheet.write_string(start, col, neutralise(name), self.bold)
            sheet.set_column(col, col, min(_WIDTH, max(10, len(name) + 2)))
        for r, row in enumerate(frame.head(MAX_ROWS - start).iter_rows(), start=start + 1):
            for col, value in enumerate(row):
                self.cell(sheet, r, col, value)
        if frame.width and start == 0:  # one filter per sheet: the first table's
            sheet.autofilter(start, 0, start + frame.height, frame.width - 1)
        return start + frame.height + 2


def _summary(w: _Writer, report: ReportData) -> None:
    sheet = w.book.add_worksheet("Summary")
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 90)
    t = report.totals
    q = report.quality
    rows: list[tuple[str, Any]] = [
        ("Title", report.title),
        ("Generated (UTC)", report.generated_at),
        ("Window start (UTC)", report.window_start),
        ("Window end (UTC)", report.window_end),
        ("Signature catalogue", q.catalogue_version if q else "unknown"),
        ("Pseudonymised", report.pseudonymized),
        ("Findings", t.findings),
        ("AI services", t.services),
        ("Named users", t.users),
        ("Unnamed source addresses", t.unnamed_sources),
        ("Departments", t.departments),
        ("Requests", t.requests),
        ("DNS lookups", t.queries),
        ("Blocked", t.blocked),
        ("Large uploads", t.large_uploads),
        ("Bytes sent to AI services", t.bytes_out),
        ("Bytes sent to unsanctioned services", t.bytes_out_unsanctioned),
    ]
    for r, (label, value) in enumerate(rows):
        sheet.write_string(r, 0, label, w.bold)
        w.cell(sheet, r, 1, value)
    r = len(rows) + 1
    for heading, lines in (("Summary", report.summary), ("Limitations", report.limitations)):
        sheet.write_string(r, 0, heading, w.bold)
        for line in lines:
            w.cell(sheet, r, 1, line)
            r += 1
        r += 1


def _findings(w: _Writer, report: ReportData) -> None:
    sheet = w.book.add_worksheet("Findings")
    frame = report.findings.sort("risk_score", descending=True, maintain_order=True)
    w.frame(sheet, frame)
    sheet.freeze_panes(1, 0)


def _departments(w: _Writer, report: ReportData) -> None:
    sheet = w.book.add_worksheet("Departments")
    findings = report.findings
    by_department = (
        findings.with_columns(pl.col("department").fill_null("(none)"))
        .group_by("department")
        .agg(
            pl.col("user").drop_nulls().n_unique().alias("users"),
            pl.col("service_id").n_unique().alias("services"),
            pl.col("requests").sum(),
            pl.col("queries").sum(),
            pl.col("blocked").sum(),
            pl.col("bytes_out").sum(),
            pl.col("large_uploads").sum(),
            pl.col("risk_score").max().alias("max_risk"),
        )
        .sort(["max_risk", "requests"], descending=True)
    )
    nxt = w.frame(sheet, by_department)
    sheet.write_string(nxt, 0, "Departments x services (requests + DNS lookups)", w.bold)
    w.frame(sheet, report.matrix.frame, nxt + 1)


def _quality(w: _Writer, report: ReportData) -> None:
    sheet = w.book.add_worksheet("Data quality")
    q = report.quality
    if q is None:
        sheet.write_string(
            0,
            0,
            "Not available: this workbook was made from findings alone, without the scan's "
            "account of the files it read.",
        )
        return
    sheet.write_string(0, 0, neutralise(q.summary))
    sheet.write_string(
        1, 0, neutralise(f"Signature catalogue {q.catalogue_version}; prefilter {q.prefilter}.")
    )
    r = 3
    for title, frame in (
        ("Log files", q.files),
        ("Identity and directory files", q.identity),
        ("How users were found", q.attribution),
    ):
        sheet.write_string(r, 0, title, w.bold)
        r = w.frame(sheet, frame, r + 1)


def render_xlsx(report: ReportData) -> bytes:
    """The workbook's bytes."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    writer = _Writer(book)
    _summary(writer, report)
    _findings(writer, report)
    _departments(writer, report)
    _quality(writer, report)
    book.close()
    return buffer.getvalue()
