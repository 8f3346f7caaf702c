"""Menlo Security web logs: fields, string-or-array values, sniffing, and properties."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.menlo_web import MenloWebParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

BASE: dict[str, object] = {
    "event_time": "2024-11-04T08:00:07.250000",
    "userid": "jdoe@corp.example",
    "url": "https://chatgpt.com/backend-api/files/upload?id=7",
    "domain": "chatgpt.com",
    "top_url": "chatgpt.com",
    "request_type": "POST",
    "response_code": "200",
    "pe_action": "isolate",
    "pe_rulename": "Isolate GenAI uploads",
    "categories": ["Artificial Intelligence", "Productivity"],
    "x-client-ip": "10.20.1.15",
    "origin_ip": "10.20.1.15",
    "egress_ip": "203.0.113.40",
    "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "dst": ["104.18.32.47", "172.64.155.209"],
    "name": "file_upload",
    "file_size": "482113",
    "protocol": "https",
    "vendor": "Menlo Security",
}


def line(rec: Mapping[str, object]) -> str:
    return json.dumps(rec, separators=(", ", ": "))


def parse_lines(lines: list[str], tz: str = "UTC") -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return MenloWebParser(ParseContext("t", timezone=tz)).parse(batch).events


def test_fields() -> None:
    row = parse_lines([line(BASE)]).row(0, named=True)
    assert row == {
        "line_no": 0,
        "ts": dt.datetime(2024, 11, 4, 8, 0, 7, 250000, tzinfo=dt.UTC),
        "src_ip": "10.20.1.15",
        "user": "jdoe@corp.example",
        "host": "chatgpt.com",
        "dst_ip": "104.18.32.47",
        "dst_port": 443,
        "url": "https://chatgpt.com/backend-api/files/upload",
        "method": "POST",
        "status": 200,
        "action": "allowed",
        "bytes_out": 482113,
        "bytes_in": None,
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "menlo_web_categories": "Artificial Intelligence, Productivity",
        "menlo_web_top_url": "chatgpt.com",
    }


def test_strings_placeholders_and_timezone() -> None:
    rec = BASE | {
        "event_time": "2024-07-01T10:00:00",
        "categories": "Artificial Intelligence",
        "dst": "160.79.104.10",
        "url": "claude.ai/new",
        "domain": "claude.ai",
        "userid": "NA",
        "response_code": "NA",
        "file_size": "NA",
        "pe_action": "block",
        "name": "page_request",
        "x-client-ip": "NA",
    }
    row = parse_lines([line(rec)], tz="Europe/Paris").row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 7, 1, 8, 0, tzinfo=dt.UTC)
    assert (row["menlo_web_categories"], row["dst_ip"], row["user"], row["status"]) == (
        "Artificial Intelligence",
        "160.79.104.10",
        None,
        None,
    )
    assert (row["action"], row["bytes_in"], row["bytes_out"], row["src_ip"]) == (
        "blocked",
        None,
        None,
        "10.20.1.15",  # origin_ip when x-client-ip is NA
    )
    assert (row["host"], row["url"]) == ("claude.ai", "https://claude.ai/new")
    download = BASE | {
        "name": "file_download",
        "file_size": "265026",
        "url": "",
        "domain": "Gemini.Google.com",
    }
    row = parse_lines([line(download)]).row(0, named=True)
    assert (row["bytes_in"], row["bytes_out"], row["host"], row["url"]) == (
        265026,
        None,
        "gemini.google.com",
        None,
    )


def test_rejects_lines_that_are_not_web_events() -> None:
    lines = [
        '{"event_time": "2024-11-04T08:02:00", "name": "admin_login", "admin": "a@b.example"}',
        line(BASE | {"event_time": "04/11/2024 08:00"}),
        line(BASE)[:150],
        line(BASE),
    ]
    assert MenloWebParser.validate(pl.Series(lines)).to_list() == [False, False, False, True]
    assert parse_lines(lines)["line_no"].to_list() == [3]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line(BASE)] * 4).format == "menlo_web"
    sniff = PARSERS.get("menlo_web").sniff
    generic = '{"event_time": "2024-11-04T08:00:00", "url": "https://chatgpt.com/"}'
    assert sniff([generic] * 3) is None
    assert sniff(['{"ts": 1.5, "host": "chatgpt.com"}', "plain text"]) is None


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai"])
categories = st.one_of(
    st.sampled_from(["Artificial Intelligence", "NA"]), st.lists(st.text(max_size=12), max_size=3)
)


@st.composite
def menlo_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    when = dt.datetime(2020, 1, 1) + dt.timedelta(microseconds=draw(st.integers(0, 10**14)))
    host = draw(hosts)
    size = draw(st.integers(0, 10**9))
    rec = BASE | {
        "event_time": when.isoformat(),
        "url": f"https://{host}/p",
        "domain": host,
        "categories": draw(categories),
        "dst": draw(st.sampled_from(["104.18.32.47", ["104.18.32.47", "1.2.3.4"]])),
        "userid": draw(st.text(max_size=20)),
        "name": "file_download",
        "file_size": str(size),
    }
    expected: dict[str, object] = {
        "ts": when.replace(tzinfo=dt.UTC),
        "host": host,
        "bytes_in": size,
        "dst_ip": "104.18.32.47",
    }
    return json.dumps(rec, ensure_ascii=draw(st.booleans())), expected


@given(st.lists(st.one_of(menlo_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("menlo_web", lines)


@given(st.lists(st.one_of(menlo_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("menlo_web", lines)


@given(menlo_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse_lines([text]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
