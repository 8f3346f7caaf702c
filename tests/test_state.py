"""Nightly scans with --state: appended, rotated, rotated-and-gzipped and truncated logs
give the same totals as one scan over all the data; two runs at once are refused; and a
run killed (SIGKILL) at any of 20 points and rerun leaves exactly the history of a run
never interrupted."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from shadowscan.api import scan
from shadowscan.cli import app
from shadowscan.errors import InputError
from shadowscan.readers import InputSource
from shadowscan.state import open_state

HOSTS = ["chatgpt.com", "claude.ai", "gemini.google.com", "api.openai.com", "www.example.org"]
START = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC).timestamp()


def squid_lines(first: int, count: int) -> list[str]:
    """``count`` Squid lines (numbered from ``first``): several users, hosts and days."""
    out = []
    for n in range(first, first + count):
        ts = START + n * 3600 * 0.37
        user = ["-", "CORP%5Cjdoe", "asmith", "bwong"][n % 4]
        host = HOSTS[n % len(HOSTS)]
        out.append(
            f"{ts:.3f}    120 10.0.0.{n % 7 + 1} TCP_TUNNEL/200 {1000 + n * 37} CONNECT "
            f"{host}:443 {user} HIER_DIRECT/104.18.32.47 -"
        )
    return out


def write(path: Path, lines: list[str], mode: str = "w") -> None:
    with open(path, mode, encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))


def run(logs: Path, state: Path) -> None:
    with open_state(state) as st:
        scan([str(logs)], state=st)


def totals(state: Path) -> pl.DataFrame:
    """History summed over runs, per user-or-address x service: what one scan reports."""
    db = duckdb.connect(str(state), read_only=True)
    try:
        return (
            pl.from_arrow(
                db.sql(
                    'SELECT coalesce("user", src_key) AS who, service_id, sum(requests) AS requests, '
                    "sum(queries) AS queries, CASE WHEN sum(bytes_out_known) > 0 THEN sum(bytes_out) END "
                    "AS bytes_out, "
                    "count(DISTINCT day) AS active_days FROM history GROUP BY ALL ORDER BY ALL"
                ).to_arrow_table()
            ).cast({"requests": pl.Int64, "queries": pl.Int64, "bytes_out": pl.Int64})  # type: ignore[union-attr]
        )
    finally:
        db.close()


def one_scan(lines: list[str], tmp: Path) -> pl.DataFrame:
    whole = tmp / "whole"
    whole.mkdir()
    write(whole / "access.log", lines)
    f = scan([str(whole)]).findings
    return f.select(
        pl.coalesce("user", pl.col("src_ips").list.first()).alias("who"),
        "service_id",
        pl.col("requests").cast(pl.Int64),
        pl.col("queries").cast(pl.Int64),
        pl.col("bytes_out").cast(pl.Int64),
        pl.col("active_days").cast(pl.Int64),
    ).sort(pl.all())


def test_append_rotate_gzip_and_copytruncate_equal_one_scan(tmp_path: Path) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state.duckdb"
    logs.mkdir()
    a, b, c, d, e = (squid_lines(i * 60, 60) for i in range(5))
    write(logs / "access.log", a)
    run(logs, state)
    write(logs / "access.log", b, "a")  # appended to
    run(logs, state)
    (logs / "access.log").rename(logs / "access.log.1")  # rotated
    write(logs / "access.log", c)
    run(logs, state)
    with open(logs / "access.log.1", "rb") as src, gzip.open(logs / "access.log.1.gz", "wb") as gz:
        shutil.copyfileobj(src, gz)  # rotated, then compressed
    (logs / "access.log.1").unlink()
    write(logs / "access.log", d, "a")
    run(logs, state)
    shutil.copy(logs / "access.log", logs / "access.log.2")  # copy-truncate
    write(logs / "access.log", e)
    run(logs, state)
    run(logs, state)  # nothing new: nothing counted twice
    got = totals(state)
    expected = one_scan([*a, *b, *c, *d, *e], tmp_path)
    assert got.sort(pl.all()).equals(expected.select(got.columns).sort(pl.all()))


def test_a_truncated_file_is_read_from_the_start_and_says_so(tmp_path: Path) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state.duckdb"
    logs.mkdir()
    lines = squid_lines(0, 80)
    write(logs / "access.log", lines)
    run(logs, state)
    write(logs / "access.log", lines[:30])  # same beginning, now shorter than what was read
    with open_state(state) as st:
        result = scan([str(logs)], state=st)
    (stats,) = result.stats.files
    assert (stats.incremental, stats.first_line, stats.lines) == ("truncated", 1, 30)


def test_a_line_being_written_is_read_whole_by_the_next_run(tmp_path: Path) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state.duckdb"
    logs.mkdir()
    lines = squid_lines(0, 10)
    write(logs / "access.log", lines[:5])
    with open(logs / "access.log", "a", encoding="utf-8") as fh:
        fh.write(lines[5][:40])  # half a line: the writer is still at it
    run(logs, state)
    with open(logs / "access.log", "a", encoding="utf-8") as fh:
        fh.write(lines[5][40:] + "\n" + "".join(ln + "\n" for ln in lines[6:]))
    run(logs, state)
    assert (
        totals(state)
        .sort(pl.all())
        .equals(one_scan(lines, tmp_path).select(totals(state).columns).sort(pl.all()))
    )


def test_a_second_run_on_the_same_state_is_refused(tmp_path: Path) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state.duckdb"
    logs.mkdir()
    write(logs / "access.log", squid_lines(0, 10))
    with open_state(state):
        with pytest.raises(InputError, match="in use by shadowscan pid"):
            open_state(state)
        res = CliRunner().invoke(app, ["scan", str(logs), "--state", str(state), "-q"])
        assert res.exit_code == 3
        assert "wait for that run to finish" in res.stderr


# --- killed at any point ----------------------------------------------------------------

#: Where the second run is killed: reading (chunks, parse batches, after each file),
#: planning, attributing, writing findings, and every step of the commit.
CRASH_POINTS = [
    "plan",
    "chunk#1",
    "chunk#2",
    "chunk#3",
    "parse#1",
    "parse#2",
    "parse#3",
    "file#1",
    "file#2",
    "file#3",
    "settled",
    "commit:begin",
    "commit:ledger#1",
    "commit:ledger#2",
    "commit:ledger#3",
    "commit:history",
    "commit:first_seen",
    "commit:runs",
    "commit:done",
    "output",
]


def _cli(logs: Path, state: Path, crash: str | None = None) -> int:
    """A scan with --state; with ``crash``, in a child process killed at that point."""
    args = ["scan", str(logs), "--state", str(state), "-q", "-F", "ndjson", "--no-progress"]
    if crash is None:
        return CliRunner().invoke(app, args).exit_code
    env = {**os.environ, "SHADOWSCAN_CRASH_AT": crash}
    cmd = [sys.executable, "-m", "shadowscan.cli", *args]
    return subprocess.run(cmd, env=env, capture_output=True, check=False).returncode


@pytest.fixture(scope="module")
def crash_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pl.DataFrame]:
    """Three logs read once; then appended to. Returns the logs, the state after the
    first run, and the history an uninterrupted second run gives."""
    base = tmp_path_factory.mktemp("crash")
    logs = base / "logs"
    logs.mkdir()
    for i, name in enumerate(("a.log", "b.log", "c.log")):
        write(logs / name, squid_lines(i * 1000, 40))
    first = base / "first.duckdb"
    assert _cli(logs, first) == 0
    for i, name in enumerate(("a.log", "b.log", "c.log")):
        write(logs / name, squid_lines(i * 1000 + 40, 40), "a")
    reference = base / "reference.duckdb"
    shutil.copy(first, reference)
    assert _cli(logs, reference) == 0
    return logs, first, _history(reference)


def _history(state: Path) -> pl.DataFrame:
    db = duckdb.connect(str(state), read_only=True)
    try:
        frame = pl.DataFrame(
            pl.from_arrow(
                db.sql(
                    'SELECT day, "user", src_key, service_id, requests, queries, bytes_out, '
                    "large_uploads FROM history"
                ).to_arrow_table()
            )
        )
        ledger = db.execute('SELECT path, "offset", lines FROM ledger ORDER BY path').fetchall()
    finally:
        db.close()
    assert ledger, "the ledger must record every file"
    return frame.sort(pl.all()).with_columns(pl.lit(str(ledger)).alias("ledger"))


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_and_rerun_equals_never_interrupted(
    point: str, crash_setup: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    logs, first, reference = crash_setup
    state = tmp_path / "state.duckdb"
    shutil.copy(first, state)
    assert _cli(logs, state, crash=point) == -9, f"the run was not killed at {point}"
    assert _cli(logs, state) == 0
    assert _history(state).equals(reference)


def test_retain_days_prunes_old_history_but_keeps_the_ledger(tmp_path: Path) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state.duckdb"
    logs.mkdir()
    write(logs / "access.log", squid_lines(0, 120))  # 2026-11-20 08:00 .. 2026-11-22 04:00
    run(logs, state)
    with open_state(state) as st:
        removed = st.prune(1, dt.date(2026, 11, 22))  # keep 2026-11-21 onwards
        days = {r[0] for r in st.db.execute("SELECT DISTINCT day FROM history").fetchall()}
    assert removed > 0
    assert days == {dt.date(2026, 11, 21), dt.date(2026, 11, 22)}
    res = CliRunner().invoke(
        app, ["scan", str(logs), "--state", str(state), "--retain-days", "1", "-q"]
    )
    assert res.exit_code == 0
    with open_state(state) as st:
        # the file was read before: it is not read (and counted) again
        assert st.plan([InputSource(str(logs / "access.log"))])[0].note == "unchanged"
