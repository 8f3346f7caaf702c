"""Cisco ASA VPN sessions: 722051 starts, the four disconnect messages end only the session
of the same user and public address, header variants, IPv6 assignments, rejections,
sniffing, and the accounting property."""

from __future__ import annotations

import pytest
from hypothesis import given

from shadowscan.identity.asa_vpn import AsaVpnReader
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
    spans,
    utc,
)

NAME = "asa_vpn"
H = "Nov 19 2026 {t} vpn-asa : "


def start(t: str, user: str, pub: str, ip: str, v6: str = "::", sev: int = 4) -> str:
    return (
        H.format(t=t) + f"%ASA-{sev}-722051: Group <GP-Staff> User <{user}> IP <{pub}> "
        f"IPv4 Address <{ip}> IPv6 address <{v6}> assigned to session"
    )


def disconnected(t: str, user: str, pub: str) -> str:
    return (
        H.format(t=t) + f"%ASA-4-113019: Group = GP-Staff, Username = {user}, IP = {pub}, "
        "Session disconnected. Session Type: SSL, Duration: 0h:10m:00s, Bytes xmt: 1, "
        "Bytes rcv: 2, Reason: User Requested"
    )


@pytest.mark.parametrize(
    "end",
    [
        "%ASA-4-113019: Group = GP-Staff, Username = jdoe, IP = 203.0.113.7, Session "
        "disconnected. Session Type: SSL, Duration: 1h:02m:03s, Bytes xmt: 1, Bytes rcv: 2, "
        "Reason: User Requested",
        "%ASA-5-722037: Group <GP-Staff> User <jdoe> IP <203.0.113.7> SVC closing "
        "connection: DPD failure.",
        "%ASA-6-722023: Group <GP-Staff> User <jdoe> IP <203.0.113.7> UDP SVC connection "
        "terminated without compression",
        "%ASA-6-716002: Group <GP-Staff> User <jdoe> IP <203.0.113.7> WebVPN session "
        "terminated: User Requested.",
    ],
)
def test_each_disconnect_message_ends_the_session(end: str) -> None:
    lines = [start("08:00:01", "jdoe", "203.0.113.7", "10.10.0.23"), H.format(t="09:02:04") + end]
    assert spans(NAME, lines) == [
        ("10.10.0.23", "jdoe", utc("2026-11-19 08:00:01"), utc("2026-11-19 09:02:04"))
    ]
    assert read(NAME, lines).parsed == 2


def test_an_end_closes_only_its_user_and_public_address() -> None:
    lines = [
        start("08:00:00", "bwong", "198.51.100.20", "10.10.0.31"),
        start("08:01:00", "cwu", "198.51.100.20", "10.10.0.32"),
        start("08:02:00", "bwong", "203.0.113.9", "10.10.0.33"),
        disconnected("08:30:00", "cwu", "198.51.100.20"),
        disconnected("08:40:00", "bwong", "203.0.113.9"),
    ]
    assert spans(NAME, lines) == [
        ("10.10.0.31", "bwong", utc("2026-11-19 08:00:00"), utc("2026-11-19 16:00:00")),
        ("10.10.0.32", "cwu", utc("2026-11-19 08:01:00"), utc("2026-11-19 08:30:00")),
        ("10.10.0.33", "bwong", utc("2026-11-19 08:02:00"), utc("2026-11-19 08:40:00")),
    ]


def test_ipv6_assignment_and_older_address_form() -> None:
    lines = [
        start("08:00:00", "asmith", "198.51.100.9", "10.10.0.24", v6="2001:DB8:10::24", sev=6),
        H.format(t="08:05:00") + "%ASA-6-722051: Group <GP> User <CORP\\dlee> IP <192.0.2.5> "
        "Address <10.10.0.25> assigned to session",
        disconnected("09:00:00", "asmith", "198.51.100.9"),
    ]
    assert spans(NAME, lines) == [
        ("10.10.0.24", "asmith", utc("2026-11-19 08:00:00"), utc("2026-11-19 09:00:00")),
        ("10.10.0.25", "CORP\\dlee", utc("2026-11-19 08:05:00"), utc("2026-11-19 16:05:00")),
        ("2001:db8:10::24", "asmith", utc("2026-11-19 08:00:00"), utc("2026-11-19 09:00:00")),
    ]


def test_overlapping_sessions_on_one_address_stay_as_a_conflict() -> None:
    lines = [
        start("08:00:00", "jdoe", "203.0.113.7", "10.10.0.23"),
        start("08:30:00", "asmith", "198.51.100.9", "10.10.0.23"),
    ]
    assert [(ip, user) for ip, user, _, _ in spans(NAME, lines)] == [
        ("10.10.0.23", "jdoe"),
        ("10.10.0.23", "asmith"),
    ]


def test_header_variants_and_local_time() -> None:
    tail = start("08:00:00", "jdoe", "203.0.113.7", "10.10.0.23").split(" : ", 1)[1]
    lines = [
        "<166>Nov 19 07:00:00 relay1 Nov 19 2026 07:00:00 vpn-asa : " + tail,
        "2026-11-19T07:10:00Z vpn-asa : " + tail.replace("10.10.0.23", "10.10.0.24"),
        "Nov 19 07:20:00 vpn-asa : " + tail.replace("10.10.0.23", "10.10.0.25"),
        "Nov 19 2026 07:30:00 EST vpn-asa : " + tail.replace("10.10.0.23", "10.10.0.26"),
    ]
    starts = [(ip, s) for ip, _, s, _ in spans(NAME, lines, timezone="Europe/Berlin")]
    assert starts == [
        ("10.10.0.23", utc("2026-11-19 06:00:00")),
        ("10.10.0.24", utc("2026-11-19 07:10:00")),
        ("10.10.0.25", utc("2026-11-19 06:20:00")),
        ("10.10.0.26", utc("2026-11-19 12:30:00")),
    ]


def test_rejections_and_ignored_lines() -> None:
    lines = [
        start("08:00:00", "jdoe", "203.0.113.7", "10.10.0.300"),
        H.format(t="08:00:00") + "%ASA-4-722051: Group <GP> User <jdoe> IP <203.0.113.7> assigned",
        start("08:00:00", "jdoe", "203.0.113.7", "10.10.0.23").replace("Nov 19", "Nov 31"),
        H.format(t="08:00:00") + "%ASA-6-302013: Built outbound TCP connection 1 for x",
        start("08:00:00", "-", "203.0.113.7", "10.10.0.23"),
        "not an ASA line",
        "",
    ]
    batch = read(NAME, lines)
    assert batch.rejected.rows() == [
        (1, "bad address"),
        (2, "malformed message"),
        (3, "bad timestamp"),
    ]
    assert (batch.parsed, batch.ignored, batch.frame.height) == (0, 4, 0)


VALID = [
    start("08:00:01", "jdoe", "203.0.113.7", "10.10.0.23"),
    start("08:10:00", "asmith", "198.51.100.9", "10.10.0.24", v6="2001:db8::24"),
    disconnected("09:00:00", "jdoe", "203.0.113.7"),
    H.format(t="09:00:00") + "%ASA-5-722037: Group <G> User <asmith> IP <198.51.100.9> SVC "
    "closing connection: DPD failure.",
]


@given(any_lines(VALID, max_size=12))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_does_not_claim_other_samples() -> None:
    assert_claims_only_own_samples(AsaVpnReader, NAME)


def test_claims_a_vpn_log() -> None:
    assert AsaVpnReader.sniff(VALID) >= 0.9
