"""sessions_json: JSON lines, arrays pretty-printed or on one line, key aliases, numbers
as epoch times, line accounting of objects over lines and of bad text, sniffing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity.load import read_lines
from tests.identity.helpers import SAMPLES, check_accounting, read

NAME = "sessions_json"
LOGS = Path(__file__).resolve().parents[2] / "sample_logs"
UTC = dt.UTC
NOISE = st.text(
    st.characters(
        codec="utf-8",
        exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    ),
    max_size=120,
)
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


@given(st.lists(st.one_of(NOISE, st.sampled_from(VALID)), max_size=25))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def _head(path: Path) -> list[str]:
    return [ln for ln in read_lines(str(path)) if ln.strip()][:50]


def test_sniff_claims_its_samples_and_nothing_else() -> None:
    reader = IDENTITY_READERS.get(NAME)
    for path in sorted((SAMPLES / NAME).glob("*")):
        assert reader.sniff(_head(path)) >= 0.9, path
    others = [p for p in SAMPLES.rglob("*") if p.is_file() and NAME not in p.parts]
    others += [p for p in LOGS.rglob("*") if p.is_file()]
    claimed = [str(p) for p in others if reader.sniff(_head(p)) >= 0.5]
    assert claimed == []
