"""windows_logon_csv: Splunk multi-valued cells over several lines, PowerShell exports
(``#TYPE`` line, locale dates, ``Message`` only), header aliases and delimiters, line
accounting of records that span lines, sniffing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.identity import IDENTITY_READERS
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
)

NAME = "windows_logon_csv"
UTC = dt.UTC
SPLUNK_HEADER = "_time,EventCode,Account_Name,Account_Domain,Source_Network_Address,Client_Address,Logon_Type,Failure_Code"


def at(hour: int, minute: int = 0, second: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def test_multivalued_cell_spans_lines_and_every_line_counts() -> None:
    lines = [
        SPLUNK_HEADER,
        '2026-11-02T08:00:00.000+0000,4624,"FS01$',
        'jdoe","CORP',
        'CORP",10.0.0.5,,3,',
        "2026-11-02T08:05:00.000+0000,4769,asmith@CORP.EXAMPLE,CORP.EXAMPLE,,::ffff:10.0.0.21,,0x0",
    ]
    batch = read(NAME, lines)
    assert batch.frame.select("ip", "user", "start", "line_no").rows() == [
        ("10.0.0.21", "asmith@CORP.EXAMPLE", at(8, 5), 5),
        ("10.0.0.5", "CORP\\jdoe", at(8), 2),
    ]
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (4, 1, 0)


def test_a_rejected_record_rejects_all_its_lines() -> None:
    lines = [
        SPLUNK_HEADER,
        'Nov 2 08:00:00,4624,"-',
        "jdoe",
        '",CORP,10.0.0.5,,3,',
        "2026-11-02T08:00:00Z,4624,jdoe,CORP,10.0.0.5,,3,,An account, was logged on",
        "2026-11-02T08:00:00Z,4624,jdoe,CORP,10.0.0.5,,3,,,",
    ]
    batch = read(NAME, lines)
    assert batch.rejected.rows() == [
        (2, "bad timestamp"),
        (3, "bad timestamp"),
        (4, "bad timestamp"),
        (5, "more fields than the header"),
    ]
    assert (batch.parsed, batch.ignored) == (1, 1)


def test_powershell_select_object_export_with_type_line_and_us_dates() -> None:
    lines = [
        "#TYPE Selected.System.Diagnostics.Eventing.Reader.EventLogRecord",
        '"TimeCreated","Id","TargetUserName","TargetDomainName","LogonType","IpAddress"',
        '"11/2/2026 8:02:51 AM","4624","jdoe","CORP","3","10.0.1.15"',
        '"11/2/2026 1:15:47 PM","4624","jdoe","CORP","3","::ffff:10.0.1.15"',
        '"11/2/2026 2:00:00 PM","4624","svc-report","CORP","4","-"',
    ]
    batch = read(NAME, lines, timezone="America/New_York")
    assert batch.frame.select("ip", "user", "start", "end").rows() == [
        ("10.0.1.15", "CORP\\jdoe", at(13, 2, 51), at(2, 15, 47, day=3)),
    ]
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (2, 3, 0)


def test_day_first_dates_when_a_date_only_reads_that_way() -> None:
    lines = [
        "TimeCreated;Id;TargetUserName;IpAddress",
        "02/11/2026 09:00:00;4624;jdoe;10.0.0.5",
        "13/11/2026 09:00:00;4624;asmith;10.0.0.6",
    ]
    assert read(NAME, lines).frame["start"].to_list() == [at(9), at(9, day=13)]


def test_message_only_export_reads_the_rendered_text() -> None:
    message = [
        '"An account was successfully logged on.',
        "",
        "Subject:",
        "\tAccount Name:\t\tFS01$",
        "\tAccount Domain:\t\tCORP",
        "Logon Information:",
        "\tLogon Type:\t\t3",
        "New Logon:",
        "\tAccount Name:\t\tjdoe",
        "\tAccount Domain:\t\tCORP",
        "\tNetwork Account Name:\t-",
        "Network Information:",
        "\tSource Network Address:\t10.0.0.5",
        '\tSource Port:\t\t50412","4624","FS01.corp.example","2026-11-02T08:00:00Z"',
    ]
    lines = ['"Message","Id","MachineName","TimeCreated"', *message]
    batch = read(NAME, lines)
    assert batch.frame.select("ip", "user", "line_no").rows() == [("10.0.0.5", "CORP\\jdoe", 2)]
    assert (batch.parsed, batch.ignored) == (len(message), 1)


def test_header_without_needed_columns_rejects_every_row() -> None:
    lines = ["TimeCreated,Id,MachineName", "2026-11-02T08:00:00Z,4624,FS01"]
    batch = read(NAME, lines)
    assert batch.rejected.rows() == [
        (1, "header has no user or message column"),
        (2, "header has no user or message column"),
    ]


@pytest.mark.parametrize(
    ("header", "score"),
    [
        ("_time,EventCode,Account_Name,Source_Network_Address", 0.6),
        ("Date and Time,Event ID,Account Name,Account Domain,Logon Type,Source IP", 0.6),
        ("hostname,mac,owner", 0.0),
        ("ip,user,start,end", 0.0),
        ("ID,Date,Time,Description,IP Address,Host Name,MAC Address,User Name", 0.0),
    ],
)
def test_sniff_headers(header: str, score: float) -> None:
    assert IDENTITY_READERS.get(NAME).sniff([header]) == score


VALID = [
    SPLUNK_HEADER,
    "2026-11-02T08:00:00Z,4624,jdoe,CORP,10.0.0.5,,3,",
    '2026-11-02T08:00:00Z,4624,"-',
    'jdoe",CORP,10.0.0.5,,3,',
    "2026-11-02T08:00:00Z,4769,jdoe@CORP.EXAMPLE,CORP.EXAMPLE,,::ffff:10.0.0.5,,0x0",
    "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord",
]


@given(any_lines(VALID, max_size=25, line_breaks=False), st.booleans())
def test_every_line_is_accounted_for(lines: list[str], header: bool) -> None:
    check_accounting(NAME, [SPLUNK_HEADER, *lines] if header else lines)


def test_sniff_claims_its_samples_and_nothing_else() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)
