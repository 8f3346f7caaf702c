"""Cloudflare Gateway HTTP Logpush: fields, Datetime encodings, sniffing, and properties."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.cloudflare_gateway_http import CloudflareGatewayHttpParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

BASE: dict[str, object] = {
    "AccountID": "5f0c3e8a9b2d4c71a6e0f1d2c3b4a596",
    "Action": "allow",
    "Datetime": "2024-11-04T08:00:00Z",
    "DestinationIP": "104.18.32.47",
    "DestinationPort": 443,
    "DeviceName": "LT-JDOE-01",
    "DownloadedFileNames": [],
    "Email": "jdoe@corp.example",
    "HTTPHost": "chatgpt.com",
    "HTTPMethod": "POST",
    "HTTPStatusCode": 200,
    "PolicyName": "Allow GenAI",
    "RequestID": "19a3c0d2e4000044f2a8b6e100000001",
    "SourceIP": "203.0.113.40",
    "SourceInternalIP": "10.20.1.15",
    "SourcePort": 51012,
    "UploadedFileNames": ["Q3 forecast.xlsx", 'say "hi".txt'],
    "URL": "https://chatgpt.com/backend-api/files?upload=1",
    "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
}


def line(rec: Mapping[str, object]) -> str:
    return json.dumps(rec, separators=(",", ":"))


def parse_lines(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return CloudflareGatewayHttpParser(ParseContext("t")).parse(batch).events


def test_fields() -> None:
    row = parse_lines([line(BASE)]).row(0, named=True)
    assert row == {
        "line_no": 0,
        "ts": dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC),
        "src_ip": "10.20.1.15",
        "src_port": 51012,
        "user": "jdoe@corp.example",
        "host": "chatgpt.com",
        "dst_ip": "104.18.32.47",
        "dst_port": 443,
        "url": "https://chatgpt.com/backend-api/files",
        "method": "POST",
        "status": 200,
        "action": "allowed",
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "cloudflare_gateway_http_uploaded_files": 'Q3 forecast.xlsx, say "hi".txt',
        "cloudflare_gateway_http_policy": "Allow GenAI",
        "cloudflare_gateway_http_device": "LT-JDOE-01",
    }


def test_datetime_encodings() -> None:
    want = dt.datetime(2023, 5, 3, 20, 55, 5, tzinfo=dt.UTC)
    forms: list[object] = [
        "2023-05-03T20:55:05Z",
        "2023-05-03T22:55:05+02:00",
        "1683147305",
        "1683147305000000000",
        1683147305,
        "1683147305000",
    ]
    rows = parse_lines([line(BASE | {"Datetime": f}) for f in forms])
    assert rows["ts"].to_list() == [want] * len(forms)


def test_fallbacks_and_actions() -> None:
    rec = BASE | {
        "SourceInternalIP": "",
        "Email": "",
        "HTTPHost": "",
        "URL": "https://Claude.ai/new",
        "SourcePort": 0,
        "DestinationPort": "",
        "Action": "block",
        "UploadedFileNames": [],
        "DeviceName": "",
    }
    row = parse_lines([line(rec)]).row(0, named=True)
    assert (row["src_ip"], row["src_port"], row["user"], row["host"], row["dst_port"]) == (
        "203.0.113.40",
        None,
        None,
        "claude.ai",
        443,
    )
    assert (row["action"], row["cloudflare_gateway_http_uploaded_files"]) == ("blocked", None)
    assert row["cloudflare_gateway_http_device"] is None
    actions = [line(BASE | {"Action": a}) for a in ("isolate", "noscan", "override", "")]
    assert parse_lines(actions)["action"].to_list() == ["allowed", "allowed", "unknown", "unknown"]


def test_rejects_other_datasets() -> None:
    lines = [
        '{"Datetime":"2024-11-04T08:00:00Z","QueryName":"chatgpt.com","QueryTypeName":"A"}',
        line(BASE | {"Datetime": "yesterday"}),
        line(BASE)[:120],
        line(BASE),
    ]
    assert CloudflareGatewayHttpParser.validate(pl.Series(lines)).to_list() == [
        False,
        False,
        False,
        True,
    ]
    assert parse_lines(lines)["line_no"].to_list() == [3]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line(BASE)] * 3).format == "cloudflare_gateway_http"
    sniff = PARSERS.get("cloudflare_gateway_http").sniff
    dns = '{"Datetime":"2024-11-04T08:00:00Z","QueryName":"chatgpt.com","SrcIP":"10.0.0.1"}'
    assert sniff([dns] * 3) is None
    assert sniff(['{"ts": 1.5, "host": "chatgpt.com"}', "plain text"]) is None


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai"])


@st.composite
def gateway_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=draw(st.integers(0, 10**8))
    )
    epoch = int(when.timestamp())
    stamp = draw(
        st.sampled_from(
            [
                when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                str(epoch),
                str(epoch * 10**9),
                epoch,
            ]
        )
    )
    host = draw(hosts)
    status = draw(st.integers(100, 599))
    rec = BASE | {
        "Datetime": stamp,
        "HTTPHost": host,
        "URL": f"https://{host}/x",
        "HTTPStatusCode": draw(st.sampled_from([status, str(status)])),
        "Email": draw(st.text(max_size=20)),
        "UploadedFileNames": draw(st.lists(st.text(max_size=10), max_size=3)),
    }
    expected: dict[str, object] = {"ts": when, "host": host, "status": status}
    return json.dumps(rec, ensure_ascii=draw(st.booleans())), expected


@given(st.lists(st.one_of(gateway_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("cloudflare_gateway_http", lines)


@given(st.lists(st.one_of(gateway_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("cloudflare_gateway_http", lines)


@given(gateway_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse_lines([text]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
