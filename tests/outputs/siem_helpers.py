"""What the tests of the SIEM sinks (``cef``, ``leef``: key-value records; ``ocsf``,
``ecs``: JSON records) share: the checks every one of them must pass, as classes a test
module subclasses once (``class TestCefSink(LineSinkChecks)``), and the pieces of the
independent readers that are the same for CEF and LEEF (the header, which shadowscan
escapes the same way in both). What differs per format, the reader of the values and the
checks of what they mean, stays in the format's own test module."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, ClassVar

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.errors import UsageError
from shadowscan.outputs import SINKS, Sink
from shadowscan.outputs._siem import EVENT_SCHEMA_ALL, SiemSink, fields_of, siem_frame
from shadowscan.parsers import ParseContext
from shadowscan.parsers.base import Parser
from shadowscan.schema import FINDING_SCHEMA
from tests.outputs import fixtures
from tests.outputs.golden import GOLDEN, check_golden, render
from tests.outputs.strategies import (
    event_rows,
    events_frame,
    finding_rows,
    findings_frame,
    hostile_values,
)

KINDS = ("findings", "events")
#: Fields that hold the first item of a list column (a finding's first host, device).
FIRST_OF = {"findings": {"host": "hosts", "device": "devices"}, "events": {}}

#: One record read back: its header fields, and its values by key.
Record = tuple[list[str], dict[str, str]]
#: A format's reader of one line: header fields and ``(key, value)`` pairs in order.
Reader = Callable[[str], tuple[list[str], list[tuple[str, str]]]]


def frame_of(kind: str) -> pl.DataFrame:
    """The hostile fixtures of ``kind`` (``findings`` or ``events``)."""
    return fixtures.findings() if kind == "findings" else fixtures.events()


def text_of(sink: str, frame: pl.DataFrame, kind: str) -> str:
    """What the text sink ``sink`` writes for ``frame``."""
    return render(sink, frame, kind).decode("utf-8")


def with_values(frame: pl.DataFrame, values: dict[str, Any]) -> pl.DataFrame:
    """The first row of ``frame``, with ``values`` in place of its own (a list of strings
    for a list column)."""
    return frame.head(1).with_columns(
        pl.Series(name, [value], dtype=pl.List(pl.String))
        if isinstance(value, list)
        else pl.lit(value, dtype=pl.String).alias(name)
        for name, value in values.items()
    )


# --- reading key-value records back ----------------------------------------------------

#: Header escapes, CEF's (shadowscan writes LEEF headers the same way).
HEADER_UNESCAPES = {"\\": "\\", "|": "|", "n": "\n", "r": "\r"}


def unescape(text: str, table: dict[str, str]) -> str:
    """``text`` with each backslash escape replaced as ``table`` says; any other backslash
    is a failure (the writer must not leave one)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            assert i + 1 < len(text) and text[i + 1] in table, f"bad escape in {text!r}"
            out.append(table[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def read_header(line: str, magic: str, count: int) -> tuple[list[str], str]:
    """The ``count`` header fields after ``magic`` (``CEF:``, ``LEEF:``), split on
    unescaped ``|`` and unescaped, and the rest of the line. A record is one line."""
    assert "\n" not in line and "\r" not in line
    assert line.startswith(magic)
    fields: list[str] = []
    start = i = len(magic)
    while len(fields) < count:
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == "|":
            fields.append(unescape(line[start:i], HEADER_UNESCAPES))
            start = i + 1
        i += 1
    return fields, line[start:]


def line_records(text: str, read: Reader, count: int) -> list[Record]:
    """``text`` as ``count`` records, one a line, each read by ``read``, no key twice."""
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == count + 1, "one line per record"
    out = []
    for line in lines[:-1]:
        header, pairs = read(line)
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys in {line}"
        out.append((header, dict(pairs)))
    return out


def json_records(text: str) -> list[dict[str, Any]]:
    """One JSON object a line; every line ends with a newline."""
    assert text == "" or text.endswith("\n")
    lines = text.splitlines()  # also splits at U+2028 and friends: the sinks escape them
    assert len(lines) == text.count("\n")
    return [json.loads(line) for line in lines]


# --- what every SIEM sink does ---------------------------------------------------------

#: A property check: the test class's instance and one example.
Check = Callable[[Any, Any], None]


def _property(name: str, strategy: st.SearchStrategy[Any], check: Check) -> Check:
    """A new Hypothesis test running ``check`` on each example."""

    def test(self: Any, example: Any) -> None:
        check(self, example)

    test.__name__ = test.__qualname__ = name
    return given(strategy)(test)


class SinkChecks:
    """Golden output for the fixtures, nothing for no rows, rollups refused with what to
    use instead, registered under its name."""

    sink: ClassVar[type[Sink]]
    #: How the golden files end (``tests/golden/outputs/<sink>/<kind><suffix>``); the
    #: sink's name when None (``findings.cef``).
    golden_suffix: ClassVar[str | None] = None
    #: Property tests by name: what Hypothesis draws, and the check of one example.
    #: Hypothesis ties a test function to one class, so every subclass gets its own.
    properties: ClassVar[dict[str, tuple[st.SearchStrategy[Any], Check]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, (strategy, check) in cls.properties.items():
            setattr(cls, name, _property(name, strategy, check))

    def text(self, frame: pl.DataFrame, kind: str) -> str:
        return text_of(self.sink.name, frame, kind)

    @pytest.mark.parametrize("kind", KINDS)
    def test_golden(self, kind: str) -> None:
        name = self.sink.name
        path = GOLDEN / name / f"{kind}{self.golden_suffix or '.' + name}"
        check_golden(render(name, frame_of(kind), kind), path)

    @pytest.mark.parametrize("kind", KINDS)
    def test_nothing_for_no_rows(self, kind: str) -> None:
        assert self.text(frame_of(kind).clear(), kind) == ""

    @pytest.mark.parametrize("group_by", ["department", "subnet"])
    def test_rollups_are_refused_with_what_to_do(self, group_by: str) -> None:
        rollup = pl.DataFrame({group_by: ["x"], "users": [1]})
        with pytest.raises(UsageError) as refused:
            self.text(rollup, group_by)
        message = str(refused.value)
        assert f"--output-format {self.sink.name} writes findings or --events" in message
        assert f"not a --group-by {group_by} rollup: drop --group-by" in message
        assert "use json, ndjson, csv, parquet or table for the rollup" in message

    def test_registered_as_text(self) -> None:
        assert SINKS.get(self.sink.name) is self.sink and not self.sink.binary


class LineSinkChecks(SinkChecks):
    """A key-value SIEM sink (one record a line): every field has a key, every value comes
    back exactly through the format's independent reader (:meth:`read`), however hostile,
    and shadowscan's own parser of the format reads the events back."""

    sink: ClassVar[type[SiemSink]]
    #: shadowscan's parser of the format, and the event columns it must read back as they
    #: were written.
    parser: ClassVar[type[Parser]]
    read_back: ClassVar[tuple[str, ...]]
    properties: ClassVar[dict[str, tuple[st.SearchStrategy[Any], Check]]] = {
        "test_hostile_finding_round_trips": (
            hostile_values(FINDING_SCHEMA),
            lambda self, values: self.check_round_trip("findings", values),
        ),
        "test_hostile_event_round_trips": (
            hostile_values(EVENT_SCHEMA_ALL),
            lambda self, values: self.check_round_trip("events", values),
        ),
    }

    @staticmethod
    def read(line: str) -> tuple[list[str], list[tuple[str, str]]]:
        raise NotImplementedError

    def records(self, frame: pl.DataFrame, kind: str) -> list[Record]:
        return line_records(self.text(frame, kind), self.read, frame.height)

    def test_claims_its_file_extension(self) -> None:
        assert self.sink.extensions == (f".{self.sink.name}",)

    def test_every_field_has_a_key(self) -> None:
        for kind, keys in (("findings", self.sink.finding_keys), ("events", self.sink.event_keys)):
            assert keys.keys() == {f.name for f in fields_of(kind)}, kind

    def test_shadowscan_reads_its_own_events_back(self) -> None:
        lines = self.text(fixtures.events(), "events").splitlines()
        batch = pl.DataFrame(
            {"line_no": pl.Series(range(1, len(lines) + 1), dtype=pl.UInt64), "line": lines}
        )
        context = ParseContext("t", "UTC", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
        parsed = self.parser(context).parse(batch)
        assert parsed.rejected.is_empty()
        got = parsed.events.select(self.read_back).rows()
        assert got == fixtures.events().select(self.read_back).rows()

    def check_round_trip(self, kind: str, values: dict[str, Any]) -> None:
        """Every text column hostile at once: each value the sink writes reads back as
        it was, under its key, and the event id carries the policy (or log type)."""
        frame = with_values(frame_of(kind), values)
        row = siem_frame(frame, kind, self.sink.name).row(0, named=True)
        for name, value in values.items():  # a field named after a column holds it as it is
            if name in row:
                want = (",".join(value) if value else None) if isinstance(value, list) else value
                assert row[name] == want, name
        for name, column in FIRST_OF[kind].items():
            assert row[name] == (values[column][0] if values[column] else None), name
        keys = self.sink.finding_keys if kind == "findings" else self.sink.event_keys
        written = {
            key: row[f.name]
            for f in fields_of(kind)
            if (key := keys[f.name]) is not None and row[f.name] is not None
        }
        [(header, pairs)] = self.records(frame, kind)
        assert {k: v for k, v in pairs.items() if k in keys.values()} == written
        record, column = ("finding", "policy") if kind == "findings" else ("event", "log_type")
        assert header[4] == f"shadowscan:{record}:{values[column]}"


class RecordSinkChecks(SinkChecks):
    """A JSON SIEM sink (one object a line): every record, of the fixtures or of any row
    Hypothesis makes, passes the format's validator (:meth:`problems`)."""

    golden_suffix = ".ndjson"
    properties: ClassVar[dict[str, tuple[st.SearchStrategy[Any], Check]]] = {
        "test_any_finding_conforms": (
            st.lists(finding_rows(), min_size=1, max_size=4),
            lambda self, rows: self.check_conforms(findings_frame(rows), "findings"),
        ),
        "test_any_event_conforms": (
            st.lists(event_rows(), min_size=1, max_size=4),
            lambda self, rows: self.check_conforms(events_frame(rows), "events"),
        ),
    }

    @staticmethod
    def problems(record: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def records(self, frame: pl.DataFrame, kind: str) -> list[dict[str, Any]]:
        records = json_records(self.text(frame, kind))
        assert len(records) == frame.height
        return records

    @pytest.mark.parametrize("kind", KINDS)
    def test_every_record_conforms(self, kind: str) -> None:
        self.check_conforms(frame_of(kind), kind)

    def check_conforms(self, frame: pl.DataFrame, kind: str) -> None:
        for record in self.records(frame, kind):
            assert self.problems(record) == [], record
