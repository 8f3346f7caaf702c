"""Elastic Common Schema (ECS 9.4) documents, one JSON object per line.

Fields are nested objects (``{"user": {"name": ...}}``), not dotted keys, so Elasticsearch,
Elastic Agent and Logstash ingest them without a parsing step. A finding is an alert
(``event.kind: alert``, ``event.dataset: shadowscan.finding``); with ``--events`` each
matched event is an event (``shadowscan.event``). ECS fields carry what ECS has a field
for; everything else is under ``shadowscan.*``. An address that is not a valid IP is left
out of ECS ``ip`` fields (Elasticsearch would reject the whole document) and kept under
``shadowscan.*``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shadowscan import __version__
from shadowscan.outputs import SINKS
from shadowscan.outputs._json_common import (
    DNS_RCODES,
    SEVERITY_ID,
    JsonLinesSink,
    account,
    answer_type,
    compact,
    distinct,
    finding_reason,
    finding_summary,
    finding_uid,
    is_ip,
    iso_ms,
    split_url,
    unmapped,
)

ECS_VERSION = "9.4.0"

OBSERVER = {"product": "shadowscan", "vendor": "shadowscan", "version": __version__}
RCODE_NAMES = {code: name for name, code in reversed(DNS_RCODES.items())}

#: ``event.category`` and the ``event.type`` that says what kind of record it is, per log.
EVENT_CATEGORY = {
    "proxy": (["network", "web"], "access"),
    "dns": (["network"], "protocol"),
    "firewall": (["network"], "connection"),
    "flow": (["network"], "connection"),
}
ACTION_TYPE = {"allowed": "allowed", "blocked": "denied"}

#: Finding columns given an ECS field (or a ``shadowscan.*`` one below); others pass through.
FINDING_MAPPED = frozenset(
    {"user", "src_ips", "site", "first_seen", "last_seen", "bytes_out", "bytes_in"}
    | {"service_id", "service", "vendor", "category", "risk_score"}
)
#: Event columns given an ECS field; the rest go under ``shadowscan.*`` as they are.
EVENT_MAPPED = frozenset(
    {"ts", "log_format", "source_file", "src_ip", "src_port", "user", "host", "dst_ip"}
    | {"dst_port", "url", "method", "status", "action", "bytes_out", "bytes_in"}
    | {"user_agent", "app", "dns_qtype", "dns_answers", "dns_rcode", "process", "device"}
    | {"service_id", "service", "vendor", "category"}
)


def _iso(value: Any) -> str | None:
    return iso_ms(value) if isinstance(value, dt.datetime) else None


def _total(a: int | None, b: int | None) -> int | None:
    return a + b if a is not None and b is not None else None


def _service(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row.get("service_id"),
        "name": row.get("service"),
        "vendor": row.get("vendor"),
        "category": row.get("category"),
    }


def _rule(row: dict[str, Any]) -> dict[str, Any]:
    """The signature that fired: the service entry, whose id is stable forever."""
    return {
        "id": row.get("service_id"),
        "name": row.get("service"),
        "category": row.get("category"),
        "ruleset": "shadowscan",
    }


def _untimed(now: dt.datetime) -> dict[str, Any]:
    """For a record whose log had no timestamp: ECS fills ``@timestamp`` with the time the
    pipeline saw it, which is ``event.created``; ``shadowscan.time_unknown`` says so."""
    return {"@timestamp": iso_ms(now), "created": iso_ms(now)}


def finding_document(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    severity = row.get("severity") or "info"
    log_types = row.get("log_types") or []
    first, last = row.get("first_seen"), row.get("last_seen")
    ips = [ip for ip in row.get("src_ips") or [] if is_ip(ip)]
    hosts = [host for host in row.get("hosts") or [] if host]
    devices = [device for device in row.get("devices") or [] if device]
    name, domain = account(row.get("user"))
    bytes_out, bytes_in = row.get("bytes_out"), row.get("bytes_in")
    duration = (
        (last - first) // dt.timedelta(microseconds=1) * 1000
        if isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
        else None
    )
    extra = unmapped(row, FINDING_MAPPED)
    untimed = _untimed(now) if not isinstance(last, dt.datetime) else {}
    if untimed:
        extra["time_unknown"] = True
    if len(ips) != len(row.get("src_ips") or []):
        extra["src_ips"] = row.get("src_ips")
    document = {
        "@timestamp": untimed.get("@timestamp") or _iso(last),
        "message": finding_summary(row),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": "alert",
            "category": ["network", "web"] if "proxy" in log_types else ["network"],
            "type": ["access", "denied"] if row.get("blocked") else ["access"],
            "action": "ai-service-use",
            "id": finding_uid(row),
            "dataset": "shadowscan.finding",
            "module": "shadowscan",
            "severity": SEVERITY_ID.get(severity),
            "risk_score": row.get("risk_score"),
            "risk_score_norm": row.get("risk_score"),
            "start": _iso(first),
            "end": _iso(last),
            "duration": duration,
            "reason": finding_reason(row),
            "created": untimed.get("created"),
        },
        "user": {"name": name, "domain": domain},
        "source": {
            "ip": ips[0] if ips else None,
            "bytes": bytes_out,
            "geo": {"name": row.get("site")},
        },
        "destination": {"domain": hosts[0] if hosts else None, "bytes": bytes_in},
        "url": {"domain": hosts[0] if hosts and "proxy" in log_types else None},
        "network": {"bytes": _total(bytes_out, bytes_in)},
        "host": {"name": devices[0] if devices else None},
        "related": {
            "ip": ips,
            "user": distinct([row.get("user"), name, *(row.get("candidates") or [])]),
            "hosts": distinct([*hosts, *devices]),
        },
        "observer": OBSERVER,
        "rule": _rule(row),
        "shadowscan": {"service": _service(row), **extra},
    }
    return dict(compact(document))


def event_document(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """An ECS event for one matched log line."""
    log_type = row.get("log_type") or ""
    categories, kind_type = EVENT_CATEGORY.get(log_type, (["network"], "connection"))
    action = row.get("action")
    types = [kind_type, *([ACTION_TYPE[action]] if action in ACTION_TYPE else [])]
    name, domain = account(row.get("user"), row.get("log_user"))
    is_dns = log_type == "dns"
    src_ip, dst_ip = row.get("src_ip"), row.get("dst_ip")
    answers = [a for a in row.get("dns_answers") or [] if a]
    resolved = distinct(a for a in answers if is_ip(a))
    extra = unmapped(row, EVENT_MAPPED)
    for column in ("src_ip", "dst_ip"):
        if row.get(column) is not None and not is_ip(row.get(column)):
            extra[column] = row.get(column)
    untimed = _untimed(now) if not isinstance(row.get("ts"), dt.datetime) else {}
    if untimed:
        extra["time_unknown"] = True
    document = {
        "@timestamp": untimed.get("@timestamp") or _iso(row.get("ts")),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": "event",
            "category": categories,
            "type": types,
            "action": action if action in ACTION_TYPE else None,
            "dataset": "shadowscan.event",
            "module": "shadowscan",
            "provider": row.get("log_format"),
            "created": untimed.get("created"),
        },
        "source": {
            "ip": src_ip if is_ip(src_ip) else None,
            "port": row.get("src_port"),
            "bytes": row.get("bytes_out"),
        },
        "destination": {
            "ip": dst_ip if is_ip(dst_ip) else None,
            "port": row.get("dst_port"),
            "domain": None if is_dns else row.get("host"),
            "bytes": row.get("bytes_in"),
        },
        "network": {
            "protocol": {"proxy": "http", "dns": "dns"}.get(log_type),
            "application": row.get("app"),
            "bytes": _total(row.get("bytes_out"), row.get("bytes_in")),
        },
        "url": _url(row.get("url"), row.get("host")),
        "http": {
            "request": {"method": row.get("method")},
            "response": {"status_code": None if is_dns else row.get("status")},
        },
        "user_agent": {"original": row.get("user_agent")},
        "dns": _dns(row, answers, resolved) if is_dns else None,
        "user": {"name": name, "domain": domain},
        "host": {"name": row.get("device")},
        "process": _process(row.get("process")),
        "log": {"file": {"path": row.get("source_file")}},
        "related": {
            "ip": distinct(ip for ip in (src_ip, dst_ip, *resolved) if is_ip(ip)),
            "user": distinct(
                [row.get("user"), name, row.get("log_user"), *(row.get("candidates") or [])]
            ),
            "hosts": distinct([row.get("host"), row.get("device")]),
        },
        "rule": _rule(row),
        "shadowscan": {"service": _service(row), **extra},
    }
    return dict(compact(document))


def _url(url: str | None, host: str | None) -> dict[str, Any] | None:
    parts = split_url(url, host)
    if parts is None:
        return None
    return dict(zip(("full", "scheme", "domain", "port", "path"), parts, strict=True))


def _dns(row: dict[str, Any], answers: list[str], resolved: list[str]) -> dict[str, Any]:
    rcode = row.get("dns_rcode")
    if rcode is None and row.get("status") is not None:
        rcode = RCODE_NAMES.get(row["status"], str(row["status"]))
    return {
        "type": "answer" if answers or rcode or row.get("dns_answer_only") else "query",
        "question": {"name": row.get("host"), "type": row.get("dns_qtype")},
        "answers": [{"data": a, "type": answer_type(a)} for a in answers],
        "resolved_ip": resolved,
        "response_code": rcode,
    }


def _process(image: str | None) -> dict[str, Any] | None:
    """A path is the executable, its last part the name; a bare name is just the name."""
    if not image:
        return None
    base = image.replace("\\", "/").rsplit("/", 1)[-1]
    return {"name": base, "executable": image if base != image else None}


@SINKS.register("ecs")
class EcsSink(JsonLinesSink):
    name = "ecs"
    summary = (
        f"Elastic Common Schema {ECS_VERSION} documents, one per line: "
        "an alert per finding, an event per --events event."
    )

    finding = staticmethod(finding_document)
    event = staticmethod(event_document)
