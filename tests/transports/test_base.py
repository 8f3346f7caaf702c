"""Rendering frames into messages, and what every transport shares."""

from __future__ import annotations

import json

import pytest

from shadowscan.errors import UsageError
from shadowscan.outputs import SINKS
from shadowscan.transports import TRANSPORTS, Message, open_transport, render_messages
from tests.outputs.fixtures import HOSTILE, events, findings


def test_findings_render_one_message_each_with_their_severity() -> None:
    messages = render_messages(findings(), "ndjson", kind="findings")
    assert [m.severity for m in messages] == ["high", "medium", "info"]
    assert {m.kind for m in messages} == {"finding"} and {m.time for m in messages} == {None}
    assert [json.loads(m.text)["service_id"] for m in messages] == [
        "openai-chatgpt",
        "perplexity",
        "anthropic-api",
    ]
    assert json.loads(messages[1].text)["hosts"] == [HOSTILE]


def test_events_keep_their_own_time() -> None:
    messages = render_messages(events(), "ndjson", kind="events")
    assert [m.time for m in messages] == [1_795_078_800.0, 1_795_078_830.0, 1_795_078_860.0]
    assert {m.severity for m in messages} == {None}


@pytest.mark.parametrize(
    ("output_format", "why"),
    [("json", "one line per record"), ("csv", "one line per record"), ("parquet", "binary")],
)
def test_formats_that_are_not_one_record_per_line_are_refused(output_format: str, why: str) -> None:
    if output_format not in SINKS:
        pytest.skip(f"no {output_format} sink")
    with pytest.raises(UsageError, match=f"--send cannot carry {output_format}: .*{why}"):
        render_messages(findings(), output_format, kind="findings")


@pytest.mark.parametrize("output_format", ["ndjson", "cef", "leef", "ecs", "ocsf"])
def test_line_formats_render_one_message_per_row(output_format: str) -> None:
    if output_format not in SINKS:
        pytest.skip(f"no {output_format} sink yet")
    assert len(render_messages(findings(), output_format, kind="findings")) == 3
    assert len(render_messages(events(), output_format, kind="events")) == 3


def test_rollups_are_not_sent() -> None:
    with pytest.raises(UsageError, match="not department rollups"):
        render_messages(findings(), "ndjson", kind="department")


def test_empty_frames_render_no_messages() -> None:
    assert render_messages(findings().head(0), "ndjson", kind="findings") == []


def test_messages_validate_their_metadata() -> None:
    with pytest.raises(ValueError, match="severity"):
        Message("x", severity="severe")
    with pytest.raises(ValueError, match="kind"):
        Message("x", kind="findings")
    with pytest.raises(ValueError, match="time"):
        Message("x", time=float("nan"))
    with pytest.raises(ValueError, match="not a spooled message"):
        Message.from_json('{"kind": "finding"}')


def test_every_transport_documents_its_options() -> None:
    assert TRANSPORTS.names() == ["hec+https", "syslog+tcp", "syslog+tls", "syslog+udp"]
    for name, cls in TRANSPORTS.items():
        assert cls.scheme == name and cls.default_port > 0
        assert cls.options and all(cls.options.values())


def test_unknown_schemes_list_the_known_ones() -> None:
    with pytest.raises(UsageError, match="known: hec\\+https://, syslog\\+tcp://"):
        open_transport("https://splunk:8088")
    with pytest.raises(UsageError, match="unknown destination type"):
        open_transport("siem.example.com:514")
