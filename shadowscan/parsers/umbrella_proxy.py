"""Cisco Umbrella / Secure Access SIG web ("proxy") logs: fully quoted CSV, no header.

``"2024-11-04 08:00:00","jdoe@corp.example","10.20.1.15","198.51.100.7","104.18.32.47","text/html","ALLOWED","https://chatgpt.com/",...``

Documented column order (0-based; later log-schema versions only append columns):

====  ========================  ====  ==========================
 0    timestamp (UTC)           13    response body size
 1    policy identity label     14    SHA-256
 2    internal client IP        15    categories
 3    external (egress) IP      16-20 AV / PUA / AMP fields
 4    destination IP            21    policy identity type
 5    content type              22    blocked categories
 6    action ``ALLOWED``/...    23    identities
 7    URL                       24    identity types
 8    referer                   25    request method
 9    user agent                26+   DLP status, file name, rule ids,
10    status code                     isolate/file action, ...
11    request size (upload)
12    response size (download)
====  ========================  ====  ==========================

Rows are ragged (32, 35, 37 and more columns, depending on the schema version and on
the row) and may have a blank after a comma; :func:`csv_fields` handles both. The
identity is kept as logged as ``user`` (it is a user, a computer or a network name;
``umbrella_proxy_identity_type`` says which). Sniffing needs a quoted timestamp first and
an upper-case verdict in column 7, which the Umbrella DNS log (``"Allowed"`` in column 6,
``"1 (A)"`` in column 7) never has.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers.base import (
    ParsedBatch,
    Parser,
    not_matching,
    split_skipped,
    to_int,
)
from shadowscan.parsers.common import csv_fields, iso_ts, split_item

_F = r'"(?:[^"]|"")*"'
_SEP = r",[ \t]*"
#: Quoted timestamp, five quoted fields, an upper-case verdict, then at least URL,
#: referer, user agent, status, request size and response size (13 columns or more).
PATTERN = (
    r'^"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z?"'
    rf"(?:{_SEP}{_F}){{5}}"
    rf'{_SEP}"[A-Z][A-Z_]*"'
    rf"(?:{_SEP}{_F}){{6,}}"
    r"\s*$"
)

_ACTIONS = {"ALLOWED": "allowed", "BLOCKED": "blocked"}


@PARSERS.register("umbrella_proxy")
class UmbrellaProxyParser(Parser):
    name = "umbrella_proxy"
    log_type = "proxy"
    summary = "Cisco Umbrella / Secure Access SIG web (proxy) logs: quoted CSV, no header."
    example = (
        '"2024-11-04 08:00:00","jdoe@corp.example","10.20.1.15","198.51.100.7",'
        '"104.18.32.47","text/html","ALLOWED","https://chatgpt.com/","",'
        '"Mozilla/5.0","200","1022","48211","47001","","Generative AI",...'
    )
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        ok = batch["line"].str.contains(PATTERN)
        fields = batch.filter(ok).select(pl.col("line_no"), csv_fields(pl.col("line")).alias("_f"))
        frame = fields.with_columns(
            url_parts(split_item(7)).alias("_u"), split_item(25).str.to_uppercase().alias("_method")
        ).with_columns(host_expr(pl.col("_u").struct.field("host")).alias("host"))
        verdict = split_item(6)
        events = frame.select(
            pl.col("line_no"),
            iso_ts(split_item(0), "UTC").alias("ts"),
            split_item(1).alias("user"),
            split_item(2).alias("src_ip"),
            pl.col("host"),
            split_item(4).alias("dst_ip"),
            to_int(pl.col("_u").struct.field("port"), pl.Int32())
            .fill_null(
                default_port(pl.col("_u").struct.field("scheme"), pl.col("_method") == "CONNECT")
            )
            .alias("dst_port"),
            url_expr(pl.col("_u"), pl.col("host")).alias("url"),
            pl.col("_method").alias("method"),
            to_int(split_item(10), pl.Int32()).alias("status"),
            verdict.replace_strict(_ACTIONS, default="unknown", return_dtype=pl.String)
            .fill_null("unknown")
            .alias("action"),
            to_int(split_item(11)).alias("bytes_out"),
            to_int(split_item(12)).alias("bytes_in"),
            split_item(9).alias("user_agent"),
            split_item(3).alias("umbrella_proxy_external_ip"),
            split_item(21).alias("umbrella_proxy_identity_type"),
            split_item(15).alias("umbrella_proxy_categories"),
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
