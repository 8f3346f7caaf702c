"""GlobalProtect: GLOBALPROTECT records (gateway events with a private address start a
session, logout and config-release end the one of that user and machine) and the older
SYSTEM records, header offsets, ignored users and events, rejections, sniffing, and the
accounting property."""

from __future__ import annotations

from hypothesis import given

from shadowscan.identity.globalprotect import GlobalProtectReader
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
    spans,
    utc,
)

NAME = "globalprotect"
#: A session as the tests compare it: GlobalProtect also names the machine.
SESSION = ("ip", "user", "device", "start", "end")


def gp(
    t: str,
    event: str,
    user: str,
    machine: str,
    private: str,
    *,
    private6: str = "0.0.0.0",
    status: str = "success",
    header: str = "Nov 19 {t} PA-3220 ",
) -> str:
    when = f"2026/11/19 {t}"
    fields = [
        "1", when, "013201001234", "GLOBALPROTECT", "0", "2305", when, "vsys1", event, "connected",
        "", "SSL", user, "US", machine, "203.0.113.7", "0.0.0.0", private, private6,
        "5f1c2d3e", "5CG1234XYZ", "6.2.4", "Microsoft Windows", '"Windows 11 , 64-bit"', "1",
        "", "", '""', status, "", "0", "user-logon", "0", "GP-GW", "1", "0x0",
    ]  # fmt: skip
    return header.format(t=t) + ",".join(fields)


def system(t: str, event: str, description: str) -> str:
    when = f"2026/11/19 {t}"
    return (
        f"Nov 19 {t} PA-3220 1,{when},013201001234,SYSTEM,globalprotect,0,{when},,{event},"
        f'GP-GW-N,0,0,general,informational,"{description}",7400000000000200001,0x0,0,0,0,0,,PA'
    )


def test_logout_ends_the_session_of_that_user_and_machine() -> None:
    lines = [
        gp("08:00:00", "gateway-connected", "corp\\asmith", "LAPTOP-ASMITH", "10.31.0.9"),
        gp("08:01:00", "gateway-connected", "corp\\asmith", "PHONE-ASMITH", "10.31.0.10"),
        gp("08:30:00", "gateway-logout", "corp\\asmith", "PHONE-ASMITH", "10.31.0.10"),
    ]
    assert spans(NAME, lines, columns=SESSION) == [
        (
            "10.31.0.10",
            "corp\\asmith",
            "phone-asmith",
            utc("2026-11-19 08:01"),
            utc("2026-11-19 08:30"),
        ),
        (
            "10.31.0.9",
            "corp\\asmith",
            "laptop-asmith",
            utc("2026-11-19 08:00"),
            utc("2026-11-19 16:00"),
        ),
    ]


def test_gateway_events_confirm_and_config_release_ends() -> None:
    lines = [
        gp("08:00:00", "gateway-getconfig", "jdoe", "LAPTOP-JDOE.corp.example", "10.31.0.5"),
        gp("08:00:01", "gateway-register", "jdoe", "LAPTOP-JDOE", "10.31.0.5", private6="fd00::5"),
        gp("15:00:00", "gateway-hip-check", "jdoe", "LAPTOP-JDOE", "10.31.0.5"),
        gp("17:00:00", "gateway-config-release", "jdoe", "LAPTOP-JDOE", "0.0.0.0"),
    ]
    assert spans(NAME, lines, columns=SESSION) == [
        ("10.31.0.5", "jdoe", "laptop-jdoe", utc("2026-11-19 08:00"), utc("2026-11-19 17:00")),
        ("fd00::5", "jdoe", "laptop-jdoe", utc("2026-11-19 08:00:01"), utc("2026-11-19 16:00:01")),
    ]


def test_system_records_key_on_the_user() -> None:
    lines = [
        system(
            "08:00:05",
            "globalprotectgateway-config-succ",
            "GlobalProtect gateway client configuration generated. User name: corp\\jdoe, "
            "Private IP: 10.31.0.5, Client version: 6.2.4-55, Device name: LAPTOP-JDOE, "
            "Client OS version: Microsoft Windows 11 Enterprise , 64-bit, VPN type: Device Level VPN.",
        ),
        system(
            "09:00:00",
            "globalprotectgateway-logout-succ",
            "GlobalProtect gateway user logout succeeded. User name: corp\\jdoe, Client OS "
            "version: Microsoft Windows 11 Enterprise , 64-bit, Reason: client logout.",
        ),
    ]
    assert spans(NAME, lines, columns=SESSION) == [
        (
            "10.31.0.5",
            "corp\\jdoe",
            "laptop-jdoe",
            utc("2026-11-19 08:00:05"),
            utc("2026-11-19 09:00"),
        ),
    ]


def test_record_times_use_the_header_offset_else_the_timezone() -> None:
    lines = [
        gp(
            "08:00:00",
            "gateway-connected",
            "jdoe",
            "A",
            "10.31.0.5",
            header="2026-11-19T08:00:00+01:00 PA-3220 ",
        ),
        gp("08:00:00", "gateway-connected", "asmith", "B", "10.31.0.6"),
    ]
    assert [
        (ip, start) for ip, _, _, start, _ in spans(NAME, lines, "America/New_York", SESSION)
    ] == [
        ("10.31.0.5", utc("2026-11-19 07:00")),
        ("10.31.0.6", utc("2026-11-19 13:00")),
    ]


def test_failures_pre_tunnel_events_and_pre_logon_are_ignored() -> None:
    lines = [
        gp("08:00:00", "gateway-register", "cwu", "LAPTOP-CWU", "10.31.0.7", status="failure"),
        gp("08:00:00", "gateway-auth", "cwu", "LAPTOP-CWU", "10.31.0.7"),
        gp("08:00:00", "portal-getconfig", "cwu", "LAPTOP-CWU", "10.31.0.7"),
        gp("08:00:00", "gateway-connected", "pre-logon", "LAPTOP-CWU", "10.31.0.7"),
        gp("08:00:00", "gateway-connected", "cwu", "LAPTOP-CWU", "0.0.0.0"),
        system(
            "08:00:00", "globalprotectgateway-regist-succ", "User name: cwu, Login from: 1.2.3.4."
        ),
        "Nov 19 08:00:00 PA-3220 1,2026/11/19 08:00:00,0132,TRAFFIC,end,2561,2026/11/19 08:00:00,x",
    ]
    batch = read(NAME, lines)
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (0, 7, 0)


def test_rejections() -> None:
    lines = [
        gp("08:00:00", "gateway-connected", "jdoe", "A", "10.31.0.500"),
        gp("08:00:00", "gateway-connected", "jdoe", "A", "10.31.0.5").replace(
            "2026/11/19", "2026/11/31"
        ),
    ]
    assert read(NAME, lines).rejected.rows() == [
        (1, "bad address"),
        (2, "bad timestamp"),
    ]


VALID = [
    gp("08:00:00", "gateway-connected", "corp\\jdoe", "LAPTOP-JDOE", "10.31.0.5"),
    gp("09:00:00", "gateway-logout", "corp\\jdoe", "LAPTOP-JDOE", "10.31.0.5"),
    system(
        "08:10:00", "globalprotectgateway-config-succ", "User name: asmith, Private IP: 10.31.0.9."
    ),
    system(
        "08:40:00", "globalprotectgateway-logout-succ", "User name: asmith, Reason: client logout."
    ),
]


@given(any_lines(VALID, max_size=12))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_does_not_claim_other_samples() -> None:
    assert_claims_only_own_samples(GlobalProtectReader, NAME)


def test_claims_a_globalprotect_log() -> None:
    assert GlobalProtectReader.sniff(VALID) >= 0.9
