"""OpenVPN server log: address assignments start a session keyed by ``cn/real-address``,
the disconnect messages end it, the three time formats, learned routes that are not
addresses, rejections, sniffing, and the accounting property."""

from __future__ import annotations

import pytest
from hypothesis import given

from shadowscan.identity.openvpn_log import OpenVpnLogReader
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
    spans,
    utc,
)

NAME = "openvpn_log"
POOL = (
    "2026-11-19 08:00:01 jdoe/203.0.113.7:51234 MULTI_sva: pool returned IPv4=10.8.0.6, IPv6={v6}"
)


@pytest.mark.parametrize(
    "end",
    [
        "SIGTERM[soft,remote-exit] received, client-instance exiting",
        "SIGUSR1[soft,ping-restart] received, client-instance restarting",
        "Connection reset, restarting [0]",
        "Inactivity timeout (--ping-restart), restarting",
    ],
)
def test_each_disconnect_ends_the_session(end: str) -> None:
    lines = [
        POOL.format(v6="(Not enabled)"),
        f"2026-11-19 09:15:42 jdoe/203.0.113.7:51234 {end}",
    ]
    assert spans(NAME, lines) == [
        ("10.8.0.6", "jdoe", utc("2026-11-19 08:00:01"), utc("2026-11-19 09:15:42"))
    ]


def test_a_disconnect_closes_only_its_client_instance() -> None:
    lines = [
        POOL.format(v6="fd00:8::1000"),
        "2026-11-19 08:10:00 jdoe/198.51.100.77:40000 MULTI: Learn: 10.8.0.10 -> jdoe/198.51.100.77:40000",
        "2026-11-19 09:00:00 jdoe/203.0.113.7:51234 SIGTERM[soft,remote-exit] received, client-instance exiting",
    ]
    assert spans(NAME, lines) == [
        ("10.8.0.10", "jdoe", utc("2026-11-19 08:10:00"), utc("2026-11-19 16:10:00")),
        ("10.8.0.6", "jdoe", utc("2026-11-19 08:00:01"), utc("2026-11-19 09:00:00")),
        ("fd00:8::1000", "jdoe", utc("2026-11-19 08:00:01"), utc("2026-11-19 09:00:00")),
    ]


def test_time_formats_are_local() -> None:
    body = "Dana Lee/203.0.113.61:50001 MULTI: primary virtual IP for Dana Lee/203.0.113.61:50001: {ip}"
    lines = [
        "2026-11-19 08:00:00 " + body.format(ip="10.8.0.1"),
        "Thu Nov 19 08:00:00 2026 us=250000 " + body.format(ip="10.8.0.2"),
        "Nov 19 08:00:00 vpn1 openvpn[999]: " + body.format(ip="10.8.0.3"),
        "<29>1 2026-11-19T08:00:00.5-05:00 vpn1 openvpn 45184 - - " + body.format(ip="10.8.0.4"),
        "2026-11-19T08:00:00+00:00 vpn1 ovpn-server[23975]: " + body.format(ip="10.8.0.5"),
    ]
    got = [(ip, user, start) for ip, user, start, _ in spans(NAME, lines, timezone="Europe/Berlin")]
    assert got == [
        ("10.8.0.1", "Dana Lee", utc("2026-11-19 07:00:00")),
        ("10.8.0.2", "Dana Lee", utc("2026-11-19 07:00:00.25")),
        ("10.8.0.3", "Dana Lee", utc("2026-11-19 07:00:00")),
        ("10.8.0.4", "Dana Lee", utc("2026-11-19 13:00:00.5")),
        ("10.8.0.5", "Dana Lee", utc("2026-11-19 08:00:00")),
    ]


def test_routes_that_are_not_client_addresses_are_ignored() -> None:
    lines = [
        "2026-11-19 08:00:00 gw/192.0.2.44:40000 MULTI: Learn: 10.9.0.0/24 -> gw/192.0.2.44:40000",
        "2026-11-19 08:00:00 tap/192.0.2.33:41000 MULTI: Learn: 00:1a:2b:3c:4d:5e -> tap/192.0.2.33:41000",
        "2026-11-19 08:00:00 MULTI_sva: pool returned IPv4=10.8.0.6, IPv6=(Not enabled)",
        "2026-11-19 08:00:00 UNDEF/192.0.2.1:1 MULTI_sva: pool returned IPv4=10.8.0.7, IPv6=(Not enabled)",
        "2026-11-19 08:00:00 203.0.113.7:51234 [jdoe] Peer Connection Initiated with [AF_INET]203.0.113.7:51234",
    ]
    batch = read(NAME, lines)
    assert (batch.parsed, batch.ignored, batch.rejected.height, batch.frame.height) == (0, 5, 0, 0)


def test_rejections() -> None:
    lines = [
        "2026-11-19 08:00:00 cwu/203.0.113.60:50000 MULTI_sva: pool returned IPv4=10.8.0.300, IPv6=(Not enabled)",
        "2026-11-19 08:00:00 cwu/203.0.113.60:50000 MULTI: Learn: 10.8.0.10x -> cwu/203.0.113.60:50000",
        "2026-11-19 29:00:00 cwu/203.0.113.60:50000 MULTI_sva: pool returned IPv4=10.8.0.3, IPv6=(Not enabled)",
    ]
    assert read(NAME, lines).rejected.rows() == [
        (1, "bad address"),
        (2, "bad address"),
        (3, "bad timestamp"),
    ]


VALID = [
    POOL.format(v6="(Not enabled)"),
    POOL.format(v6="fd00:8::1000"),
    "2026-11-19 08:00:01 jdoe/203.0.113.7:51234 MULTI: Learn: 10.8.0.6 -> jdoe/203.0.113.7:51234",
    "Thu Nov 19 08:00:01 2026 us=5 asmith/198.51.100.4:1194 MULTI_sva: pool returned IPv4=10.8.0.10, IPv6=(Not enabled)",
    "Nov 19 09:00:00 vpn1 openvpn[9]: jdoe/203.0.113.7:51234 SIGTERM[soft,remote-exit] received, client-instance exiting",
]


@given(any_lines(VALID, max_size=12))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_does_not_claim_other_samples() -> None:
    assert_claims_only_own_samples(OpenVpnLogReader, NAME)


def test_claims_a_server_log() -> None:
    assert OpenVpnLogReader.sniff(VALID) >= 0.9
