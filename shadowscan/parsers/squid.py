"""Squid ``access.log``: the native layout (``logformat squid``) and a common extended
custom layout, bare or inside a syslog header.

Native (10 fields; further trailing fields are accepted and ignored)::

    1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 badeyek DIRECT/175.16.199.115 -

time (epoch.millis), elapsed ms, client, result code/HTTP status, reply bytes, method, URL
(``host:port`` for CONNECT), user (``-`` when none, URL-escaped), hierarchy code/peer, MIME
type. The native layout logs no request size, so ``bytes_out`` stays null.

Extended (a custom ``logformat`` with more columns, as in Elastic's Squid integration tests;
the trailing quoted part varies in length between lines)::

    ts elapsed client client_port code/status reply_size request_size reply_header_size
    request_header_size reply_body_size method URL http_version user hier/peer server_port
    mime - - "referer" "user-agent" "Host" "x-forwarded-for" ["sni"] server_time -

Mapping: ``client_port`` -> ``src_port``; ``reply_size`` (``%<st``, total bytes sent to the
client) -> ``bytes_in``; ``request_size`` (``%>st``, total bytes received from the client)
-> ``bytes_out``; ``server_port`` -> ``dst_port`` (for ``*DIRECT`` hierarchies; otherwise the
URL's port); the second quoted string -> ``user_agent``. The header sizes, reply body size,
HTTP version, referer, Host header, X-Forwarded-For, SNI and server time are not kept.

pfSense forwards lines in a BSD syslog header; a copy-paste artefact that wraps the first
two fields as ``[ts elapsed](tel:ts elapsed)`` is accepted.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS
from shadowscan.parsers._squid import (
    CODE,
    ELAPSED,
    METHOD,
    TS,
    decode_users,
    squid_events,
)
from shadowscan.parsers.base import (
    SYSLOG_PREFIX,
    ParsedBatch,
    Parser,
    epoch_seconds_to_ts,
    not_matching,
    split_skipped,
)

_START = (
    rf"^(?:{SYSLOG_PREFIX})?"
    rf"(?:\[(?P<ts_tel>{TS})\s+(?P<elapsed_tel>{ELAPSED})\]\(tel:[^)]*\)"
    rf"|(?P<ts>{TS})\s+(?P<elapsed>{ELAPSED}))\s+"
    r"(?P<src>\S+)\s+"
)
_NATIVE = (
    rf"(?P<code>{CODE})/(?P<status>[0-9]{{1,3}})\s+"
    r"(?P<bytes>[0-9]+)\s+"
    rf"(?P<method>{METHOD})\s+"
    r"(?P<url>\S+)\s+"
    r"(?P<user>\S+)\s+"
    rf"(?P<hier>{CODE})/(?P<peer>\S+)\s+"
    r"(?P<mime>\S+)"
    r"(?:\s.*)?$"
)
_EXTENDED = (
    r"(?P<x_src_port>[0-9]{1,5}|-)\s+"
    rf"(?P<x_code>{CODE})/(?P<x_status>[0-9]{{1,3}})\s+"
    r"(?P<x_bytes>[0-9]+)\s+"
    r"(?P<x_bytes_out>[0-9]+|-)\s+"
    r"(?:[0-9]+|-)\s+(?:[0-9]+|-)\s+(?:[0-9]+|-)\s+"  # reply/request header, reply body
    rf"(?P<x_method>{METHOD})\s+"
    r"(?P<x_url>\S+)\s+"
    r"(?:[0-9](?:\.[0-9])?|-)\s+"  # HTTP version
    r"(?P<x_user>\S+)\s+"
    rf"(?P<x_hier>{CODE})/(?P<x_peer>\S+)\s+"
    r"(?P<x_server_port>[0-9]{1,5}|-)\s+"
    r"(?P<x_mime>\S+)"
    r"(?:\s+(?P<x_tail>.*?))?\s*$"
)
PATTERN = f"{_START}(?:{_NATIVE}|{_EXTENDED})"

#: The user agent is the second quoted string of the extended layout's tail.
_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_TAIL_UA = rf'^[^"]*"(?:[^"\\]|\\.)*"\s+{_QUOTED}'

_SHARED = ("code", "status", "bytes", "method", "url", "user", "hier", "peer", "mime")


@PARSERS.register("squid")
class SquidParser(Parser):
    name = "squid"
    log_type = "proxy"
    summary = "Squid native access.log (and an extended custom logformat), optionally inside a syslog header (pfSense)."
    example = "1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 badeyek DIRECT/175.16.199.115 -"
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        fields = batch.select(
            pl.col("line_no"), pl.col("line").str.extract_groups(PATTERN).alias("f")
        ).unnest("f")
        ts = pl.coalesce(pl.col("ts"), pl.col("ts_tel"))
        ok = fields.select(ts.is_not_null()).to_series()
        merged = fields.filter(ok).select(
            pl.col("line_no"),
            ts.alias("ts"),
            pl.coalesce(pl.col("elapsed"), pl.col("elapsed_tel")).alias("elapsed"),
            pl.col("src"),
            *[pl.coalesce(pl.col(c), pl.col(f"x_{c}")).alias(c) for c in _SHARED],
            pl.col("x_src_port").alias("src_port"),
            pl.col("x_bytes_out").alias("bytes_out"),
            pl.col("x_server_port").alias("server_port"),
            pl.col("x_tail")
            .str.extract(_TAIL_UA, 1)
            .str.replace_all(r'\\(["\\])', "$1")
            .alias("user_agent"),
        )
        events = squid_events(merged, epoch_seconds_to_ts(pl.col("ts")), "squid")
        events = decode_users(events)
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
