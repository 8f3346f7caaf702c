"""ArcSight Common Event Format (CEF:0), one record per line, for ArcSight and the many
SIEMs that read CEF over syslog or from a file.

``CEF:0|shadowscan|shadowscan|<version>|<event id>|<name>|<severity>|key=value ...``

Escaping follows "Implementing ArcSight CEF": in the header ``\\`` and ``|`` are escaped
with a backslash; in extension values ``\\`` and ``=`` are, and line breaks are written as
``\\n``/``\\r``. The header has no room for line breaks either, so they are written the
same way there: no record ever spans two lines. Keys are fixed; a value that is null is
left out. Standard keys carry what they are meant for (``suser``, ``src``, ``dhost``,
``request``, ``act``, ``out``/``in``, ``rt``/``start``/``end`` in epoch milliseconds...);
the six ``cs`` strings and three ``cn`` numbers carry the rest that SIEM rules use, each
with its ``Label``; everything else goes in ``shadowscan``-prefixed keys, as the standard
asks of user-defined extensions (ArcSight shows them as Additional Data).
"""

from __future__ import annotations

import polars as pl

from shadowscan.outputs import SINKS
from shadowscan.outputs._siem import DEVICE, SiemField, SiemSink, escape_header

#: Finding field -> CEF key.
FINDING_KEYS: dict[str, str | None] = {
    "time": "rt",
    "start": "start",
    "end": "end",
    "user": "suser",
    "src_ipv4": "src",
    "src_ipv6": "c6a2",
    "device": "shost",
    "host": "dhost",
    "service": "destinationServiceName",
    "service_id": "cs1",
    "vendor": "cs2",
    "category": "cat",
    "policy": "cs3",
    "policy_rule": "cs4",
    "department": "cs5",
    "attribution": "cs6",
    "candidates": "shadowscanCandidates",
    "severity": "shadowscanSeverity",
    "action": "act",
    "outcome": "outcome",
    "bytes_out": "out",
    "bytes_in": "in",
    "requests": "shadowscanRequests",
    "queries": "shadowscanQueries",
    "blocked": "shadowscanBlocked",
    "large_uploads": "cn2",
    "active_days": "cn3",
    "src_ips": "shadowscanSrcIps",
    "devices": "shadowscanDevices",
    "hosts": "shadowscanHosts",
    "site": "shadowscanSite",
    "subnet": "shadowscanSubnet",
    "log_types": "shadowscanLogTypes",
    "confidence": "shadowscanConfidence",
    "match_rules": "shadowscanMatchRules",
    "models": "shadowscanModels",
    "risk_factors": "reason",
    "message": "msg",
    "risk_score": "cn1",
    "count": "cnt",
}

#: Event field -> CEF key.
EVENT_KEYS: dict[str, str | None] = {
    "time": "rt",
    "src_ipv4": "src",
    "src_ipv6": "c6a2",
    "src_port": "spt",
    "dst_ipv4": "dst",
    "dst_ipv6": "c6a3",
    "dst_port": "dpt",
    "user": "suser",
    "log_user": "shadowscanLogUser",
    "device": "shost",
    "host": "dhost",
    "url": "request",
    "method": "requestMethod",
    "user_agent": "requestClientApplication",
    "status": "shadowscanStatus",
    "action": "act",
    "outcome": "outcome",
    "bytes_out": "out",
    "bytes_in": "in",
    # PAN-OS and others put their App-ID in ``app``; shadowscan's own CEF reader does too.
    "app": "app",
    "process": "sproc",
    "dns_qtype": "shadowscanDnsQtype",
    "dns_rcode": "shadowscanDnsRcode",
    "dns_answers": "shadowscanDnsAnswers",
    "service": "destinationServiceName",
    "service_id": "cs1",
    "vendor": "cs2",
    "category": "cat",
    "match_rule": "cs3",
    "confidence": "cs4",
    "department": "cs5",
    "attribution": "cs6",
    "candidates": "shadowscanCandidates",
    "model": "shadowscanModel",
    "repeat": "shadowscanRepeat",
    "log_format": "shadowscanLogFormat",
    "log_type": "shadowscanLogType",
    "source_file": "shadowscanSourceFile",
    "line_no": "shadowscanLineNo",
}

#: The custom slots, written with a ``<key>Label`` pair just before the value.
LABELLED_KEYS = frozenset(
    {f"cs{i}" for i in range(1, 7)} | {f"cn{i}" for i in range(1, 4)} | {"c6a2", "c6a3"}
)


def escape_value(text: pl.Expr) -> pl.Expr:
    """An extension value: ``\\`` -> ``\\\\``, ``=`` -> ``\\=``, line breaks -> ``\\n``/``\\r``."""
    return (
        text.str.replace_all(r"([\\=])", r"\$1")
        .str.replace_all("\n", "\\n", literal=True)
        .str.replace_all("\r", "\\r", literal=True)
    )


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("=", "\\=")


@SINKS.register("cef")
class CefSink(SiemSink):
    name = "cef"
    summary = "ArcSight CEF:0, one record per finding (or event) per line."
    extensions = (".cef",)
    finding_keys = FINDING_KEYS
    event_keys = EVENT_KEYS

    def record(self, fields: list[tuple[SiemField, str]]) -> pl.Expr:
        extension = []
        for field, key in fields:
            label = f"{key}Label={_escape_label(field.label)} " if key in LABELLED_KEYS else ""
            extension.append(pl.lit(f"{label}{key}=") + field.column(escape_value))
        return pl.concat_str(
            [
                pl.lit(f"CEF:0|{DEVICE}"),
                escape_header(pl.col("_event_id")),
                escape_header(pl.col("_name")),
                pl.col("_severity").cast(pl.String).fill_null("Unknown"),
                pl.concat_str(extension, separator=" ", ignore_nulls=True),
            ],
            separator="|",
        )
