"""OpenVPN status files: versions 1-3, column layouts read from the HEADER line, the
routing table as the v1 address source, Last Ref extending the end, several snapshots in
one file, rejections, sniffing, and the accounting property."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shadowscan.identity.openvpn_status import OpenVpnStatusReader
from tests.identity.helpers import (
    assert_claims_only_own_samples,
    check_accounting,
    read,
    spans,
    utc,
)

NAME = "openvpn_status"
V1 = [
    "OpenVPN CLIENT LIST",
    "Updated,Thu Nov 19 09:00:00 2026",
    "Common Name,Real Address,Bytes Received,Bytes Sent,Connected Since",
    "jdoe,203.0.113.7:51234,100,200,Thu Nov 19 08:00:00 2026",
    "asmith,198.51.100.4:1194,100,200,Thu Nov 19 08:30:00 2026",
    "ROUTING TABLE",
    "Virtual Address,Common Name,Real Address,Last Ref",
    "10.8.0.6,jdoe,203.0.113.7:51234,Thu Nov 19 09:00:40 2026",
    "10.8.0.10,asmith,198.51.100.4:1194,Thu Nov 19 08:59:00 2026",
    "GLOBAL STATS",
    "Max bcast/mcast queue length,0",
    "END",
]
HEADER = (
    "HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Virtual IPv6 Address,"
    "Bytes Received,Bytes Sent,Connected Since,Connected Since (time_t),Username,Client ID,"
    "Peer ID,Data Channel Cipher"
)
V2 = [
    "TITLE,OpenVPN 2.6.12 x86_64-pc-linux-gnu",
    "TIME,2026-11-19 09:00:00,1795078800",
    HEADER,
    "CLIENT_LIST,laptop-7,203.0.113.7:51234,10.8.0.6,fd00:8::1000,1,2,2026-11-19 08:00:00,"
    "1795075200,jdoe,3,0,AES-256-GCM",
    "HEADER,ROUTING_TABLE,Virtual Address,Common Name,Real Address,Last Ref,Last Ref (time_t)",
    "ROUTING_TABLE,10.8.0.6,laptop-7,203.0.113.7:51234,2026-11-19 08:59:59,1795078799",
    "GLOBAL_STATS,Max bcast/mcast queue length,0",
    "END",
]


def test_version_1_addresses_come_from_the_routing_table() -> None:
    assert spans(NAME, V1, timezone="Europe/Berlin") == [
        ("10.8.0.10", "asmith", utc("2026-11-19 07:30:00"), utc("2026-11-19 08:00:00")),
        ("10.8.0.6", "jdoe", utc("2026-11-19 07:00:00"), utc("2026-11-19 08:00:40")),
    ]
    batch = read(NAME, V1)
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (4, 8, 0)


def test_version_2_and_3_prefer_epochs_and_the_username() -> None:
    # The text times say 08:00/09:00 local; the epochs (UTC) win.
    expected = [
        ("10.8.0.6", "jdoe", utc("2026-11-19 08:00:00"), utc("2026-11-19 09:00:00")),
        ("fd00:8::1000", "jdoe", utc("2026-11-19 08:00:00"), utc("2026-11-19 09:00:00")),
    ]
    assert spans(NAME, V2, timezone="America/New_York") == expected
    assert (
        spans(NAME, [line.replace(",", "\t") for line in V2], timezone="America/New_York")
        == expected
    )


def test_older_version_2_layout_is_read_from_its_header() -> None:
    lines = [
        "TIME,Thu Nov 19 09:00:00 2026,1795078800",
        "HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Bytes Received,"
        "Bytes Sent,Connected Since,Connected Since (time_t),Username",
        "CLIENT_LIST,jdoe,203.0.113.7:51234,10.8.0.6,1,2,Thu Nov 19 08:00:00 2026,1795075200,UNDEF",
    ]
    assert spans(NAME, lines) == [
        ("10.8.0.6", "jdoe", utc("2026-11-19 08:00:00"), utc("2026-11-19 09:00:00"))
    ]


def test_snapshots_of_one_session_give_one_binding() -> None:
    later = [
        line.replace("TIME,2026-11-19 09:00:00,1795078800", "TIME,2026-11-19 09:05:00,1795079100")
        for line in V2
    ]
    assert spans(NAME, V2 + later)[0] == (
        "10.8.0.6",
        "jdoe",
        utc("2026-11-19 08:00:00"),
        utc("2026-11-19 09:05:00"),
    )


def test_rejections_and_ignored_rows() -> None:
    lines = [
        *V1[:4],
        "UNDEF,198.51.100.50:50964,0,0,Thu Nov 19 08:59:58 2026",
        "bwong,192.0.2.80:1194,1,2,Thu Nov 19 09:30:00 2026",
        "cwu,192.0.2.81:1194,1,2,Thu Nov 19 8:61:00 2026",
        "dlee,192.0.2.82:1194",
        "ROUTING TABLE",
        "10.8.0.6,jdoe,203.0.113.7:51234,Thu Nov 19 08:59:00 2026",
        "10.9.0.0/24,jdoe,203.0.113.7:51234,Thu Nov 19 08:59:00 2026",
        "192.168.1.9C,jdoe,203.0.113.7:51234,Thu Nov 19 08:59:00 2026",
        "10.8.0.300,jdoe,203.0.113.7:51234,Thu Nov 19 08:59:00 2026",
        "10.8.0.22,ghost,192.0.2.99:1194,Thu Nov 19 08:59:00 2026",
        "END",
        "junk",
    ]
    batch = read(NAME, lines)
    assert batch.rejected.rows() == [
        (6, "connected after snapshot"),
        (7, "bad timestamp"),
        (8, "missing fields"),
        (13, "bad address"),
        (14, "route without client"),
        (16, "unrecognised line"),
    ]
    assert (batch.parsed, batch.frame["ip"].to_list()) == (2, ["10.8.0.6"])


def test_rows_before_any_snapshot_time_are_rejected() -> None:
    lines = [V2[3], *V2[:3]]
    assert read(NAME, lines).rejected.rows() == [(1, "no snapshot time")]


@st.composite
def mutated(draw: st.DrawFn) -> list[str]:
    lines = list(draw(st.sampled_from([V1, V2, [ln.replace(",", "\t") for ln in V2]])))
    for _ in range(draw(st.integers(0, 3))):
        k = draw(st.integers(0, len(lines) - 1))
        i = draw(st.integers(0, len(lines[k])))
        j = draw(st.integers(i, min(len(lines[k]), i + 10)))
        lines[k] = (
            lines[k][:i] + draw(st.text(alphabet=",\t:/C0123456789 x", max_size=5)) + lines[k][j:]
        )
    return lines + draw(st.lists(st.text(max_size=80), max_size=3))


@given(mutated())
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_does_not_claim_other_samples() -> None:
    assert_claims_only_own_samples(OpenVpnStatusReader, NAME)


def test_claims_each_version() -> None:
    assert min(OpenVpnStatusReader.sniff(V1), OpenVpnStatusReader.sniff(V2)) >= 0.9
