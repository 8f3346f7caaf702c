"""The OCSF sink: every record it writes is checked, recursively, against the OCSF schema
facts in ``tests/data/ocsf_required.json`` (written by ``make_ocsf_required.py`` from
github.com/ocsf/ocsf-schema): required attributes (profile ones when the profile is
declared), ``at_least_one`` constraints, no attribute the class or object lacks, enum
values and their caption siblings, ``type_uid``, and primitive types (timestamps are
epoch milliseconds, IPs parse, ports in range); for the fixtures and for any row
Hypothesis makes, with the other checks every SIEM sink passes
(``tests/outputs/siem_helpers.py``)."""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from shadowscan.outputs.ocsf import OCSF_VERSION, OcsfSink
from tests.outputs.fixtures import HOSTILE, events, findings
from tests.outputs.siem_helpers import RecordSinkChecks, json_records, text_of

DATA = Path(__file__).resolve().parents[1] / "data"
SCHEMA: dict[str, Any] = json.loads((DATA / "ocsf_required.json").read_text(encoding="utf-8"))

#: Epoch milliseconds of 2000-01-01 and 2100-01-01: a timestamp outside is in the wrong unit.
MS_RANGE = (946_684_800_000, 4_102_444_800_000)


# --- the validator -------------------------------------------------------------------


def validate(record: dict[str, Any]) -> list[str]:
    """Every way ``record`` breaks the schema facts, as ``path: problem`` strings."""
    problems: list[str] = []
    cls = SCHEMA["classes"].get(str(record.get("class_uid")))
    if cls is None:
        return [f"class_uid: {record.get('class_uid')!r} is not a class the sink may emit"]
    activity = record.get("activity_id")
    if record.get("type_uid") != record["class_uid"] * 100 + (activity or 0):
        problems.append(f"type_uid: {record.get('type_uid')} is not class_uid * 100 + activity_id")
    if record.get("category_uid") != cls["category_uid"]:
        problems.append(f"category_uid: {record.get('category_uid')} is not {cls['category_uid']}")
    profiles = set(record.get("metadata", {}).get("profiles", []))
    for profile in profiles:
        if not isinstance(profile, str):
            problems.append(f"metadata.profiles: {profile!r} is not a name")
    check_object(record, cls, profiles, "", problems)
    return problems


def check_object(
    obj: Any, spec: dict[str, Any], profiles: set[str], path: str, problems: list[str]
) -> None:
    if not isinstance(obj, dict):
        problems.append(f"{path or '.'}: {obj!r} is not an object")
        return
    attributes = spec["attributes"]
    for name, attr in attributes.items():
        active = "profile" not in attr or attr["profile"] in profiles
        if attr["requirement"] == "required" and active and name not in obj:
            problems.append(f"{path}{name}: required")
    for rule, names in spec.get("constraints", {}).items():
        present = [n for n in names if n in obj]
        if rule == "at_least_one" and not present:
            problems.append(f"{path.rstrip('.') or '.'}: needs one of {', '.join(names)}")
        if rule == "just_one" and len(present) != 1:
            problems.append(f"{path.rstrip('.') or '.'}: needs just one of {', '.join(names)}")
    for name, value in obj.items():
        where = f"{path}{name}"
        attr = attributes.get(name)
        if attr is None:
            problems.append(f"{where}: not an attribute here")
            continue
        if "profile" in attr and attr["profile"] not in profiles:
            problems.append(f"{where}: needs profile {attr['profile']!r} in metadata.profiles")
        if attr.get("is_array"):
            if not isinstance(value, list):
                problems.append(f"{where}: {value!r} is not an array")
                continue
            for i, item in enumerate(value):
                check_value(item, attr, obj, profiles, f"{where}[{i}]", problems)
        else:
            check_value(value, attr, obj, profiles, where, problems)


def check_value(
    value: Any,
    attr: dict[str, Any],
    parent: dict[str, Any],
    profiles: set[str],
    where: str,
    problems: list[str],
) -> None:
    kind = attr["type"]
    if value is None:
        problems.append(f"{where}: null (leave the attribute out instead)")
        return
    if kind == "object":  # free-form: unmapped
        if not isinstance(value, dict):
            problems.append(f"{where}: {value!r} is not an object")
        return
    if kind in SCHEMA["types"]:
        check_primitive(value, kind, where, problems)
    elif kind in SCHEMA["objects"]:
        check_object(value, SCHEMA["objects"][kind], profiles, f"{where}.", problems)
        return
    else:
        problems.append(f"{where}: object type {kind!r} missing from ocsf_required.json")
        return
    enum = attr.get("enum")
    if enum is not None:
        if str(value) not in enum:
            problems.append(f"{where}: {value!r} not in enum {sorted(enum)}")
            return
        sibling = attr.get("sibling")
        if sibling and sibling in parent and value != 99 and parent[sibling] != enum[str(value)]:
            problems.append(
                f"{where}: sibling {sibling}={parent[sibling]!r} is not {enum[str(value)]!r}"
            )


def check_primitive(value: Any, kind: str, where: str, problems: list[str]) -> None:
    rules = SCHEMA["types"][kind]
    base = rules["base"]
    ok = {
        "string_t": isinstance(value, str),
        "integer_t": isinstance(value, int) and not isinstance(value, bool),
        "long_t": isinstance(value, int) and not isinstance(value, bool),
        "float_t": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean_t": isinstance(value, bool),
        "json_t": True,
    }.get(base, False)
    if not ok:
        problems.append(f"{where}: {value!r} is not {kind} ({base})")
        return
    if kind == "timestamp_t" and not MS_RANGE[0] <= value < MS_RANGE[1]:
        problems.append(f"{where}: {value} is not epoch milliseconds")
    if kind == "ip_t":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            problems.append(f"{where}: {value!r} is not an IP address")
    elif kind == "subnet_t":
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            problems.append(f"{where}: {value!r} is not a CIDR subnet")
    elif "regex" in rules and not re.search(rules["regex"], value):
        problems.append(f"{where}: {value!r} does not match {kind}")
    if "max_len" in rules and len(value) > rules["max_len"]:
        problems.append(f"{where}: longer than {rules['max_len']}")
    if "range" in rules and not rules["range"][0] <= value <= rules["range"][1]:
        problems.append(f"{where}: {value} outside {rules['range']}")


# --- the fixtures' records -----------------------------------------------------------


def records(frame: pl.DataFrame, kind: str) -> list[dict[str, Any]]:
    return json_records(text_of("ocsf", frame, kind))


class TestOcsfSink(RecordSinkChecks):
    """What every JSON SIEM sink does, each record checked by :func:`validate`."""

    sink = OcsfSink
    problems = staticmethod(validate)


def test_findings_are_detection_findings() -> None:
    named, ambiguous, unattributed = records(findings(), "findings")
    assert {r["type_uid"] for r in (named, ambiguous, unattributed)} == {200401}
    assert named["actor"]["user"]["name"] == "jdoe"
    assert named["metadata"]["profiles"] == ["host"]
    assert (named["severity_id"], named["risk_level_id"], named["risk_score"]) == (4, 3, 72)
    assert named["unmapped"]["policy"] == "unsanctioned"
    assert named["unmapped"]["department"] == "Engineering"
    assert named["resources"][0]["uid"] == "openai-chatgpt"
    assert named["finding_info"]["first_seen_time"] == 1_795_078_800_000
    assert "actor" not in ambiguous
    assert ambiguous["device"]["ip"] == "10.1.0.8"
    assert ambiguous["unmapped"]["candidates"] == ["bwong", "jdoe"]
    assert ambiguous["evidences"][0]["dst_endpoint"]["hostname"] == HOSTILE
    assert unattributed["severity_id"] == 1
    assert unattributed["is_alert"] is False


def test_finding_uid_is_stable_per_user_and_service() -> None:
    frame = findings()
    later = frame.with_columns(pl.col("last_seen") + dt.timedelta(days=5), pl.col("requests") + 100)
    first = [r["finding_info"]["uid"] for r in records(frame, "findings")]
    second = [r["finding_info"]["uid"] for r in records(later, "findings")]
    assert first == second
    assert len(set(first)) == 3


def test_events_get_their_classes() -> None:
    http, dns, network = records(events(), "events")
    assert (http["class_uid"], http["activity_id"]) == (4002, 6)  # POST
    assert http["http_request"]["url"]["hostname"] == "chatgpt.com"
    assert http["http_request"]["user_agent"] == HOSTILE
    assert http["traffic"] == {"bytes_out": 2_100_000, "bytes_in": 5120, "bytes": 2_105_120}
    assert http["actor"]["user"] == {"name": "jdoe", "domain": "CORP"}
    assert (dns["class_uid"], dns["query"]["hostname"], dns["rcode_id"]) == (
        4003,
        "www.perplexity.ai",
        0,
    )
    assert dns["answers"] == [{"rdata": "104.18.26.48", "type": "A"}]
    assert (network["class_uid"], network["activity_id"], network["disposition_id"]) == (4001, 5, 2)
    assert network["enrichments"][0]["name"] == "dst_endpoint.ip"
    assert network["enrichments"][0]["data"]["service_id"] == "anthropic-api"


def test_schema_facts_match_the_version_emitted() -> None:
    assert SCHEMA["version"] == OCSF_VERSION
    assert set(SCHEMA["classes"]) == {"2004", "4001", "4002", "4003"}


def test_untimed_records_take_the_processing_time() -> None:
    """A line without a timestamp still needs OCSF's required ``time``: the time we wrote
    it, flagged, never a made-up event time."""
    untimed = pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    before = dt.datetime.now(dt.UTC) - dt.timedelta(milliseconds=1)
    frames = [
        ("events", events().with_columns(untimed.alias("ts"))),
        (
            "findings",
            findings().with_columns(untimed.alias("first_seen"), untimed.alias("last_seen")),
        ),
    ]
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    for kind, frame in frames:
        for record in records(frame, kind):
            assert validate(record) == []
            assert before.timestamp() * 1000 <= record["time"] <= after.timestamp() * 1000
            assert record["metadata"]["processed_time"] == record["time"]
            assert record["unmapped"]["time_unknown"] is True
    dated = records(events(), "events")[0]
    assert "time_unknown" not in dated["unmapped"]
    assert "processed_time" not in dated["metadata"]


# --- the validator itself can fail ---------------------------------------------------


def _drop(path: str) -> Any:
    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = record
        for key in parents:
            target = target[key]
        del target[last]

    return change


def _set(path: str, value: Any) -> Any:
    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = record
        for key in parents:
            target = target[key]
        target[last] = value

    return change


BREAKAGES = {
    "missing finding_info.uid": _drop("finding_info.uid"),
    "missing metadata.version": _drop("metadata.version"),
    "missing time": _drop("time"),
    "severity_id outside enum": _set("severity_id", 9),
    "severity caption wrong": _set("severity", "Severe"),
    "type_uid inconsistent": _set("type_uid", 200402),
    "time in seconds": _set("time", 1_795_262_400),
    "time as ISO text": _set("time", "2026-11-21T12:00:00Z"),
    "device ip not an IP": _set("device.ip", "not-an-ip"),
    "actor without host profile": _set("metadata.profiles", []),
    "unknown attribute": _set("shadow_ai", True),
    "unknown nested attribute": _set("finding_info.policy", "unsanctioned"),
    "product without name": _set("metadata.product", {"vendor_name": "shadowscan"}),
    "data_sources not an array": _set("finding_info.data_sources", "dns"),
    "null attribute": _set("risk_score", None),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_validator_catches(breakage: str) -> None:
    record = copy.deepcopy(records(findings(), "findings")[0])
    BREAKAGES[breakage](record)
    assert validate(record) != []


def test_validator_catches_event_constraints() -> None:
    http, dns, _ = records(events(), "events")
    del http["http_request"], http["http_response"]
    assert ".: needs one of http_request, http_response" in validate(http)
    dns["query"] = {"type": "A"}
    assert "query.hostname: required" in validate(dns)
