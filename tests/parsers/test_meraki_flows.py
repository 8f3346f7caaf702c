"""Cisco Meraki ``flows`` / ``firewall`` / ``l7_firewall`` events: fields, the action from
the op word, ``decision=`` or the rule (``1``/``0`` for inbound rules), relay headers,
no collision with ``meraki_urls`` either way, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.meraki_flows import MerakiFlowsParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

LINE = (
    "<134>1 1730707200.123456789 MX68_HQ firewall src=10.20.1.15 dst=160.79.104.10 "
    "mac=3C:22:FB:10:AA:01 protocol=tcp sport=52144 dport=443 pattern: allow all"
)
URLS = (
    "<134>1 1730707200.123456789 MX68_HQ urls src=10.20.1.15:52144 dst=104.18.32.47:443 "
    "mac=3C:22:FB:10:AA:01 agent='Mozilla/5.0 (Windows NT 10.0)' request: GET https://chatgpt.com/"
)


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = MerakiFlowsParser(ParseContext("t")).parse(batch)
    return out.events, out.rejected


def parse_lines(lines: list[str]) -> pl.DataFrame:
    return parse(lines)[0]


def test_fields() -> None:
    row = parse_lines([LINE]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 123456, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (
        "10.20.1.15",
        52144,
        "160.79.104.10",
        443,
    )
    assert row["action"] == "allowed"
    assert (row["meraki_flows_event"], row["meraki_flows_rule"]) == ("firewall", "allow all")
    assert (row["meraki_flows_protocol"], row["meraki_flows_device"], row["meraki_flows_mac"]) == (
        "tcp",
        "MX68_HQ",
        "3C:22:FB:10:AA:01",
    )


BASE = (
    "<134>1 1730707201.000000001 MX84 {} src=10.0.0.2 dst=10.0.0.3 protocol=tcp sport=1 dport=2{}"
)


@pytest.mark.parametrize(
    ("event", "tail", "action"),
    [
        ("flows allow", "", "allowed"),
        ("flows deny", "", "blocked"),
        ("flows", "", "unknown"),
        ("flows", " pattern: 1 all", "blocked"),
        ("flows", " pattern: 0 all", "allowed"),
        ("flows", " pattern: 1 dst 10.0.0.3", "blocked"),
        ("firewall", " pattern: deny (src 10.0.0.0/16) && (dst 10.20.5.0/24)", "blocked"),
        ("vpn_firewall", " pattern: allow udp", "allowed"),
        ("cellular_firewall", " pattern: Group Policy Allow", "allowed"),
        ("cellular_firewall", " pattern: Group Policy Deny", "blocked"),
        ("firewall", " pattern: 12 something", "unknown"),
        ("l7_firewall", " decision=blocked", "blocked"),
        ("l7_firewall", " decision=allowed", "allowed"),
    ],
)
def test_action(event: str, tail: str, action: str) -> None:
    row = parse_lines([BASE.format(event, tail)]).row(0, named=True)
    assert row["action"] == action
    assert row["meraki_flows_event"] == event.split()[0]


def test_variants() -> None:
    rows = parse_lines(
        [
            "<134>1 1664382879.496990921 AP_1 flows allow src=fe80::1021:83ca:b68:4cd8 "
            "dst=ff02::1:ffb6:a227 mac=28:FF:3C:AB:DB:AA protocol=icmp6 type=135",
            "<134>1 1664385452.7 AP_1 flows allow src=172.16.12.23 dst=224.0.0.2 mac=4C:AB:4F:0D:3D:AA protocol=2",
            "Nov  4 08:00:06 192.168.10.1 1 1730707206.000000000 MX68 firewall src=10.30.0.42 "
            "dst=160.79.104.10 protocol=tcp sport=50300 dport=443 pattern: allow all",
            "192.168.10.1 1 1730707207 MX68 flows src=10.30.0.43 dst=160.79.104.10 protocol=udp "
            "sport=50301 dport=443 pattern: allow all",
            "948136486.721741837 MX60 firewall src=10.0.0.1 dst=8.8.8.8 mac=00:18:0A:XX:XX:XX "
            "protocol=udp sport=9562 dport=53 pattern: allow all",
        ]
    ).to_dicts()
    assert (rows[0]["src_ip"], rows[0]["dst_port"], rows[0]["meraki_flows_protocol"]) == (
        "fe80::1021:83ca:b68:4cd8",
        None,
        "icmp6",
    )
    assert (rows[1]["meraki_flows_protocol"], rows[1]["ts"]) == (
        "2",
        dt.datetime(2022, 9, 28, 17, 17, 32, 700000, tzinfo=dt.UTC),
    )
    assert rows[2]["ts"] == dt.datetime(2024, 11, 4, 8, 0, 6, tzinfo=dt.UTC)
    assert (rows[3]["src_ip"], rows[3]["meraki_flows_device"]) == ("10.30.0.43", "MX68")
    assert (rows[4]["meraki_flows_mac"], rows[4]["dst_port"]) == ("00:18:0A:XX:XX:XX", 53)


def test_other_meraki_events_are_unparsed() -> None:
    events, rejected = parse(
        [
            URLS,
            "<134>1 1730707203.0 MX68_HQ events type=vpn_connectivity_change connectivity='true'",
            "<134>1 1730707202.0 MX68_HQ flows allow src=10.20.1.22 protocol=tcp sport=1 dport=2",
            LINE,
        ]
    )
    assert events["line_no"].to_list() == [3]
    assert rejected["line_no"].to_list() == [0, 1, 2]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([LINE] * 3).format == "meraki_flows"
    # The two Meraki formats never claim each other's files.
    assert PARSERS.get("meraki_flows").sniff([URLS] * 3) is None
    assert PARSERS.get("meraki_urls").sniff([LINE] * 3) is None
    assert detect_lines([URLS] * 3).format == "meraki_urls"
    assert PARSERS.get("meraki_flows").sniff(['{"a": 1}', "hello"]) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.9", st.integers(0, 255), st.integers(0, 255))
events = st.sampled_from(
    [
        ("flows allow", "", "allowed"),
        ("flows deny", "", "blocked"),
        ("flows", " pattern: 1 all", "blocked"),
        ("firewall", " pattern: allow all", "allowed"),
        ("vpn_firewall", " pattern: deny (src 10.0.0.0/8)", "blocked"),
        ("l7_firewall", " decision=blocked", "blocked"),
    ]
)


@st.composite
def flow_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    event, tail, action = draw(events)
    src, dst = draw(ips), draw(ips)
    sport, dport = draw(st.integers(0, 65535)), draw(st.integers(0, 65535))
    mac = draw(st.sampled_from(["", "mac=3C:22:FB:10:AA:01 "]))
    secs, frac = draw(st.integers(946684800, 2_000_000_000)), draw(st.integers(0, 999_999_999))
    line = (
        f"<134>1 {secs}.{frac:09d} MX84 {event} src={src} dst={dst} {mac}protocol=tcp "
        f"sport={sport} dport={dport}{tail}"
    )
    return line, {
        "src_ip": src,
        "dst_ip": dst,
        "src_port": sport,
        "dst_port": dport,
        "action": action,
        "ts": dt.datetime.fromtimestamp(secs, dt.UTC) + dt.timedelta(microseconds=frac // 1000),
    }


def _mutate(line: str, cut: int, drop: int) -> str:
    words = line.split(" ")
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    del words[drop % len(words)]
    return " ".join(words)


valid_lines = flow_lines().map(lambda t: t[0])
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 300), st.integers(0, 30))
any_line = st.one_of(valid_lines, near_misses, st.just(URLS), NOISE)


@given(st.lists(any_line, max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("meraki_flows", lines)


@given(st.lists(any_line, min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("meraki_flows", lines)


@given(flow_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
