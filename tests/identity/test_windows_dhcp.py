"""Windows DHCP Server audit log: IDs 10/11 start, 12/16/17/18 end, legend and other IDs
are ignored; times are local."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity.load import load_identity
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
    sample_lines,
)

NAME = "windows_dhcp"
SAMPLE = sample_lines(NAME, "DhcpSrvLog-Thu.log")
UTC = dt.UTC
HEADER = (
    "ID,Date,Time,Description,IP Address,Host Name,MAC Address,User Name, TransactionID, "
    "QResult,Probationtime, CorrelationID,Dhcid,VendorClass(Hex),VendorClass(ASCII),"
    "UserClass(Hex),UserClass(ASCII),RelayAgentInformation,DnsRegError."
)
LEGEND = [
    "\t\tMicrosoft DHCP Service Activity Log",
    "",
    "Event ID  Meaning",
    "00\tThe log was started.",
    "10\tA new IP address was leased to a client.",
    "50+\tCodes above 50 are used for Rogue Server Detection information.",
    HEADER,
]


def test_local_times_renewal_and_an_expiry_naming_no_client() -> None:
    rows = [
        "00,11/19/26,00:00:00,Started,,,,,0,6,,,,,,,,,0",
        "10,11/19/26,08:00:01,Assign,10.0.0.5,LAPTOP-JDOE.corp.example,001A2B3C4D5E,,1,0,,,,,,,,,0",
        "11,11/19/26,12:00:03,Renew,10.0.0.5,LAPTOP-JDOE.corp.example,001A2B3C4D5E,,2,0,,,,,,,,,0",
        "30,11/19/26,12:00:03,DNS Update Request,10.0.0.5,LAPTOP-JDOE.corp.example,,,0,6,,,,,,,,,0",
        "18,11/19/26,20:30:00,Expired,10.0.0.5,,,,0,6,,,,,,,,,0",
    ]
    batch = read(NAME, [*LEGEND, *rows], timezone="America/New_York")
    got = list(batch.frame.select("ip", "start", "end", "mac", "device").iter_rows())
    assert got == [
        (
            "10.0.0.5",
            dt.datetime(2026, 11, 19, 13, 0, 1, tzinfo=UTC),
            dt.datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
            "00:1a:2b:3c:4d:5e",
            "laptop-jdoe",
        )
    ]
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (3, len(LEGEND) + 2, 0)


def test_release_then_another_client() -> None:
    rows = [
        "10,11/19/26,08:15:20,Assign,10.0.0.6,ASMITH-PC,001A2B998877,,1,0,,,,,,,,,0",
        "12,11/19/26,17:45:10,Release,10.0.0.6,ASMITH-PC,001A2B998877,,2,0,,,,,,,,,0",
        "10,11/19/2026,18:02:00,Assign,10.0.0.6,BWONG-LT,00-1A-2B-44-55-66,,3,0,,,,,,,,,0",
    ]
    batch = read(NAME, [HEADER, *rows])
    got = list(batch.frame.select("start", "end", "mac").iter_rows())
    assert got == [
        (
            dt.datetime(2026, 11, 19, 8, 15, 20, tzinfo=UTC),
            dt.datetime(2026, 11, 19, 17, 45, 10, tzinfo=UTC),
            "00:1a:2b:99:88:77",
        ),
        (
            dt.datetime(2026, 11, 19, 18, 2, tzinfo=UTC),
            dt.datetime(2026, 11, 20, 6, 2, tzinfo=UTC),
            "00:1a:2b:44:55:66",
        ),
    ]


def test_a_second_legend_in_concatenated_logs_is_ignored_but_junk_is_not() -> None:
    rows = [
        "10,11/19/26,08:00:01,Assign,10.0.0.5,LAPTOP-JDOE,001A2B3C4D5E,,1,0,,,,,,,,,0",
        "-- log truncated by copy --",
        *LEGEND,
        "10,11/20/26,08:00:01,Assign,10.0.0.9,LAPTOP-JDOE,001A2B3C4D5E,,1,0,,,,,,,,,0",
        "10,11/31/26,08:00:01,Assign,10.0.0.9,KIOSK-1,001A2B3C4D5F,,1,0,,,,,,,,,0",
        "10,11/20/26,08:00:02,Assign,,KIOSK-2,001A2B3C4D60,,1,0,,,,,,,,,0",
        "10,11/20/26,08:00:03,Assign,10.0.0.300,KIOSK-3,001A2B3C4D61,,1,0,,,,,,,,,0",
        "11,11/20/26,08:00:04,Renew,10.0.0.12,,,,1,0,,,,,,,,,0",
        "11,11/20/26,08:00:05,Renew,10.0.0.13,,01005056A1B2C3,,1,0,,,,,,,,,0",
        "garbage after the rows",
    ]
    batch = read(NAME, [*LEGEND, *rows])
    assert batch.frame["ip"].to_list() == ["10.0.0.5", "10.0.0.9"]
    rejected = dict(zip(batch.rejected["line_no"], batch.rejected["reason"], strict=True))
    first_row = len(LEGEND) + 1
    assert rejected == {
        first_row + 1: "not a row",
        first_row + 2 + len(LEGEND) + 1: "bad timestamp",
        first_row + 2 + len(LEGEND) + 2: "missing address",
        first_row + 2 + len(LEGEND) + 3: "bad address",
        first_row + 2 + len(LEGEND) + 4: "missing client",
        first_row + 2 + len(LEGEND) + 5: "missing client",
        first_row + 2 + len(LEGEND) + 6: "not a row",
    }


def test_utf16_file_reads_through_load(tmp_path: Path) -> None:
    text = "\r\n".join([*LEGEND, "10,11/19/26,08:00:01,Assign,10.0.0.5,PC-1,001A2B3C4D5E,,1,0"])
    path = tmp_path / "DhcpSrvLog-Thu.log"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    data = load_identity([str(path)], timezone="Europe/Berlin")
    assert data.files[0].type == NAME
    assert data.bindings["start"].to_list() == [dt.datetime(2026, 11, 19, 7, 0, 1, tzinfo=UTC)]


@given(any_lines(SAMPLE, max_size=50))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_sniff_claims_only_audit_logs() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)
