"""The workbook: its four sheets, real dates and numbers, and no cell that is a formula."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import polars as pl
import pytest

from shadowscan.report.model import build_report_from_frames
from shadowscan.report.xlsx import neutralise, render_xlsx
from tests.outputs.fixtures import HOSTILE, T, findings

GENERATED = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
STARTERS = ("=", "+", "-", "@", "\t", "\r", "\x00")


def _hostile() -> pl.DataFrame:
    return findings().with_columns(
        pl.Series("user", ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)"]),
        pl.Series("department", ["-2+3", "\tTab", HOSTILE]),
        pl.Series("hosts", [["=cmd|' /C calc'!A0", "ok"], [HOSTILE], []]),
    )


@pytest.fixture(scope="module")
def book() -> openpyxl.Workbook:
    report = build_report_from_frames(_hostile(), generated_at=GENERATED)
    return openpyxl.load_workbook(io.BytesIO(render_xlsx(report)))


def test_sheets(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == ["Summary", "Findings", "Departments", "Data quality"]


def test_no_cell_is_a_formula_and_no_text_starts_like_one(book: openpyxl.Workbook) -> None:
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    seen += 1
                    assert not cell.value.startswith(STARTERS), (sheet.title, cell.value)
    assert seen > 50


def test_hostile_values_are_kept_with_a_leading_quote(book: openpyxl.Workbook) -> None:
    sheet = book["Findings"]
    header = [c.value for c in sheet[1]]
    users = [row[header.index("user")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://x","y")' in users
    hosts = [row[header.index("hosts")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'=cmd|' /C calc'!A0; ok" in hosts


def test_dates_are_dates_and_counts_are_numbers(book: openpyxl.Workbook) -> None:
    sheet = book["Findings"]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    firsts = [row[header.index("first_seen")] for row in rows]
    assert all(isinstance(v, dt.datetime) for v in firsts)
    assert T.replace(tzinfo=None) in firsts
    assert sorted(int(str(row[header.index("requests")])) for row in rows) == [0, 4, 28]
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Generated (UTC)"] == GENERATED.replace(tzinfo=None)
    assert summary["Requests"] == 32


def test_data_quality_says_when_it_is_not_available(book: openpyxl.Workbook) -> None:
    assert str(book["Data quality"]["A1"].value).startswith("Not available")


def test_neutralise_matches_the_csv_rule() -> None:
    assert [neutralise(s) for s in ("=a", "+a", "-a", "@a", "\ta", "\ra", "\x00a", "a=")] == [
        "'=a",
        "'+a",
        "'-a",
        "'@a",
        "'\ta",
        "'\ra",
        "'\x00a",
        "a=",
    ]
