"""Cisco Meraki MX ``urls`` events (syslog).

``<134>1 1730707200.123456789 MX68_HQ urls src=10.20.1.15:52144 dst=104.18.32.47:443 mac=3C:22:FB:10:AA:01 agent='Mozilla/5.0 (Windows NT 10.0; Win64; x64)' request: GET https://chatgpt.com/``

``<PRI>1`` (both optional), the time as epoch seconds with nanoseconds, the device name,
the event type ``urls``, ``src``/``dst`` as ``ip:port``, the client MAC, an optional
single-quoted ``agent='...'`` (spaces inside), then ``request: METHOD URL``. Only
``urls`` events are read: ``flows``/``firewall`` events of the same devices are another
format. Meraki logs no user and no byte counts, and the event does not say whether the
request was allowed, so ``action`` is ``unknown``. The method ``UNKNOWN`` becomes null.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, split_skipped, to_int
from shadowscan.schema import UTC_TS

PATTERN = (
    r"^(?:<\d{1,3}>)?(?:1\s+)?"
    r"(?P<ts>\d{9,11})(?:\.(?P<frac>\d{1,9}))?\s+"
    r"(?P<device>\S+)\s+urls\s+"
    r"src=(?P<src>\S+):(?P<sport>\d{1,5})\s+"
    r"dst=(?P<dst>\S+):(?P<dport>\d{1,5})\s+"
    r"(?:mac=(?P<mac>\S+)\s+)?"
    r"(?:agent='(?P<ua>.*)'\s+)?"
    r"request:\s+(?P<method>[A-Za-z_\-]+)\s+(?P<url>\S+)\s*$"
)


def _epoch_ns_ts(seconds: pl.Expr, fraction: pl.Expr) -> pl.Expr:
    """``"1730707200"`` + ``"123456789"`` -> UTC datetime (exact to the microsecond)."""
    micros = fraction.fill_null("").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64)
    return (
        (seconds.cast(pl.Int64) * 1_000_000 + micros)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .cast(UTC_TS)
    )


def _ip(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars("[]")


@PARSERS.register("meraki_urls")
class MerakiUrlsParser(Parser):
    name = "meraki_urls"
    log_type = "proxy"
    summary = "Cisco Meraki MX `urls` syslog events (client, destination, agent, request URL)."
    example = (
        "<134>1 1730707200.123456789 MX68_HQ urls src=10.20.1.15:52144 dst=104.18.32.47:443 "
        "mac=3C:22:FB:10:AA:01 agent='Mozilla/5.0 (Windows NT 10.0)' request: GET https://chatgpt.com/"
    )
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        fields = batch.select(
            pl.col("line_no"), pl.col("line").str.extract_groups(PATTERN).alias("f")
        ).unnest("f")
        ok = fields["ts"].is_not_null()
        method = pl.col("method").str.to_uppercase()
        frame = (
            fields.filter(ok)
            .with_columns(url_parts(pl.col("url")).alias("_u"))
            .with_columns(host_expr(pl.col("_u").struct.field("host")).alias("host"))
        )
        events = frame.select(
            pl.col("line_no"),
            _epoch_ns_ts(pl.col("ts"), pl.col("frac")).alias("ts"),
            _ip(pl.col("src")).alias("src_ip"),
            to_int(pl.col("sport"), pl.Int32()).alias("src_port"),
            pl.col("host"),
            _ip(pl.col("dst")).alias("dst_ip"),
            to_int(pl.col("dport"), pl.Int32()).alias("dst_port"),
            url_expr(pl.col("_u"), pl.col("host")).alias("url"),
            pl.when(method == "UNKNOWN").then(None).otherwise(method).alias("method"),
            pl.lit("unknown").alias("action"),
            pl.when(pl.col("ua").str.strip_chars() == "")
            .then(None)
            .otherwise(pl.col("ua"))
            .alias("user_agent"),
            pl.col("device").alias("meraki_urls_device"),
            pl.col("mac").alias("meraki_urls_mac"),
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
