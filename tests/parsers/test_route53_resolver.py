"""Route 53 Resolver query logs: fields, answers, DNS Firewall blocks, sniffing, properties."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.route53_resolver import Route53ResolverParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

BASE: dict[str, object] = {
    "version": "1.100000",
    "account_id": "210987654321",
    "region": "eu-west-1",
    "vpc_id": "vpc-0c4f9e2a71b3d5e86",
    "query_timestamp": "2024-11-04T08:00:00Z",
    "query_name": "chatgpt.com.",
    "query_type": "A",
    "query_class": "IN",
    "rcode": "NOERROR",
    "answers": [
        {"Rdata": "chatgpt.com.cdn.cloudflare.net.", "Type": "CNAME", "Class": "IN"},
        {"Rdata": "104.18.32.47", "Type": "A", "Class": "IN"},
        {"Class": "IN", "Type": "A", "Rdata": "172.64.155.209"},
    ],
    "srcaddr": "10.40.1.21",
    "srcport": "51012",
    "transport": "UDP",
    "srcids": {"instance": "i-0f3a9c21d7e4b5a60"},
}


def line(rec: Mapping[str, object]) -> str:
    return json.dumps(rec, separators=(",", ":"))


def parse_lines(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return Route53ResolverParser(ParseContext("t")).parse(batch).events


def test_fields() -> None:
    row = parse_lines([line(BASE)]).row(0, named=True)
    assert row == {
        "line_no": 0,
        "ts": dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC),
        "src_ip": "10.40.1.21",
        "src_port": 51012,
        "host": "chatgpt.com",
        "action": "allowed",
        "dns_qtype": "A",
        "dns_answers": ["chatgpt.com.cdn.cloudflare.net", "104.18.32.47", "172.64.155.209"],
        "dns_rcode": "NOERROR",
        "route53_resolver_instance": "i-0f3a9c21d7e4b5a60",
        "route53_resolver_vpc_id": "vpc-0c4f9e2a71b3d5e86",
        "route53_resolver_firewall_domain_list": None,
    }


def test_names_answers_and_firewall() -> None:
    ptr = BASE | {
        "query_name": "6.c.f.6.a.9.0.e.2.b.9.a.2.f.1.9.2.0.0.4.d.d.a.0.0.4.f.c.2.0.a.2.ip6.arpa",
        "query_type": "PTR",
        "answers": [{"Rdata": "host.example.", "Type": "PTR", "Class": "IN"}],
        "srcids": {},
    }
    blocked = BASE | {
        "query_name": "Chat.DeepSeek.com.",
        "firewall_rule_action": "BLOCK",
        "firewall_domain_list_id": "rslvr-fdl-8d1f0e2c3b4a59687",
        "answers": [],
        "rcode": "NXDOMAIN",
    }
    alert = BASE | {"firewall_rule_action": "ALERT", "query_type": "65", "answers": []}
    refused = BASE | {"rcode": "REFUSED", "answers": [], "srcport": "-"}
    rows = parse_lines([line(r) for r in (ptr, blocked, alert, refused)]).to_dicts()
    assert rows[0]["host"].endswith(".ip6.arpa")  # no trailing dot to remove
    assert (rows[0]["dns_qtype"], rows[0]["dns_answers"]) == ("PTR", None)  # PTR: not an address
    assert rows[0]["route53_resolver_instance"] is None
    assert (rows[1]["host"], rows[1]["action"], rows[1]["dns_rcode"]) == (
        "chat.deepseek.com",
        "blocked",
        "NXDOMAIN",
    )
    assert rows[1]["route53_resolver_firewall_domain_list"] == "rslvr-fdl-8d1f0e2c3b4a59687"
    assert (rows[2]["action"], rows[2]["dns_qtype"], rows[2]["dns_answers"]) == (
        "allowed",
        "HTTPS",
        None,
    )
    assert (rows[3]["action"], rows[3]["src_port"]) == ("blocked", None)


def test_rejects_other_lines() -> None:
    no_name = dict(BASE)
    del no_name["query_name"]
    lines = [
        line(BASE | {"query_timestamp": "yesterday"}),
        line(no_name),
        line(BASE)[:100],
        "[" + line(BASE) + "]",
        '{"ts": 1.5, "query": "chatgpt.com"}',
        line(BASE),
    ]
    assert Route53ResolverParser.validate(pl.Series(lines)).to_list() == [False] * 5 + [True]
    assert parse_lines(lines)["line_no"].to_list() == [5]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line(BASE)] * 3).format == "route53_resolver"
    sniff = PARSERS.get("route53_resolver").sniff
    gcp = '{"jsonPayload":{"queryName":"chatgpt.com."},"timestamp":"2024-11-04T08:00:00Z"}'
    assert sniff([gcp] * 3) is None
    assert sniff(['{"Datetime":"2024-11-04T08:00:00Z","QueryName":"chatgpt.com"}']) is None
    assert (
        sniff(["plain text", "1730707200.000 1 10.0.0.1 TCP_MISS/200 10 GET http://x/ - -"]) is None
    )


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai"])
ips = st.builds(lambda a, b: f"10.{a}.{b}.7", st.integers(0, 255), st.integers(0, 255))


@st.composite
def resolver_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=draw(st.integers(0, 10**8))
    )
    host, ip = draw(hosts), draw(ips)
    addrs = draw(st.lists(ips, max_size=3))
    port = draw(st.integers(1, 65535))
    rec = BASE | {
        "query_timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "query_name": host + draw(st.sampled_from([".", ""])),
        "answers": [{"Rdata": a, "Type": "A", "Class": "IN"} for a in addrs],
        "srcaddr": ip,
        "srcport": str(port),
        "srcids": draw(st.sampled_from([{}, {"instance": "i-0abc"}])),
    }
    expected: dict[str, object] = {
        "ts": when,
        "host": host,
        "src_ip": ip,
        "src_port": port,
        "dns_answers": addrs or None,
    }
    return json.dumps(rec, separators=draw(st.sampled_from([(",", ":"), (", ", ": ")]))), expected


valid = resolver_lines().map(lambda t: t[0])
lines_mix = st.one_of(
    valid, st.tuples(valid, st.integers(0, 400)).map(lambda t: t[0][: t[1]]), NOISE
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("route53_resolver", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("route53_resolver", lines)


@given(resolver_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse_lines([text]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
