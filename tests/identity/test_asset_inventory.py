"""asset_inventory: header aliases, host name and MAC normalisation, several MACs per
device, two owners of one device, rejections, semicolon CSV, sniffing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity.base import ASSET_SCHEMA
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
)

NAME = "asset_inventory"


def assets(lines: list[str]) -> list[tuple[object, ...]]:
    return read(NAME, lines).frame.select("device", "mac", "user", "line_no").rows()


def test_device_and_mac_are_normalised_and_user_kept() -> None:
    lines = [
        "Hostname,MAC Address,Owner",
        "LT-0142.corp.example,00-1A-2B-3C-4D-01,CORP\\jdoe",
        "lt-0143,001a.2b3c.4d02,asmith@corp.example",
        ",001A2B3C4D03,bwong",
        "LT-0150,,cdiaz",
    ]
    assert assets(lines) == [
        ("lt-0142", "00:1a:2b:3c:4d:01", "CORP\\jdoe", 2),
        ("lt-0143", "00:1a:2b:3c:4d:02", "asmith@corp.example", 3),
        (None, "00:1a:2b:3c:4d:03", "bwong", 4),
        ("lt-0150", None, "cdiaz", 5),
    ]


def test_a_device_with_two_owners_keeps_both_rows() -> None:
    lines = ["device,mac,user", "LT-0160,00:1a:2b:3c:4d:05,jdoe", "LT-0160,00:1a:2b:3c:4d:05,bwong"]
    assert [user for *_, user, _ in assets(lines)] == ["jdoe", "bwong"]


def test_every_valid_mac_of_a_row_is_an_asset() -> None:
    lines = [
        "Device name;Wi-Fi MAC;Ethernet MAC;Primary user UPN;Primary user display name",
        "LT-0142;001A2B3C4D01;001A2B3C4E01;jdoe@corp.example;Doe, John",
        "MB-0007;001A2B3C4D10;001A2B3C4D10;bwong@corp.example;Wong, Bernard",
        'LT-0143;not set;001A2B3C4E02;asmith@corp.example;"Smith; Alice"',
    ]
    assert assets(lines) == [
        ("lt-0142", "00:1a:2b:3c:4e:01", "jdoe@corp.example", 2),
        ("lt-0142", "00:1a:2b:3c:4d:01", "jdoe@corp.example", 2),
        ("mb-0007", "00:1a:2b:3c:4d:10", "bwong@corp.example", 3),
        ("lt-0143", "00:1a:2b:3c:4e:02", "asmith@corp.example", 4),
    ]


def test_first_non_blank_user_column_wins() -> None:
    lines = ["computername,username,email", "WS1,-,jdoe@corp.example", "WS2,asmith,a@corp.example"]
    assert [user for *_, user, _ in assets(lines)] == ["jdoe@corp.example", "asmith"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("LT-0170,00:1a:2b:3c:4d:06,", "missing user"),
        ("LT-0170,00:1a:2b:3c:4d:06,-", "missing user"),
        (",,jdoe", "missing device and MAC"),
        ("-,-,jdoe", "missing device and MAC"),
        (",00:1a:2b:3c:4d,jdoe", "bad MAC address"),
        ("LT-0171,00:1a:2b:3c:4d:07,jdoe,3rd floor", "more fields than the header"),
        ('LT-0172,"00:1a:2b:3c:4d:08,jdoe', "unterminated quote"),
    ],
)
def test_rejections(row: str, reason: str) -> None:
    batch = read(NAME, ["hostname,mac,owner", row])
    assert batch.rejected.rows() == [(2, reason)]
    assert batch.frame.is_empty()


def test_bad_mac_with_a_device_keeps_the_device() -> None:
    assert assets(["hostname,mac,owner", "LT-0151,not recorded,cdiaz"]) == [
        ("lt-0151", None, "cdiaz", 2)
    ]


def test_frame_schema() -> None:
    frame = read(NAME, ["hostname,owner", "WS1,jdoe"]).frame
    assert dict(frame.schema) == ASSET_SCHEMA
    assert frame["source"].to_list() == [NAME]


@pytest.mark.parametrize(
    ("header", "score"),
    [
        ("hostname,mac_address,owner,location", 0.9),
        ("Device name;Wi-Fi MAC;Primary user UPN", 0.9),
        ("mac,email", 0.9),
        ("ip,user,start,end,hostname", 0.3),
        ("Date,Time,Host Name,User Name", 0.3),
        ("ID,Date,Time,Description,IP Address,Host Name,MAC Address,User Name", 0.3),
        ("user,email,display_name,department", 0.0),
        ("TimeCreated,Id,TargetUserName,IpAddress", 0.0),
    ],
)
def test_sniff_headers(header: str, score: float) -> None:
    assert IDENTITY_READERS.get(NAME).sniff([header]) == score


VALID = [
    "LT-0142,00:1a:2b:3c:4d:01,jdoe",
    ",00:1a:2b:3c:4d:02,asmith",
    'WS-1,"00:1a:2b:3c:4d:03",bwong',
    "# comment",
]


@given(any_lines(VALID, max_size=25, line_breaks=False), st.booleans())
def test_every_line_is_accounted_for(lines: list[str], header: bool) -> None:
    check_accounting(NAME, ["hostname,mac,owner", *lines] if header else lines)


def test_sniff_claims_its_samples_and_nothing_else() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)
