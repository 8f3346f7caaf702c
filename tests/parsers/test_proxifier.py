"""Proxifier: fields of every event shape, year inference and time zone, sniffing, and
property tests (never raises, every line counted, the prefiltered fast path agrees with
the full parse, rendered lines round-trip)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.proxifier import ProxifierParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

REF = dt.datetime(2025, 1, 5, 12, 0, tzinfo=dt.UTC)


def parse(lines: list[str], file_time: dt.datetime | None = REF, tz: str = "UTC") -> pl.DataFrame:
    batch = pl.DataFrame(
        {
            "line_no": pl.Series(range(len(lines)), dtype=pl.UInt64),
            "line": pl.Series(lines, dtype=pl.String),
        }
    )
    return ProxifierParser(ParseContext("t", tz, file_time)).parse(batch).events


def test_open_close_error_and_blocked_lines() -> None:
    out = parse(
        [
            "[12.30 16:49:06] chrome.exe *64 - chatgpt.com:443 open through proxy proxy.corp.example:8080 HTTPS",
            "[12.30 16:49:08] chrome.exe *64 - chatgpt.com:443 close, 1190 bytes (1.16 KB) sent, 11721005 bytes (11.1 MB) received, lifetime 01:02:03",
            "[12.30 16:49:09] python.exe - api.openai.com:443 close, 403 bytes sent, 426 bytes received, lifetime <1 sec",
            "[12.30 16:49:10] Code.exe - api.githubcopilot.com:443 error : Could not connect through proxy proxy.corp.example:8080 - Proxy closed the connection unexpectedly. ",
            "[12.30 16:49:11] msedgewebview2.exe (8412) - [2606:4700::1]:443 (UDP connect) (IPv6) matching Default rule : connection blocked",
            "[12.30 16:49:12] Google Chrome Helper - 104.18.32.47:443 open directly",
        ]
    ).to_dicts()
    opened, closed, small, error, blocked, direct = out
    assert opened["ts"] == dt.datetime(2024, 12, 30, 16, 49, 6, tzinfo=dt.UTC)
    assert (opened["process"], opened["host"], opened["dst_port"], opened["action"]) == (
        "chrome.exe",
        "chatgpt.com",
        443,
        "allowed",
    )
    assert (opened["proxifier_event"], opened["proxifier_proxy"]) == (
        "open",
        "proxy.corp.example:8080",
    )
    assert (opened["bytes_out"], opened["bytes_in"]) == (None, None)
    assert (closed["bytes_out"], closed["bytes_in"], closed["proxifier_event"]) == (
        1190,
        11721005,
        "close",
    )
    assert (small["bytes_out"], small["bytes_in"]) == (403, 426)
    assert (error["action"], error["proxifier_event"], error["proxifier_proxy"]) == (
        "unknown",
        "error",
        "proxy.corp.example:8080",
    )
    assert (blocked["process"], blocked["host"], blocked["dst_ip"], blocked["action"]) == (
        "msedgewebview2.exe",
        "2606:4700::1",
        "2606:4700::1",
        "blocked",
    )
    assert (direct["process"], direct["dst_ip"], direct["proxifier_proxy"]) == (
        "Google Chrome Helper",
        "104.18.32.47",
        None,
    )


def test_year_inference_and_time_zone() -> None:
    lines = [
        "[12.31 23:59:59] a.exe - claude.ai:443 open directly",
        "[01.05 08:00:00] a.exe - claude.ai:443 open directly",
        "[02.29 08:00:00] a.exe - claude.ai:443 open directly",
        "[01.06 08:00:00] a.exe - claude.ai:443 open directly",  # within a day of the mtime
    ]
    ts = parse(lines)["ts"].to_list()
    assert ts == [
        dt.datetime(2024, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 5, 8, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 29, 8, tzinfo=dt.UTC),  # the last leap year
        dt.datetime(2025, 1, 6, 8, tzinfo=dt.UTC),
    ]
    paris = parse(lines[1:2], tz="Europe/Paris")["ts"].to_list()
    assert paris == [dt.datetime(2025, 1, 5, 7, tzinfo=dt.UTC)]
    # A line just after midnight local time on New Year, in a file written at 23:30 UTC.
    eve = dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert parse(["[01.01 00:10:00] a.exe - claude.ai:443 open directly"], eve, "Europe/Paris")[
        "ts"
    ].to_list() == [dt.datetime(2024, 12, 31, 23, 10, tzinfo=dt.UTC)]


def test_not_proxifier_lines_are_rejected() -> None:
    batch = pl.DataFrame(
        {
            "line_no": pl.Series(range(4), dtype=pl.UInt64),
            "line": [
                "[13.01 10:00:00] a.exe - claude.ai:443 open directly",
                "[10.30 10:00:00] a.exe - claude.ai open directly",
                "[10.30 10:00:00] a.exe - claude.ai:443",
                "",
            ],
        }
    )
    result = ProxifierParser(ParseContext("t")).parse(batch)
    assert result.events.is_empty() and result.skipped == 1
    assert result.rejected["line_no"].to_list() == [0, 1, 2]


def test_sniff_positive_and_negative() -> None:
    line = "[10.30 16:49:06] chrome.exe - chatgpt.com:443 open through proxy p.example:8080 HTTPS"
    assert detect_lines([line] * 5).format == "proxifier"
    assert PARSERS.get("proxifier").sniff(["#Fields: date time cs-host", "2024-01-01 x"]) is None
    assert detect_lines(['{"a": 1}', "hello world"]).format is None


# --- properties ----------------------------------------------------------------------

processes = st.sampled_from(["chrome.exe", "chrome.exe *64", "Google Chrome Helper", "a (12)"])
hosts = st.sampled_from(["chatgpt.com", "api.openai.com", "claude.ai", "10.1.2.3", "intranet"])
sizes = st.integers(0, 10**12)


@st.composite
def proxifier_lines(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    hms = f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:{draw(st.integers(0, 59)):02d}"
    proc, host, port = draw(processes), draw(hosts), draw(st.integers(1, 65535))
    kind = draw(st.sampled_from(["open", "close", "error"]))
    sent, recv = draw(sizes), draw(sizes)
    event = {
        "open": "open through proxy proxy.example:8080 HTTPS",
        "close": f"close, {sent} bytes (1.0 KB) sent, {recv} bytes received, lifetime <1 sec",
        "error": "error : A connection request was canceled before the completion.",
    }[kind]
    line = f"[{month:02d}.{day:02d} {hms}] {proc} - {host}:{port} {event}"
    expected: dict[str, Any] = {
        "process": proc.removesuffix(" *64").removesuffix(" (12)"),
        "host": host,
        "dst_port": port,
        "proxifier_event": kind,
        "bytes_out": sent if kind == "close" else None,
        "bytes_in": recv if kind == "close" else None,
        "action": "unknown" if kind == "error" else "allowed",
    }
    return line, expected


@given(st.lists(st.one_of(proxifier_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("proxifier", lines)


@given(st.lists(st.one_of(proxifier_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("proxifier", lines)


@given(proxifier_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, Any]]) -> None:
    line, expected = case
    (row,) = parse([line]).to_dicts()
    assert row["ts"] is not None
    for key, value in expected.items():
        assert row[key] == value, key
