"""Sophos Firewall (SFOS, both layouts) and UTM packet filter: fields, connection phases
(bytes only on the end record), actions, skipped non-traffic records, no collision with
``sophos_utm_http`` either way, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.sophos_firewall import SophosFirewallParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

OLD = (
    'device="SFW" date=2024-11-04 time=08:02:31 timezone="CET" device_name="XG135" '
    'device_id=C1B0A6JC7TCVBEA log_id=010101600001 log_type="Firewall" log_component="Firewall Rule" '
    'log_subtype="Allowed" status="Allow" priority=Information duration=151 fw_rule_id=5 '
    'user_name="jdoe" user_gp="Staff" application="ChatGPT" application_category="Generative AI" '
    "src_mac=3c:22:fb:10:aa:01 src_ip=10.20.1.15 dst_ip=104.18.32.47 dst_country_code=USA "
    'protocol="TCP" src_port=52144 dst_port=443 sent_pkts=42 recv_pkts=57 sent_bytes=18544 '
    'recv_bytes=48211 tran_src_ip=198.51.100.2 connevent="Stop" connid="3153941760"'
)
NEW = (
    '<30>Nov  4 08:10:05 xg-hq device_name="SFW" timestamp="2024-11-04T08:10:05+0100" '
    'log_id="050901616001" log_type="Content Filtering" log_component="HTTP" log_subtype="Allowed" '
    'fw_rule_id="7" fw_rule_name="LAN to WAN" user_name="asmith@corp.example" '
    'http_category="Generative AI" url="https://gemini.google.com/app?hl=en" src_ip="10.20.1.22" '
    'dst_ip="142.250.74.110" protocol="TCP" src_port=50931 dst_port=443 bytes_sent=1157 '
    'bytes_received=40920 domain="gemini.google.com" http_user_agent="Mozilla/5.0 (X11)" '
    'app_name="Google Gemini"'
)
UTM = (
    '2024:11:04-08:20:01 utm-gw ulogd[4120]: id="2001" severity="info" sys="SecureNet" '
    'sub="packetfilter" name="Packet dropped" action="drop" fwrule="60001" initf="eth0" '
    'srcip="203.0.113.77" dstip="198.51.100.2" proto="6" length="40" srcport="41234" '
    'dstport="3389" tcpflags="SYN"'
)
HTTPPROXY = (
    '2024:11:04-09:00:00 utm-gw httpproxy[5120]: id="0001" severity="info" sys="SecureWeb" '
    'sub="http" name="http access" action="pass" method="CONNECT" srcip="10.20.1.15" '
    'dstip="104.18.32.47" user="jdoe" statuscode="200" size="48211" url="https://chatgpt.com/"'
)
EVENT = (
    'device="SFW" date=2024-11-04 time=08:06:00 timezone="CET" device_name="XG135" '
    'log_id=062910617701 log_type="Event" log_component="Firewall Authentication" '
    'log_subtype="Authentication" status="Successful" user_name="jdoe" src_ip=10.20.1.15'
)


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = SophosFirewallParser(ParseContext("t", timezone=tz)).parse(batch)
    return out.events, out.rejected, out.skipped


def parse_lines(lines: list[str]) -> pl.DataFrame:
    return parse(lines)[0]


def test_sfos_firewall_fields() -> None:
    row = parse_lines([OLD]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 2, 31, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (
        "10.20.1.15",
        52144,
        "104.18.32.47",
        443,
    )
    assert (row["user"], row["app"], row["action"]) == ("jdoe", "ChatGPT", "allowed")
    assert (row["bytes_out"], row["bytes_in"]) == (18544, 48211)
    assert (row["sophos_firewall_phase"], row["sophos_firewall_rule"]) == ("end", "5")
    assert (row["sophos_firewall_log_type"], row["sophos_firewall_component"]) == (
        "Firewall",
        "Firewall Rule",
    )
    assert (row["sophos_firewall_category"], row["sophos_firewall_protocol"]) == (
        "Generative AI",
        "tcp",
    )
    assert row["sophos_firewall_device"] == "XG135"
    assert row["host"] is None


def test_sfos_times_use_the_timezone_option() -> None:
    row = parse([OLD], tz="Europe/Berlin")[0].row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 7, 2, 31, tzinfo=dt.UTC)


def test_sfos_new_layout_web_request() -> None:
    row = parse_lines([NEW]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 7, 10, 5, tzinfo=dt.UTC)  # its own offset
    assert (row["host"], row["url"], row["user"]) == (
        "gemini.google.com",
        "https://gemini.google.com/app",
        "asmith@corp.example",
    )
    assert (row["bytes_out"], row["bytes_in"], row["app"]) == (1157, 40920, "Google Gemini")
    assert (row["user_agent"], row["sophos_firewall_rule"]) == ("Mozilla/5.0 (X11)", "LAN to WAN")
    assert row["sophos_firewall_phase"] is None


def test_phases_carry_bytes_only_at_the_end() -> None:
    start = OLD.replace('connevent="Stop"', 'connevent="Start"').replace(
        "sent_bytes=18544", "sent_bytes=0"
    )
    interim = OLD.replace('connevent="Stop"', 'connevent="Interim"')
    new_stop = (
        NEW.replace('log_type="Content Filtering"', 'log_type="Firewall"') + ' con_event="Stop"'
    )
    rows = parse_lines([start, interim, OLD, new_stop]).to_dicts()
    assert [r["sophos_firewall_phase"] for r in rows] == ["start", "interim", "end", "end"]
    assert [(r["bytes_out"], r["bytes_in"]) for r in rows] == [
        (None, None),
        (None, None),
        (18544, 48211),
        (1157, 40920),
    ]


@pytest.mark.parametrize(
    ("change", "action"),
    [
        (('status="Allow"', 'status="Deny"'), "blocked"),
        (('status="Allow" ', ""), "allowed"),  # no status: log_subtype
        (('log_subtype="Allowed" status="Allow"', 'log_subtype="Denied"'), "blocked"),
        (('log_subtype="Allowed" status="Allow"', 'log_subtype="Warned"'), "blocked"),
        (('log_subtype="Allowed" status="Allow"', 'log_subtype="Proceeded"'), "allowed"),
        (('log_subtype="Allowed" status="Allow"', 'log_subtype="Alert"'), "unknown"),
    ],
)
def test_sfos_actions(change: tuple[str, str], action: str) -> None:
    line = OLD.replace(*change)
    assert change[0] in OLD
    assert parse_lines([line])["action"].to_list() == [action]


def test_utm_packet_filter() -> None:
    rows = parse_lines(
        [
            UTM,
            UTM.replace('action="drop"', 'action="accept"'),
            "<30>" + UTM.replace('action="drop"', 'action="reject"'),
            UTM.replace('action="drop"', 'action="DNS request"'),
        ]
    ).to_dicts()
    r = rows[0]
    assert r["ts"] == dt.datetime(2024, 11, 4, 8, 20, 1, tzinfo=dt.UTC)
    assert (r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"]) == (
        "203.0.113.77",
        41234,
        "198.51.100.2",
        3389,
    )
    assert (r["sophos_firewall_log_type"], r["sophos_firewall_component"]) == (
        "packetfilter",
        "Packet dropped",
    )
    assert (
        r["sophos_firewall_rule"],
        r["sophos_firewall_protocol"],
        r["sophos_firewall_device"],
    ) == (
        "60001",
        "6",
        "utm-gw",
    )
    assert [x["action"] for x in rows] == ["blocked", "allowed", "blocked", "unknown"]


def test_other_records() -> None:
    system_health = (
        '<30>Nov  4 08:10:12 xg-hq device_name="SFW" timestamp="2024-11-04T08:10:12+0100" '
        'log_id="063411660030" log_type="System Health" log_component="CPU" system="3.12%"'
    )
    unknown_type = OLD.replace('log_type="Firewall"', 'log_type="Mystery"')
    truncated = OLD.split(" dst_ip=")[0]
    events, rejected, skipped = parse(
        [EVENT, system_health, "", unknown_type, truncated, HTTPPROXY, "junk", OLD]
    )
    assert events["line_no"].to_list() == [7]
    assert rejected["line_no"].to_list() == [3, 4, 5, 6]
    assert skipped == 3


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([OLD] * 3).format == "sophos_firewall"
    assert detect_lines([NEW, NEW, EVENT]).format == "sophos_firewall"
    assert detect_lines([UTM] * 3).format == "sophos_firewall"
    # The UTM web proxy and the packet filter never claim each other's files.
    assert PARSERS.get("sophos_firewall").sniff([HTTPPROXY] * 3) is None
    assert PARSERS.get("sophos_utm_http").sniff([UTM] * 3) is None
    assert detect_lines([HTTPPROXY] * 3).format == "sophos_utm_http"
    assert PARSERS.get("sophos_firewall").sniff([EVENT] * 3) is None
    assert PARSERS.get("sophos_firewall").sniff(['{"a": 1}', "hello"]) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.8", st.integers(0, 255), st.integers(0, 255))
ports = st.integers(0, 65535)
byte_counts = st.integers(0, 10**10)


@st.composite
def sophos_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, dst, sport, dport = draw(ips), draw(ips), draw(ports), draw(ports)
    sent, recv = draw(byte_counts), draw(byte_counts)
    kind = draw(st.sampled_from(["old", "new", "utm"]))
    if kind == "utm":
        line = (
            f'2024:11:04-08:20:01 utm ulogd[1]: id="2002" sys="SecureNet" sub="packetfilter" '
            f'name="Packet accepted" action="accept" srcip="{src}" dstip="{dst}" proto="6" '
            f'srcport="{sport}" dstport="{dport}"'
        )
        return line, {
            "src_ip": src,
            "dst_ip": dst,
            "src_port": sport,
            "dst_port": dport,
            "action": "allowed",
            "bytes_out": None,
        }
    phase, with_bytes = draw(st.sampled_from([("Start", False), ("Stop", True), ("", True)]))
    event = f' connevent="{phase}"' if phase else ""
    user = draw(st.sampled_from(["", "jdoe", "a@b.example"]))
    if kind == "old":
        line = (
            f'device="SFW" date=2024-11-04 time=08:00:00 timezone="CET" device_name="XG" '
            f'log_type="Firewall" log_component="Firewall Rule" log_subtype="Denied" status="Deny" '
            f'user_name="{user}" src_ip={src} dst_ip={dst} protocol="TCP" src_port={sport} '
            f"dst_port={dport} sent_bytes={sent} recv_bytes={recv}{event}"
        )
        action = "blocked"
    else:
        line = (
            f'Nov  4 08:00:00 xg device_name="SFW" timestamp="2024-11-04T08:00:00+0100" '
            f'log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" '
            f'user_name="{user}" src_ip="{src}" dst_ip="{dst}" protocol="TCP" src_port={sport} '
            f"dst_port={dport} bytes_sent={sent} bytes_received={recv}{event.replace('connevent', 'con_event')}"
        )
        action = "allowed"
    return line, {
        "src_ip": src,
        "dst_ip": dst,
        "src_port": sport,
        "dst_port": dport,
        "action": action,
        "user": user or None,
        "bytes_out": sent if with_bytes else None,
        "bytes_in": recv if with_bytes else None,
    }


def _mutate(line: str, cut: int, drop: int) -> str:
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    words = line.split(" ")
    del words[drop % len(words)]
    return " ".join(words)


valid_lines = sophos_lines().map(lambda t: t[0])
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 500), st.integers(0, 40))
any_line = st.one_of(valid_lines, near_misses, st.sampled_from([EVENT, HTTPPROXY]), NOISE)


@given(st.lists(any_line, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("sophos_firewall", lines)


@given(st.lists(any_line, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("sophos_firewall", lines)


@given(sophos_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
