"""sessions_json: JSON lines, arrays pretty-printed or on one line, key aliases, numbers
as epoch times, line accounting of objects over lines and of bad text, sniffing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given

from shadowscan.identity import IDENTITY_READERS
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
)

NAME = "sessions_json"
UTC = dt.UTC
JDOE = {
    "ip": "10.0.0.5",
    "user": "jdoe",
    "start": "2026-11-02T08:00:00Z",
    "end": "2026-11-02T17:30:00Z",
}
ASMITH = {"client_ip": "10.0.0.6", "UserName": "asmith@corp.example", "Login-Time": 1793613600}


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 2, hour, minute, tzinfo=UTC)


def test_json_lines_with_aliases_and_epoch_numbers() -> None:
    lines = [json.dumps(JDOE), json.dumps(ASMITH)]
    batch = read(NAME, lines)
    assert batch.frame.select("ip", "user", "start", "end", "line_no").rows() == [
        ("10.0.0.5", "jdoe", at(8), at(17, 30), 1),
        ("10.0.0.6", "asmith@corp.example", at(10), at(18), 2),
    ]
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (2, 0, 0)


def test_pretty_printed_array_counts_every_line_of_an_object() -> None:
    lines = json.dumps([JDOE, {**JDOE, "start": "soon"}], indent=2).splitlines()
    batch = read(NAME, lines)
    assert batch.frame["line_no"].to_list() == [2]
    assert (batch.parsed, batch.ignored) == (6, 2)
    assert batch.rejected.rows() == [(n, "bad start time") for n in range(8, 14)]


def test_one_line_array_with_a_good_and_a_bad_object_is_parsed() -> None:
    line = json.dumps([JDOE, {"ip": "10.0.0.7", "user": "bwong"}])
    batch = read(NAME, [line])
    assert (batch.parsed, batch.frame.height) == (1, 1)


def test_bad_text_is_rejected_per_line_and_reading_goes_on() -> None:
    lines = ['{"ip": "10.0.0.1", "user": "jdoe", "start": "2026-11-', json.dumps(JDOE), "[1, 2]"]
    batch = read(NAME, lines)
    assert batch.rejected.rows() == [(1, "not JSON"), (3, "not a JSON object")]
    assert batch.frame["line_no"].to_list() == [2]


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({"user": "jdoe", "start": "2026-11-02T08:00:00Z"}, "missing address"),
        (
            {"ip": {"v4": "10.0.0.1"}, "user": "jdoe", "start": "2026-11-02T08:00:00Z"},
            "missing address",
        ),
        ({"ip": "10.0.0.1", "user": None, "start": "2026-11-02T08:00:00Z"}, "missing user"),
        ({"ip": "10.0.0.1", "user": "jdoe"}, "missing start"),
        ({"ip": "10.0.0.1", "user": "jdoe", "start": True}, "bad start time"),
        ({"ip": "10.0.0.1", "user": "jdoe", "start": 1793606400, "end": 1}, "bad end time"),
        (
            {"ip": "10.0.0.1", "user": "jdoe", "start": 1793606400, "end": 1793606399},
            "end before start",
        ),
    ],
)
def test_rejections(obj: dict[str, object], reason: str) -> None:
    assert read(NAME, [json.dumps(obj)]).rejected.rows() == [(1, reason)]


def test_machine_accounts_are_ignored() -> None:
    batch = read(NAME, [json.dumps({**JDOE, "user": "CORP\\WS0142$"})])
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (0, 1, 0)


@pytest.mark.parametrize(
    ("head", "score"),
    [
        ([json.dumps(JDOE), json.dumps(ASMITH)], 0.9),
        (json.dumps([JDOE, ASMITH], indent=2).splitlines(), 0.9),
        ([json.dumps({"userid": "jdoe", "event_time": "2026-11-02T08:00:00Z", "ip": "1"})], 0.0),
        (["ip,user,start,end", "10.0.0.1,jdoe,2026-11-02T08:00:00Z,"], 0.0),
    ],
)
def test_sniff(head: list[str], score: float) -> None:
    assert IDENTITY_READERS.get(NAME).sniff(head) == score


VALID = [json.dumps(JDOE), json.dumps(ASMITH), "[", "]", json.dumps([JDOE, ASMITH]), "  {"]


@given(any_lines(VALID, max_size=25, line_breaks=False))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_sniff_claims_its_samples_and_nothing_else() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)
