"""Fortinet FortiGate (FortiOS) ``key=value`` logs: traffic, UTM and event logs.

``<189>date=2024-11-04 time=09:00:12 devname="FGT-HQ" eventtime=1730707212000000000 tz="+0100" logid="1059028704" type="utm" subtype="app-ctrl" ... srcip=10.20.1.15 dstip=104.18.32.47 dstport=443 action="pass" app="ChatGPT" hostname="chatgpt.com" url="/backend-api/conversation"``

Strings are double-quoted with ``\\"`` and ``\\\\`` escapes, numbers and addresses bare;
pairs are separated by blanks (or commas, FortiOS's ``csv`` syslog format). A ``<PRI>``, a
BSD or RFC 3339 syslog header, a relay address, or FortiAnalyzer's ``logver=``/``itime=``
prefix may come first. A line is a FortiOS log when it has ``date`` and ``time``, then
``type`` and ``subtype`` (each pair side by side, as FortiOS writes them). Pairs are read
outside quoted values only, so a ``msg`` or ``url`` that contains ``key=value`` text never
supplies a field; the first non-empty value of a key counts.

Time: ``eventtime`` (epoch seconds, micro- or nanoseconds, UTC) when present, else ``date``
+ ``time`` at the ``tz`` offset (``-0700``), else in ``--timezone``.

Mapping: ``srcip``/``srcport`` and ``dstip``/``dstport`` (VPN events: the remote peer
``remip`` as ``src_ip``); ``user``, else ``srcuser``, else ``unauthuser`` (``N/A`` and empty
mean no user); ``hostname`` (web filter, application control, IPS, SSL inspection) is
``host``, and ``url`` (a path, joined to ``hostname``; or a full URL) is ``url``, with the
scheme from ``service`` HTTPS or port 443/8443; ``httpmethod`` and ``agent``; ``app`` as
logged (``ChatGPT``, ``HTTPS.BROWSER``); ``appcat``, the policy name (else id) and the
session id are kept as ``fortigate_*`` columns. ``utm``/``dns`` lines are DNS lookups:
``log_type`` ``dns``, ``qname`` as ``host``, ``qtype`` as ``dns_qtype``.

Traffic logs: ``deny`` (or a UTM ``utmaction`` block) is blocked, every other action
(``accept``, ``close``, ``timeout``, ``client-rst``, ``server-rst``, ``start``, ...) allowed.
A session can log a start (``action=start``, log ids 15/16), interim statistics (log id
20/21, cumulative counters for long sessions) and an end line: ``fortigate_phase`` is
``start``, ``interim`` or ``end``, and ``sentbyte`` -> ``bytes_out``, ``rcvdbyte`` ->
``bytes_in`` are only put on ``end`` lines so that no session is counted twice. UTM and
event lines keep no bytes (web-filter counters repeat the session's): their action is
allowed for pass/passthrough/accept/detected/monitored, blocked for block/blocked/deny/
dropped/reset/redirect, else unknown. Event lines (VPN logins and tunnel statistics,
system, user) are parsed as events too, usually without a destination: they match no
service, but keep the line counted.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, split_skipped, to_int
from shadowscan.parsers.common import epoch_ts, iso_ts

_SEP = r"[\s,]"
#: ``date`` then ``time``, and later ``type`` then ``subtype`` (FortiOS always writes these
#: pairs side by side); ``parse`` accepts exactly these lines.
PATTERN = (
    r'(?:^|[\s,>])date="?\d{4}-\d{2}-\d{2}"?[\s,]+time="?\d{1,2}:\d{2}:\d{2}"?[\s,]'
    rf'(?:.*{_SEP})?type="?[A-Za-z][A-Za-z0-9_\-]*"?[\s,]+'
    r'subtype="?[A-Za-z][A-Za-z0-9_\-]*"?(?:[\s,]|$)'
)
#: One pair: a quoted value (escapes inside) or a bare one.
_PAIR = r'[A-Za-z_][A-Za-z0-9_.\-]*=(?:"(?:[^"\\]|\\.)*"|[^\s,"]*)'

_KEYS = (
    "date",
    "time",
    "tz",
    "eventtime",
    "logid",
    "type",
    "subtype",
    "srcip",
    "srcport",
    "dstip",
    "dstport",
    "remip",
    "user",
    "srcuser",
    "unauthuser",
    "hostname",
    "qname",
    "qtype",
    "url",
    "httpmethod",
    "agent",
    "app",
    "appcat",
    "action",
    "utmaction",
    "sentbyte",
    "rcvdbyte",
    "service",
    "policyid",
    "policyname",
    "sessionid",
)

_ALLOWED = ("pass", "passthrough", "accept", "allow", "allowed", "permit", "detected", "monitored")
_BLOCKED = (
    "block",
    "blocked",
    "deny",
    "denied",
    "drop",
    "dropped",
    "reset",
    "reject",
    "redirect",
    "clear_session",
)
_NO_USER = ("", "N/A", "-")


def _fields(batch: pl.DataFrame) -> pl.DataFrame:
    """``batch`` (``line_no``, ``line``) -> one string column per key in :data:`_KEYS`: the
    first non-empty pair with that key, unquoted and unescaped. ``tz`` only counts in its numeric
    form and ``eventtime`` only as digits (FortiAnalyzer prefixes add ``tz="UTC-5"``)."""
    rows = batch.select(pl.col("line_no"), pl.col("line").str.extract_all(_PAIR).alias("_pair"))
    long = (
        rows.explode("_pair")
        .with_columns(pl.col("_pair").str.splitn("=", 2).alias("_kv"))
        .select(
            pl.col("line_no"),
            pl.col("_kv").struct.field("field_0").alias("_key"),
            pl.col("_kv").struct.field("field_1").alias("_value"),
        )
        .filter(pl.col("_key").is_in(_KEYS))
        .with_columns(
            pl.when(pl.col("_value").str.starts_with('"'))
            .then(
                pl.col("_value")
                .str.slice(1, pl.col("_value").str.len_chars() - 2)
                .str.replace_all(r'\\(["\\])', "$1")
            )
            .otherwise(pl.col("_value"))
            .str.strip_chars()
            .alias("_value")
        )
        .filter(
            (pl.col("_value") != "")
            & ((pl.col("_key") != "tz") | pl.col("_value").str.contains(r"^[+-]\d{2}:?\d{2}$"))
            & ((pl.col("_key") != "eventtime") | pl.col("_value").str.contains(r"^\d{9,19}$"))
        )
    )
    wide = long.pivot(
        on="_key",
        on_columns=list(_KEYS),
        index="line_no",
        values="_value",
        aggregate_function="first",
    )
    out = batch.select("line_no").join(wide, on="line_no", how="left", maintain_order="left")
    return out.with_columns(pl.col(k).cast(pl.String) for k in _KEYS)


def _null_if(expr: pl.Expr, values: tuple[str, ...]) -> pl.Expr:
    return pl.when(expr.is_in(values)).then(None).otherwise(expr)


@PARSERS.register("fortigate")
class FortigateParser(Parser):
    name = "fortigate"
    log_type = "firewall"
    summary = "Fortinet FortiGate (FortiOS) key=value logs: traffic, UTM (web filter, app control, IPS, SSL, DNS) and event logs."
    example = (
        '<189>date=2024-11-04 time=09:00:12 devname="FGT-HQ" eventtime=1730707212000000000 '
        'tz="+0100" logid="0000000013" type="traffic" subtype="forward" srcip=10.20.1.15 '
        'srcport=52144 dstip=104.18.32.47 dstport=443 action="close" service="HTTPS" '
        'app="ChatGPT" sentbyte=5120 rcvdbyte=48211 user="jdoe"'
    )
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        ok = batch["line"].str.contains(PATTERN)
        c = pl.col
        f = _fields(batch.filter(ok))
        tz = self.context.timezone
        local = iso_ts(
            pl.concat_str([c("date"), pl.lit("T"), c("time"), c("tz").fill_null("")]), tz
        )
        msgid = c("logid").str.extract(r"(\d{5})$", 1).cast(pl.Int32, strict=False)
        action = c("action").str.to_lowercase()
        traffic = c("type") == "traffic"
        is_dns = (c("type") == "utm") & (c("subtype") == "dns")
        target = (
            pl.when(c("url").str.contains(r"^[A-Za-z][A-Za-z0-9+.\-]*://"))
            .then(c("url"))
            .when(c("hostname").is_not_null() & c("url").is_not_null())
            .then(
                pl.concat_str(
                    [
                        c("hostname"),
                        pl.when(c("url").str.starts_with("/"))
                        .then(pl.lit(""))
                        .otherwise(pl.lit("/")),
                        c("url"),
                    ]
                )
            )
        )
        f = f.with_columns(
            url_parts(target).alias("_u"),
            to_int(c("dstport"), pl.Int32()).alias("dst_port"),
            pl.when(traffic)
            .then(
                pl.when((action == "start") | msgid.is_in([15, 16]))
                .then(pl.lit("start"))
                .when(msgid.is_in([20, 21]))
                .then(pl.lit("interim"))
                .otherwise(pl.lit("end"))
            )
            .alias("fortigate_phase"),
        )
        scheme = (
            pl.when((c("service").str.to_uppercase() == "HTTPS") | c("dst_port").is_in([443, 8443]))
            .then(pl.lit("https"))
            .otherwise(pl.lit("http"))
        )
        url_host = host_expr(c("_u").struct.field("host"))
        closing = c("fortigate_phase") == "end"
        blocked_traffic = (action == "deny") | c("utmaction").str.to_lowercase().is_in(
            ["block", "blocked", "reset"]
        )
        events = f.select(
            c("line_no"),
            pl.coalesce(epoch_ts(c("eventtime")), local).alias("ts"),
            pl.when(is_dns).then(pl.lit("dns")).otherwise(pl.lit("firewall")).alias("log_type"),
            pl.coalesce(c("srcip"), c("remip")).alias("src_ip"),
            to_int(c("srcport"), pl.Int32()).alias("src_port"),
            pl.coalesce(
                _null_if(c("user"), _NO_USER),
                _null_if(c("srcuser"), _NO_USER),
                _null_if(c("unauthuser"), _NO_USER),
            ).alias("user"),
            host_expr(pl.coalesce(c("hostname"), pl.when(is_dns).then(c("qname")), url_host)).alias(
                "host"
            ),
            c("dstip").alias("dst_ip"),
            c("dst_port"),
            url_expr(c("_u"), url_host, scheme).alias("url"),
            c("httpmethod").str.to_uppercase().alias("method"),
            pl.when(traffic)
            .then(pl.when(blocked_traffic).then(pl.lit("blocked")).otherwise(pl.lit("allowed")))
            .when(action.is_in(_BLOCKED))
            .then(pl.lit("blocked"))
            .when(action.is_in(_ALLOWED))
            .then(pl.lit("allowed"))
            .otherwise(pl.lit("unknown"))
            .alias("action"),
            pl.when(traffic & closing).then(to_int(c("sentbyte"))).alias("bytes_out"),
            pl.when(traffic & closing).then(to_int(c("rcvdbyte"))).alias("bytes_in"),
            c("agent").alias("user_agent"),
            c("app"),
            pl.when(is_dns).then(c("qtype").str.to_uppercase()).alias("dns_qtype"),
            c("type").alias("fortigate_type"),
            c("subtype").alias("fortigate_subtype"),
            c("fortigate_phase"),
            pl.coalesce(c("policyname"), c("policyid")).alias("fortigate_rule"),
            c("appcat").alias("fortigate_appcat"),
            c("sessionid").alias("fortigate_session_id"),
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
