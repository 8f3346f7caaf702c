"""The ``csv`` sink: golden output for the hostile fixtures, and formula injection kept
out of every cell, every item of a list cell, and every piece Excel would make of a cell
in a locale that separates with ``;``."""

from __future__ import annotations

import csv
import io
import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.outputs.csv import CsvSink
from tests.outputs import fixtures
from tests.outputs.golden import GOLDEN, check_golden

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\x00")


def render(frame: pl.DataFrame, kind: str = "findings") -> str:
    out = io.StringIO()
    CsvSink().write(frame, out, kind=kind)
    return out.getvalue()


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("kind", ["findings", "events"])
def test_golden(kind: str) -> None:
    frame = fixtures.findings() if kind == "findings" else fixtures.events()
    check_golden(render(frame, kind), GOLDEN / "csv" / f"{kind}.csv")


def test_hostile_fixture_survives_whole() -> None:
    """The fixtures' hostile value (quotes, pipes, line breaks, a DDE payload after a tab)
    comes back exactly from a CSV reader, in its own cell."""
    header, *rows = cells(render(fixtures.findings()))
    assert len(rows) == 3 and header[0] == "user"
    assert rows[1][header.index("hosts")] == fixtures.HOSTILE
    header, *rows = cells(render(fixtures.events(), "events"))
    assert rows[0][header.index("user_agent")] == fixtures.HOSTILE
    assert rows[0][header.index("log_user")] == "CORP\\jdoe"


def assert_safe(cell: str) -> None:
    """No formula where a spreadsheet could start a cell: at the start, or after ``;``."""
    for piece in cell.split(";"):
        assert not piece.startswith(FORMULA_START), cell


def test_formulas_are_neutralised_in_cells_and_list_items() -> None:
    frame = fixtures.findings().with_columns(
        pl.Series("user", ['=HYPERLINK("http://x")', "+1+1", "@SUM(A1)"]),
        pl.Series("site", ["-2+3", "\tx", "\r=1"]),
        pl.Series("hosts", [["chatgpt.com", "=cmd|' /C calc'!A0"], ["@x", "ok"], []]),
        pl.Series("department", ["a;=cmd|' /C calc'!A0;b", "\x00=1", None]),
    )
    header, *rows = cells(render(frame))
    user, site, hosts, department = (
        header.index(c) for c in ("user", "site", "hosts", "department")
    )
    assert [r[user] for r in rows] == ['\'=HYPERLINK("http://x")', "'+1+1", "'@SUM(A1)"]
    assert [r[site] for r in rows] == ["'-2+3", "'\tx", "'\r=1"]
    assert [r[hosts] for r in rows] == ["chatgpt.com;'=cmd|' /C calc'!A0", "'@x;ok", ""]
    assert [r[department] for r in rows] == ["a;'=cmd|' /C calc'!A0;b", "'\x00=1", ""]
    for row in rows:
        for cell in row:
            assert_safe(cell)


def test_header_is_bare() -> None:
    assert render(fixtures.events().clear(), "events").startswith("ts,log_format,log_type,")


_FORMULAISH = st.text(
    st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\x00", ";", ",", '"', "\n", "a", "1", "ü"]),
    max_size=6,
)


def restored(cell: str) -> str:
    """The value before neutralising: drop each ``'`` put before a formula character."""
    return re.sub(r"(^|;)'(?=[=+\-@\t\r\x00])", r"\1", cell)


@given(user=_FORMULAISH, hosts=st.lists(_FORMULAISH, max_size=3))
def test_every_cell_is_safe_and_recoverable(user: str, hosts: list[str]) -> None:
    frame = (
        fixtures.findings()
        .head(1)
        .with_columns(
            pl.lit(user).alias("user"), pl.Series("hosts", [hosts], dtype=pl.List(pl.String))
        )
    )
    header, row = cells(render(frame))
    for cell in row:
        assert_safe(cell)
    assert restored(row[header.index("user")]) == user
    assert restored(row[header.index("hosts")]) == ";".join(hosts)
