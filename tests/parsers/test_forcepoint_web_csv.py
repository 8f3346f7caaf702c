"""Forcepoint Web Security CSV export: fields, placeholders, CONNECT, time zone, sniffing,
and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.forcepoint_web_csv import ForcepointWebCsvParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def parse_lines(lines: list[str], tz: str = "UTC") -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return ForcepointWebCsvParser(ParseContext("t", tz)).parse(batch).events


def fp_line(
    *,
    date: str = "04/11/2024",
    time: str = "08:00:00",
    user: str = "CORP\\jdoe",
    action: str = "Allowed",
    url: str = "chatgpt.com:443/",
    source: str = "10.20.1.15",
    method: str = "Connect",
    sep: str = ",",
) -> str:
    cols = [
        date,
        time,
        user,
        "WS-0142",
        "Generative AI - Conversation",
        action,
        "Business Usage",
        "Default Policy",
        url,
        "198.51.100.7",
        "104.18.32.47",
        source,
        "None",
        "None",
        "Mozilla/5.0 (X11; Linux x86_64)",
        "200",
        method,
    ]
    return sep.join('"' + c.replace('"', '""') + '"' for c in cols)


def test_fields_connect() -> None:
    row = parse_lines([fp_line()]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)  # dd/mm/yyyy
    assert (row["user"], row["src_ip"], row["dst_ip"]) == (
        "CORP\\jdoe",
        "10.20.1.15",
        "104.18.32.47",
    )
    assert (row["host"], row["dst_port"], row["url"], row["method"]) == (
        "chatgpt.com",
        443,
        None,
        "CONNECT",
    )
    assert (row["status"], row["action"], row["user_agent"]) == (
        200,
        "allowed",
        "Mozilla/5.0 (X11; Linux x86_64)",
    )
    assert row["forcepoint_web_csv_category"] == "Generative AI - Conversation"
    assert row["forcepoint_web_csv_connection_ip"] == "198.51.100.7"
    assert row["forcepoint_web_csv_workstation"] == "WS-0142"


def test_placeholders_anonymous_and_decrypted_urls() -> None:
    rows = parse_lines(
        [
            fp_line(user="anonymous", source="Not available", action="Blocked"),
            fp_line(url="https://API.openai.com/v1/files?purpose=x", method="Post", sep=", "),
        ]
    ).to_dicts()
    assert rows[0]["user"] is None
    assert rows[0]["src_ip"] == "198.51.100.7"  # falls back to the connection IP
    assert rows[0]["action"] == "blocked"
    assert rows[1]["host"] == "api.openai.com"
    assert rows[1]["url"] == "https://api.openai.com/v1/files"
    assert rows[1]["method"] == "POST"
    assert rows[1]["forcepoint_web_csv_policy"] == "Default Policy"


def test_local_time_zone() -> None:
    row = parse_lines([fp_line(date="15/07/2024", time="10:30:00")], tz="Europe/Paris").row(
        0, named=True
    )
    assert row["ts"] == dt.datetime(2024, 7, 15, 8, 30, tzinfo=dt.UTC)


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([fp_line()] * 3).format == "forcepoint_web_csv"
    parser = PARSERS.get("forcepoint_web_csv")
    assert parser.sniff([fp_line(date="2024-11-04")]) is None
    assert parser.sniff([fp_line().rsplit(",", 1)[0]]) is None  # 16 fields
    assert (
        parser.sniff(['"2024-11-04 08:00:00","jdoe","10.0.0.1","1.2.3.4","Allowed","1 (A)"'])
        is None
    )


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "claude.ai", "intranet.local"])
users = st.sampled_from(["anonymous", "CORP\\jdoe", "a@b.example", 'x "y", z'])


@st.composite
def fp_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    host, user = draw(hosts), draw(users)
    day, month = draw(st.integers(1, 28)), draw(st.integers(1, 12))
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    line = fp_line(
        date=f"{day:02d}/{month:02d}/2024",
        time=f"{hour:02d}:{minute:02d}:07",
        user=user,
        url=f"{host}:443/",
        sep=draw(st.sampled_from([",", ", "])),
    )
    expected = {
        "host": host,
        "user": None if user == "anonymous" else user,
        "ts": dt.datetime(2024, month, day, hour, minute, 7, tzinfo=dt.UTC),
    }
    return line, expected


valid = fp_lines().map(lambda t: t[0])
#: Valid lines, the same cut short (near misses), and arbitrary text.
lines_mix = st.one_of(
    valid, st.tuples(valid, st.integers(0, 300)).map(lambda t: t[0][: t[1]]), NOISE
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("forcepoint_web_csv", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("forcepoint_web_csv", lines)


@given(fp_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
