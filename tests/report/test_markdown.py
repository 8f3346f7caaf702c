"""The Markdown report: the same sections, and table cells a log value cannot break."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.report.markdown import escape, escape_cell, render_markdown
from shadowscan.report.model import build_report_from_frames
from tests.outputs.fixtures import HOSTILE, findings

GENERATED = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
UNESCAPED_PIPE = re.compile(r"(?<!\\)(?:\\\\)*\|")


def _cells(line: str) -> int:
    """Cells in a table row: the pipes no backslash escapes, less one."""
    return len(re.findall(r"(?:^|[^\\])(?:\\\\)*\|", line)) - 1


def test_every_section_is_there() -> None:
    md = render_markdown(build_report_from_frames(findings(), generated_at=GENERATED))
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Executive summary",
        "## Services by category and policy",
        "## Departments × services",
        "## Top users",
        "## Timeline",
        "## Large uploads",
        "## New services",
        "## Blocked attempts",
        "## Data quality and method",
        "## Limitations",
    ]
    assert "Not available: this report was made from findings alone" in md


def test_hostile_values_stay_in_their_cell() -> None:
    md = render_markdown(build_report_from_frames(findings(), generated_at=GENERATED))
    lines = md.splitlines()
    start = lines.index("### Top risks") + 2
    table = lines[start : lines.index("", start)]
    widths = {_cells(line) for line in table}
    assert widths == {17}, widths
    row = next(line for line in table if "perplexity" in line.lower() and "alert" in line)
    assert "\\<script\\>" in row and "<script>" not in md
    assert "a\\|b\\\\c=d e" in row


@given(st.text())
def test_a_cell_is_one_line_and_ends_only_where_the_table_says(value: str) -> None:
    cell = escape_cell(value)
    assert "\n" not in cell and "\r" not in cell
    assert not UNESCAPED_PIPE.search(cell)
    assert "<" not in cell.replace("\\<", "")


def test_a_line_start_cannot_become_a_heading_or_list() -> None:
    assert escape("# x") == "\\# x"
    assert escape("- x").startswith("\\-")
    assert escape_cell(HOSTILE).count("\\|") == 2


def test_a_title_with_markup_is_escaped() -> None:
    report = build_report_from_frames(
        pl.DataFrame(schema=findings().schema), title="# <b>x</b>", generated_at=GENERATED
    )
    assert render_markdown(report).startswith("# \\# \\<b\\>x\\</b\\>\n")
