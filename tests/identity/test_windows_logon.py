"""windows_logon: 4624/4768/4769 as JSON lines from Winlogbeat, NXLog and Splunk; user
spellings, the events that are ignored, rejections, merging and overlap, sniffing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest
from hypothesis import given

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity.base import IdentityContext
from tests.identity.helpers import (
    NOISE,
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
)

NAME = "windows_logon"
UTC = dt.UTC


def winlogbeat(eid: int | str = "4624", ts: str = "2026-11-02T08:00:00.000Z", **data: str) -> str:
    base = {"TargetUserName": "jdoe", "TargetDomainName": "CORP", "IpAddress": "10.0.0.5"}
    if str(eid) == "4624":
        base["LogonType"] = "3"
    base.update(data)
    event = {"event_id": eid, "channel": "Security", "event_data": base}
    return json.dumps({"@timestamp": ts, "winlog": event})


def nxlog(eid: int = 4768, t: str = "2026-11-02 09:00:00", **data: str) -> str:
    obj: dict[str, Any] = {"EventTime": t, "EventID": eid, "TargetUserName": "jdoe"}
    obj.update({"TargetDomainName": "CORP.EXAMPLE", "IpAddress": "::ffff:10.0.0.5"})
    obj.update(data)
    return json.dumps(obj)


def splunk(**result: Any) -> str:
    base: dict[str, Any] = {
        "_time": "2026-11-03T09:00:05.000+01:00",
        "EventCode": "4624",
        "Account_Name": ["-", "jdoe"],
        "Account_Domain": ["-", "CORP"],
        "Logon_Type": "3",
        "Source_Network_Address": "10.0.0.5",
    }
    base.update(result)
    return json.dumps({"preview": False, "offset": 0, "result": base})


def rows(lines: list[str], **kw: Any) -> list[tuple[Any, ...]]:
    frame = read(NAME, lines, **kw).frame
    return list(frame.select("ip", "user", "start", "end", "line_no").iter_rows())


def at(hour: int, minute: int = 0, second: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def test_logon_is_a_session_of_session_time_with_domain_spelling() -> None:
    line = winlogbeat(IpAddress="::ffff:10.0.0.5")
    assert rows([line]) == [("10.0.0.5", "CORP\\jdoe", at(8), at(16), 1)]


def test_kerberos_spellings_realm_prefix_and_upn_kept() -> None:
    tgt = nxlog(4768)
    tgs = nxlog(4769, "2026-11-02 09:00:01", TargetUserName="jdoe@CORP.EXAMPLE")
    assert rows([tgt, tgs]) == [
        ("10.0.0.5", "CORP.EXAMPLE\\jdoe", at(9), at(17), 1),
        ("10.0.0.5", "jdoe@CORP.EXAMPLE", at(9, 0, 1), at(17, 0, 1), 2),
    ]


def test_event_id_as_number_or_string_and_without_domain() -> None:
    a = winlogbeat(4624, TargetDomainName="-")
    b = winlogbeat("4624", "2026-11-02T08:00:00Z", TargetDomainName="", IpAddress="10.0.0.6")
    assert [(ip, user) for ip, user, *_ in rows([a, b])] == [
        ("10.0.0.5", "jdoe"),
        ("10.0.0.6", "jdoe"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        winlogbeat(TargetUserName="WS0142$"),
        winlogbeat(TargetUserName="WS0142$@CORP.EXAMPLE"),
        winlogbeat(TargetUserName="ANONYMOUS LOGON", TargetDomainName="NT AUTHORITY"),
        winlogbeat(TargetUserName="SYSTEM", TargetDomainName="NT AUTHORITY"),
        winlogbeat(TargetUserName="DWM-2", TargetDomainName="Window Manager"),
        winlogbeat(TargetUserName="-"),
        winlogbeat(IpAddress="-"),
        winlogbeat(IpAddress="127.0.0.1", LogonType="2"),
        winlogbeat(IpAddress="::1"),
        winlogbeat(LogonType="0"),
        winlogbeat(LogonType="4"),
        winlogbeat(LogonType="5"),
        winlogbeat("4634"),
        winlogbeat("4625"),
        nxlog(4769, Status="0x20"),
        nxlog(4768, Status="0x18"),
        splunk(Account_Name=["-", "WS0142$"]),
        "",
    ],
)
def test_events_that_place_no_person_are_ignored(line: str) -> None:
    batch = read(NAME, [line])
    assert (batch.parsed, batch.ignored, batch.rejected.height, batch.frame.height) == (0, 1, 0, 0)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("<Event xmlns='...'>", "not a JSON object"),
        ('{"@timestamp": "2026-11-02T08:00:00Z", "winlog": {"event_id": "46', "not a JSON object"),
        ('{"TargetUserName": "jdoe", "IpAddress": "10.0.0.5"}', "missing event id"),
        (winlogbeat(ts="02/11/2026 08:00"), "bad timestamp"),
        (
            json.dumps({"EventID": 4624, "TargetUserName": "jdoe", "IpAddress": "10.0.0.5"}),
            "bad timestamp",
        ),
        (winlogbeat(IpAddress="10.0.0.300"), "bad address"),
        (winlogbeat(IpAddress="WS0142"), "bad address"),
        (splunk(Logon_Type="Network"), "bad logon type"),
    ],
)
def test_rejections(line: str, reason: str) -> None:
    batch = read(NAME, ["", line])
    assert batch.rejected.rows() == [(2, reason)]
    assert (batch.parsed, batch.ignored) == (0, 1)


def test_same_user_merges_and_other_user_overlaps() -> None:
    lines = [
        winlogbeat(ts="2026-11-02T08:00:00Z"),
        winlogbeat(ts="2026-11-02T10:00:00Z"),
        winlogbeat(ts="2026-11-02T09:00:00Z", TargetUserName="bwong"),
        winlogbeat(ts="2026-11-02T19:00:00Z"),
    ]
    assert rows(lines) == [
        ("10.0.0.5", "CORP\\jdoe", at(8), at(18), 1),
        ("10.0.0.5", "CORP\\bwong", at(9), at(17), 3),
        ("10.0.0.5", "CORP\\jdoe", at(19), at(3, day=3), 4),
    ]


def test_session_time_comes_from_the_context() -> None:
    context = IdentityContext("t", session_time=dt.timedelta(hours=1))
    frame = IDENTITY_READERS.get(NAME)(context).read([winlogbeat()]).frame
    assert frame["end"].to_list() == [at(9)]


def test_nxlog_event_time_is_local_and_timestamp_utc() -> None:
    local = nxlog(4768, "2026-11-02 09:00:00")
    utc = winlogbeat(ts="2026-11-02T09:00:00Z", IpAddress="10.0.0.9")
    got = rows([local, utc], timezone="Europe/Paris")
    assert [(ip, start) for ip, _, start, *_ in got] == [("10.0.0.5", at(8)), ("10.0.0.9", at(9))]


def test_splunk_multivalue_account_and_kerberos_fields() -> None:
    lines = [
        splunk(),
        splunk(
            EventCode="4768",
            Account_Name="asmith",
            Account_Domain=None,
            Supplied_Realm_Name="CORP.EXAMPLE",
            Source_Network_Address=None,
            Client_Address="::ffff:10.0.0.21",
            Result_Code="0x0",
            Logon_Type=None,
        ),
    ]
    assert [(ip, user) for ip, user, *_ in rows(lines)] == [
        ("10.0.0.21", "CORP.EXAMPLE\\asmith"),
        ("10.0.0.5", "CORP\\jdoe"),
    ]


def test_rendered_message_is_read_when_fields_are_missing() -> None:
    message = (
        "An account was successfully logged on.\r\n\r\nSubject:\r\n\tAccount Name:\t\tFS01$\r\n"
        "\tAccount Domain:\t\tCORP\r\n\r\nLogon Information:\r\n\tLogon Type:\t\t3\r\n\r\n"
        "New Logon:\r\n\tAccount Name:\t\tcdiaz\r\n\tAccount Domain:\t\tCORP\r\n"
        "\tNetwork Account Name:\t-\r\n\r\nNetwork Information:\r\n"
        "\tSource Network Address:\t10.0.0.40\r\n\tSource Port:\t\t50412\r\n"
    )
    line = json.dumps({"EventTime": "2026-11-02 08:00:00", "EventID": 4624, "Message": message})
    assert rows([line]) == [("10.0.0.40", "CORP\\cdiaz", at(8), at(16), 1)]


VALID = [
    winlogbeat(),
    winlogbeat(TargetUserName="WS0142$"),
    nxlog(4769, TargetUserName="jdoe@CORP.EXAMPLE"),
    splunk(),
    winlogbeat("4634"),
]


@given(any_lines(VALID, max_size=25, line_breaks=False, insert=NOISE))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_sniff_claims_its_samples_and_nothing_else() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)


def test_frame_schema() -> None:
    frame = read(NAME, [winlogbeat()]).frame
    assert frame.schema["start"] == pl.Datetime("us", "UTC")
    assert frame["source"].to_list() == [NAME]
    assert frame["kind"].to_list() == ["session"]
