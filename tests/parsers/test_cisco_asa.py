"""Cisco ASA syslog: who opened a connection, teardown orientation and byte totals,
identity-firewall users, header variants, URL/ACL/AnyConnect messages, sniffing, and
property tests (never raises, every line counted, fast path agrees, round trip)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.cisco_asa import CiscoAsaParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

FILE_TIME = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)
H = "Nov 04 2024 09:00:02 fw01 : "


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = CiscoAsaParser(ParseContext("t", tz, FILE_TIME)).parse(batch)
    return out.events, out.rejected, out.skipped


def row(line: str) -> dict[str, object]:
    events, rejected, _ = parse([line])
    assert rejected.is_empty(), line
    return events.row(0, named=True)


def built(direction: str, fside: str, tside: str, tail: str = "") -> str:
    return (
        f"{H}%ASA-6-302013: Built {direction} TCP connection 42 for {fside} (203.0.113.1/1) "
        f"to {tside} (198.51.100.7/40001){tail}"
    )


def test_outbound_build_initiator_is_the_to_side() -> None:
    r = row(built("outbound", "outside:104.18.32.47/443", "inside:10.20.1.15/51234"))
    assert (r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"]) == (
        "10.20.1.15",
        51234,
        "104.18.32.47",
        443,
    )
    assert (r["cisco_asa_phase"], r["cisco_asa_direction"], r["action"]) == (
        "build",
        "outbound",
        "allowed",
    )
    assert (r["cisco_asa_conn_id"], r["cisco_asa_proto"]) == ("42", "tcp")
    assert r.get("bytes_out") is None and r.get("bytes_in") is None


def test_inbound_build_initiator_is_the_for_side() -> None:
    r = row(built("inbound", "outside:203.0.113.45/49877", "dmz:172.16.10.5/443"))
    assert (r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"]) == (
        "203.0.113.45",
        49877,
        "172.16.10.5",
        443,
    )


def test_teardown_orientation_from_ports_and_total_bytes() -> None:
    td = (
        H + "%ASA-6-302014: Teardown TCP connection 42 for outside:{f} to inside:{t} "
        "duration 0:02:08 bytes 961207 TCP FINs from inside"
    )
    rows = parse(
        [
            td.format(f="104.18.32.47/443", t="10.20.1.15/51234"),
            td.format(f="203.0.113.45/49877", t="172.16.10.5/443"),
            td.format(f="10.44.4.4/500", t="10.44.2.2/500"),
        ]
    )[0].to_dicts()
    assert [(r["src_ip"], r["dst_ip"], r["dst_port"]) for r in rows] == [
        ("10.20.1.15", "104.18.32.47", 443),
        ("203.0.113.45", "172.16.10.5", 443),
        ("10.44.2.2", "10.44.4.4", 500),  # equal ports: the inside ("to") side opened it
    ]
    for r in rows:
        assert (r["cisco_asa_bytes_total"], r.get("bytes_out"), r.get("bytes_in")) == (
            961207,
            None,
            None,
        )
        assert r["cisco_asa_phase"] == "teardown"


def test_identity_firewall_users() -> None:
    rows = parse(
        [
            built(
                "outbound",
                "outside:160.79.104.10/443",
                "inside:10.20.4.77/50211",
                "(LOCAL\\Zoë Brandt) (Zoë Brandt)",
            ),
            built(
                "inbound", "OUTSIDE:67.43.156.15/50120", "INSIDE:10.0.0.1/53", " (CORP\\jdoe)"
            ).replace("(203.0.113.1/1)", "(198.51.100.2/50120)(LOCAL\\CORP\\jdoe)"),
            H
            + "%ASA-6-302014: Teardown TCP connection 7 for outside:198.51.100.2/63790(LOCAL\\First Middle Last) "
            "to inside:10.0.0.1/53 duration 0:35:58 bytes 27451 TCP FINs from outside (First Middle Last)",
            H
            + "%ASA-6-302016: Teardown UDP connection 8 for outside:192.0.2.9/53 to inside:10.1.1.5/52925 "
            "duration 0:00:01 bytes 140 (CORP\\Ärger Öz)",
            built(
                "outbound",
                "outside:104.18.32.47/443",
                "inside:10.20.1.15/51234",
                " (a.user@corp.example)",
            ),
        ]
    )[0].to_dicts()
    assert [r["user"] for r in rows] == [
        "Zoë Brandt",
        "CORP\\jdoe",
        "First Middle Last",
        "CORP\\Ärger Öz",
        "a.user@corp.example",
    ]


def test_header_variants() -> None:
    msg = "%ASA-6-302013: Built outbound TCP connection 1 for outside:1.1.1.1/443 (1.1.1.1/443) to inside:10.0.0.1/5000 (2.2.2.2/5000)"
    rows = parse(
        [
            "Nov 04 2024 09:00:02: " + msg,
            "Nov  4 2024 05:00:02 EDT: " + msg,
            "<166>Nov 04 2024 09:00:02 <IP>: " + msg,
            "Nov  4 09:00:02 fw01.corp.example " + msg,
            "2024-11-04T09:00:02Z 192.0.2.10 : " + msg,
            "Nov  4 09:00:03 relay01 Nov 04 2024 09:00:02 fw01 : " + msg,
            "Nov 04 2024 09:00:02 : " + msg.replace("302013:", "302013"),
            "Nov 04 2024 09:00:02 fw01 : " + msg.replace("%ASA-6-", "%ASA-session-6-"),
        ]
    )[0]
    assert rows.height == 8
    assert rows["ts"].to_list() == [dt.datetime(2024, 11, 4, 9, 0, 2, tzinfo=dt.UTC)] * 8
    local = parse(["Nov 04 2024 09:00:02 fw01 : " + msg], "Europe/Berlin")[0]
    assert local["ts"][0] == dt.datetime(2024, 11, 4, 8, 0, 2, tzinfo=dt.UTC)


def test_url_acl_and_vpn_messages() -> None:
    rows = parse(
        [
            H
            + "%ASA-5-304001: jdoe@10.20.1.15(CORP\\jdoe) Accessed URL 104.18.32.47:https://chatgpt.com/backend-api/conversation?x=1",
            H + "%ASA-5-304001: 10.30.30.30 Accessed URL 192.0.2.1:/app",
            H
            + "%ASA-5-304002: Access denied URL http://chat.deepseek.com/a SRC 10.20.3.9 DEST 203.0.113.90 on interface inside",
            H
            + '%ASA-4-106023: Deny tcp src inside:10.20.3.9/52001 dst outside:203.0.113.90/443 by access-group "in_acl" [0x1, 0x0]',
            H
            + "%ASA-5-106100: access-list in_acl est-allowed tcp inside/10.0.0.46(49840) -> outside/192.0.2.88(40443) hit-cnt 1 first hit [0x1, 0x0]",
            H
            + "%ASA-2-106001: Inbound TCP connection denied from 203.0.113.5/4444 to 10.0.0.9/22 flags SYN  on interface outside",
            H
            + "%ASA-6-722051: Group <GP-Staff> User <jdoe> IP <203.0.113.45> IPv4 Address <10.60.0.21> IPv6 address <::> assigned to session",
        ]
    )[0].to_dicts()
    url, path_only, denied, acl, permit, deny_in, vpn = rows
    assert (url["host"], url["url"], url["user"], url["dst_ip"], url["dst_port"]) == (
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
        "CORP\\jdoe",
        "104.18.32.47",
        443,
    )
    assert (path_only["host"], path_only["url"]) == ("192.0.2.1", "http://192.0.2.1/app")
    assert (denied["action"], denied["host"], denied["src_ip"]) == (
        "blocked",
        "chat.deepseek.com",
        "10.20.3.9",
    )
    assert (acl["action"], acl["cisco_asa_rule"], acl["dst_port"]) == ("blocked", "in_acl", 443)
    assert (permit["action"], permit["src_port"], permit["dst_ip"]) == (
        "allowed",
        49840,
        "192.0.2.88",
    )
    assert (deny_in["action"], deny_in["src_ip"], deny_in["dst_port"]) == (
        "blocked",
        "203.0.113.5",
        22,
    )
    assert (vpn["user"], vpn["src_ip"], vpn["cisco_asa_assigned_ip"], vpn["action"]) == (
        "jdoe",
        "203.0.113.45",
        "10.60.0.21",
        "unknown",
    )


def test_other_messages_skipped_broken_ones_unparsed() -> None:
    events, rejected, skipped = parse(
        [
            H
            + "%ASA-6-305011: Built dynamic TCP translation from inside:10.0.0.1/1 to outside:2.2.2.2/2",
            H
            + "%ASA-6-302020: Built outbound ICMP connection for faddr 1.1.1.1/0 gaddr 2.2.2.2/1 laddr 10.0.0.1/1",
            H
            + "%ASA-6-302013: Built outbound TCP connection 1 for outside:1.1.1.1/443 to inside:10.0.0.1/5000",
            H + "%ASA-6-302014: Teardown TCP connection 1 for outside:1.1.1.1/443",
            "hello world",
            "",
        ]
    )
    assert events.is_empty()
    assert skipped == 3
    assert rejected["line_no"].to_list() == [2, 3, 4]


def test_sniff_positive_and_negative() -> None:
    lines = [
        built("outbound", "outside:104.18.32.47/443", "inside:10.20.1.15/51234"),
        H
        + "%ASA-6-305011: Built dynamic TCP translation from inside:10.0.0.1/1 to outside:2.2.2.2/2",
    ]
    assert detect_lines(lines * 3).format == "cisco_asa"
    parser = PARSERS.get("cisco_asa")
    assert parser.sniff(["Nov  4 09:00:00 host sshd[1]: Accepted password for x", "hello"]) is None
    assert parser.sniff(['{"a": 1}']) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.7", st.integers(0, 255), st.integers(0, 255))
servers = st.sampled_from(["104.18.32.47", "160.79.104.10", "2606:4700::6812:2020", "192.0.2.1"])
users = st.sampled_from(["", "(LOCAL\\jdoe)", "(CORP\\Zoë Brandt)"])
hosts = st.sampled_from(["chatgpt.com", "claude.ai", "www.example.com"])


@st.composite
def asa_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    client, server = draw(ips), draw(servers)
    cport, sport = draw(st.integers(1024, 65535)), draw(st.sampled_from([80, 443, 853]))
    user = draw(users)
    kind = draw(st.sampled_from(["build", "teardown", "url"]))
    expected: dict[str, object] = {"src_ip": client, "action": "allowed"}
    if kind == "build":
        line = (
            f"{H}%ASA-6-302013: Built outbound TCP connection 9 for outside:{server}/{sport} "
            f"({server}/{sport}) to inside:{client}/{cport} (198.51.100.7/{cport}){user}"
        )
        expected.update(dst_ip=server, dst_port=sport, src_port=cport)
    elif kind == "teardown":
        size = draw(st.integers(0, 10**12))
        line = (
            f"{H}%ASA-6-302014: Teardown TCP connection 9 for outside:{server}/{sport} to "
            f"inside:{client}/{cport}{user} duration 1:02:03 bytes {size} TCP FINs"
        )
        expected.update(dst_ip=server, src_port=cport, cisco_asa_bytes_total=size, bytes_out=None)
    else:
        host = draw(hosts)
        line = f"{H}%ASA-5-304001: {client}{user} Accessed URL 192.0.2.1:https://{host}/p?q=1"
        expected.update(host=host, url=f"https://{host}/p", dst_port=443)
    if user:
        expected["user"] = user.strip("()").removeprefix("LOCAL\\")
    return line, expected


valid = asa_lines().map(lambda t: t[0])
skipped_line = st.just(
    H
    + "%ASA-6-305012: Teardown dynamic TCP translation from a:1.1.1.1/1 to b:2.2.2.2/2 duration 0:00:00"
)
lines_mix = st.one_of(
    valid,
    skipped_line,
    st.tuples(valid, st.integers(0, 300)).map(lambda t: t[0][: t[1]]),
    NOISE,
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("cisco_asa", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("cisco_asa", lines)


@given(asa_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    r = row(line)
    for key, value in expected.items():
        assert r.get(key) == value, key
