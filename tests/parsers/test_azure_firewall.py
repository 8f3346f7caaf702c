"""Azure Firewall diagnostic logs: structured ``AZFW*`` categories and the legacy free-text
messages (application, network, DNAT, threat intelligence, missing SNI), sniffing, and
property tests."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.azure_firewall import AzureFirewallParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

RID = "/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/AZUREFIREWALLS/FW-HUB"


def structured(category: str = "AZFWApplicationRule", **props: Any) -> str:
    return json.dumps(
        {
            "time": "2024-11-04T08:00:00.1234567Z",
            "resourceId": RID,
            "category": category,
            "operationName": category,
            "properties": props,
        }
    )


def legacy(msg: str, category: str = "AzureFirewallApplicationRule") -> str:
    return json.dumps(
        {
            "category": category,
            "operationName": category + "Log",
            "properties": {"msg": msg},
            "resourceId": RID,
            "time": "2024-11-04T09:00:00.0000000Z",
        }
    )


APP = structured(
    SourceIp="10.20.1.15",
    SourcePort=52144,
    DestinationIp="",
    DestinationPort=443,
    Protocol="HTTPS",
    Fqdn="chatgpt.com",
    TargetUrl="",
    Action="Allow",
    Policy="fwp-hub",
    RuleCollection="allow-ai-tools",
    Rule="allow-openai",
    WebCategory="ArtificialIntelligence",
)


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = AzureFirewallParser(ParseContext("t")).parse(batch)
    return out.events, out.rejected


def parse_lines(lines: list[str]) -> pl.DataFrame:
    return parse(lines)[0]


def test_structured_application_rule() -> None:
    row = parse_lines([APP]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 123456, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["host"], row["dst_ip"], row["dst_port"]) == (
        "10.20.1.15",
        52144,
        "chatgpt.com",
        None,
        443,
    )
    assert (row["action"], row["url"]) == ("allowed", None)
    assert (row["azure_firewall_rule"], row["azure_firewall_rule_collection"]) == (
        "allow-openai",
        "allow-ai-tools",
    )
    assert (row["azure_firewall_policy"], row["azure_firewall_web_category"]) == (
        "fwp-hub",
        "ArtificialIntelligence",
    )
    assert (row["azure_firewall_category"], row["azure_firewall_name"]) == (
        "AZFWApplicationRule",
        "FW-HUB",
    )


def test_structured_variants() -> None:
    rows = parse_lines(
        [
            # TLS inspection: the full URL, query dropped
            structured(
                SourceIp="10.20.1.15",
                SourcePort="52150",
                DestinationPort=" 443",
                Protocol="HTTPS",
                Fqdn="",
                TargetUrl="https://ChatGPT.com/backend-api/conversation?model=auto",
                Action="Allow",
            ),
            structured(
                "AZFWNetworkRule",
                SourceIp="10.20.3.40",
                SourcePort=50512,
                DestinationIp="160.79.104.10",
                DestinationPort=443,
                Protocol="TCP",
                Action="Deny",
            ),
            structured(
                "AZFWNatRule",
                SourceIp="198.51.100.23",
                SourcePort=51515,
                DestinationIp="20.50.1.10",
                DestinationPort=3389,
                Protocol="TCP",
                TranslatedIp="10.20.5.10",
                TranslatedPort=3390,
            ),
            structured(
                "AZFWThreatIntel",
                SourceIp="10.20.1.31",
                SourcePort=50001,
                DestinationIp="203.0.113.66",
                DestinationPort=443,
                Protocol="HTTPS",
                Fqdn="bad.example.net",
                Action="Alert",
                ThreatDescription="Known malicious domain",
            ),
            # a placeholder TargetUrl with no dot or slash is not a URL
            structured(SourceIp="10.0.0.1", Fqdn="", TargetUrl="url", Action="Allow"),
        ]
    ).to_dicts()
    assert (rows[0]["host"], rows[0]["url"], rows[0]["dst_port"], rows[0]["src_port"]) == (
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
        443,
        52150,
    )
    assert (rows[1]["host"], rows[1]["dst_ip"], rows[1]["action"]) == (
        None,
        "160.79.104.10",
        "blocked",
    )
    # DNAT: the translated (real) destination, and the traffic went through
    assert (rows[2]["dst_ip"], rows[2]["dst_port"], rows[2]["action"]) == (
        "10.20.5.10",
        3390,
        "allowed",
    )
    assert (rows[3]["host"], rows[3]["dst_ip"], rows[3]["action"]) == (
        "bad.example.net",
        "203.0.113.66",
        "allowed",  # alert-only mode lets the traffic through
    )
    assert rows[3]["azure_firewall_threat"] == "Known malicious domain"
    assert (rows[4]["host"], rows[4]["url"]) == (None, None)


def test_legacy_messages() -> None:
    rows = parse_lines(
        [
            legacy(
                "HTTPS request from 10.20.1.15:52144 to chatgpt.com:443. Action: Allow. Policy: "
                "fwp-hub. Rule Collection Group: rcg-internet. Rule Collection: allow-ai-tools. "
                "Rule: allow-openai. Web Category: ArtificialIntelligence"
            ),
            legacy(
                "HTTPS request from 10.20.2.44:60112 to chat.deepseek.com:443. Action: Deny. "
                "No rule matched. Proceeding with default action"
            ),
            legacy(
                "HTTP  request from 10.20.1.30:50002 to www.example.com:80. Url: "
                "www.example.com/index.html?lang=en. Action: Allow. Rule Collection: web. "
                "Rule: allow-web, HTTP"
            ),
            legacy(
                "HTTPS request from 10.20.1.50:6100. Action: Deny. Reason: SNI TLS extension was missing."
            ),
            legacy(
                "TCP request from 10.20.3.40:50512 to 160.79.104.10:443. Action: Allow. Rule Collection: net. Rule: https-out",
                "AzureFirewallNetworkRule",
            ),
            legacy(
                "ICMP Type=8 request from 10.20.1.30 to 10.20.5.10. Action: Allow. ",
                "AzureFirewallNetworkRule",
            ),
            legacy(
                "TCP request from 198.51.100.23:51515 to 20.50.1.10:3389 was DNAT'ed to 10.20.5.10:3389",
                "AzureFirewallNetworkRule",
            ),
            legacy(
                "HTTP  request from 10.20.1.31:50001 to bad.example.net:80. Url: bad.example.net/p. "
                "Action: Deny. ThreatIntel: Bot Networks",
                "AzureFirewallNetworkRule",
            ),
            legacy(
                "HTTPS request from 10.20.1.51:6200 to 104.18.32.47:443. Action: Allow. Rule: r"
            ),
        ]
    ).to_dicts()
    r = rows[0]
    assert (r["src_ip"], r["src_port"], r["host"], r["dst_port"], r["action"]) == (
        "10.20.1.15",
        52144,
        "chatgpt.com",
        443,
        "allowed",
    )
    assert (r["azure_firewall_policy"], r["azure_firewall_rule_collection"]) == (
        "fwp-hub",
        "allow-ai-tools",
    )
    assert (r["azure_firewall_rule"], r["azure_firewall_web_category"]) == (
        "allow-openai",
        "ArtificialIntelligence",
    )
    assert r["ts"] == dt.datetime(2024, 11, 4, 9, 0, tzinfo=dt.UTC)
    assert (rows[1]["host"], rows[1]["action"], rows[1]["azure_firewall_rule"]) == (
        "chat.deepseek.com",
        "blocked",
        None,
    )
    assert (rows[2]["url"], rows[2]["azure_firewall_rule"]) == (
        "http://www.example.com/index.html",
        "allow-web, HTTP",
    )
    assert (rows[3]["src_port"], rows[3]["host"], rows[3]["dst_port"]) == (6100, None, None)
    assert (rows[4]["host"], rows[4]["dst_ip"], rows[4]["azure_firewall_protocol"]) == (
        None,
        "160.79.104.10",
        "TCP",
    )
    assert (rows[5]["src_ip"], rows[5]["dst_ip"], rows[5]["dst_port"]) == (
        "10.20.1.30",
        "10.20.5.10",
        None,
    )
    assert (rows[6]["dst_ip"], rows[6]["dst_port"], rows[6]["action"]) == (
        "10.20.5.10",
        3389,
        "allowed",
    )
    assert (rows[7]["host"], rows[7]["url"], rows[7]["azure_firewall_threat"]) == (
        "bad.example.net",
        "http://bad.example.net/p",
        "Bot Networks",
    )
    # an application rule to an address keeps it as host (like a proxy) and as dst_ip
    assert (rows[8]["host"], rows[8]["dst_ip"]) == ("104.18.32.47", "104.18.32.47")


def test_other_records_are_unparsed() -> None:
    events, rejected = parse(
        [
            legacy(
                "DNS Request: 10.20.1.15:51234 - 4711 A IN chatgpt.com. udp",
                "AzureFirewallDnsProxy",
            ),
            legacy("Unexpected message"),
            json.dumps({"category": "AZFWApplicationRule", "properties": {"SourceIp": "10.0.0.1"}}),
            structured("AZFWNetworkRule", SourceIp="", DestinationIp="1.2.3.4"),
            structured("AZFWIdpsSignature", SourceIp="10.0.0.1", DestinationIp="1.2.3.4"),
            APP[:-10],
            "[1, 2]",
            APP,
        ]
    )
    assert events["line_no"].to_list() == [7]
    assert rejected["line_no"].to_list() == list(range(7))


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([APP] * 3).format == "azure_firewall"
    assert detect_lines(
        [legacy("TCP request from 1.2.3.4:1 to 5.6.7.8:2. Action: Allow.")] * 2
    ).format == ("azure_firewall")
    sniff = PARSERS.get("azure_firewall").sniff
    zscaler = (
        '{"sourcetype":"zscalernss-web","event":{"time":"Mon Nov  4 08:00:00 2024","login":"a@b"}}'
    )
    assert sniff([zscaler] * 3) is None
    assert sniff(['{"category": "Other", "time": "2024-11-04T08:00:00Z"}', "hello"]) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.4", st.integers(0, 255), st.integers(0, 255))
hosts = st.sampled_from(["chatgpt.com", "claude.ai", "www.example.com", "api.openai.com"])
ports = st.integers(1, 65535)
actions = st.sampled_from([("Allow", "allowed"), ("Deny", "blocked")])


@st.composite
def structured_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, sport, dport, host = draw(ips), draw(ports), draw(ports), draw(hosts)
    action, verdict = draw(actions)
    port_value: object = draw(st.sampled_from([dport, str(dport), f" {dport}"]))
    line = structured(
        SourceIp=src,
        SourcePort=sport,
        DestinationPort=port_value,
        Protocol="HTTPS",
        Fqdn=host,
        Action=action,
        Rule=draw(st.sampled_from(["", "r1"])),
    )
    return line, {
        "src_ip": src,
        "src_port": sport,
        "dst_port": dport,
        "host": host,
        "action": verdict,
    }


@st.composite
def legacy_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, sport, dport, host = draw(ips), draw(ports), draw(ports), draw(hosts)
    action, verdict = draw(actions)
    tail = draw(st.sampled_from(["", " Rule Collection: c. Rule: r", " No rule matched."]))
    line = legacy(f"HTTPS request from {src}:{sport} to {host}:{dport}. Action: {action}.{tail}")
    return line, {
        "src_ip": src,
        "src_port": sport,
        "dst_port": dport,
        "host": host,
        "action": verdict,
    }


def _mutate(line: str, cut: int, drop: int) -> str:
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    words = line.split(" ")
    del words[drop % len(words)]
    return " ".join(words)


cases = st.one_of(structured_lines(), legacy_lines())
valid_lines = cases.map(lambda t: t[0])
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 500), st.integers(0, 40))
any_line = st.one_of(valid_lines, near_misses, NOISE)


@given(st.lists(any_line, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("azure_firewall", lines)


@given(st.lists(any_line, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("azure_firewall", lines)


@given(cases)
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
