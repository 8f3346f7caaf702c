"""Linux netfilter kernel log lines: header variants, log prefixes and the action they
imply, UniFi rule ids, malformed token layouts (as CrowdSec rejects them), IPv6
compression, skipped lines of other programs, sniffing, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.iptables import IptablesParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

CTX = ParseContext("t", file_time=dt.datetime(2024, 12, 31, tzinfo=dt.UTC))
TOKENS = (
    "IN=eth1 OUT=eth0 MAC=52:54:00:dd:ee:ff:3c:22:fb:10:aa:07:08:00 SRC=10.20.1.15 "
    "DST=160.79.104.10 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=4242 DF PROTO=TCP SPT=52144 DPT=443 "
    "WINDOW=64240 RES=0x00 SYN URGP=0"
)
LINE = f"Nov  4 08:00:01 gw01 kernel: [81234.567890] IPTABLES-DROP: {TOKENS}"
UNIFI = (
    'Nov  4 08:01:02 UDM-Pro UDM-Pro [WAN_LOCAL-D-2147483647] DESCR="[WAN_LOCAL]Block All" '
    "IN=eth8 OUT= MAC=74:ac:b9:00:20:08:00:17:10:2b:31:a9:08:00 SRC=198.51.100.23 "
    "DST=203.0.113.5 LEN=44 TOS=00 PREC=0x00 TTL=245 ID=4012 PROTO=TCP SPT=51515 DPT=22 "
    "WINDOW=1025 RES=0x00 SYN URGP=0 MARK=1a0000"
)


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = IptablesParser(CTX).parse(batch)
    return out.events, out.rejected, out.skipped


def parse_lines(lines: list[str]) -> pl.DataFrame:
    return parse(lines)[0]


def test_fields() -> None:
    row = parse_lines([LINE]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, 1, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (
        "10.20.1.15",
        52144,
        "160.79.104.10",
        443,
    )
    assert row["action"] == "blocked"
    assert (row["iptables_prefix"], row["iptables_in"], row["iptables_out"]) == (
        "IPTABLES-DROP:",
        "eth1",
        "eth0",
    )
    assert (row["iptables_proto"], row["iptables_len"], row["iptables_device"]) == (
        "tcp",
        60,
        "gw01",
    )
    assert row["iptables_rule"] is None


@pytest.mark.parametrize(
    ("prefix", "action"),
    [
        ("[UFW BLOCK] ", "blocked"),
        ("[UFW ALLOW] ", "allowed"),
        ("[UFW AUDIT] ", "unknown"),
        ("[UFW LIMIT BLOCK] ", "blocked"),
        ("DROPPED:", "blocked"),  # a prefix with no space before IN=
        ("fw-reject ", "blocked"),
        ("nft-out-accept ", "allowed"),
        ("", "unknown"),
    ],
)
def test_action_from_prefix(prefix: str, action: str) -> None:
    line = f"Nov  4 08:00:01 gw01 kernel: [81234.567890] {prefix}{TOKENS}"
    row = parse_lines([line]).row(0, named=True)
    assert row["action"] == action
    assert row["iptables_prefix"] == (prefix.strip() or None)


def test_unifi_rule_letter_and_description() -> None:
    rows = parse_lines(
        [
            UNIFI,
            UNIFI.replace("-D-2147483647", "-A-2147483647"),
            UNIFI.replace("[WAN_LOCAL-D-2147483647]", "[LAN_IN-2000-R]"),
            UNIFI.replace("[WAN_LOCAL-D-2147483647]", "[WAN_IN-default-D]"),
        ]
    ).to_dicts()
    assert [r["action"] for r in rows] == ["blocked", "allowed", "blocked", "blocked"]
    assert rows[0]["iptables_rule"] == "[WAN_LOCAL]Block All"  # the letter wins over DESCR
    assert rows[0]["iptables_prefix"] == "[WAN_LOCAL-D-2147483647]"
    assert rows[0]["iptables_device"] == "UDM-Pro"  # the repeated host name is not a prefix
    assert (rows[0]["src_ip"], rows[0]["dst_port"], rows[0]["iptables_out"]) == (
        "198.51.100.23",
        22,
        None,
    )


def test_headers() -> None:
    rows = parse_lines(
        [
            f"2024-11-04T08:00:09.123456+01:00 gw02 kernel: [ 5012.334455] {TOKENS}",
            f"<4>1 2024-11-04T08:00:10.5Z gw03 kernel - - - [ 7001.1] DROP {TOKENS}",
            f"<4>Nov  4 08:00:11 gw04 kernel: {TOKENS}",
            f"Nov  4 08:00:12 gw05 kernel[0]: FW {TOKENS}",
        ]
    ).to_dicts()
    assert rows[0]["ts"] == dt.datetime(2024, 11, 4, 7, 0, 9, 123456, tzinfo=dt.UTC)
    assert rows[1]["ts"] == dt.datetime(2024, 11, 4, 8, 0, 10, 500000, tzinfo=dt.UTC)
    assert (rows[1]["iptables_prefix"], rows[1]["action"]) == ("DROP", "blocked")
    assert rows[2]["iptables_device"] == "gw04"
    assert rows[2]["iptables_prefix"] is None
    assert rows[3]["iptables_prefix"] == "FW"


def test_other_protocols_and_ipv6() -> None:
    rows = parse_lines(
        [
            "Nov  4 08:00:08 gw01 kernel: [1.0] REJECT IN=eth1 OUT=eth0 SRC=10.20.1.30 DST=8.8.8.8 "
            "LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=4711 SEQ=1",
            "Nov  4 08:00:07 gw01 kernel: [2.0] IN= OUT=eth0 SRC=2001:0db8:0020:0000:0000:0000:0000:0015 "
            "DST=2606:4700:0000:0000:0000:0000:6812:2c2f LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=712345 "
            "PROTO=TCP SPT=52200 DPT=443 WINDOW=64800 RES=0x00 SYN URGP=0",
            "Nov  4 08:00:06 gw01 kernel: [3.0] IN=br0 OUT=br0 PHYSIN=eth1 PHYSOUT=eth2 "
            "MAC=ff:ff:ff:ff:ff:ff:3c:22:fb:10:aa:07:08:00 SRC=10.20.1.7 DST=10.20.1.255 LEN=78 "
            "TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=UDP SPT=137 DPT=137 LEN=58",
            "Nov  4 08:00:05 gw01 kernel: [4.0] IN=eth0 OUT= SRC=10.20.1.9 DST=10.20.0.1 LEN=32 "
            "TOS=0x00 PREC=0xC0 TTL=1 ID=0 DF PROTO=2",
        ]
    ).to_dicts()
    assert (rows[0]["iptables_proto"], rows[0]["src_port"], rows[0]["dst_port"]) == (
        "icmp",
        None,
        None,
    )
    assert rows[1]["src_ip"] == "2001:db8:20::15"
    assert rows[1]["dst_ip"] == "2606:4700::6812:2c2f"
    assert (rows[2]["iptables_in"], rows[2]["dst_port"], rows[2]["iptables_len"]) == (
        "br0",
        137,
        78,
    )
    assert rows[3]["iptables_proto"] == "2"


def test_malformed_tokens_are_unparsed_with_a_reason() -> None:
    # The same layouts CrowdSec's iptables parser rejects (``XX=`` for ``IN=``), and
    # truncated or reordered token lists; a dotted interface name (a VLAN) is valid.
    good_vlan = LINE.replace("IN=eth1", "IN=enp.1s0")
    bad = [
        LINE.replace("IN=eth1", "XX=eth1"),
        LINE.replace("DST=160.79.104.10", "DST="),
        LINE.split(" PROTO=")[0],
        LINE.replace("IN=eth1 OUT=eth0", "OUT=eth0 IN=eth1"),
    ]
    events, rejected, skipped = parse([good_vlan, *bad])
    assert events["iptables_in"].to_list() == ["enp.1s0"]
    assert rejected["line_no"].to_list() == [1, 2, 3, 4]
    assert set(rejected["reason"]) == {IptablesParser.mismatch_reason()}
    assert skipped == 0


def test_other_programs_are_skipped() -> None:
    lines = [
        "Nov  4 08:00:04 gw01 sshd[2201]: Accepted publickey for admin from 10.20.9.2 port 50022 ssh2",
        "Jun 27 09:02:22 UDM-Pro UDM-Pro sshd[454008]: Failed password for invalid user x from 10.0.0.2",
        "Nov  4 08:00:06 gw01 kernel: [81239.4] e1000e: eth2 NIC Link is Up 1000 Mbps Full Duplex",
        "",
        LINE,
    ]
    events, rejected, skipped = parse(lines)
    assert (events.height, rejected.height, skipped) == (1, 0, 4)


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([LINE] * 3).format == "iptables"
    assert detect_lines([UNIFI, UNIFI, LINE]).format == "iptables"
    # UniFi syslog with a line of another daemon: still netfilter.
    sshd = (
        "Jun 27 09:02:22 UDM-Pro UDM-Pro sshd[4540]: Failed password for x from 10.0.0.2 port 5454"
    )
    assert detect_lines([UNIFI, UNIFI, UNIFI, sshd]).format == "iptables"
    sniff = PARSERS.get("iptables").sniff
    # A syslog file of other programs with one stray firewall line is not claimed.
    dnsmasq = "Nov  4 08:00:00 host dnsmasq[812]: query[A] chatgpt.com from 10.20.1.15"
    result = sniff([dnsmasq] * 9 + [LINE])
    assert result is None or result.score < 0.6
    assert sniff([dnsmasq] * 5) is None
    assert sniff(['{"a": 1}', "hello"]) is None


# --- properties ----------------------------------------------------------------------

ipv4 = st.builds(lambda a, b: f"10.20.{a}.{b}", st.integers(0, 255), st.integers(1, 254))
ports = st.integers(1, 65535)
prefixes = st.sampled_from(
    [
        ("", "unknown"),
        ("[UFW BLOCK] ", "blocked"),
        ("[UFW ALLOW] ", "allowed"),
        ("IPTABLES-DROP: ", "blocked"),
        ("ACCEPT:", "allowed"),
        ('[LAN_IN-A-2000] DESCR="[LAN_IN]Allow AI" ', "allowed"),
        ('[WAN_LOCAL-R-3] DESCR="x" ', "blocked"),
    ]
)
headers = st.sampled_from(
    [
        "Nov  4 08:00:01 gw01 kernel: [81234.567890] ",
        "Dec 31 23:59:59 fw kernel: ",
        "2024-11-04T08:00:09.123456+01:00 gw02 kernel: [ 5012.334455] ",
        "<4>1 2024-11-04T08:00:10Z gw03 kernel - - - ",
        "Nov  4 08:01:02 UDM-Pro UDM-Pro ",
    ]
)


@st.composite
def netfilter_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, dst = draw(ipv4), draw(st.sampled_from(["160.79.104.10", "104.18.32.47", "8.8.8.8"]))
    spt, dpt = draw(ports), draw(ports)
    proto = draw(st.sampled_from(["TCP", "UDP"]))
    prefix, action = draw(prefixes)
    mac = draw(st.sampled_from(["", "MAC=52:54:00:dd:ee:ff:3c:22:fb:10:aa:07:08:00 "]))
    line = (
        f"{draw(headers)}{prefix}IN=eth1 OUT=eth0 {mac}SRC={src} DST={dst} LEN=60 TOS=0x00 "
        f"PREC=0x00 TTL=63 ID=4242 DF PROTO={proto} SPT={spt} DPT={dpt} LEN=40"
    )
    return line, {
        "src_ip": src,
        "dst_ip": dst,
        "src_port": spt,
        "dst_port": dpt,
        "action": action,
        "iptables_proto": proto.lower(),
    }


def _mutate(line: str, cut: int, drop: int) -> str:
    words = line.split(" ")
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    del words[drop % len(words)]
    return " ".join(words)


other_programs = st.sampled_from(
    [
        "Nov  4 08:00:04 gw01 sshd[2201]: Accepted publickey for admin from 10.20.9.2",
        "Nov  4 08:00:06 gw01 kernel: [81239.4] usb 1-1: new high-speed USB device",
        "Nov  4 08:00:02 gw01 kernel: [1.0] XX=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=1 PROTO=TCP",
    ]
)
valid_lines = netfilter_lines().map(lambda t: t[0])
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 400), st.integers(0, 60))
any_line = st.one_of(valid_lines, near_misses, other_programs, NOISE)


@given(st.lists(any_line, max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("iptables", lines)


@given(st.lists(any_line, min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("iptables", lines)


@given(netfilter_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
