"""FortiGate VPN events: SSL-VPN and dial-up IPsec tunnels, tunnel ids pairing up and down,
statistics extending a session, which user field counts, times, tunnels without an
address, rejections, sniffing, and the accounting property."""

from __future__ import annotations

from hypothesis import given

from shadowscan.identity.fortigate_vpn import FortigateVpnReader
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
    spans,
    utc,
)

NAME = "fortigate_vpn"
HEAD = 'date=2026-11-19 time={t} devname="FGT-HQ" tz="+0100" type="event" subtype="vpn" vd="root" '


def ssl(t: str, action: str, tid: int, user: str, ip: str, extra: str = "") -> str:
    return HEAD.format(t=t) + (
        f'action="{action}" tunneltype="ssl-tunnel" tunnelid={tid} remip=203.0.113.7 '
        f'tunnelip={ip} user="{user}" group="VPN"{extra}'
    )


def ipsec(t: str, action: str, tid: int, xauth: str, ip: str) -> str:
    return HEAD.format(t=t) + (
        f'action="{action}" remip=198.51.100.20 user="198.51.100.20" xauthuser="{xauth}" '
        f'assignip={ip} vpntunnel="dialup_0" tunnelip=N/A tunnelid={tid} tunneltype="ipsec"'
    )


def test_tunnel_down_ends_the_tunnel_with_its_id() -> None:
    lines = [
        ssl("09:00:00", "tunnel-up", 11, "jdoe", "10.212.134.200"),
        ssl("09:05:00", "tunnel-up", 12, "asmith", "10.212.134.201"),
        ssl("10:00:00", "tunnel-down", 11, "jdoe", "10.212.134.200"),
    ]
    assert spans(NAME, lines) == [
        ("10.212.134.200", "jdoe", utc("2026-11-19 08:00:00"), utc("2026-11-19 09:00:00")),
        ("10.212.134.201", "asmith", utc("2026-11-19 08:05:00"), utc("2026-11-19 16:05:00")),
    ]


def test_ipsec_dialup_uses_xauthuser_and_assignip_and_stats_extend() -> None:
    lines = [
        ipsec("09:30:00", "tunnel-up", 77, "bwong", "10.10.60.5"),
        ipsec("15:30:00", "tunnel-stats", 77, "bwong", "10.10.60.5"),
        ipsec("09:31:00", "tunnel-up", 78, "N/A", "10.10.60.6"),
    ]
    assert spans(NAME, lines) == [
        ("10.10.60.5", "bwong", utc("2026-11-19 08:30:00"), utc("2026-11-19 22:30:00")),
    ]


def test_eventtime_wins_over_date_and_time() -> None:
    line = ssl("09:00:00", "tunnel-up", 11, "CORP\\\\dlee", "10.212.134.200").replace(
        "tz=", "eventtime=1795075201500000000 tz="
    )
    assert spans(NAME, [line])[0][1:3] == ("CORP\\dlee", utc("2026-11-19 08:00:01.5"))


def test_tunnels_without_an_address_and_other_logs_are_ignored() -> None:
    lines = [
        HEAD.format(t="09:00:00") + 'action="tunnel-up" tunneltype="ssl-web" tunnelid=5 '
        'remip=203.0.113.7 user="jdoe"',
        ipsec("09:00:00", "tunnel-up", 6, "N/A", "N/A"),
        HEAD.format(t="09:00:00") + 'action="ssl-login-fail" tunneltype="ssl-web" user="x"',
        HEAD.format(t="09:00:00").replace('"event" subtype="vpn"', '"traffic" subtype="forward"')
        + 'srcip=10.212.134.200 dstip=1.1.1.1 action="close"',
        "not a FortiOS line",
    ]
    batch = read(NAME, lines)
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (0, 5, 0)


def test_rejections() -> None:
    lines = [
        ssl("09:00:00", "tunnel-up", 11, "jdoe", "10.212.134.999"),
        ssl("09:00:00", "tunnel-up", 12, "jdoe", "10.212.134.9").replace("11-19", "11-31"),
    ]
    assert read(NAME, lines).rejected.rows() == [
        (1, "bad address"),
        (2, "bad timestamp"),
    ]


VALID = [
    ssl("09:00:00", "tunnel-up", 11, "jdoe", "10.212.134.200"),
    ssl("10:00:00", "tunnel-down", 11, "jdoe", "10.212.134.200"),
    ipsec("09:30:00", "tunnel-up", 77, "bwong", "10.10.60.5"),
    ipsec("09:40:00", "tunnel-stats", 77, "bwong", "10.10.60.5"),
]


@given(any_lines(VALID, max_size=12))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_does_not_claim_other_samples() -> None:
    assert_claims_only_own_samples(FortigateVpnReader, NAME)


def test_claims_a_vpn_event_log() -> None:
    assert FortigateVpnReader.sniff(VALID) >= 0.9
