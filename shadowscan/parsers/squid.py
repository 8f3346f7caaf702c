"""Squid native ``access.log`` (``logformat squid``), bare or inside a syslog header.

``1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 badeyek DIRECT/175.16.199.115 -``

Fields: time (epoch.millis), elapsed ms, client, result code/HTTP status, reply bytes,
method, URL (``host:port`` for CONNECT), user (``-`` when none, URL-escaped), hierarchy
code/peer, MIME type. Squid logs no request size, so ``bytes_out`` stays null.
"""

from __future__ import annotations

from urllib.parse import unquote

import polars as pl

from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers.base import (
    SYSLOG_PREFIX,
    ParsedBatch,
    Parser,
    dash_to_null,
    epoch_seconds_to_ts,
    not_matching,
    split_skipped,
    to_int,
)

_FIELDS = (
    r"(?P<ts>\d{9,11}(?:\.\d{1,6})?)\s+"
    r"(?P<elapsed>-?\d+)\s+"
    r"(?P<src>[0-9A-Fa-f:.]+|\S+)\s+"
    r"(?P<code>[A-Z][A-Z_]*)/(?P<status>\d{1,3})\s+"
    r"(?P<bytes>\d+)\s+"
    r"(?P<method>[A-Za-z_\-]+)\s+"
    r"(?P<url>\S+)\s+"
    r"(?P<user>\S+)\s+"
    r"(?P<hier>[A-Z][A-Z_]*)/(?P<peer>\S+)\s+"
    r"(?P<mime>\S+)"
    r"\s*$"
)
PATTERN = rf"^(?:{SYSLOG_PREFIX})?{_FIELDS}"

_IP = r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)$"


def decode_users(frame: pl.DataFrame) -> pl.DataFrame:
    """Squid URL-escapes user names (``CORP%5Cjdoe``); decode the distinct ones."""
    odd = frame.select(
        pl.col("user").filter(pl.col("user").str.contains("%", literal=True)).unique()
    ).to_series()
    mapping = {u: unquote(u) for u in odd.to_list() if u is not None}
    return frame.with_columns(pl.col("user").replace(mapping)) if mapping else frame


def squid_events(fields: pl.DataFrame) -> pl.DataFrame:
    """Canonical columns from the named groups shared by the Squid-style layouts."""
    parts = url_parts(pl.col("url"))
    connect = pl.col("method").str.to_uppercase() == "CONNECT"
    code = pl.col("code")
    frame = fields.with_columns(parts.alias("_u")).with_columns(
        host_expr(pl.col("_u").struct.field("host")).alias("host")
    )
    return frame.select(
        pl.col("line_no"),
        epoch_seconds_to_ts(pl.col("ts")).alias("ts"),
        pl.col("src").alias("src_ip"),
        dash_to_null(pl.col("user")).alias("user"),
        pl.col("host"),
        pl.when(pl.col("hier").str.contains("DIRECT") & pl.col("peer").str.contains(_IP))
        .then(pl.col("peer"))
        .otherwise(None)
        .alias("dst_ip"),
        to_int(pl.col("_u").struct.field("port"), pl.Int32())
        .fill_null(default_port(pl.col("_u").struct.field("scheme"), connect))
        .alias("dst_port"),
        pl.when(connect).then(None).otherwise(url_expr(pl.col("_u"), pl.col("host"))).alias("url"),
        pl.col("method").str.to_uppercase().alias("method"),
        pl.col("status").cast(pl.Int32, strict=False).alias("status"),
        pl.when(code.str.contains("DENIED"))
        .then(pl.lit("blocked"))
        .when(code.str.starts_with("NONE"))
        .then(pl.lit("unknown"))
        .otherwise(pl.lit("allowed"))
        .alias("action"),
        to_int(pl.col("bytes")).alias("bytes_in"),
        pl.col("code").alias("squid_result_code"),
        pl.col("hier").alias("squid_hierarchy"),
        to_int(pl.col("elapsed")).alias("squid_elapsed_ms"),
        dash_to_null(pl.col("mime")).alias("squid_content_type"),
    )


@PARSERS.register("squid")
class SquidParser(Parser):
    name = "squid"
    log_type = "proxy"
    summary = "Squid native access.log, optionally inside a syslog header (pfSense)."
    example = "1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 badeyek DIRECT/175.16.199.115 -"
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        fields = batch.select(
            pl.col("line_no"), pl.col("line").str.extract_groups(PATTERN).alias("f")
        ).unnest("f")
        ok = fields["ts"].is_not_null()
        events = squid_events(fields.filter(ok))
        events = decode_users(events)
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
