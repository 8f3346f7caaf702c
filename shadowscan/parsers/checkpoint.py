"""Check Point Log Exporter, ``syslog`` format (RFC 5424 header, bracketed body).

``<134>1 2024-11-04T09:00:00Z gw01 CheckPoint 7776 - [action:"Accept"; src:"10.20.1.15"; dst:"104.18.32.47"; s_port:"51234"; service:"443"; proto:"6"; appi_name:"ChatGPT"; user:"jdoe"; product:"Application Control"]``

The body is ``[key:"value"; key:"value"; ...]``. Values escape ``"``, ``\\`` and ``]``
with a backslash and may hold ``\\u0026`` (``&``); some keys are written with a doubled
colon (``methods::"ESP: AES-128 + SHA1"``). The header may also be a BSD syslog header
or missing. A line with ``src`` is a connection and becomes an event; a well-formed line
without ``src`` (audit, system and policy messages) is skipped.

Mapping: ``src``/``s_port`` -> ``src_*``; ``dst``/``service`` (the destination port
number) -> ``dst_*``; ``user``, else ``src_user_name`` (trimmed); ``appi_name`` ->
``app`` (Application Control's name, e.g. ``ChatGPT``); ``resource`` (URL Filtering's
URL) -> ``url`` and ``host``, else ``dst_domain``/``dst_domain_name`` -> ``host``;
``client_outbound_bytes`` (else ``sent_bytes``) -> ``bytes_out`` and
``client_inbound_bytes`` (else ``received_bytes``) -> ``bytes_in``; a bare ``bytes``
total goes to ``checkpoint_bytes_total``. ``action``: Accept/Allow -> allowed;
Drop/Reject/Block/Prevent -> blocked; anything else (Decrypt, Encrypt, Inform, Detect...)
falls back to ``rule_action`` and is ``unknown`` if that says nothing either. ``time``
(epoch seconds, epoch milliseconds or ISO 8601) is the event time, else the header's.

Check Point sends updated logs for long connections with the same ``loguid`` (kept in
``checkpoint_loguid``): each is an event, so counts and byte sums of one connection can
repeat across its updates.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.hosts import host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._fwlog import (
    BSD_TS_NO_YEAR,
    ISO_TS,
    any_ts,
    firewall_action,
    placeholder_to_null,
    strip_group_names,
)
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, to_int
from shadowscan.parsers.common import epoch_ts, iso_ts

_HEADER = (
    r"^(?:<\d{1,3}>)?"
    rf"(?:1 (?P<iso>{ISO_TS}|-) \S+ (?P<app>\S+) \S+ \S+ "
    rf"|(?P<bsd>{BSD_TS_NO_YEAR}) \S+ (?P<tag>[^\s\[:]+)(?:\[\d+\])?:? )?"
)
_KEY = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_VALUE = r'"(?:[^"\\]|\\.)*"'
#: A connection: the body has a ``src`` key.
PATTERN = _HEADER + rf"\[(?:{_KEY}::?{_VALUE};\s*)*src:{_VALUE}(?:;.*)?\]\s*$"
LINE_PATTERN = strip_group_names(PATTERN)
#: Any key but ``src`` (no look-ahead in Rust's regex, so spelled out).
_OTHER_KEY = (
    r"(?:[A-Za-rt-z_][A-Za-z0-9_.\-]*|s(?:[A-Za-qs-z0-9_.\-][A-Za-z0-9_.\-]*)?"
    r"|sr(?:[A-Za-bd-z0-9_.\-][A-Za-z0-9_.\-]*)?|src[A-Za-z0-9_.\-]+)"
)
#: Blank lines, and well-formed Check Point lines without ``src`` (audit, system and
#: policy messages). A line with ``src`` that does not parse is unparsed.
SKIP = (
    r"^\s*$|"
    + strip_group_names(_HEADER)
    + rf"\[{_OTHER_KEY}::?{_VALUE}(?:;\s*{_OTHER_KEY}::?{_VALUE})*;?\s*\]\s*$"
)
_EVIDENCE = re.compile(
    r'^<\d{1,3}>1 \S+ \S+ CheckPoint |[\[;]\s*(?:loguid|originsicname|product|origin):"'
)


def _kv(key: str) -> pl.Expr:
    """The unescaped value of ``key`` in the body, or null."""
    raw = pl.col("line").str.extract(rf'[\[;]\s*{re.escape(key)}:"((?:[^"\\]|\\.)*)"', 1)
    return raw.str.replace_all(r"\u0026", "&", literal=True).str.replace_all(r"\\(.)", "$1")


@PARSERS.register("checkpoint")
class CheckpointParser(Parser):
    name = "checkpoint"
    log_type = "firewall"
    summary = (
        'Check Point Log Exporter syslog (RFC 5424, [key:"value"; ...] body): '
        "connections with app, URL, user and bytes."
    )
    example = (
        '<134>1 2024-11-04T09:00:00Z gw01 CheckPoint 7776 - [action:"Accept"; '
        'src:"10.20.1.15"; dst:"104.18.32.47"; s_port:"51234"; service:"443"; proto:"6"; '
        'appi_name:"ChatGPT"; user:"jdoe"; product:"Application Control"]'
    )
    line_pattern = LINE_PATTERN
    skip_pattern = SKIP

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        """Share of Check Point lines (connections or skipped messages) among the
        non-blank lines, provided some line names Check Point."""
        data = [ln for ln in lines if ln.strip()]
        if not data or not any(_EVIDENCE.search(ln) for ln in data):
            return None
        rx, skip = re.compile(LINE_PATTERN), re.compile(SKIP)
        hits = sum(1 for ln in data if rx.search(ln))
        known = sum(1 for ln in data if rx.search(ln) or skip.search(ln))
        if not known:
            return None
        return Sniff(
            known / len(data),
            f"{known}/{len(data)} sample lines are Check Point syslog ({hits} connections)",
        )

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        ok = batch["line"].str.contains(LINE_PATTERN)
        skipped = ~ok & batch["line"].str.contains(SKIP)
        rejected = not_matching(batch, ok | skipped, self.mismatch_reason())
        c = pl.col
        keys = {
            "time": "time",
            "src": "src",
            "dst": "dst",
            "s_port": "s_port",
            "service": "service",
            "proto": "proto",
            "action": "action",
            "rule_action": "rule_action",
            "rule_name": "rule_name",
            "user": "user",
            "src_user_name": "src_user_name",
            "product": "product",
            "appi_name": "appi_name",
            "resource": "resource",
            "dst_domain": "dst_domain",
            "dst_domain_name": "dst_domain_name",
            "client_outbound_bytes": "client_outbound_bytes",
            "client_inbound_bytes": "client_inbound_bytes",
            "sent_bytes": "sent_bytes",
            "received_bytes": "received_bytes",
            "bytes": "bytes",
            "loguid": "loguid",
        }
        good = batch.filter(ok)
        header = good.select(c("line").str.extract_groups(_HEADER + r"\[").alias("h")).unnest("h")
        f = pl.concat(
            [
                good.select(c("line_no"), *[_kv(k).alias(f"k_{n}") for n, k in keys.items()]),
                header.select("iso", "bsd"),
            ],
            how="horizontal",
        )
        k = {n: c(f"k_{n}") for n in keys}
        time = k["time"].str.strip_chars()
        ts = pl.coalesce(
            pl.when(time.str.contains(r"^\d+(?:\.\d+)?$"))
            .then(epoch_ts(time))
            .otherwise(iso_ts(time, self.context.timezone)),
            any_ts(c("iso"), c("bsd"), None, self.context.file_time, self.context.timezone),
        )
        f = f.with_columns(url_parts(placeholder_to_null(k["resource"])).alias("_u"))
        host = pl.coalesce(
            host_expr(c("_u").struct.field("host")),
            host_expr(placeholder_to_null(k["dst_domain"])),
            host_expr(placeholder_to_null(k["dst_domain_name"])),
        )
        action = firewall_action(k["action"])
        events = f.with_columns(host.alias("_host")).select(
            c("line_no"),
            ts.alias("ts"),
            placeholder_to_null(k["src"]).alias("src_ip"),
            to_int(k["s_port"], pl.Int32()).alias("src_port"),
            pl.coalesce(
                placeholder_to_null(k["user"]), placeholder_to_null(k["src_user_name"])
            ).alias("user"),
            c("_host").alias("host"),
            placeholder_to_null(k["dst"]).alias("dst_ip"),
            to_int(k["service"], pl.Int32()).alias("dst_port"),
            pl.when(c("_u").struct.field("host").is_not_null())
            .then(url_expr(c("_u"), host_expr(c("_u").struct.field("host"))))
            .alias("url"),
            pl.when(action == "unknown")
            .then(firewall_action(k["rule_action"]))
            .otherwise(action)
            .alias("action"),
            pl.coalesce(to_int(k["client_outbound_bytes"]), to_int(k["sent_bytes"])).alias(
                "bytes_out"
            ),
            pl.coalesce(to_int(k["client_inbound_bytes"]), to_int(k["received_bytes"])).alias(
                "bytes_in"
            ),
            placeholder_to_null(k["appi_name"]).alias("app"),
            k["action"].alias("checkpoint_action"),
            placeholder_to_null(k["rule_name"]).alias("checkpoint_rule"),
            placeholder_to_null(k["product"]).alias("checkpoint_product"),
            placeholder_to_null(k["proto"]).alias("checkpoint_proto"),
            to_int(k["bytes"]).alias("checkpoint_bytes_total"),
            placeholder_to_null(k["loguid"]).alias("checkpoint_loguid"),
        )
        return ParsedBatch(events, rejected, int(skipped.sum()))
