"""OCSF (Open Cybersecurity Schema Framework) 1.8.0 events, one JSON object per line.

A finding becomes a Detection Finding (class 2004): the user (``actor.user``, host
profile) or the address (``device``) that used an AI service (``resources``), with our
severity, risk score and confidence on OCSF's scales. With ``--events`` each matched event
becomes HTTP Activity (4002) for a proxy request, DNS Activity (4003) for a lookup, or
Network Activity (4001) for a firewall or flow record (and for a proxy line with no HTTP
detail); the service it matched is an ``enrichments`` entry on the matched attribute.
What OCSF has no attribute for (policy, department, attribution, counts, bytes of a
finding) goes in ``unmapped``. Times are epoch milliseconds, as OCSF's ``timestamp_t``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
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
    epoch_ms,
    finding_details,
    finding_summary,
    finding_uid,
    is_ip,
    service_label,
    split_url,
    unmapped,
)

OCSF_VERSION = "1.8.0"

PRODUCT = {"name": "shadowscan", "vendor_name": "shadowscan", "version": __version__}

DETECTION_FINDING, NETWORK_ACTIVITY, HTTP_ACTIVITY, DNS_ACTIVITY = 2004, 4001, 4002, 4003
CLASS_NAMES = {
    DETECTION_FINDING: "Detection Finding",
    NETWORK_ACTIVITY: "Network Activity",
    HTTP_ACTIVITY: "HTTP Activity",
    DNS_ACTIVITY: "DNS Activity",
}
CATEGORY_NAMES = {2: "Findings", 4: "Network Activity"}

SEVERITY_CAPTION = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
#: ``risk_level_id`` counts from 0 (Info) where ``severity_id`` counts from 1.
RISK_LEVEL = {"info": (0, "Info"), "low": (1, "Low"), "medium": (2, "Medium")}
RISK_LEVEL |= {"high": (3, "High"), "critical": (4, "Critical")}
CONFIDENCE = {"low": (1, "Low"), "medium": (2, "Medium"), "high": (3, "High")}

#: Our ``action`` as the security_control profile's action and disposition.
ACTION = {"allowed": (1, "Allowed", 1, "Allowed"), "blocked": (2, "Denied", 2, "Blocked")}

#: HTTP Activity's ``activity_id`` per method; the same names are ``http_method``'s enum.
HTTP_ACTIVITY_ID = {
    "CONNECT": (1, "Connect"),
    "DELETE": (2, "Delete"),
    "GET": (3, "Get"),
    "HEAD": (4, "Head"),
    "OPTIONS": (5, "Options"),
    "POST": (6, "Post"),
    "PUT": (7, "Put"),
    "TRACE": (8, "Trace"),
    "PATCH": (9, "Patch"),
}
#: ``rcode_id`` captions; a code outside them is ``99`` Other with the name as ``rcode``.
RCODE_CAPTION = {
    0: "NoError",
    1: "FormError",
    2: "ServError",
    3: "NXDomain",
    4: "NotImp",
    5: "Refused",
    6: "YXDomain",
    7: "YXRRSet",
    8: "NXRRSet",
    9: "NotAuth",
    10: "NotZone",
    11: "DSOTYPENI",
    16: "BADSIG_VERS",
    17: "BADKEY",
    18: "BADTIME",
    19: "BADMODE",
    20: "BADNAME",
    21: "BADALG",
    22: "BADTRUNC",
    23: "BADCOOKIE",
}


#: Observable ``type_id``s (OCSF numbers the types it defines) with their captions.
HOSTNAME = (1, "Hostname")
IP_ADDRESS = (2, "IP Address")
USER_NAME = (4, "User Name")
USER_AGENT = (16, "HTTP User-Agent")

#: Finding columns given an OCSF attribute; the rest go to ``unmapped``.
FINDING_MAPPED = frozenset(
    {"user", "service_id", "service", "vendor", "category", "severity"}
    | {"risk_score", "first_seen", "last_seen", "hosts", "confidence", "match_rules"}
    | {"models", "log_types"}
)
#: Event columns given an OCSF attribute; the rest go to ``unmapped``.
EVENT_MAPPED = frozenset(
    {"ts", "log_format", "source_file", "src_ip", "src_port", "user", "host", "dst_ip", "device"}
    | {"dst_port", "url", "method", "status", "action", "bytes_out", "bytes_in"}
    | {"user_agent", "app", "dns_qtype", "dns_answers", "dns_rcode", "service_id", "service"}
    | {"vendor", "category", "match_rule", "confidence", "model"}
)


def classification(class_uid: int, activity_id: int, activity: str) -> dict[str, Any]:
    """The attributes every OCSF event starts with; ``type_uid`` is derived, never chosen."""
    return {
        "class_uid": class_uid,
        "class_name": CLASS_NAMES[class_uid],
        "category_uid": class_uid // 1000,
        "category_name": CATEGORY_NAMES[class_uid // 1000],
        "activity_id": activity_id,
        "activity_name": activity,
        "type_uid": class_uid * 100 + activity_id,
        # The type is named after the activity's caption: Other's free text stays in
        # activity_name.
        "type_name": f"{CLASS_NAMES[class_uid]}: {'Other' if activity_id == 99 else activity}",
    }


def metadata(profiles: list[str], **extra: Any) -> dict[str, Any]:
    return {"version": OCSF_VERSION, "product": PRODUCT, "profiles": profiles, **extra}


def observable(name: str, kind: tuple[int, str], value: Any) -> dict[str, Any]:
    return {"name": name, "type_id": kind[0], "type": kind[1], "value": str(value)}


def finding_record(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A Detection Finding; ``now`` stands in for ``time`` (required) when no event of the
    finding had a timestamp, flagged ``unmapped.time_unknown``."""
    severity = row.get("severity") or "info"
    severity_id = SEVERITY_ID.get(severity, 0)
    confidence = CONFIDENCE.get(row.get("confidence") or "")
    risk_level = RISK_LEVEL.get(severity)
    first, last = row.get("first_seen"), row.get("last_seen")
    ips = [ip for ip in row.get("src_ips") or [] if is_ip(ip)]
    hosts = [host for host in row.get("hosts") or [] if host]
    name, domain = account(row.get("user"))
    untimed = not isinstance(last, dt.datetime)
    device = {
        "type_id": 0,
        "type": "Unknown",
        "ip": ips[0] if ips else None,
        "hostname": (row.get("devices") or [None])[0],
        "subnet": row.get("subnet") if _is_subnet(row.get("subnet")) else None,
    }
    observables = [observable("actor.user.name", USER_NAME, name)] if name else []
    observables += [observable("device.ip", IP_ADDRESS, ip) for ip in ips]
    observables += [
        observable("evidences[].dst_endpoint.hostname", HOSTNAME, host) for host in hosts
    ]
    service = row.get("service") or row.get("service_id")
    who = row.get("user") or ", ".join(row.get("src_ips") or [])
    record = {
        **classification(DETECTION_FINDING, 1, "Create"),
        "time": epoch_ms(last if isinstance(last, dt.datetime) else now),
        "start_time": epoch_ms(first) if first else None,
        "end_time": epoch_ms(last) if last else None,
        "count": int(row.get("requests") or 0) + int(row.get("queries") or 0),
        "severity_id": severity_id,
        "severity": SEVERITY_CAPTION.get(severity_id, "Unknown"),
        "risk_score": row.get("risk_score"),
        "risk_level_id": risk_level[0] if risk_level else None,
        "risk_level": risk_level[1] if risk_level else None,
        "status_id": 1,
        "status": "New",
        "confidence_id": confidence[0] if confidence else 0,
        "confidence": confidence[1] if confidence else "Unknown",
        "is_alert": severity != "info",
        "message": finding_summary(row),
        "finding_info": {
            "uid": finding_uid(row),
            "title": f"{service} used by {who}" if who else f"{service} used",
            "desc": finding_details(row),
            "types": ["Shadow AI", row.get("category")],
            "first_seen_time": epoch_ms(first) if first else None,
            "last_seen_time": epoch_ms(last) if last else None,
            "data_sources": row.get("log_types"),
            "analytic": {
                "uid": row.get("service_id"),
                "name": service,
                "type_id": 1,
                "type": "Rule",
                "category": row.get("category"),
            },
            "related_analytics": [
                {"name": rule, "type_id": 1, "type": "Rule"}
                for rule in row.get("match_rules") or []
                if rule
            ],
        },
        "actor": {"user": {"name": name, "domain": domain}} if name else None,
        "device": device if device["ip"] or device["hostname"] else None,
        "resources": [
            {
                "uid": row.get("service_id"),
                "name": service,
                "type": "AI service",
                "role_id": 1,
                "role": "Target",
                "labels": [row.get("category")],
                "data": {
                    "vendor": row.get("vendor"),
                    "category": row.get("category"),
                    "hosts": hosts,
                    "models": row.get("models") or [],
                },
            }
        ],
        "evidences": [{"dst_endpoint": {"hostname": host}} for host in hosts],
        "observables": observables,
        "metadata": metadata(
            ["host"] if name else [],
            log_name="findings",
            processed_time=epoch_ms(now) if untimed else None,
        ),
        "unmapped": unmapped(row, FINDING_MAPPED) | ({"time_unknown": True} if untimed else {}),
    }
    return dict(compact(record))


def event_record(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """An OCSF network event for one matched log line; a line without a timestamp gets
    ``now`` as ``time`` (required), flagged ``unmapped.time_unknown``."""
    log_type = row.get("log_type")
    method = (row.get("method") or "").upper()
    # A URL, user agent or HTTP method makes it HTTP whatever logged it (a firewall's URL
    # filter too); a status alone only for a proxy (elsewhere it may be something else).
    http_detail = (row.get("url"), row.get("user_agent"), HTTP_ACTIVITY_ID.get(method))
    proxy_status = log_type == "proxy" and row.get("status") is not None
    if log_type == "dns" and row.get("host"):
        head, body = _dns_part(row)
    elif any(http_detail) or proxy_status:
        head, body = _http_part(row, method)
    else:
        activity = (5, "Refuse") if row.get("action") == "blocked" else (6, "Traffic")
        head = classification(NETWORK_ACTIVITY, *activity)
        body = {"is_src_dst_assignment_known": True}
    class_uid = head["class_uid"]
    name, domain = account(row.get("user"), row.get("log_user"))
    src = {
        "ip": row.get("src_ip") if is_ip(row.get("src_ip")) else None,
        "port": _port(row.get("src_port")),
        "hostname": row.get("device"),
    }
    # The destination of a lookup is the DNS service (a resolver); of anything else, the AI
    # service, named so that even an event whose log kept no address has an endpoint.
    dst = {
        "ip": row.get("dst_ip") if is_ip(row.get("dst_ip")) else None,
        "port": _port(row.get("dst_port")),
        "hostname": row.get("host") if class_uid != DNS_ACTIVITY else None,
        "svc_name": "dns"
        if class_uid == DNS_ACTIVITY
        else row.get("service") or row.get("service_id"),
    }
    # What the endpoints could not hold (a bad address, a port alone) stays in unmapped.
    leftovers = {
        column: row[column]
        for column, kept in (
            ("src_ip", src["ip"]),
            ("dst_ip", dst["ip"]),
            ("src_port", src["port"] if _identifies(src) else None),
            ("dst_port", dst["port"]),
        )
        if row.get(column) is not None and kept is None
    }
    traffic = {"bytes_out": row.get("bytes_out"), "bytes_in": row.get("bytes_in")}
    if traffic["bytes_out"] is not None and traffic["bytes_in"] is not None:
        traffic["bytes"] = traffic["bytes_out"] + traffic["bytes_in"]
    profiles = ["host"] if name else []
    action = ACTION.get(row.get("action") or "")
    if action:
        profiles.append("security_control")
    ts = row.get("ts")
    untimed = not isinstance(ts, dt.datetime)
    if untimed:
        leftovers["time_unknown"] = True
    record = {
        **head,
        "time": epoch_ms(ts if isinstance(ts, dt.datetime) else now),
        "severity_id": 1,
        "severity": "Informational",
        **body,
        "actor": {"user": {"name": name, "domain": domain}} if name else None,
        "src_endpoint": src if _identifies(src) else None,
        "dst_endpoint": dst,
        "traffic": traffic,
        "app_name": row.get("app"),
        "action_id": action[0] if action else None,
        "action": action[1] if action else None,
        "disposition_id": action[2] if action else None,
        "disposition": action[3] if action else None,
        "enrichments": [_enrichment(row, class_uid)],
        "observables": list(_event_observables(row, name, class_uid)),
        "metadata": metadata(
            profiles,
            log_format=row.get("log_format"),
            log_source=row.get("source_file"),
            processed_time=epoch_ms(now) if untimed else None,
        ),
        "unmapped": unmapped(row, EVENT_MAPPED) | leftovers,
    }
    if method and method not in HTTP_ACTIVITY_ID:
        record["unmapped"]["method"] = row.get("method")
    return dict(compact(record))


def _http_part(row: dict[str, Any], method: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """HTTP Activity named after the method; one outside OCSF's list is activity Other."""
    known = HTTP_ACTIVITY_ID.get(method)
    activity = known or ((99, method.title()) if method else (0, "Unknown"))
    out: dict[str, Any] = {}
    out["http_request"] = {
        "url": _url(row.get("url"), row.get("host")),
        "http_method": method if known else None,
        "user_agent": row.get("user_agent"),
    }
    if row.get("status") is not None and row.get("log_type") != "dns":
        out["http_response"] = {"code": row["status"]}
    return classification(HTTP_ACTIVITY, *activity), out


def _url(url: str | None, host: str | None) -> dict[str, Any] | None:
    """OCSF's URL object from our ``scheme://host[:port]/path``."""
    parts = split_url(url, host)
    if parts is None:
        return None
    return dict(zip(("url_string", "scheme", "hostname", "port", "path"), parts, strict=True))


def _dns_part(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    answers = row.get("dns_answers") or []
    rcode = (row.get("dns_rcode") or "").upper()
    status = row.get("status")
    if row.get("dns_answer_only"):
        activity = (2, "Response")
    elif answers or rcode or status is not None:
        activity = (6, "Traffic")
    else:
        activity = (1, "Query")
    out: dict[str, Any] = {}
    out["query"] = {"hostname": row.get("host"), "type": row.get("dns_qtype")}
    out["answers"] = [
        {"rdata": answer, "type": answer_type(answer)} for answer in answers if answer
    ]
    if rcode:
        code = DNS_RCODES.get(rcode)
        if code is None:
            out |= {"rcode_id": 99, "rcode": row.get("dns_rcode")}
        else:
            out |= {"rcode_id": code, "rcode": RCODE_CAPTION[code]}
    elif status is not None:  # a numeric response code where the log has no name for it
        caption = RCODE_CAPTION.get(status)
        out |= {"rcode_id": status if caption else 99, "rcode": caption or str(status)}
    return classification(DNS_ACTIVITY, *activity), out


def _enrichment(row: dict[str, Any], class_uid: int) -> dict[str, Any]:
    """The AI service the event matched, attached to the attribute the rule matched on."""
    rule = row.get("match_rule") or ""
    if rule.startswith("ip:"):
        attribute, value = "dst_endpoint.ip", row.get("dst_ip")
    elif rule.startswith("app:"):
        attribute, value = "app_name", row.get("app")
    elif class_uid == DNS_ACTIVITY:
        attribute, value = "query.hostname", row.get("host")
    elif class_uid == HTTP_ACTIVITY and row.get("url"):
        attribute, value = "http_request.url.url_string", row.get("url")
    else:
        attribute, value = "dst_endpoint.hostname", row.get("host")
    service = row.get("service") or row.get("service_id")
    return {
        "name": attribute,
        "value": value or row.get("host") or row.get("dst_ip") or row.get("service_id"),
        "type": "AI service",
        "provider": "shadowscan",
        "short_desc": service_label(service, row.get("vendor")),
        "data": {
            "service_id": row.get("service_id"),
            "service": service,
            "vendor": row.get("vendor"),
            "category": row.get("category"),
            "match_rule": row.get("match_rule"),
            "confidence": row.get("confidence"),
            "model": row.get("model"),
        },
    }


def _event_observables(
    row: dict[str, Any], name: str | None, class_uid: int
) -> Iterator[dict[str, Any]]:
    if name:
        yield observable("actor.user.name", USER_NAME, name)
    for attribute, column in (("src_endpoint.ip", "src_ip"), ("dst_endpoint.ip", "dst_ip")):
        if is_ip(row.get(column)):
            yield observable(attribute, IP_ADDRESS, row[column])
    if row.get("host"):
        attribute = "query.hostname" if class_uid == DNS_ACTIVITY else "dst_endpoint.hostname"
        yield observable(attribute, HOSTNAME, row["host"])
    for answer in distinct(row.get("dns_answers") or [] if class_uid == DNS_ACTIVITY else []):
        if is_ip(answer):
            yield observable("answers[].rdata", IP_ADDRESS, answer)
    if row.get("user_agent") and class_uid == HTTP_ACTIVITY:
        yield observable("http_request.user_agent", USER_AGENT, row["user_agent"])


def _identifies(endpoint: dict[str, Any]) -> bool:
    """OCSF wants an endpoint to say which one it is, not only its port."""
    return any(endpoint.get(key) for key in ("ip", "hostname", "svc_name"))


def _port(value: Any) -> int | None:
    return value if isinstance(value, int) and 0 <= value <= 65535 else None


def _is_subnet(value: Any) -> bool:
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


@SINKS.register("ocsf")
class OcsfSink(JsonLinesSink):
    name = "ocsf"
    summary = (
        f"OCSF {OCSF_VERSION}, one event per line: Detection Finding per finding; "
        "HTTP, DNS or Network Activity per --events event."
    )

    finding = staticmethod(finding_record)
    event = staticmethod(event_record)
