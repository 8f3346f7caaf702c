"""Zeek dns.log (JSON lines): fields, answers arrays, optional keys, question-less
records, recognition next to the other Zeek logs, sniffing and properties."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.zeek_dns_json import ZeekDnsJsonParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def line(**values: object) -> str:
    base: dict[str, object] = {
        "ts": 1730707260.104311,
        "uid": "CdN4nV1kR2bX7qT3aa",
        "id.orig_h": "10.20.1.15",
        "id.orig_p": 53211,
        "id.resp_h": "10.20.0.53",
        "id.resp_p": 53,
        "proto": "udp",
        "trans_id": 41872,
        "query": "chatgpt.com",
        "qclass": 1,
        "qclass_name": "C_INTERNET",
        "qtype": 1,
        "qtype_name": "A",
        "rcode": 0,
        "rcode_name": "NOERROR",
        "AA": False,
        "TC": False,
        "RD": True,
        "RA": True,
        "Z": 0,
        "answers": ["chatgpt.com.cdn.cloudflare.net", "104.18.32.47"],
        "TTLs": [300.0, 300.0],
        "rejected": False,
    }
    base.update(values)
    return json.dumps({k: v for k, v in base.items() if v is not None}, separators=(",", ":"))


def parse(lines: list[str]) -> tuple[list[dict[str, object]], pl.DataFrame]:
    batch = pl.DataFrame(
        {"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines},
        schema={"line_no": pl.UInt64, "line": pl.String},
    )
    out = ZeekDnsJsonParser(ParseContext("t")).parse(batch)
    assert out.events.height + out.rejected.height + out.skipped == len(lines)
    return out.events.to_dicts(), out.rejected


def test_fields() -> None:
    (ok, unanswered, refused, bare, nested), rejected = parse(
        [
            line(),
            line(query="chat.deepseek.com", rcode=None, rcode_name=None, answers=None, TTLs=None),
            line(query="claude.ai", rcode=5, rcode_name="REFUSED", answers=None, rejected=True),
            # a NetBIOS packet without a question: only the header flags
            json.dumps(
                {
                    "ts": 950988235.15,
                    "uid": "CKA8u13U",
                    "id.orig_h": "10.1.2.3",
                    "id.orig_p": 137,
                    "id.resp_h": "10.1.2.255",
                    "id.resp_p": 137,
                    "proto": "udp",
                    "trans_id": 0,
                    "AA": False,
                    "TC": False,
                    "RD": False,
                    "RA": False,
                    "Z": 0,
                    "rejected": False,
                }
            ),
            json.dumps(
                {
                    "ts": "2024-11-04T08:16:00.25Z",
                    "uid": "C2",
                    "id": {
                        "orig_h": "10.20.7.7",
                        "orig_p": 40001,
                        "resp_h": "10.20.0.53",
                        "resp_p": 53,
                    },
                    "query": "API.Anthropic.com",
                    "qtype": 65,
                    "rcode_name": "NOERROR",
                    "answers": ["160.79.104.10"],
                }
            ),
        ]
    )
    assert rejected.height == 0
    assert ok["ts"] == dt.datetime(2024, 11, 4, 8, 1, 0, 104311, tzinfo=dt.UTC)
    assert (ok["src_ip"], ok["src_port"], ok["host"], ok["dst_ip"], ok["dst_port"]) == (
        "10.20.1.15",
        53211,
        "chatgpt.com",
        "10.20.0.53",
        53,
    )
    assert (ok["dns_qtype"], ok["dns_rcode"], ok["action"], ok["dns_answers"]) == (
        "A",
        "NOERROR",
        "allowed",
        ["chatgpt.com.cdn.cloudflare.net", "104.18.32.47"],
    )
    assert (unanswered["dns_rcode"], unanswered["action"], unanswered["dns_answers"]) == (
        None,
        "unknown",
        None,
    )
    assert (refused["dns_rcode"], refused["action"]) == ("REFUSED", "blocked")
    assert (bare["host"], bare["src_ip"], bare["action"]) == (None, "10.1.2.3", "unknown")
    assert (nested["src_ip"], nested["host"], nested["dns_qtype"], nested["dns_answers"]) == (
        "10.20.7.7",
        "api.anthropic.com",
        "HTTPS",
        ["160.79.104.10"],
    )
    assert nested["ts"] == dt.datetime(2024, 11, 4, 8, 16, 0, 250000, tzinfo=dt.UTC)


def test_other_zeek_records_are_not_dns() -> None:
    http = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_depth":1,"method":"GET","host":"chatgpt.com"}'
    ssl = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","server_name":"chatgpt.com","established":true}'
    dhcp = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_id":7,"mac":"aa:bb"}'
    events, rejected = parse([http, ssl, dhcp, "{}", "x", line()])
    assert [e["line_no"] for e in events] == [5]
    assert rejected["line_no"].to_list() == [0, 1, 2, 3, 4]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line()] * 3).format == "zeek_dns_json"
    cls = PARSERS.get("zeek_dns_json")
    http = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_depth":1,"method":"GET","host":"chatgpt.com"}'
    socks = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","version":5,"request.name":"claude.ai"}'
    for other in (http, socks, '{"EventID":256,"QNAME":"chatgpt.com."}'):
        assert cls.sniff([other] * 3) is None
    for other in ("zeek_http_json", "zeek_ssl_json", "zeek_socks_json"):
        assert PARSERS.get(other).sniff([line()] * 3) is None


# --- properties ----------------------------------------------------------------------


@st.composite
def dns_json_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999999)) / 1e6
    query = draw(st.sampled_from(["chatgpt.com", "claude.ai", "api.openai.com", "x.local"]))
    rcode = draw(st.sampled_from([(0, "NOERROR"), (3, "NXDOMAIN"), (5, "REFUSED"), (None, None)]))
    answers = draw(st.sampled_from([None, ["104.18.32.47"], ["a.example", "1.2.3.4"], ["::"]]))
    text = line(ts=ts, query=query, rcode=rcode[0], rcode_name=rcode[1], answers=answers)
    action = "unknown" if rcode[1] is None else "allowed"
    if rcode[1] == "REFUSED" or answers == ["::"]:
        action = "blocked"
    return text, {"host": query, "dns_rcode": rcode[1], "dns_answers": answers, "action": action}


@given(st.lists(st.one_of(dns_json_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("zeek_dns_json", lines)


@given(st.lists(st.one_of(dns_json_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("zeek_dns_json", lines)


@given(dns_json_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse([text])[0][0]
    for key, value in expected.items():
        assert row[key] == value, key
