"""pfSense / OPNsense filterlog: RFC 3164 and RFC 5424 headers, the IPv4 and IPv6 column
layouts, ports only for TCP/UDP, actions, sniffing, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.pfsense_filterlog import PfsenseFilterlogParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

CTX = ParseContext("t", file_time=dt.datetime(2024, 12, 31, tzinfo=dt.UTC))
V4 = (
    "104,,,1000000103,igb0,match,pass,out,4,0x0,,63,23817,0,DF,6,tcp,60,10.20.1.15,"
    "160.79.104.10,52144,443,0,S,1804289383,,64240,,mss;sackOK;TS;nop;wscale"
)
LINE = f"<134>1 2024-11-04T08:00:00.123456+00:00 fw01.corp.example filterlog 4410 - - {V4}"


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = PfsenseFilterlogParser(CTX).parse(batch)
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
    assert (
        row["pfsense_filterlog_rule"],
        row["pfsense_filterlog_tracker"],
        row["pfsense_filterlog_interface"],
        row["pfsense_filterlog_direction"],
        row["pfsense_filterlog_reason"],
    ) == ("104", "1000000103", "igb0", "out", "match")
    assert (row["pfsense_filterlog_protocol"], row["pfsense_filterlog_len"]) == ("tcp", 60)
    assert row["pfsense_filterlog_device"] == "fw01.corp.example"
    assert not {"user", "host", "bytes_out", "bytes_in"} & set(row)  # never logged


def test_headers() -> None:
    rows = parse_lines(
        [
            f"<134>Nov  4 08:00:00 pfsense filterlog[6201]: {V4}",
            f"Nov  4 08:00:09 pfsense filterlog: {V4}",
            f"Nov  4 08:00:10 filterlog: {V4}",
            f'<134>1 2024-11-04T09:00:00+01:00 opn01 filterlog 71230 - [meta sequenceId="884213"] {V4}',
            f"2024-11-04T08:00:11.5+00:00 fw filterlog[1]: {V4}",
        ]
    ).to_dicts()
    assert rows[0]["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)
    assert rows[0]["pfsense_filterlog_device"] == "pfsense"
    assert rows[2]["pfsense_filterlog_device"] is None
    assert rows[3]["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)
    assert rows[3]["pfsense_filterlog_device"] == "opn01"
    assert rows[4]["ts"] == dt.datetime(2024, 11, 4, 8, 0, 11, 500000, tzinfo=dt.UTC)
    assert {r["dst_port"] for r in rows} == {443}


def test_layouts_and_protocols() -> None:
    head = "<134>1 2024-11-04T08:00:00Z fw filterlog 1 - - "
    rows = parse_lines(
        [
            # IPv6: class, flow label, hop limit, protocol name, protocol id (swapped)
            head + "98,,,881dd59a3e942966c90498ac104715a0,re0,match,pass,in,6,0x00,0x0ea87,51,"
            "UDP,17,73,2001:db8:8a0::2f8a,2001:db8:ada::1738,6881,51918,73",
            head + "104,,,1000000103,igb0,match,pass,out,4,0x0,,63,0,0,DF,1,icmp,84,"
            "10.20.1.30,8.8.8.8,request,4711,1",
            head + "9,,,1000000109,em0,match,pass,out,4,0x0,,1,0,0,none,112,carp,56,"
            "10.50.0.2,224.0.0.18,advertise,1,0,2,1",
            head + "5,,,1000000103,igb1,match,block,in,4,0x0,,241,54321,0,none,6,tcp,40,"
            "203.0.113.77,198.51.100.10,41234,3389,0,S,3210987654,,1024,,",
            head + "5,,,1000000103,igb1,match,reject,in,4,0x0,,64,1,0,none,17,udp,40,"
            "10.0.0.1,10.0.0.2,1000,2000,20",
            head + "5,,,1000000103,igb1,match,scrub,in,4,0x0,,64,1,0,none,17,udp,40,"
            "10.0.0.1,10.0.0.2,1000,2000,20",
        ]
    ).to_dicts()
    assert (rows[0]["src_ip"], rows[0]["dst_ip"], rows[0]["src_port"], rows[0]["dst_port"]) == (
        "2001:db8:8a0::2f8a",
        "2001:db8:ada::1738",
        6881,
        51918,
    )
    assert (rows[0]["pfsense_filterlog_protocol"], rows[0]["pfsense_filterlog_len"]) == ("udp", 73)
    # ICMP and CARP carry no ports (their next fields are not ports)
    assert [(r["src_port"], r["dst_port"]) for r in rows[1:3]] == [(None, None)] * 2
    assert rows[2]["pfsense_filterlog_protocol"] == "carp"
    assert [r["action"] for r in rows] == [
        "allowed",
        "allowed",
        "allowed",
        "blocked",
        "blocked",
        "unknown",
    ]


def test_malformed_records_are_unparsed() -> None:
    head = "<134>1 2024-11-04T08:00:00Z fw filterlog 1 - - "
    events, rejected = parse(
        [
            head + "104,,,1000000103,igb0,match,pass,out,4,0x0,,63,23817",
            head + "104,,,1000000103,igb0,match,pass,out,5,0x0,,63,1,0,DF,6,tcp,60,1.2.3.4,5.6.7.8",
            head + "104,,,1,igb0,match,pass,out,6,0x00,0x1,64,tcp,6,40,nothex,2001:db8::1,1,2",
            "<30>1 2024-11-04T08:00:04Z fw dhcpd 512 - - DHCPACK on 10.20.1.15",
            LINE,
        ]
    )
    assert events["line_no"].to_list() == [4]
    assert rejected["line_no"].to_list() == [0, 1, 2, 3]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([LINE] * 3).format == "pfsense_filterlog"
    assert detect_lines([f"Nov  4 08:00:09 pfsense filterlog: {V4}"] * 3).format == (
        "pfsense_filterlog"
    )
    sniff = PARSERS.get("pfsense_filterlog").sniff
    iptables = (
        "Nov  4 08:00:01 gw01 kernel: [1.0] IN=eth1 OUT=eth0 SRC=10.20.1.15 DST=160.79.104.10 "
        "LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=TCP SPT=52144 DPT=443"
    )
    assert sniff([iptables] * 3) is None
    assert sniff(["a,b,c,d", '{"a": 1}']) is None


# --- properties ----------------------------------------------------------------------

ipv4 = st.builds(lambda a, b: f"10.{a}.{b}.7", st.integers(0, 255), st.integers(0, 255))
ipv6 = st.builds(lambda a: f"2001:db8:{a:x}::15", st.integers(0, 65535))
actions = st.sampled_from([("pass", "allowed"), ("block", "blocked"), ("match", "unknown")])
heads = st.sampled_from(
    [
        "<134>1 2024-11-04T08:00:00.123456+00:00 fw01 filterlog 4410 - - ",
        '<134>1 2022-09-06T18:37:34+02:00 opnsense filterlog 69805 - [meta sequenceId="1"] ',
        "<134>Nov  4 08:00:00 pfsense filterlog[6201]: ",
        "Sep 28 10:38:09 pfSense filterlog: ",
    ]
)


@st.composite
def filterlog_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    action, verdict = draw(actions)
    v6 = draw(st.booleans())
    pid, pname = draw(st.sampled_from([(6, "tcp"), (17, "udp")]))
    src, dst = (draw(ipv6), draw(ipv6)) if v6 else (draw(ipv4), draw(ipv4))
    sport, dport = draw(st.integers(0, 65535)), draw(st.integers(0, 65535))
    ip = f"6,0x00,0x0ea87,51,{pname},{pid}" if v6 else f"4,0x0,,64,1,0,DF,{pid},{pname}"
    tail = "0,S,1804289383,,64240,,mss" if pid == 6 else "20"
    record = f"{draw(st.integers(0, 999))},,,1000000103,igb0,match,{action},in,{ip},60,{src},{dst},{sport},{dport},{tail}"
    return draw(heads) + record, {
        "src_ip": src,
        "dst_ip": dst,
        "src_port": sport,
        "dst_port": dport,
        "action": verdict,
        "pfsense_filterlog_protocol": pname,
    }


def _mutate(line: str, cut: int, drop: int) -> str:
    fields = line.split(",")
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    del fields[drop % len(fields)]
    return ",".join(fields)


valid_lines = filterlog_lines().map(lambda t: t[0])
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 300), st.integers(0, 60))
any_line = st.one_of(valid_lines, near_misses, NOISE)


@given(st.lists(any_line, max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("pfsense_filterlog", lines)


@given(st.lists(any_line, min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("pfsense_filterlog", lines)


@given(filterlog_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
