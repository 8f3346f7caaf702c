"""Trends from the state database: every --by and --period, the bytes-known rule, the new
flags, the window, additivity against one aggregation of all the data, and clear errors for
files that are not a usable state."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.errors import InputError, UsageError
from shadowscan.history import (
    HISTORY_FIELDS,
    HISTORY_README_FIELDS,
    HISTORY_SCHEMA,
    By,
    history,
    history_from,
    open_readonly,
)
from shadowscan.schema import markdown_table
from shadowscan.state import SCHEMA_SQL, SCHEMA_VERSION

HISTORY_COLUMNS: dict[str, pl.DataType] = {
    "run_id": pl.Int64(),
    "day": pl.Date(),
    "user": pl.String(),
    "src_key": pl.String(),
    "akey": pl.String(),
    "service_id": pl.String(),
    "service": pl.String(),
    "vendor": pl.String(),
    "category": pl.String(),
    "department": pl.String(),
    "requests": pl.UInt64(),
    "queries": pl.UInt64(),
    "blocked": pl.UInt64(),
    "bytes_out": pl.Int64(),
    "bytes_out_known": pl.UInt64(),
    "bytes_in": pl.Int64(),
    "bytes_in_known": pl.UInt64(),
    "large_uploads": pl.UInt64(),
    "first_seen": pl.Datetime("us", "UTC"),
    "last_seen": pl.Datetime("us", "UTC"),
}
SUMMED = ("requests", "queries", "blocked", "bytes_out", "bytes_in", "large_uploads")
SERVICES = {
    "openai-chatgpt": ("ChatGPT", "OpenAI", "chat_assistant"),
    "anthropic-claude": ("Claude", "Anthropic", "chat_assistant"),
    "github-copilot": ("GitHub Copilot", "GitHub", "coding_assistant"),
}
DEPARTMENT = {"asmith": "Engineering", "bjones": "Finance", "cwu": "Engineering", "dlee": None}
KEYS = {
    "service": ["service_id"],
    "department": ["department"],
    "user": ["user", "source"],
}


def row(
    run_id: int,
    day: str,
    who: str,
    service_id: str,
    requests: int = 0,
    *,
    queries: int = 0,
    blocked: int = 0,
    bytes_out: int | None = None,
    bytes_in: int | None = None,
    large_uploads: int = 0,
    hour: int = 9,
) -> dict[str, Any]:
    """One history row; ``who`` is a user name, or a source address (then user is null)."""
    named = not who[0].isdigit()
    start = dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)
    service, vendor, category = SERVICES[service_id]
    return {
        "run_id": run_id,
        "day": dt.date.fromisoformat(day),
        "user": who if named else None,
        "src_key": None if named else who,
        "akey": None if named else "unattributed",
        "service_id": service_id,
        "service": service,
        "vendor": vendor,
        "category": category,
        "department": DEPARTMENT.get(who) if named else "Sales",
        "requests": requests,
        "queries": queries,
        "blocked": blocked,
        "bytes_out": bytes_out or 0,
        "bytes_out_known": 0 if bytes_out is None else max(requests, 1),
        "bytes_in": bytes_in or 0,
        "bytes_in_known": 0 if bytes_in is None else max(requests, 1),
        "large_uploads": large_uploads,
        "first_seen": start,
        "last_seen": start + dt.timedelta(minutes=30),
    }


def write_state(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with duckdb.connect(path) as conn:
        fill_state(conn, rows)


def fill_state(conn: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> None:
    """A state holding ``rows`` as history, with first_seen derived from them as a scan
    records it (the first day per scope, key and service)."""
    conn.execute(SCHEMA_SQL)
    conn.execute(
        "INSERT INTO meta VALUES ('schema_version', ?), ('created', ?)",
        [SCHEMA_VERSION, "2024-11-01T00:00:00+00:00"],
    )
    conn.register("frame", pl.DataFrame(list(rows), schema=HISTORY_COLUMNS))
    conn.execute("INSERT INTO history SELECT * FROM frame")
    conn.unregister("frame")
    conn.execute(
        """
        INSERT INTO first_seen
        SELECT 'service', '', service_id, min(day), arg_min(run_id, day)
            FROM history GROUP BY service_id
        UNION ALL
        SELECT 'department', department, service_id, min(day), arg_min(run_id, day)
            FROM history WHERE department IS NOT NULL GROUP BY department, service_id
        UNION ALL
        SELECT 'user', "user", service_id, min(day), arg_min(run_id, day)
            FROM history WHERE "user" IS NOT NULL GROUP BY "user", service_id
        """
    )


# Three nightly runs over a week and a half (2024-11-04 is a Monday).
ROWS = [
    row(1, "2024-11-04", "asmith", "openai-chatgpt", 10, bytes_out=5_000, bytes_in=90_000),
    row(1, "2024-11-04", "bjones", "openai-chatgpt", 4, queries=2, blocked=1),
    row(1, "2024-11-05", "asmith", "openai-chatgpt", 6, bytes_out=1_000, bytes_in=8_000),
    # The same day again: run 2 read the rest of the 5th (additive partials).
    row(2, "2024-11-05", "asmith", "openai-chatgpt", 3, bytes_out=2_000_000, large_uploads=1),
    row(2, "2024-11-06", "10.1.2.3", "anthropic-claude", 7, hour=14),
    row(2, "2024-11-06", "cwu", "anthropic-claude", 2, queries=5),
    row(3, "2024-11-11", "asmith", "github-copilot", 20, bytes_out=300, bytes_in=400),
    row(3, "2024-11-12", "dlee", "openai-chatgpt", 1),
    row(3, "2024-11-12", "10.1.2.3", "anthropic-claude", 1, hour=8),
]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state.duckdb"
    write_state(path, ROWS)
    return path


def test_by_service_per_day(state: Path) -> None:
    out = history(state, by="service", period="day")
    assert out.schema == pl.Schema(HISTORY_SCHEMA["service"])
    first = out.row(0, named=True)
    assert first["period"] == dt.date(2024, 11, 4)
    assert first["service_id"] == "openai-chatgpt"
    assert first["service"] == "ChatGPT"
    assert first["vendor"] == "OpenAI"
    assert first["category"] == "chat_assistant"
    assert (first["requests"], first["queries"], first["blocked"]) == (14, 2, 1)
    # bjones' row did not know bytes: the known ones still sum.
    assert (first["bytes_out"], first["bytes_in"]) == (5_000, 90_000)
    assert (first["active_days"], first["users"], first["sources"]) == (1, 2, 0)
    assert first["first_seen"] == dt.datetime(2024, 11, 4, 9, tzinfo=dt.UTC)
    assert first["new_service"] is True
    nov5 = out.filter(pl.col("period") == dt.date(2024, 11, 5)).row(0, named=True)
    assert (nov5["requests"], nov5["bytes_out"], nov5["large_uploads"]) == (9, 2_001_000, 1)
    # Run 2 knew no download bytes on the 5th, run 1 did.
    assert nov5["bytes_in"] == 8_000
    assert nov5["new_service"] is False
    nov6 = out.filter(pl.col("period") == dt.date(2024, 11, 6))
    assert nov6.select("service_id", "requests", "users", "sources").rows() == [
        ("anthropic-claude", 9, 1, 1)
    ]
    assert nov6["new_service"].to_list() == [True]


def test_by_service_per_week_sorts_busiest_first(state: Path) -> None:
    out = history(state, by="service", period="week")
    assert out.select("period", "service_id", "requests", "active_days", "new_service").rows() == [
        (dt.date(2024, 11, 4), "openai-chatgpt", 23, 2, True),
        (dt.date(2024, 11, 4), "anthropic-claude", 9, 1, True),
        (dt.date(2024, 11, 11), "github-copilot", 20, 1, True),
        (dt.date(2024, 11, 11), "anthropic-claude", 1, 1, False),
        (dt.date(2024, 11, 11), "openai-chatgpt", 1, 1, False),
    ]
    # A week with only rows that did not know bytes: null, not 0.
    week2 = out.filter(pl.col("period") == dt.date(2024, 11, 11))
    assert week2.select("service_id", "bytes_out", "bytes_in").rows() == [
        ("github-copilot", 300, 400),
        ("anthropic-claude", None, None),
        ("openai-chatgpt", None, None),
    ]


def test_by_department_per_month(state: Path) -> None:
    out = history(state, by="department", period="month")
    assert out.schema == pl.Schema(HISTORY_SCHEMA["department"])
    assert out.select(
        "period", "department", "requests", "users", "sources", "services", "active_days"
    ).rows() == [
        (dt.date(2024, 11, 1), "Engineering", 41, 2, 0, 3, 4),
        (dt.date(2024, 11, 1), "Sales", 8, 0, 1, 1, 2),
        (dt.date(2024, 11, 1), "Finance", 4, 1, 0, 1, 1),
        (dt.date(2024, 11, 1), None, 1, 1, 0, 1, 1),
    ]
    engineering = out.row(0, named=True)
    assert engineering["new_for_department"] is True
    assert engineering["new_service_ids"] == [
        "anthropic-claude",
        "github-copilot",
        "openai-chatgpt",
    ]
    # Nobody knows a department for dlee: no department, so no "new" either way.
    assert out.row(3, named=True)["new_for_department"] is None
    assert out.row(3, named=True)["new_service_ids"] is None


def test_by_department_per_week_new_only_when_first_seen_there(state: Path) -> None:
    out = history(state, by="department", period="week")
    week2 = out.filter(
        pl.col("period") == dt.date(2024, 11, 11), pl.col("department").is_not_null()
    )
    assert week2.select("department", "new_for_department", "new_service_ids").rows() == [
        ("Engineering", True, ["github-copilot"]),
        ("Sales", False, []),
    ]


def test_by_user_keeps_unattributed_use_by_source(state: Path) -> None:
    out = history(state, by="user", period="week")
    assert out.schema == pl.Schema(HISTORY_SCHEMA["user"])
    week1 = out.filter(pl.col("period") == dt.date(2024, 11, 4))
    assert week1.select(
        "user", "source", "department", "requests", "services", "new_for_user", "new_service_ids"
    ).rows() == [
        ("asmith", None, "Engineering", 19, 1, True, ["openai-chatgpt"]),
        (None, "10.1.2.3", "Sales", 7, 1, None, None),
        ("bjones", None, "Finance", 4, 1, True, ["openai-chatgpt"]),
        ("cwu", None, "Engineering", 2, 1, True, ["anthropic-claude"]),
    ]
    asmith2 = out.filter(pl.col("period") == dt.date(2024, 11, 11), pl.col("user") == "asmith")
    assert asmith2["new_service_ids"].to_list() == [["github-copilot"]]


def test_by_user_per_day_active_days_and_seen(state: Path) -> None:
    out = history(state, by="user", period="day").filter(pl.col("user") == "asmith")
    assert out.select("period", "requests", "active_days", "new_for_user").rows() == [
        (dt.date(2024, 11, 4), 10, 1, True),
        (dt.date(2024, 11, 5), 9, 1, False),
        (dt.date(2024, 11, 11), 20, 1, True),
    ]
    nov5 = out.row(1, named=True)
    assert nov5["first_seen"] == dt.datetime(2024, 11, 5, 9, tzinfo=dt.UTC)
    assert nov5["last_seen"] == dt.datetime(2024, 11, 5, 9, 30, tzinfo=dt.UTC)


def test_since_and_until_bound_the_days(state: Path) -> None:
    out = history(
        state, by="service", period="week", since=dt.date(2024, 11, 5), until=dt.date(2024, 11, 11)
    )
    assert out.select("period", "service_id", "requests", "new_service").rows() == [
        # ChatGPT was first seen on the 4th, before the window: not new within it.
        (dt.date(2024, 11, 4), "anthropic-claude", 9, True),
        (dt.date(2024, 11, 4), "openai-chatgpt", 9, False),
        (dt.date(2024, 11, 11), "github-copilot", 20, True),
    ]
    assert history(state, since=dt.date(2025, 1, 1)).is_empty()


def test_an_empty_state_gives_an_empty_history(tmp_path: Path) -> None:
    path = tmp_path / "state.duckdb"
    write_state(path, [])
    for by in ("service", "department", "user"):
        out = history(path, by=by, period="week")
        assert out.is_empty()
        assert out.schema == pl.Schema(HISTORY_SCHEMA[by])


def test_history_from_an_open_connection(state: Path) -> None:
    with duckdb.connect(state) as conn:
        out = history_from(conn, by="department", period="month")
    assert out.equals(history(state, by="department", period="month"))


def test_bad_arguments_are_usage_errors(state: Path) -> None:
    with pytest.raises(
        UsageError, match=r"unknown --by 'team' \(known: service, department, user\)"
    ):
        history(state, by="team")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"unknown --period 'year'"):
        history(state, period="year")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="--since 2024-11-12 is after --until 2024-11-04"):
        history(state, since=dt.date(2024, 11, 12), until=dt.date(2024, 11, 4))


def test_missing_state(tmp_path: Path) -> None:
    path = tmp_path / "nightly.duckdb"
    with pytest.raises(InputError, match=r"state .*nightly\.duckdb does not exist: .*--state"):
        history(path)
    with pytest.raises(InputError, match="is a directory"):
        open_readonly(tmp_path)


def test_not_a_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("1730707200.000 412 10.20.1.15 TCP_TUNNEL/200 48211 CONNECT x:443 - -\n")
    with pytest.raises(InputError, match=r"access\.log is not a shadowscan state \(not a DuckDB"):
        open_readonly(path)


def test_a_duckdb_file_that_is_not_a_state(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    with duckdb.connect(path) as conn:
        conn.execute("CREATE TABLE t(x INTEGER)")
    with pytest.raises(
        InputError, match=r"other\.duckdb is a DuckDB database but not a shadowscan"
    ):
        open_readonly(path)
    with duckdb.connect(path) as conn:
        conn.execute("CREATE TABLE meta(key VARCHAR PRIMARY KEY, value VARCHAR)")
    with pytest.raises(InputError, match="no schema_version"):
        open_readonly(path)


def test_a_newer_state_asks_for_an_upgrade(state: Path) -> None:
    with duckdb.connect(state) as conn:
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with pytest.raises(InputError, match="schema_version 2, this shadowscan reads 1: upgrade"):
        history(state)


@pytest.fixture
def running_scan(state: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the state open for writing, as a nightly scan does."""
    holder = (
        "import sys, duckdb\n"
        "conn = duckdb.connect(sys.argv[1])\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder, str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stdin is not None:
            proc.stdin.close()


def test_a_running_scan_is_reported(state: Path, running_scan: subprocess.Popen[str]) -> None:
    with pytest.raises(
        InputError,
        match=rf"is being written by a running scan \(process {running_scan.pid}\): retry",
    ):
        history(state)


def test_open_for_writing_in_this_process(state: Path) -> None:
    with (
        duckdb.connect(state),
        pytest.raises(InputError, match="open for writing in this process"),
    ):
        open_readonly(state)


def test_readme_fields_cover_every_column() -> None:
    described = {f.name for f in HISTORY_README_FIELDS}
    for by, fields in HISTORY_FIELDS.items():
        assert {f.name for f in fields} <= described
        assert list(HISTORY_SCHEMA[by]) == [f.name for f in fields]
    table = markdown_table(HISTORY_README_FIELDS)
    assert "| `new_service_ids` | list of string |" in table
    assert "| `period` | date |" in table


# ---- additivity: a history summed over periods is one aggregation of all the data ----

WHO = ("asmith", "bjones", "cwu", "dlee", "10.1.2.3", "10.9.8.7")
DAY0 = dt.date(2024, 12, 20)


@st.composite
def partial_rows(draw: st.DrawFn) -> dict[str, Any]:
    """One run's partial aggregate for one day, principal and service."""
    requests = draw(st.integers(0, 500))
    knows_out = draw(st.booleans())
    knows_in = draw(st.booleans())
    day = DAY0 + dt.timedelta(days=draw(st.integers(0, 45)))
    return row(
        draw(st.integers(1, 4)),
        day.isoformat(),
        draw(st.sampled_from(WHO)),
        draw(st.sampled_from(sorted(SERVICES))),
        requests,
        queries=draw(st.integers(0, 50)),
        blocked=draw(st.integers(0, requests)),
        bytes_out=draw(st.integers(0, 10**9)) if knows_out else None,
        bytes_in=draw(st.integers(0, 10**9)) if knows_in else None,
        large_uploads=draw(st.integers(0, 3)),
        hour=draw(st.integers(0, 23)),
    )


def direct_totals(rows: pl.DataFrame, by: str) -> pl.DataFrame:
    """What one scan over all the data reports per key, aggregated here in polars."""
    rows = rows.with_columns(
        pl.when(pl.col("user").is_null()).then(pl.col("src_key")).alias("source")
    )
    return rows.group_by(KEYS[by]).agg(
        pl.col("requests", "queries", "blocked", "large_uploads").sum(),
        *(
            pl.when(pl.col(f"{c}_known").sum() > 0).then(pl.col(c).sum()).alias(c)
            for c in ("bytes_out", "bytes_in")
        ),
        pl.col("day").n_unique().cast(pl.UInt32).alias("active_days"),
        pl.col("first_seen").min(),
        pl.col("last_seen").max(),
    )


def summed_history(out: pl.DataFrame, by: str) -> pl.DataFrame:
    return out.group_by(KEYS[by]).agg(
        pl.col("requests", "queries", "blocked", "large_uploads").sum(),
        # A period that knew no bytes is null: it adds nothing, and all-null stays null.
        *(
            pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c)
            for c in ("bytes_out", "bytes_in")
        ),
        pl.col("active_days").sum(),
        pl.col("first_seen").min(),
        pl.col("last_seen").max(),
    )


@given(
    st.lists(partial_rows(), min_size=1, max_size=40),
    st.sampled_from(["service", "department", "user"]),
)
def test_history_sums_to_one_scan_over_all_the_data(rows: list[dict[str, Any]], by: By) -> None:
    expected = direct_totals(pl.DataFrame(rows, schema=HISTORY_COLUMNS), by)
    expected = expected.sort(KEYS[by], nulls_last=True)
    with duckdb.connect() as conn:
        fill_state(conn, rows)
        for period in ("day", "week", "month"):
            out = history_from(conn, by=by, period=period)
            assert out.schema == pl.Schema(HISTORY_SCHEMA[by])
            assert out.select("period", *KEYS[by]).is_duplicated().sum() == 0
            got = summed_history(out, by).sort(KEYS[by], nulls_last=True)
            assert got.select(expected.columns).cast(expected.schema).equals(expected), period
            ordered = out.sort(
                ["period", "requests"], descending=[False, True], maintain_order=True
            )
            assert ordered.equals(out)
