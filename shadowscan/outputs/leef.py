"""IBM QRadar Log Event Extended Format (LEEF 2.0), one record per line.

``LEEF:2.0|shadowscan|shadowscan|<version>|<event id>|x09|devTime=...<tab>sev=...<tab>...``

The attributes are separated by a tab, declared in the header as ``x09`` (LEEF 2.0 takes
the delimiter as a character or its hex code). ``devTime`` is in epoch milliseconds,
which QRadar reads without a ``devTimeFormat``. Predefined keys carry what they are
meant for (``src``, ``dst``, ``srcPort``, ``usrName``, ``accountName``, ``sev``, ``cat``,
``srcBytes``, ``dstBytes``, ``url``, ``policy``...); the rest are custom keys named after
shadowscan's fields (``riskScore``, ``serviceId``...).

LEEF defines no escaping in attribute values, and QRadar shows values as they are, so
escaping is kept to what the framing needs: a tab, line feed or carriage return in a
value is written ``\\t``, ``\\n``, ``\\r``, and a backslash is doubled only where it would
otherwise read as one of those escapes (``C:\\new`` -> ``C:\\\\new``; ``CORP\\jdoe`` stays
as it is). ``=`` needs no escape: a value runs from the first ``=`` to the next tab. In
the header, ``\\`` and ``|`` are escaped with a backslash and line breaks as above.
"""

from __future__ import annotations

import polars as pl

from shadowscan.outputs import SINKS
from shadowscan.outputs._siem import DEVICE, SiemField, SiemSink, escape_header

#: LEEF 2.0's delimiter field for a tab.
DELIMITER = "x09"

#: Finding field -> LEEF key (None: not written; ``devTime`` already is the last time).
FINDING_KEYS: dict[str, str | None] = {
    "time": "devTime",
    "start": "firstSeen",
    "end": None,
    "user": "usrName",
    "src_ipv4": "src",
    "src_ipv6": "src",
    "device": None,  # all of them are in ``devices``
    "host": "dstHost",
    "service": "service",
    "service_id": "serviceId",
    "vendor": "serviceVendor",
    "category": "cat",
    "policy": "policy",
    "policy_rule": "policyRule",
    "department": "department",
    "attribution": "attribution",
    "candidates": "candidates",
    "severity": "severity",
    "action": "action",
    "outcome": None,
    "bytes_out": "srcBytes",
    "bytes_in": "dstBytes",
    "requests": "requests",
    "queries": "queries",
    "blocked": "blocked",
    "large_uploads": "largeUploads",
    "active_days": "activeDays",
    "src_ips": "srcIps",
    "devices": "devices",
    "hosts": "hosts",
    "site": "site",
    "subnet": "subnet",
    "log_types": "logTypes",
    "confidence": "confidence",
    "match_rules": "matchRules",
    "models": "models",
    "risk_factors": "riskFactors",
    "message": "msg",
    "risk_score": "riskScore",
    "count": None,  # ``requests`` and ``queries`` say it
}

#: Event field -> LEEF key.
EVENT_KEYS: dict[str, str | None] = {
    "time": "devTime",
    "src_ipv4": "src",
    "src_ipv6": "src",
    "src_port": "srcPort",
    "dst_ipv4": "dst",
    "dst_ipv6": "dst",
    "dst_port": "dstPort",
    "user": "usrName",
    "log_user": "accountName",
    "device": "device",
    "host": "dstHost",
    "url": "url",
    "method": "method",
    "user_agent": "userAgent",
    "status": "status",
    "action": "action",
    "outcome": None,
    "bytes_out": "srcBytes",
    "bytes_in": "dstBytes",
    "app": "app",
    "process": "process",
    "dns_qtype": "dnsQtype",
    "dns_rcode": "dnsRcode",
    "dns_answers": "dnsAnswers",
    "service": "service",
    "service_id": "serviceId",
    "vendor": "serviceVendor",
    "category": "cat",
    "match_rule": "matchRule",
    "confidence": "confidence",
    "department": "department",
    "attribution": "attribution",
    "candidates": "candidates",
    "model": "model",
    "repeat": "repeat",
    "log_format": "logFormat",
    "log_type": "logType",
    "source_file": "sourceFile",
    "line_no": "lineNo",
}

#: Characters a value may not hold raw, and what stands for them.
_BREAKS = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
#: What may follow a backslash to make an escape, raw or escaped.
_ESCAPE_NEXT = "\\\\tnr\t\n\r"


def escape_value(text: pl.Expr) -> pl.Expr:
    """An attribute value without tabs or line breaks, every backslash still readable.

    A run of backslashes before ``t``, ``n``, ``r`` or a tab/line break is doubled; before
    anything else (or at the end) every backslash but the last is doubled; so reading
    ``\\\\`` as ``\\`` and ``\\t``/``\\n``/``\\r`` as the character, and any other
    backslash as itself, gives the value back exactly.
    """
    out = text.str.replace_all(r"(\\+)([tnr\t\n\r])", "${1}${1}${2}").str.replace_all(
        rf"\\(\\*)([^{_ESCAPE_NEXT}]|$)", r"\${1}${1}${2}"
    )
    for raw, escaped in _BREAKS.items():
        out = out.str.replace_all(raw, escaped, literal=True)
    return out


@SINKS.register("leef")
class LeefSink(SiemSink):
    name = "leef"
    summary = "IBM QRadar LEEF 2.0 (tab-delimited), one record per finding (or event) per line."
    extensions = (".leef",)
    finding_keys = FINDING_KEYS
    event_keys = EVENT_KEYS

    def record(self, fields: list[tuple[SiemField, str]]) -> pl.Expr:
        attributes = [pl.lit("sev=") + pl.col("_severity").cast(pl.String)]
        attributes += [pl.lit(f"{key}=") + field.column(escape_value) for field, key in fields]
        return pl.concat_str(
            [
                pl.lit(f"LEEF:2.0|{DEVICE}|"),
                escape_header(pl.col("_event_id")),
                pl.lit(f"|{DELIMITER}|"),
                pl.concat_str(attributes, separator="\t", ignore_nulls=True),
            ]
        )
