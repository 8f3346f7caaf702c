"""ISC BIND ``named`` log lines, shared by ``bind`` and ``infoblox_bind`` (Infoblox NIOS runs
BIND and adds its own response logging and CEF RPZ hits).

Envelope, every part optional: a syslog header ending in ``named[pid]:`` (BSD or RFC 3339
time; up to two host fields: Infoblox relays put an IP after the host name), BIND's own
time (``19-Oct-2022 05:34:02.425``, ``print-time iso8601`` or ``iso8601-utc``), and
``category:`` / ``severity:`` words (``queries: info:``; Infoblox writes its
``infoblox-responses:`` category *before* the time). Then
``client [@0x…] IP#port [(name)][:] [view V:]`` and one of the lookup messages:

============================  ==========================================================
message                       event
============================  ==========================================================
``query: N IN T +E(0)K (S)``  a query (query log); ``S`` is the server address -> dst_ip
``query (cache) 'N/T/IN'      a denied query -> blocked (``approved`` -> allowed)
denied``
``zone transfer 'N/AXFR/IN'   a zone-transfer request -> blocked (``approved`` -> allowed)
denied``
``bad zone transfer request:  a refused zone transfer (``dns_rcode`` from the parentheses,
'N/IN': … (NOTAUTH)``         ``dns_qtype`` unknown) -> blocked
``query failed (R) for        ``query-errors``: ``R`` is the rcode when it is one (REFUSED
N/IN/T at …``                 -> blocked; other codes -> allowed; ``timed out`` -> unknown)
``rpz QNAME P rewrite N/T/IN  an RPZ hit: blocked unless the policy is ``PASSTHRU`` or the
via Z``                       zone is ``disabled`` (log only)
``rate limit drop|slip        response rate limiting -> blocked (``would rate limit``, the
response to … for N IN T``    log-only mode -> unknown)
============================  ==========================================================

Infoblox only: response logging
``client IP#port [view V:] UDP: query: N IN T response: RCODE +ED <answers>`` (answers are
``name ttl IN TYPE data;`` records: A/AAAA addresses and CNAME targets go to
``dns_answers``), the query-rewrite message ``rewriting query name 'N' to 'M', type T``
(blocked: the client does not get the name it asked for), and CEF RPZ hits
``CEF:0|Infoblox|NIOS|…|RPZ-QNAME|NXDOMAIN|…|… src=… spt=… qtype=A msg="rpz QNAME
NXDOMAIN rewrite N [A] via …"``.

Everything else carrying the envelope is informational (zone loads and transfers,
notifies, dynamic updates, DNSSEC validation, RPZ reloads, resolver priming, …) and is
skipped; but a ``client`` line that starts like a lookup message and does not parse is
unparsed. Times carry no zone (``iso8601-utc``'s ``Z`` aside): they are read in
``--timezone``; BIND's own time wins over the syslog header's (it has a year). Lines
without any time (``print-time no``) are events with a null ``ts``.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers._dnslog import (
    DIGIT,
    IP,
    ISO_TS,
    SYSLOG_TS,
    lit,
    not_prefixed,
    rcode_name,
    rcode_or_answers_action,
    resolver_answers_or_null,
    resolver_qtype_expr,
    words,
)
from shadowscan.parsers.base import ParsedBatch, Sniff, not_matching, to_int
from shadowscan.parsers.common import iso_ts, kv_value, strptime_ts, syslog_ts

_SYSLOG = (
    r"(?:<\d{1,3}>\d?\s*)?"
    rf"(?:(?P<sts>{SYSLOG_TS})|(?P<sts_iso>{ISO_TS}))\s+"
    r"(?:[^\s\[]+\s+){0,2}named(?:\[\d+\])?:\s+"
)
_BIND_TS = (
    r"(?:(?P<bts>\d{1,2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)"
    r"|(?P<bts_iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?))"
)
#: ``category:`` and ``severity:`` words (any, for events).
_CAT_ANY = r"(?:[a-z][a-z0-9_\-]*(?: \d+)?: )"
_ENVELOPE = rf"^(?:{_SYSLOG})?{_CAT_ANY}*(?:{_BIND_TS}\s+)?{_CAT_ANY}*"
_CLIENT = (
    r"client (?:@0x[0-9a-fA-F]+ )?(?P<src>"
    + IP
    + r")#(?P<sport>\d{1,5})(?: \((?P<cname>[^)\s]*)\))?:? "
    r"(?:view (?P<view>[^:]+): )?"
)
_NAME = r"[^\s'/]*"  # a query name inside 'N/T/C' (the root is an empty string or '.')
_TYPE = r"[A-Z][A-Z0-9\-]*|\d{1,5}"
_QUERY = (
    r"query: (?P<q_name>\S+) (?P<q_class>[A-Z][A-Z0-9]*) (?P<q_type>" + _TYPE + r")"
    r"(?: (?P<q_flags>[+\-][A-Za-z0-9()]*))?(?: \((?P<q_server>" + IP + r")\))?"
    r"(?: \[[^\]]*\])*\s*$"
)
_DENIED = (
    rf"query (?:\(cache\) )?'(?P<d_name>{_NAME})/(?P<d_type>[^'/\s]+)/(?P<d_class>[^'/\s]+)' "
    r"(?P<d_verdict>denied|approved)(?:\s.*)?$"
)
_XFER = (
    rf"zone transfer '(?P<z_name>{_NAME})/(?P<z_type>[^'/\s]+)/(?P<z_class>[^'/\s]+)' "
    r"(?P<z_verdict>denied|approved)(?:\s.*)?$"
)
_BAD_XFER = (
    rf"bad zone transfer request: '(?P<b_name>{_NAME})/(?P<b_class>[^'/\s]+)': "
    r".*?(?:\((?P<b_rcode>[A-Z]+)\))?\s*$"
)
_FAILED = (
    r"query failed \((?P<f_reason>[^)]*)\).*? for (?P<f_name>[^\s/]*)/(?P<f_class>[^\s/]+)"
    r"/(?P<f_type>[^\s/]+)(?:\s.*)?$"
)
_RPZ = (
    r"(?P<r_disabled>disabled )?rpz (?P<r_trigger>[A-Za-z\-]+) (?P<r_policy>[A-Za-z\-]+) "
    r"rewrite (?P<r_name>[^\s/]+)(?:/(?P<r_type>[^\s/]+)/(?P<r_class>[^\s/]+))? via \S+(?:\s.*)?$"
)
_RRL = (
    r"(?P<l_would>would )?rate limit (?P<l_act>drop|slip) (?:[A-Za-z]+ )?response to \S+ "
    r"for\s+(?P<l_name>[^\s()]+)(?:\s+(?:IN|CH|HS|ANY)\s+(?P<l_type>[A-Z][A-Z0-9]*))?(?:\s.*)?$"
)
# --- Infoblox additions --------------------------------------------------------------
_RESPONSE = (
    r"(?:(?P<i_transport>UDP|TCP): )?(?:view (?P<i_view>[^:]+): )?"
    r"query: (?P<i_name>\S+) (?P<i_class>[A-Z][A-Z0-9]*) (?P<i_type>" + _TYPE + r") "
    r"response: (?P<i_rcode>[A-Z][A-Z0-9]*) (?P<i_flags>[+\-][A-Za-z0-9()]*)(?: (?P<i_answers>.*))?$"
)
_REWRITE = r"rewriting query name '(?P<w_name>[^']*)' to '[^']*', type (?P<w_type>[A-Za-z0-9]+)\s*$"
_CEF = (
    r"CEF:\d+\|Infoblox\|NIOS\|[^|]*\|RPZ-(?P<c_trigger>[^|]*)\|(?P<c_policy>[^|]*)\|[^|]*\|"
    r'(?P<c_ext>(?:.*\s)?msg="[^"]*\srewrite\s[^"\s]+.*)$'
)

BIND_PATTERN = (
    _ENVELOPE + _CLIENT + f"(?:{_QUERY}|{_DENIED}|{_XFER}|{_BAD_XFER}|{_FAILED}|{_RPZ}|{_RRL})"
)
INFOBLOX_PATTERN = (
    _ENVELOPE
    + f"(?:{_CLIENT}(?:{_RESPONSE}|{_QUERY}|{_DENIED}|{_XFER}|{_BAD_XFER}|{_FAILED}|{_RPZ}|{_RRL}|{_REWRITE})"
    + f"|{_CEF})"
)

# --- skip patterns ---------------------------------------------------------------------

#: BIND's categories (fixed list, so that :func:`not_prefixed` can exclude them) and
#: severities.
CATEGORIES = [
    "client",
    "cname",
    "config",
    "database",
    "default",
    "delegation-only",
    "dispatch",
    "dnssec",
    "dnstap",
    "edns-disabled",
    "general",
    "lame-servers",
    "network",
    "notify",
    "nsid",
    "queries",
    "query-errors",
    "rate-limit",
    "resolver",
    "rpz",
    "rpz-passthru",
    "security",
    "serve-stale",
    "spill",
    "sslkeylog",
    "trust-anchor-telemetry",
    "unmatched",
    "update",
    "update-security",
    "xfer-in",
    "xfer-out",
    "zoneload",
    "responses",
    "infoblox-responses",
]
SEVERITIES = ("critical", "error", "warning", "notice", "info", "dynamic")
_CAT = "(?:(?:" + "|".join(re.escape(c) for c in CATEGORIES) + "): )"
_SEV = "(?:(?:" + "|".join(SEVERITIES) + r"|debug(?: \d+)?): )"
#: What a message must not start with to be "something else": anything the optional
#: envelope parts could have consumed (so a shorter match cannot skip a lookup line).
_ENVELOPE_WORDS = [
    *words("client ", *(f"{c}: " for c in CATEGORIES), *(f"{s}: " for s in SEVERITIES)),
    [*lit("debug "), DIGIT],
    lit("debug: "),
    [DIGIT, DIGIT],  # a BIND time the envelope did not take
]
#: Starts of lookup messages (Infoblox's included: for ``bind`` they are unparsed, which
#: keeps ``bind`` from claiming Infoblox files).
_LOOKUP_WORDS = (
    "query",
    "zone transfer",
    "bad zone transfer",
    "rpz ",
    "disabled rpz ",
    "rate limit",
    "would rate limit",
    "rewriting query",
    "UDP: ",
    "TCP: ",
)
_CLIENT_SKIP = r"client (?:@0x[0-9a-fA-F]+ )?[^\s#]+#\d+(?: \([^)]*\))?:? "


def _skip_pattern() -> str:
    lookups = _LOOKUP_WORDS
    other = not_prefixed(_ENVELOPE_WORDS)
    after_client = not_prefixed(words("(", ":", "view ", *lookups))
    after_view = not_prefixed(words(*lookups))
    head = rf"{_CAT}?(?:{_BIND_TS}\s+)?{_CAT}?{_SEV}?"
    return (
        r"^\s*$"
        # named's other messages: a syslog header or a BIND time is required
        + rf"|^(?:{_SYSLOG}{head}|{_CAT}?{_BIND_TS}\s+{_CAT}?{_SEV}?){other}"
        # client messages that are not lookups (notify, update, transfer of ...)
        + rf"|^(?:{_SYSLOG})?{head}{_CLIENT_SKIP}{after_client}"
        + rf"|^(?:{_SYSLOG})?{head}{_CLIENT_SKIP}view [^:]+: {after_view}"
    )


def _strip_names(rx: str) -> str:
    """The same regex without group names (the skip pattern repeats envelope parts)."""
    return re.sub(r"\(\?P<\w+>", "(?:", rx)


#: Blank lines and named's messages that are not lookups.
SKIP = _strip_names(_skip_pattern())

#: Infoblox-only message shapes (sniffing).
INFOBLOX_EVIDENCE = re.compile(
    r"\s(?:UDP|TCP): (?:view [^:]+: )?query: \S+ \S+ \S+ response: "
    r"|CEF:\d+\|Infoblox\|NIOS\||infoblox-responses: |: rewriting query name '"
)


# --- parsing -----------------------------------------------------------------------------


def sniff_named(
    pattern: str, skip: str, lines: list[str], label: str, need: re.Pattern[str] | None
) -> Sniff | None:
    """Share of lines that are lookups or named's other messages, among the non-blank
    lines, provided some are lookups (and, with ``need``, some line shows that evidence)."""
    rx, sk = re.compile(pattern), re.compile(skip)
    data = [ln for ln in lines if ln.strip()]
    hits = sum(1 for ln in data if rx.search(ln))
    if not hits or (need is not None and not any(need.search(ln) for ln in data)):
        return None
    known = sum(1 for ln in data if rx.search(ln) or sk.search(ln))
    return Sniff(known / len(data), f"{hits}/{len(data)} sample lines are {label} lookups")


def parse_named(
    batch: pl.DataFrame,
    pattern: str,
    skip: str,
    prefix: str,
    reason: str,
    timezone: str,
    file_time: dt.datetime | None,
) -> ParsedBatch:
    """Events from the lines matching ``pattern``; ``skip`` lines skipped; the rest rejected."""
    ok = batch["line"].str.contains(pattern)
    skipped = ~ok & batch["line"].str.contains(skip)
    rejected = not_matching(batch, ok | skipped, reason)
    f = (
        batch.filter(ok)
        .select(pl.col("line_no"), pl.col("line").str.extract_groups(pattern).alias("f"))
        .unnest("f")
    )
    for name in ("i_name", "i_type", "i_rcode", "i_flags", "i_answers", "i_transport", "i_view"):
        if name not in f.columns:  # bind's pattern has no Infoblox groups
            f = f.with_columns(pl.lit(None, pl.String).alias(name))
    for name in ("w_name", "w_type", "c_trigger", "c_policy", "c_ext"):
        if name not in f.columns:
            f = f.with_columns(pl.lit(None, pl.String).alias(name))
    c = pl.col
    cef_msg = kv_value(c("c_ext"), "msg")
    f = f.with_columns(
        pl.when(c("q_name").is_not_null())
        .then(pl.lit("query"))
        .when(c("i_name").is_not_null())
        .then(pl.lit("response"))
        .when(c("d_verdict").is_not_null())
        .then(pl.concat_str([pl.lit("query-"), c("d_verdict")]))
        .when(c("z_verdict").is_not_null())
        .then(pl.concat_str([pl.lit("xfer-"), c("z_verdict")]))
        .when(c("b_class").is_not_null())
        .then(pl.lit("xfer-refused"))
        .when(c("f_reason").is_not_null())
        .then(pl.lit("query-failed"))
        .when(c("r_policy").is_not_null())
        .then(pl.lit("rpz"))
        .when(c("l_act").is_not_null())
        .then(pl.lit("rate-limit"))
        .when(c("w_type").is_not_null())
        .then(pl.lit("rewrite"))
        .when(c("c_ext").is_not_null())
        .then(pl.lit("rpz"))
        .alias("_event"),
        pl.coalesce(
            "q_name",
            "i_name",
            "d_name",
            "z_name",
            "b_name",
            "f_name",
            "r_name",
            "l_name",
            "w_name",
            cef_msg.str.extract(r"\srewrite\s+(\S+)", 1),
            "cname",
        ).alias("_name"),
        resolver_qtype_expr(
            pl.coalesce(
                "q_type",
                "i_type",
                "d_type",
                "z_type",
                "f_type",
                "r_type",
                "l_type",
                "w_type",
                kv_value(c("c_ext"), "qtype"),
            )
        ).alias("dns_qtype"),
        pl.coalesce(
            rcode_name(c("i_rcode")),
            rcode_name(c("b_rcode")),
            rcode_name(c("f_reason")),
            pl.when(
                (c("r_policy").str.to_uppercase() == "NXDOMAIN") & c("r_disabled").is_null()
            ).then(pl.lit("NXDOMAIN")),
            pl.when(c("c_policy").str.to_uppercase() == "NXDOMAIN").then(pl.lit("NXDOMAIN")),
        ).alias("dns_rcode"),
        resolver_answers_or_null(
            c("i_answers")
            .str.extract_all(r"\S+ \d+ (?:IN|CH|HS) (?:A|AAAA|CNAME) [^;\s]+")
            .list.eval(pl.element().str.extract(r"(\S+)$", 1))
        ).alias("dns_answers"),
        (
            c("d_verdict").eq("denied")
            | c("z_verdict").eq("denied")
            | c("b_class").is_not_null()
            | (
                c("r_policy").is_not_null()
                & c("r_disabled").is_null()
                & (c("r_policy").str.to_uppercase() != "PASSTHRU")
            )
            | (c("l_act").is_not_null() & c("l_would").is_null())
            | c("w_type").is_not_null()
            | (c("c_ext").is_not_null() & (c("c_policy").str.to_uppercase() != "PASSTHRU"))
        ).alias("_blocked"),
        (
            c("d_verdict").eq("approved")
            | c("z_verdict").eq("approved")
            | c("r_disabled").is_not_null()
            | c("r_policy").str.to_uppercase().eq("PASSTHRU")
            | (c("c_ext").is_not_null() & (c("c_policy").str.to_uppercase() == "PASSTHRU"))
        ).alias("_passed"),
    )
    action = rcode_or_answers_action(c("dns_rcode"), c("dns_answers"), c("_blocked"))
    local = strptime_ts(c("bts"), "%d-%b-%Y %H:%M:%S%.f", timezone)
    ts = pl.coalesce(
        local,
        iso_ts(c("bts_iso"), timezone),
        iso_ts(c("sts_iso"), timezone),
        syslog_ts(c("sts"), file_time, timezone),
    )
    events = f.select(
        c("line_no"),
        ts.alias("ts"),
        pl.coalesce(c("src"), kv_value(c("c_ext"), "src")).alias("src_ip"),
        to_int(pl.coalesce(c("sport"), kv_value(c("c_ext"), "spt")), pl.Int32()).alias("src_port"),
        host_expr(c("_name")).alias("host"),
        pl.coalesce(c("q_server"), kv_value(c("c_ext"), "dst")).alias("dst_ip"),
        c("dns_qtype"),
        c("dns_rcode"),
        c("dns_answers"),
        pl.when((action == "unknown") & c("_passed").fill_null(False))
        .then(pl.lit("allowed"))
        .otherwise(action)
        .alias("action"),
        c("_event").alias(f"{prefix}_event"),
        pl.coalesce(c("q_flags"), c("i_flags")).alias(f"{prefix}_flags"),
        pl.coalesce(c("view"), c("i_view")).alias(f"{prefix}_view"),
    )
    return ParsedBatch(events, rejected, int(skipped.sum()))
