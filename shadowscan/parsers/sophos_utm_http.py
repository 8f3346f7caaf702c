"""Sophos UTM web filter (``httpproxy``) syslog.

``2024:11:04-09:00:00 utm-gw httpproxy[5120]: id="0001" severity="info" sys="SecureWeb" sub="http" name="http access" action="pass" method="CONNECT" srcip="10.20.1.15" dstip="104.18.32.47" user="jdoe" ad_domain="CORP" statuscode="200" ... size="48211" ... url="https://chatgpt.com/" ... ua="Mozilla/5.0 ..." ... categoryname="Generative AI" application="chatgpt"``

A header ``YYYY:MM:DD-HH:MM:SS host httpproxy[pid]:`` (optionally after ``<PRI>``) and
``key="value"`` pairs. A line with both ``srcip`` and ``url`` is a web request and becomes
an event (including ``Contentfilter warned and proceeded``, which has no method or
status). Other ``httpproxy`` messages (``id="..."`` but no ``srcip``/``url``: internal
errors such as ``function="ssl_raw_read" ... message="SSL_ERROR_SYSCALL"``) are not web
requests: they are counted as skipped, like comments, not as unparsed.

``size`` is the response size (``bytes_in``); ``user`` is kept as logged and the AD
domain goes to ``sophos_utm_http_ad_domain``. ``action``: ``pass`` -> allowed,
``block`` and ``warn`` (a warning page, status 403) -> blocked, a "warned and proceeded"
message -> allowed. Times carry no zone: they are read in ``--timezone``.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers.base import ParsedBatch, Parser, dash_to_null, not_matching, to_int
from shadowscan.parsers.common import kv_value, strptime_ts

_HEADER = (
    r"^(?:<\d{1,3}>)?(?P<ts>\d{4}:\d{2}:\d{2}-\d{2}:\d{2}:\d{2})\s+(?P<device>\S+)\s+"
    r"httpproxy(?:\[\d+\])?:\s"
)
_SRCIP = r'\ssrcip="[^"]*"'
_URL = r'\surl="[^"]*"'
#: A web request: the header, then ``srcip`` and ``url`` in either order.
PATTERN = _HEADER + rf".*(?:{_SRCIP}.*{_URL}|{_URL}.*{_SRCIP})"
#: Blank lines, and ``httpproxy`` messages that are not web requests (only consulted for
#: lines that do not match ``PATTERN``).
SKIP = r'^\s*$|^(?:<\d{1,3}>)?\d{4}:\d{2}:\d{2}-\d{2}:\d{2}:\d{2}\s+\S+\s+httpproxy(?:\[\d+\])?:\s+id="\d+"'


@PARSERS.register("sophos_utm_http")
class SophosUtmHttpParser(Parser):
    name = "sophos_utm_http"
    log_type = "proxy"
    summary = 'Sophos UTM web filter (httpproxy) syslog with key="value" pairs.'
    example = (
        '2024:11:04-09:00:00 utm-gw httpproxy[5120]: id="0001" severity="info" sys="SecureWeb" '
        'sub="http" name="http access" action="pass" method="CONNECT" srcip="10.20.1.15" '
        'dstip="104.18.32.47" user="jdoe" statuscode="200" size="48211" '
        'url="https://chatgpt.com/" ua="Mozilla/5.0" application="chatgpt"'
    )
    line_pattern = PATTERN
    skip_pattern = SKIP

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        """Share of web-request lines among the lines that are not skipped (a request line
        also looks like an ``httpproxy`` message, so the default would skip it)."""
        rx, skip = re.compile(PATTERN), re.compile(SKIP)
        hits = sum(1 for ln in lines if rx.search(ln))
        data = sum(1 for ln in lines if rx.search(ln) or not skip.search(ln))
        if not hits:
            return None
        return Sniff(hits / data, f"{hits}/{data} sample lines are Sophos UTM httpproxy requests")

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        # Same split as the engine's fast path: events are the ``PATTERN`` lines; of the
        # others, ``SKIP`` lines are skipped and the rest rejected.
        ok = batch["line"].str.contains(PATTERN)
        skip = ~ok & batch["line"].str.contains(SKIP)
        rejected = not_matching(batch, ok | skip, self.mismatch_reason())
        line = pl.col("line")

        def kv(key: str) -> pl.Expr:
            return dash_to_null(kv_value(line, key).str.strip_chars())

        frame = (
            batch.filter(ok)
            .with_columns(
                line.str.extract(_HEADER, 1).alias("_ts"),
                url_parts(kv("url")).alias("_u"),
                kv("method").str.to_uppercase().alias("method"),
                kv("action").str.to_lowercase().alias("_action"),
                kv("name").alias("_name"),
            )
            .with_columns(host_expr(pl.col("_u").struct.field("host")).alias("host"))
        )
        action = pl.col("_action")
        events = frame.select(
            pl.col("line_no"),
            strptime_ts(pl.col("_ts"), "%Y:%m:%d-%H:%M:%S", self.context.timezone).alias("ts"),
            kv("srcip").alias("src_ip"),
            kv("user").alias("user"),
            pl.col("host"),
            kv("dstip").alias("dst_ip"),
            to_int(pl.col("_u").struct.field("port"), pl.Int32())
            .fill_null(
                default_port(pl.col("_u").struct.field("scheme"), pl.col("method") == "CONNECT")
            )
            .alias("dst_port"),
            url_expr(pl.col("_u"), pl.col("host")).alias("url"),
            pl.col("method"),
            to_int(kv("statuscode"), pl.Int32()).alias("status"),
            pl.when(action == "pass")
            .then(pl.lit("allowed"))
            .when(action.is_in(["block", "warn"]))
            .then(pl.lit("blocked"))
            .when(action.is_null() & pl.col("_name").str.contains("(?i)proceeded"))
            .then(pl.lit("allowed"))
            .otherwise(pl.lit("unknown"))
            .alias("action"),
            to_int(kv("size")).alias("bytes_in"),
            kv("ua").alias("user_agent"),
            kv("application").alias("app"),
            kv("ad_domain").alias("sophos_utm_http_ad_domain"),
            kv("categoryname").alias("sophos_utm_http_category"),
            pl.col("_action").alias("sophos_utm_http_action"),
        )
        return ParsedBatch(events, rejected, int(skip.sum()))
