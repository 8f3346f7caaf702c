"""sessions_csv: header aliases, optional end, time spellings and zones, rejections and
ignored rows, delimiters, quoted fields over lines, and sniffing that leaves inventories
and Windows event exports alone."""

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

NAME = "sessions_csv"
UTC = dt.UTC


def at(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_times_in_every_spelling_and_optional_end() -> None:
    lines = [
        "ip,user,start,end",
        "10.0.0.1,jdoe,2026-11-02T08:00:00Z,2026-11-02T17:30:00Z",
        "10.0.0.2,CORP\\asmith,2026-11-02 09:15:00,",
        "10.0.0.3,bwong,1793613600,1793642400",
        "10.0.0.4,cdiaz,1793617200000,",
        "10.0.0.5,jdoe,2026-11-02T12:00:00+01:00,2026-11-02 13:00 +0100",
        "10.0.0.6,jdoe,11/2/2026 8:00 AM,11/2/2026 5:00 PM",
    ]
    got = read(NAME, lines, timezone="Europe/Paris").frame
    assert got.select("ip", "user", "start", "end", "line_no").rows() == [
        ("10.0.0.1", "jdoe", at(8), at(17, 30), 2),
        ("10.0.0.2", "CORP\\asmith", at(8, 15), at(16, 15), 3),
        ("10.0.0.3", "bwong", at(10), at(18), 4),
        ("10.0.0.4", "cdiaz", at(11), at(19), 5),
        ("10.0.0.5", "jdoe", at(11), at(12), 6),
        ("10.0.0.6", "jdoe", at(7), at(16), 7),
    ]
    assert set(got["kind"]) == {"session"}


def test_header_aliases_any_case_and_semicolons() -> None:
    lines = [
        "Session;Client_IP;User Name;LOGIN_TIME;logout-time",
        "1;10.8.0.21;jdoe@corp.example;02.11.2026 08:00:00;02.11.2026 12:00:00",
    ]
    assert read(NAME, lines).frame.select("ip", "user", "start", "end").rows() == [
        ("10.8.0.21", "jdoe@corp.example", at(8), at(12)),
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",jdoe,2026-11-02T08:00:00Z,", "missing address"),
        ("10.0.0.1,,2026-11-02T08:00:00Z,", "missing user"),
        ("10.0.0.1,-,2026-11-02T08:00:00Z,", "missing user"),
        ("10.0.0.1,jdoe,,2026-11-02T08:00:00Z", "missing start"),
        ("10.0.0.999,jdoe,2026-11-02T08:00:00Z,", "bad address"),
        ("laptop-7,jdoe,2026-11-02T08:00:00Z,", "bad address"),
        ("10.0.0.1,jdoe,yesterday,", "bad start time"),
        ("10.0.0.1,jdoe,2026-11-02T08:00:00Z,later", "bad end time"),
        ("10.0.0.1,jdoe,2026-11-02T08:00:00Z,2026-11-02T07:59:59Z", "end before start"),
        ("10.0.0.1,jdoe,2026-11-02T08:00:00Z,,surplus", "more fields than the header"),
    ],
)
def test_rejections(row: str, reason: str) -> None:
    batch = read(NAME, ["ip,user,start,end", row])
    assert batch.rejected.rows() == [(2, reason)]
    assert (batch.parsed, batch.ignored, batch.frame.height) == (0, 1, 0)


@pytest.mark.parametrize(
    "row",
    [
        "127.0.0.1,jdoe,2026-11-02T08:00:00Z,",
        "0.0.0.0,jdoe,2026-11-02T08:00:00Z,",
        "10.0.0.1,WS0142$,2026-11-02T08:00:00Z,",
        "10.0.0.1,host/ws0142.corp.example,2026-11-02T08:00:00Z,",
        "# a comment",
        "",
    ],
)
def test_ignored_rows(row: str) -> None:
    batch = read(NAME, ["ip,user,start,end", row])
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (0, 2, 0)


def test_quoted_field_over_two_lines_counts_both() -> None:
    lines = ["ip,user,start,note", '10.0.0.1,jdoe,2026-11-02T08:00:00Z,"first', 'second"']
    batch = read(NAME, lines)
    assert (batch.parsed, batch.ignored) == (2, 1)
    assert batch.frame["line_no"].to_list() == [2]


def test_header_without_a_start_column_rejects_everything() -> None:
    batch = read(NAME, ["ip,user", "10.0.0.1,jdoe"])
    assert batch.rejected.rows() == [
        (1, "header has no start column"),
        (2, "header has no start column"),
    ]


@pytest.mark.parametrize(
    ("head", "score"),
    [
        (["ip,user,start,end"], 0.9),
        (["# exported", "IP Address;Username;Start Time"], 0.9),
        (["hostname,mac_address,owner"], 0.0),
        (["TimeCreated,Id,TargetUserName,IpAddress"], 0.0),
        (["ip,user,start,EventCode"], 0.2),
        (["ip,user,last_seen"], 0.0),
        (['{"ip": "10.0.0.1", "user": "jdoe", "start": 1}'], 0.0),
    ],
)
def test_sniff_headers(head: list[str], score: float) -> None:
    assert IDENTITY_READERS.get(NAME).sniff(head) == score


VALID = [
    "10.0.0.1,jdoe,2026-11-02T08:00:00Z,2026-11-02T09:00:00Z",
    "10.0.0.2,asmith,1793613600,",
    '"10.0.0.3","Doe, Jane","2026-11-02 08:00",""',
    "# comment",
]


@given(any_lines(VALID, max_size=25, line_breaks=False), st.booleans())
def test_every_line_is_accounted_for(lines: list[str], header: bool) -> None:
    check_accounting(NAME, ["ip,user,start,end", *lines] if header else lines)


def test_sniff_claims_its_samples_and_nothing_else() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)
