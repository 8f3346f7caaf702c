"""Cloudflare Gateway DNS Logpush: fields, decisions, Datetime encodings, sniffing (not the
HTTP dataset), and properties."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.cloudflare_gateway_dns import CloudflareGatewayDnsParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

BASE: dict[str, object] = {
    "ApplicationID": 0,
    "ColoCode": "CDG",
    "Datetime": "2024-11-04T08:00:00Z",
    "DeviceID": "6f1c2a3e-90b4-11ef-8a2d-3e1f0c9b7a11",
    "DeviceName": "LT-JDOE-01",
    "DstIP": "172.64.36.1",
    "DstPort": 53,
    "Email": "jdoe@corp.example",
    "MatchedCategoryIDs": [184],
    "MatchedCategoryNames": ["Artificial Intelligence"],
    "Protocol": "udp",
    "QueryName": "chatgpt.com",
    "QueryType": 1,
    "QueryTypeName": "A",
    "RCode": 0,
    "RData": [{"type": "1", "data": "B2NoYXRncHQDY29tAAABAAEAAAA8AARoEiAv"}],
    "ResolvedIPs": ["104.18.32.47", "172.64.155.209"],
    "ResolverDecision": "allowedOnNoPolicyMatch",
    "SrcIP": "203.0.113.40",
    "SrcPort": 0,
}


def line(rec: Mapping[str, object]) -> str:
    return json.dumps(rec, separators=(",", ":"))


def parse_lines(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return CloudflareGatewayDnsParser(ParseContext("t")).parse(batch).events


def test_fields() -> None:
    row = parse_lines([line(BASE)]).row(0, named=True)
    assert row == {
        "line_no": 0,
        "ts": dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC),
        "src_ip": "203.0.113.40",
        "src_port": None,
        "user": "jdoe@corp.example",
        "host": "chatgpt.com",
        "dst_ip": "172.64.36.1",
        "dst_port": 53,
        "action": "allowed",
        "dns_qtype": "A",
        "dns_answers": ["104.18.32.47", "172.64.155.209"],
        "dns_rcode": "NOERROR",
        "cloudflare_gateway_dns_device": "LT-JDOE-01",
        "cloudflare_gateway_dns_categories": "Artificial Intelligence",
        "cloudflare_gateway_dns_decision": "allowedOnNoPolicyMatch",
    }


def test_decisions_types_and_answers() -> None:
    recs = [
        BASE | {"ResolverDecision": "blockedByCategory", "ResolvedIPs": ["0.0.0.0"]},
        BASE | {"ResolverDecision": 9},
        BASE | {"ResolverDecision": "8", "CNAMEs": ["gateway.block.example"], "ResolvedIPs": []},
        BASE | {"ResolverDecision": "overrideForSafeSearch"},
        BASE | {"ResolverDecision": "0", "Email": "", "DeviceName": "", "MatchedCategoryNames": []},
        BASE | {"QueryTypeName": "", "QueryType": 65, "RCode": 3, "ResolvedIPs": []},
        BASE
        | {
            "QueryName": "API.OpenAI.com.",
            "CNAMEs": ["api.openai.com.cdn.cloudflare.net"],
            "ResolvedIPs": ["162.159.140.245"],
            "SrcPort": "5353",
        },
    ]
    rows = parse_lines([line(r) for r in recs]).to_dicts()
    assert [r["action"] for r in rows] == [
        "blocked",
        "blocked",
        "blocked",
        "allowed",
        "unknown",
        "allowed",
        "allowed",
    ]
    assert rows[1]["cloudflare_gateway_dns_decision"] == "blockedRule"
    assert rows[2]["dns_answers"] == ["gateway.block.example"]
    assert (rows[4]["user"], rows[4]["cloudflare_gateway_dns_device"]) == (None, None)
    assert rows[4]["cloudflare_gateway_dns_categories"] is None
    assert (rows[5]["dns_qtype"], rows[5]["dns_rcode"], rows[5]["dns_answers"]) == (
        "HTTPS",
        "NXDOMAIN",
        None,
    )
    assert rows[6]["host"] == "api.openai.com"
    assert rows[6]["dns_answers"] == ["api.openai.com.cdn.cloudflare.net", "162.159.140.245"]
    assert rows[6]["src_port"] == 5353


def test_datetime_encodings() -> None:
    want = dt.datetime(2023, 5, 3, 20, 55, 5, tzinfo=dt.UTC)
    forms: list[object] = [
        "2023-05-03T20:55:05Z",
        "2023-05-03T22:55:05+02:00",
        "1683147305",
        "1683147305000000000",
        1683147305,
    ]
    rows = parse_lines([line(BASE | {"Datetime": f}) for f in forms])
    assert rows["ts"].to_list() == [want] * len(forms)


def test_rejects_other_datasets() -> None:
    http = (
        '{"Datetime":"2024-11-04T08:00:00Z","HTTPHost":"chatgpt.com","HTTPMethod":"GET",'
        '"URL":"https://chatgpt.com/"}'
    )
    lines = [http, line(BASE | {"Datetime": ""}), line(BASE)[:100], "[" + line(BASE) + "]"]
    lines.append(line(BASE))
    assert CloudflareGatewayDnsParser.validate(pl.Series(lines)).to_list() == [False] * 4 + [True]
    assert parse_lines(lines)["line_no"].to_list() == [4]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line(BASE)]).format == "cloudflare_gateway_dns"
    http = (
        '{"Action":"allow","Datetime":"2024-11-04T08:00:00Z","HTTPHost":"chatgpt.com",'
        '"HTTPMethod":"GET","HTTPStatusCode":200,"URL":"https://chatgpt.com/"}'
    )
    assert PARSERS.get("cloudflare_gateway_dns").sniff([http] * 3) is None
    assert PARSERS.get("cloudflare_gateway_http").sniff([line(BASE)] * 3) is None
    assert detect_lines([http] * 3).format == "cloudflare_gateway_http"


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai"])
addrs = st.builds(lambda a, b: f"104.18.{a}.{b}", st.integers(0, 255), st.integers(0, 255))


@st.composite
def gateway_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=draw(st.integers(0, 10**8))
    )
    epoch = int(when.timestamp())
    stamp = draw(
        st.sampled_from([when.strftime("%Y-%m-%dT%H:%M:%SZ"), str(epoch), epoch * 10**9, epoch])
    )
    host = draw(hosts)
    ips = draw(st.lists(addrs, max_size=3))
    rec = BASE | {
        "Datetime": stamp,
        "QueryName": host,
        "ResolvedIPs": ips,
        "Email": draw(st.text(max_size=20)),
        "MatchedCategoryNames": draw(st.lists(st.text(max_size=10), max_size=3)),
    }
    expected: dict[str, object] = {"ts": when, "host": host, "dns_answers": ips or None}
    return json.dumps(rec, ensure_ascii=draw(st.booleans())), expected


valid = gateway_lines().map(lambda t: t[0])
lines_mix = st.one_of(
    valid, st.tuples(valid, st.integers(0, 500)).map(lambda t: t[0][: t[1]]), NOISE
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("cloudflare_gateway_dns", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("cloudflare_gateway_dns", lines)


@given(gateway_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse_lines([text]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
