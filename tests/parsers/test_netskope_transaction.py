"""Netskope transaction events: fields, sniffing, and properties."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.netskope_transaction import NetskopeTransactionParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

BASE: dict[str, object] = {
    "bytes": "53331",
    "c-ip": "203.0.113.40",
    "cs-bytes": "5120",
    "cs-host": "chatgpt.com",
    "cs-method": "POST",
    "cs-uri": "/backend-api/conversation?x=1",
    "cs-uri-port": "443",
    "cs-uri-scheme": "https",
    "cs-user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "cs-username": "jdoe@corp.example",
    "date": "2024-11-04",
    "s-ip": "104.18.32.47",
    "sc-bytes": "48211",
    "sc-status": "200",
    "time": "08:00:00",
    "x-category": "Artificial Intelligence",
    "x-cs-app": "ChatGPT",
    "x-cs-dst-ip": "104.18.32.47",
    "x-cs-dst-port": "443",
    "x-cs-sni": "chatgpt.com",
    "x-cs-src-port": "51012",
    "x-cs-timestamp": "1730707200",
    "x-cs-url": "https://chatgpt.com/backend-api/conversation?x=1",
    "x-cs-userip": "10.20.1.15",
    "x-policy-action": "allow",
    "x-r-cert-valid": "NotChecked",
    "x-type": "http_transaction",
}


def line(rec: Mapping[str, object]) -> str:
    return json.dumps(rec, separators=(",", ":"))


def parse_lines(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return NetskopeTransactionParser(ParseContext("t", timezone="Asia/Tokyo")).parse(batch).events


def test_fields() -> None:
    row = parse_lines([line(BASE)]).row(0, named=True)
    assert row == {
        "line_no": 0,
        "ts": dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC),  # UTC whatever --timezone says
        "src_ip": "10.20.1.15",
        "src_port": 51012,
        "user": "jdoe@corp.example",
        "host": "chatgpt.com",
        "dst_ip": "104.18.32.47",
        "dst_port": 443,
        "url": "https://chatgpt.com/backend-api/conversation",
        "method": "POST",
        "status": 200,
        "action": "allowed",
        "bytes_out": 5120,
        "bytes_in": 48211,
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "app": "ChatGPT",
        "netskope_transaction_category": "Artificial Intelligence",
    }


def test_missing_values_and_fallbacks() -> None:
    no_http = BASE | {
        "cs-host": "-",
        "x-cs-sni": "Claude.AI",
        "cs-method": "-",
        "cs-uri": "-",
        "x-cs-url": "-",
        "sc-status": "-",
        "s-ip": "-",
        "x-cs-app": "-",
        "x-policy-action": "NotChecked",
        "x-cs-userip": "-",
        "cs-user-agent": "-",
    }
    row = parse_lines([line(no_http)]).row(0, named=True)
    assert (row["host"], row["url"], row["method"], row["status"]) == (
        "claude.ai",
        None,
        None,
        None,
    )
    assert (row["src_ip"], row["dst_ip"], row["action"], row["app"], row["user_agent"]) == (
        "203.0.113.40",
        "104.18.32.47",
        "unknown",
        None,
        None,
    )
    # No x-cs-url: the URL is rebuilt from scheme, host, port and cs-uri.
    built = BASE | {"x-cs-url": "-", "cs-uri-scheme": "http", "cs-uri-port": "8080"}
    built.pop("x-cs-dst-port")
    row = parse_lines([line(built)]).row(0, named=True)
    assert (row["url"], row["dst_port"]) == (
        "http://chatgpt.com:8080/backend-api/conversation",
        8080,
    )
    # No date/time: the epoch timestamp; W3C-style UA key; numbers as JSON numbers.
    alt = {k: v for k, v in BASE.items() if k not in ("date", "time", "cs-user-agent")}
    alt |= {
        "cs(User-Agent)": "curl/8.5.0",
        "cs-bytes": 10,
        "sc-status": 403,
        "x-policy-action": "block",
    }
    row = parse_lines([line(alt)]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)
    assert (row["user_agent"], row["bytes_out"], row["status"], row["action"]) == (
        "curl/8.5.0",
        10,
        403,
        "blocked",
    )


def test_rejects_lines_that_are_not_transactions() -> None:
    lines = [
        '{"date":"2024-11-04","time":"08:00:00","x-type":"audit","x-audit-log-event":"login"}',
        line(BASE | {"date": "-", "time": "-", "x-cs-timestamp": "-"}),
        line(BASE)[:200],
        "[" + line(BASE) + "]",
        line(BASE),
    ]
    assert NetskopeTransactionParser.validate(pl.Series(lines)).to_list() == [False] * 4 + [True]
    assert parse_lines(lines)["line_no"].to_list() == [4]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line(BASE)] * 5).format == "netskope_transaction"
    sniff = PARSERS.get("netskope_transaction").sniff
    # W3C-ish JSON without Netskope's own keys is not Netskope.
    plain = {"date": "2024-11-04", "time": "08:00:00", "cs-host": "chatgpt.com"}
    assert sniff([line(plain)] * 3) is None
    assert sniff(['{"ts": 1.5, "host": "chatgpt.com"}', "#Fields: date time cs-host"]) is None


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai", "-"])


@st.composite
def netskope_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=draw(st.integers(0, 10**8))
    )
    host = draw(hosts)
    sent, received = draw(st.integers(0, 10**9)), draw(st.integers(0, 10**9))
    rec = BASE | {
        "date": when.strftime("%Y-%m-%d"),
        "time": when.strftime("%H:%M:%S"),
        "cs-host": host,
        "x-cs-sni": host,
        "x-cs-url": "-" if host == "-" else f"https://{host}/p",
        "cs-bytes": draw(st.sampled_from([str(sent), sent])),
        "sc-bytes": str(received),
        "cs-username": draw(st.text(max_size=20)),
        "x-policy-action": draw(st.sampled_from(["allow", "block", "NotChecked"])),
    }
    expected: dict[str, object] = {
        "ts": when,
        "host": None if host == "-" else host,
        "bytes_out": sent,
        "bytes_in": received,
    }
    return json.dumps(rec, ensure_ascii=draw(st.booleans())), expected


@given(st.lists(st.one_of(netskope_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("netskope_transaction", lines)


@given(st.lists(st.one_of(netskope_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("netskope_transaction", lines)


@given(netskope_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse_lines([text]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
