"""What a finding or a matched event says to a SIEM, shared by the ``cef`` and ``leef``
sinks so that the two differ only in their keys, escaping and framing.

:func:`siem_frame` turns findings or events into one row per record: ``_event_id`` (the
stable id of the kind of record: ``shadowscan:finding:<policy>`` for findings, so a SIEM
can map four ids instead of one per service; ``shadowscan:event:<log_type>`` for events),
``_name``, ``_severity`` (0-10), then one string column per :class:`SiemField`, null when
the record has no value (the key is then left out). Values are rendered once, here:
times as milliseconds since the epoch (what ArcSight and QRadar read without a format),
lists joined with ``,``, booleans as ``true``/``false``. Vectorised: one expression per
field, no Python loop per record.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any, ClassVar

import polars as pl

from shadowscan import __version__
from shadowscan.outputs._json_common import check_kind
from shadowscan.outputs.base import Sink
from shadowscan.schema import (
    ATTRIBUTION_SCHEMA,
    EVENT_SCHEMA,
    FINDING_SCHEMA,
    MATCH_SCHEMA,
    conform,
)

VENDOR = "shadowscan"
PRODUCT = "shadowscan"
VERSION = __version__

#: Finding severity -> the SIEM's 0-10 scale, one step inside each of ArcSight's bands
#: (0-3 Low, 4-6 Medium, 7-8 High, 9-10 Very-High); QRadar's ``sev`` is 1-10, so ``info``
#: is 1, not 0.
FINDING_SEVERITY: dict[str, int] = {"info": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}
#: A matched event is evidence, not an alert: it stays in the Low band, by match confidence.
EVENT_SEVERITY: dict[str, int] = {"low": 1, "medium": 2, "high": 3}

#: ``log_type`` -> event name (the name says what happened; the fields say to whom).
EVENT_NAMES: dict[str, str] = {
    "proxy": "AI service web request",
    "dns": "AI service DNS lookup",
    "firewall": "AI service connection",
    "flow": "AI service connection",
}

EVENT_SCHEMA_ALL: dict[str, pl.DataType] = {**EVENT_SCHEMA, **MATCH_SCHEMA, **ATTRIBUTION_SCHEMA}


@dataclass(frozen=True)
class SiemField:
    """One value a record carries: ``name`` (the column in :func:`siem_frame`, and what a
    format's key table maps), ``label`` (what an analyst calls it: CEF's ``cs1Label``...)."""

    name: str
    label: str
    value: pl.Expr
    #: False for values shadowscan renders itself (numbers, times, booleans), which hold
    #: nothing a format must escape.
    text: bool = True

    def column(self, escape: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
        """This field's column of :func:`siem_frame`, through the format's ``escape`` when
        it is text."""
        return escape(pl.col(self.name)) if self.text else pl.col(self.name)


def _text(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String)


def _ms(col: str) -> pl.Expr:
    return pl.col(col).dt.epoch("ms").cast(pl.String)


def _joined(col: str) -> pl.Expr:
    """A list as ``a,b``; an empty list is no value."""
    return pl.when(pl.col(col).list.len() > 0).then(pl.col(col).list.join(","))


def _first(col: str) -> pl.Expr:
    return pl.col(col).list.first()


def _is_ipv6(address: pl.Expr) -> pl.Expr:
    return address.str.contains(":", literal=True)


def _ipv4(address: pl.Expr) -> pl.Expr:
    return pl.when(~_is_ipv6(address)).then(address)


def _ipv6(address: pl.Expr) -> pl.Expr:
    return pl.when(_is_ipv6(address)).then(address)


def _boolean(col: str) -> pl.Expr:
    return pl.when(pl.col(col)).then(pl.lit("true")).when(~pl.col(col)).then(pl.lit("false"))


def _outcome(action: pl.Expr) -> pl.Expr:
    """CEF's ``outcome`` from an action: whether the traffic got through."""
    return (
        pl.when(action.is_in(["allowed", "partially blocked"]))
        .then(pl.lit("success"))
        .when(action == "blocked")
        .then(pl.lit("failure"))
    )


def _finding_action() -> pl.Expr:
    """``allowed`` (nothing blocked), ``blocked`` (everything) or ``partially blocked``."""
    blocked = pl.col("blocked").fill_null(0)
    total = pl.col("requests").fill_null(0) + pl.col("queries").fill_null(0)
    return (
        pl.when(blocked == 0)
        .then(pl.lit("allowed"))
        .when(blocked >= total)
        .then(pl.lit("blocked"))
        .otherwise(pl.lit("partially blocked"))
    )


def _finding_message() -> pl.Expr:
    """One sentence for the analyst's event list: who, what, how much, how risky."""
    addresses = pl.when(pl.col("src_ips").list.len() > 0).then(pl.col("src_ips").list.join(", "))
    claimed = pl.when(pl.col("candidates").list.len() > 0).then(
        pl.lit(" (") + pl.col("candidates").list.join(" or ") + pl.lit("?)")
    )
    who = pl.coalesce(
        pl.col("user"),
        addresses + claimed.fill_null(""),
        pl.lit("an unknown source"),
    )
    return pl.format(
        "{} used {} ({}, risk {}): requests {}, DNS queries {}, blocked {}, bytes sent {}, "
        "large uploads {}, active days {}",
        who,
        pl.col("service").fill_null("an AI service"),
        pl.col("policy").fill_null("unreviewed"),
        _text("risk_score").fill_null("unknown"),
        _text("requests").fill_null("0"),
        _text("queries").fill_null("0"),
        _text("blocked").fill_null("0"),
        _text("bytes_out").fill_null("unknown"),
        _text("large_uploads").fill_null("0"),
        _text("active_days").fill_null("0"),
    )


def _service_fields() -> tuple[SiemField, ...]:
    """The AI service a finding or an event is about."""
    return (
        SiemField("service", "Service", pl.col("service")),
        SiemField("service_id", "Service ID", pl.col("service_id")),
        SiemField("vendor", "Service Vendor", pl.col("vendor")),
        SiemField("category", "Service Category", pl.col("category")),
    )


def _attribution_fields() -> tuple[SiemField, ...]:
    """Whom a finding or an event was put down to, and how."""
    return (
        SiemField("department", "Department", pl.col("department")),
        SiemField("attribution", "Attribution", pl.col("attribution")),
        SiemField("candidates", "Candidates", _joined("candidates")),
    )


def finding_fields() -> tuple[SiemField, ...]:
    """A finding's values, in the order the formats write them. ``count`` comes last and is
    never null: CEF drops trailing spaces of the last value, so it must not be text."""
    f = SiemField
    return (
        f("time", "Last Seen", _ms("last_seen"), text=False),
        f("start", "First Seen", _ms("first_seen"), text=False),
        f("end", "Last Seen", _ms("last_seen"), text=False),
        f("user", "User", pl.col("user")),
        f("src_ipv4", "Source Address", _ipv4(_first("src_ips"))),
        f("src_ipv6", "Source IPv6 Address", _ipv6(_first("src_ips"))),
        f("device", "Device", _first("devices")),
        f("host", "Host", _first("hosts")),
        *_service_fields(),
        f("policy", "Policy", pl.col("policy")),
        f("policy_rule", "Policy Rule", pl.col("policy_rule")),
        *_attribution_fields(),
        f("severity", "Severity", pl.col("severity")),
        f("action", "Action", _finding_action()),
        f("outcome", "Outcome", _outcome(_finding_action())),
        f("bytes_out", "Bytes Sent", _text("bytes_out"), text=False),
        f("bytes_in", "Bytes Received", _text("bytes_in"), text=False),
        f("requests", "Requests", _text("requests"), text=False),
        f("queries", "DNS Queries", _text("queries"), text=False),
        f("blocked", "Blocked", _text("blocked"), text=False),
        f("large_uploads", "Large Uploads", _text("large_uploads"), text=False),
        f("active_days", "Active Days", _text("active_days"), text=False),
        f("src_ips", "Source Addresses", _joined("src_ips")),
        f("devices", "Devices", _joined("devices")),
        f("hosts", "Hosts", _joined("hosts")),
        f("site", "Site", pl.col("site")),
        f("subnet", "Subnet", pl.col("subnet")),
        f("log_types", "Log Types", _joined("log_types")),
        f("confidence", "Confidence", pl.col("confidence")),
        f("match_rules", "Match Rules", _joined("match_rules")),
        f("models", "Models", _joined("models")),
        f("risk_factors", "Risk Factors", _joined("risk_factors")),
        f("message", "Message", _finding_message()),
        f("risk_score", "Risk Score", _text("risk_score"), text=False),
        f(
            "count",
            "Count",
            (pl.col("requests").fill_null(0) + pl.col("queries").fill_null(0)).cast(pl.String),
            text=False,
        ),
    )


def event_fields() -> tuple[SiemField, ...]:
    """A matched event's values, in the order the formats write them (``line_no`` last:
    a number, see :func:`finding_fields`)."""
    f = SiemField
    return (
        f("time", "Event Time", _ms("ts"), text=False),
        f("src_ipv4", "Source Address", _ipv4(pl.col("src_ip"))),
        f("src_ipv6", "Source IPv6 Address", _ipv6(pl.col("src_ip"))),
        f("src_port", "Source Port", _text("src_port"), text=False),
        f("dst_ipv4", "Destination Address", _ipv4(pl.col("dst_ip"))),
        f("dst_ipv6", "Destination IPv6 Address", _ipv6(pl.col("dst_ip"))),
        f("dst_port", "Destination Port", _text("dst_port"), text=False),
        f("user", "User", pl.col("user")),
        f("log_user", "Logged User", pl.col("log_user")),
        f("device", "Device", pl.col("device")),
        f("host", "Host", pl.col("host")),
        f("url", "URL", pl.col("url")),
        f("method", "Method", pl.col("method")),
        f("user_agent", "User Agent", pl.col("user_agent")),
        f("status", "Status", _text("status"), text=False),
        f("action", "Action", pl.col("action")),
        f("outcome", "Outcome", _outcome(pl.col("action"))),
        f("bytes_out", "Bytes Sent", _text("bytes_out"), text=False),
        f("bytes_in", "Bytes Received", _text("bytes_in"), text=False),
        f("app", "Application", pl.col("app")),
        f("process", "Process", pl.col("process")),
        f("dns_qtype", "DNS Query Type", pl.col("dns_qtype")),
        f("dns_rcode", "DNS Response Code", pl.col("dns_rcode")),
        f("dns_answers", "DNS Answers", _joined("dns_answers")),
        *_service_fields(),
        f("match_rule", "Match Rule", pl.col("match_rule")),
        f("confidence", "Confidence", pl.col("confidence")),
        *_attribution_fields(),
        f("model", "Model", pl.col("model")),
        f("repeat", "Repeat", _boolean("repeat"), text=False),
        f("log_format", "Log Format", pl.col("log_format")),
        f("log_type", "Log Type", pl.col("log_type")),
        f("source_file", "Source File", pl.col("source_file")),
        f("line_no", "Line", _text("line_no"), text=False),
    )


#: Header escapes, CEF's, used for LEEF too (whose specification defines none; shadowscan's
#: own LEEF reader takes them): ``\\`` and ``|`` get a backslash; line breaks, which a
#: header may not hold, are written ``\\n``/``\\r``.
_HEADER_ESCAPES = (("\\", "\\\\"), ("|", "\\|"), ("\n", "\\n"), ("\r", "\\r"))


def escape_header(text: pl.Expr) -> pl.Expr:
    """A pipe-delimited header field, escaped (see ``_HEADER_ESCAPES``)."""
    for raw, escaped in _HEADER_ESCAPES:
        text = text.str.replace_all(raw, escaped, literal=True)
    return text


def escape_header_text(text: str) -> str:
    """:func:`escape_header` for a constant (vendor, product, version)."""
    for raw, escaped in _HEADER_ESCAPES:
        text = text.replace(raw, escaped)
    return text


#: The header's ``vendor|product|version``, escaped.
DEVICE = "|".join(escape_header_text(v) for v in (VENDOR, PRODUCT, VERSION))


def fields_of(kind: str) -> tuple[SiemField, ...]:
    return finding_fields() if kind == "findings" else event_fields()


def _header(kind: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The id, name and severity (Int8, null when unknown) of each record."""
    if kind == "findings":
        policy = pl.col("policy").fill_null("unreviewed")
        return (
            pl.lit("shadowscan:finding:") + policy,
            policy.str.slice(0, 1).str.to_uppercase()
            + policy.str.slice(1)
            + pl.lit(" AI service use"),
            pl.col("severity").replace_strict(FINDING_SEVERITY, default=None, return_dtype=pl.Int8),
        )
    log_type = pl.col("log_type").fill_null("unknown")
    return (
        pl.lit("shadowscan:event:") + log_type,
        log_type.replace_strict(EVENT_NAMES, default="AI service activity", return_dtype=pl.String),
        pl.col("confidence").replace_strict(EVENT_SEVERITY, default=None, return_dtype=pl.Int8),
    )


def siem_frame(frame: pl.DataFrame, kind: str, format_name: str) -> pl.DataFrame:
    """``_event_id``, ``_name``, ``_severity`` and one string column per field of ``kind``."""
    check_kind(format_name, kind)
    schema = FINDING_SCHEMA if kind == "findings" else EVENT_SCHEMA_ALL
    event_id, name, severity = _header(kind)
    return conform(frame, schema).select(
        event_id.alias("_event_id"),
        name.alias("_name"),
        severity.alias("_severity"),
        *(f.value.cast(pl.String).alias(f.name) for f in fields_of(kind)),
    )


class SiemSink(Sink):
    """A sink writing one record per line; :meth:`lines` gives the records without
    newlines, so that a transport can send each as one message. A format gives its keys
    and how it puts a record together (:meth:`record`); the values come from
    :func:`siem_frame`, the same for every format."""

    #: Field name -> the format's key, for findings and for events (``None`` leaves the
    #: field out; a field missing here is a bug the tests catch).
    finding_keys: ClassVar[Mapping[str, str | None]]
    event_keys: ClassVar[Mapping[str, str | None]]

    @abstractmethod
    def record(self, fields: list[tuple[SiemField, str]]) -> pl.Expr:
        """One record as a string expression over the columns of :func:`siem_frame`;
        ``fields`` are the values to write, in order, each with its key."""

    def lines(self, frame: pl.DataFrame, *, kind: str) -> pl.Series:
        """One record per finding (or event), as strings without line breaks."""
        siem = siem_frame(frame, kind, self.name)
        keys = self.finding_keys if kind == "findings" else self.event_keys
        fields = [(f, key) for f in fields_of(kind) if (key := keys[f.name]) is not None]
        return siem.select(self.record(fields).alias(self.name)).to_series()

    def write(self, frame: pl.DataFrame, stream: IO[Any], *, kind: str) -> None:
        records = self.lines(frame, kind=kind)
        for start in range(0, records.len(), 10_000):
            stream.write(records.slice(start, 10_000).str.join("\n").item() + "\n")
