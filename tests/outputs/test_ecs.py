"""The ECS sink: every key path of every document it writes is an ECS field (from
``tests/data/ecs_fields.json``, written by ``make_ecs_fields.py`` from github.com/elastic/ecs)
or sits under ``shadowscan.`` / ``labels.``; values have the field's type (IPs parse,
dates are ISO 8601, numbers are numbers), arrays where ECS expects arrays and nowhere
else, allowed values for the categorisation fields, and nested objects, never dotted
keys; for the fixtures and for any row Hypothesis makes, with the other checks every SIEM
sink passes (``tests/outputs/siem_helpers.py``)."""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from shadowscan.outputs.ecs import ECS_VERSION, EcsSink
from tests.outputs.fixtures import HOSTILE, events, findings
from tests.outputs.siem_helpers import RecordSinkChecks, json_records, text_of

DATA = Path(__file__).resolve().parents[1] / "data"
ECS: dict[str, Any] = json.loads((DATA / "ecs_fields.json").read_text(encoding="utf-8"))
FIELDS: dict[str, Any] = ECS["fields"]
#: Where a document may carry fields ECS does not define.
FREE = ("shadowscan.", "labels.")

NUMBER_TYPES = {"long", "integer", "short", "byte", "unsigned_long", "float", "double"}
NUMBER_TYPES |= {"half_float", "scaled_float"}
TEXT_TYPES = {"keyword", "wildcard", "match_only_text", "text", "constant_keyword"}


# --- the validator -------------------------------------------------------------------


def leaves(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """(dotted path, value) for each leaf; a list of objects is walked into, as ECS names
    its members (``dns.answers.data``)."""
    if isinstance(node, dict):
        out = []
        for key, value in node.items():
            out += leaves(value, f"{path}.{key}" if path else key)
        return out
    if isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        return [leaf for item in node for leaf in leaves(item, path)]
    return [(path, node)]


def keys(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [k for key, value in node.items() for k in (key, *keys(value))]
    if isinstance(node, list):
        return [k for item in node for k in keys(item)]
    return []


def validate(document: dict[str, Any]) -> list[str]:
    problems = [f"{key!r}: a dotted key (nest it)" for key in keys(document) if "." in key]
    for required in ("@timestamp", "ecs.version", "event.kind"):
        if required not in dict(leaves(document)):
            problems.append(f"{required}: missing")
    for path, value in leaves(document):
        if path.startswith(FREE):
            continue
        spec = FIELDS.get(path)
        if spec is None:
            problems.append(f"{path}: not an ECS field")
            continue
        if isinstance(value, list) != bool(spec.get("array")):
            expected = "an array" if spec.get("array") else "a single value"
            problems.append(f"{path}: {value!r} should be {expected}")
        for item in value if isinstance(value, list) else [value]:
            problem = check_type(item, spec)
            if problem:
                problems.append(f"{path}: {item!r} {problem}")
            elif "allowed" in spec and item not in spec["allowed"]:
                problems.append(f"{path}: {item!r} not one of {spec['allowed']}")
    event = document.get("event", {})
    expected_types = {
        t for c in event.get("category", []) for t in ECS["expected_event_types"].get(c, [])
    }
    for event_type in event.get("type", []):
        if event_type not in expected_types:
            problems.append(f"event.type: {event_type!r} fits none of {event.get('category')}")
    return problems


def check_type(value: Any, spec: dict[str, Any]) -> str | None:
    kind = spec["type"]
    if value is None:
        return "is null (leave the field out instead)"
    if kind == "ip":
        try:
            ipaddress.ip_address(value)
        except (TypeError, ValueError):
            return "is not an IP address"
    elif kind == "date":
        if not isinstance(value, str) or not value.endswith("Z"):
            return "is not an ISO 8601 UTC date"
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            return "is not an ISO 8601 date"
    elif kind in NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "is not a number"
        if kind not in {"float", "double", "half_float", "scaled_float"} and not isinstance(
            value, int
        ):
            return "is not an integer"
    elif kind in TEXT_TYPES:
        if not isinstance(value, str):
            return "is not a string"
    elif kind == "boolean":
        if not isinstance(value, bool):
            return "is not a boolean"
    else:
        return f"has ECS type {kind}, which the sink does not write"
    return None


# --- the fixtures' documents ---------------------------------------------------------


def records(frame: pl.DataFrame, kind: str) -> list[dict[str, Any]]:
    return json_records(text_of("ecs", frame, kind))


class TestEcsSink(RecordSinkChecks):
    """What every JSON SIEM sink does, each document checked by :func:`validate`."""

    sink = EcsSink
    problems = staticmethod(validate)


def test_findings_are_alerts() -> None:
    named, ambiguous, unattributed = records(findings(), "findings")
    assert named["@timestamp"] == "2026-11-21T12:00:00.000Z"  # last seen
    assert named["event"]["kind"] == "alert"
    assert named["event"]["category"] == ["network", "web"]
    assert (named["event"]["severity"], named["event"]["risk_score"]) == (4, 72)
    assert named["user"] == {"name": "jdoe"}
    assert (named["source"]["bytes"], named["destination"]["bytes"]) == (2_358_474, 4_039_379)
    assert named["url"]["domain"] == "chatgpt.com"
    assert named["rule"]["id"] == "openai-chatgpt"
    assert named["shadowscan"]["policy"] == "unsanctioned"
    assert named["shadowscan"]["department"] == "Engineering"
    assert "user" not in ambiguous
    assert ambiguous["related"]["user"] == ["bwong", "jdoe"]
    assert ambiguous["destination"]["domain"] == HOSTILE
    assert ambiguous["source"]["geo"]["name"] == "London HQ"
    assert unattributed["source"]["ip"] == "2001:db8:20::15"
    assert unattributed["event"]["type"] == ["access", "denied"]


def test_events_map_their_protocol_fields() -> None:
    proxy, dns, firewall = records(events(), "events")
    assert proxy["event"]["kind"] == "event"
    assert proxy["url"]["full"] == "https://chatgpt.com/backend-api/conversation"
    assert proxy["http"] == {"request": {"method": "POST"}, "response": {"status_code": 200}}
    assert proxy["user_agent"]["original"] == HOSTILE
    assert proxy["user"] == {"name": "jdoe", "domain": "CORP"}
    assert proxy["log"]["file"]["path"] == "logs/access.log"
    assert proxy["shadowscan"]["line_no"] == 12
    assert dns["dns"]["question"] == {"name": "www.perplexity.ai", "type": "A"}
    assert dns["dns"]["resolved_ip"] == ["104.18.26.48"]
    assert dns["dns"]["response_code"] == "NOERROR"
    assert firewall["event"]["type"] == ["connection", "denied"]
    assert firewall["network"]["application"] == "anthropic-base"
    assert firewall["host"]["name"] == "lt-0999"


def test_finding_id_matches_ocsf_uid() -> None:
    ecs_ids = [d["event"]["id"] for d in records(findings(), "findings")]
    ocsf = json_records(text_of("ocsf", findings(), "findings"))
    ocsf_ids = [record["finding_info"]["uid"] for record in ocsf]
    assert ecs_ids == ocsf_ids


def test_invalid_address_is_kept_out_of_ip_fields() -> None:
    frame = events().with_columns(pl.lit("10.0.0.999").alias("src_ip"))
    proxy = records(frame, "events")[0]
    assert "ip" not in proxy["source"]
    assert proxy["shadowscan"]["src_ip"] == "10.0.0.999"
    assert validate(proxy) == []


def test_field_list_matches_the_version_emitted() -> None:
    assert ECS["version"] == ECS_VERSION


def test_untimed_documents_take_the_processing_time() -> None:
    """ECS: with no time from the source, ``@timestamp`` is when the pipeline saw the
    record (``event.created``), flagged ``shadowscan.time_unknown``."""
    untimed = pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    frames = [
        ("events", events().with_columns(untimed.alias("ts"))),
        (
            "findings",
            findings().with_columns(untimed.alias("first_seen"), untimed.alias("last_seen")),
        ),
    ]
    today = dt.datetime.now(dt.UTC).date()
    for kind, frame in frames:
        for document in records(frame, kind):
            assert validate(document) == []
            assert document["@timestamp"] == document["event"]["created"]
            assert dt.datetime.fromisoformat(document["@timestamp"]).date() >= today
            assert document["shadowscan"]["time_unknown"] is True
    dated = records(events(), "events")[0]
    assert "created" not in dated["event"]
    assert "time_unknown" not in dated["shadowscan"]


# --- the validator itself can fail ---------------------------------------------------

BREAKAGES: dict[str, Any] = {
    "dotted key": lambda d: d.update({"user.name": "jdoe"}),
    "unknown field": lambda d: d["user"].update({"department": "Engineering"}),
    "bad IP": lambda d: d["source"].update({"ip": "10.0.0.999"}),
    "epoch date": lambda d: d.update({"@timestamp": 1795262400000}),
    "date without zone": lambda d: d["event"].update({"start": "2026-11-19 09:00"}),
    "severity as text": lambda d: d["event"].update({"severity": "high"}),
    "kind not allowed": lambda d: d["event"].update({"kind": "finding"}),
    "type foreign to category": lambda d: d["event"].update({"type": ["creation"]}),
    "category not an array": lambda d: d["event"].update({"category": "network"}),
    "array in a single-value field": lambda d: d["user"].update({"name": ["a", "b"]}),
    "missing @timestamp": lambda d: d.pop("@timestamp"),
    "null value": lambda d: d["destination"].update({"domain": None}),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_validator_catches(breakage: str) -> None:
    document = copy.deepcopy(records(findings(), "findings")[0])
    BREAKAGES[breakage](document)
    assert validate(document) != []
