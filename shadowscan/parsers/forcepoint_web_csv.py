"""Forcepoint Web Security (cloud) SIEM export: quoted CSV, no header, 17 fields.

``"04/11/2024","08:00:00","jdoe@corp.example","WS-0142","Generative AI - Conversation","Allowed","Business Usage","Default","chatgpt.com:443/","198.51.100.7","104.18.32.47","10.20.1.15","None","None","Mozilla/5.0 ...","200","Connect"``

The default export layout of the Log Export SIEM tool: date (``dd/mm/yyyy``), time, user,
workstation, category list, action, risk class, policy name, URL, connection IP (the
egress address the cloud service saw), destination IP, source IP (the internal client,
often ``Not available``), threat type, threat name, user agent, HTTP status, method.

``Not available`` and ``None`` are placeholders for "no value"; the user ``anonymous``
means no authenticated user. ``src_ip`` is the source IP, or the connection IP when the
source is not available. Tunnelled HTTPS is logged as method ``Connect`` with the URL
``host:443/``: as for Squid, ``url`` is then null and ``host``/``dst_port`` come from it.
Times carry no zone: they are read in ``--timezone`` (UTC by default).
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, split_skipped, to_int
from shadowscan.parsers.common import csv_fields, strptime_ts

_F = r'"(?:[^"]|"")*"'
_SEP = r",[ \t]*"
PATTERN = (
    r'^"(?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|1[0-2])/\d{4}"'
    rf'{_SEP}"(?:[01]?\d|2[0-3]):[0-5]\d:[0-5]\d"'
    rf"(?:{_SEP}{_F}){{15}}"
    r"\s*$"
)

_PLACEHOLDERS = ["", "-", "None", "Not available", "N/A"]


def _col(i: int) -> pl.Expr:
    v = pl.col("_f").list.get(i, null_on_oob=True).str.strip_chars()
    return pl.when(v.is_in(_PLACEHOLDERS)).then(None).otherwise(v)


@PARSERS.register("forcepoint_web_csv")
class ForcepointWebCsvParser(Parser):
    name = "forcepoint_web_csv"
    log_type = "proxy"
    summary = "Forcepoint Web Security cloud SIEM export: quoted CSV, no header, 17 fields."
    example = (
        '"04/11/2024","08:00:00","jdoe@corp.example","WS-0142","Generative AI",'
        '"Allowed","Business Usage","Default","chatgpt.com:443/","198.51.100.7",'
        '"104.18.32.47","10.20.1.15","None","None","Mozilla/5.0","200","Connect"'
    )
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        ok = batch["line"].str.contains(PATTERN)
        fields = batch.filter(ok).select(pl.col("line_no"), csv_fields(pl.col("line")).alias("_f"))
        method = _col(16).str.to_uppercase()
        frame = fields.with_columns(
            url_parts(_col(8)).alias("_u"), method.alias("method")
        ).with_columns(
            host_expr(pl.col("_u").struct.field("host")).alias("host"),
            (pl.col("method") == "CONNECT").alias("_connect"),
        )
        user = _col(2)
        action = _col(5).str.to_lowercase()
        events = frame.select(
            pl.col("line_no"),
            strptime_ts(
                _col(0) + pl.lit(" ") + _col(1), "%d/%m/%Y %H:%M:%S", self.context.timezone
            ).alias("ts"),
            pl.coalesce(_col(11), _col(9)).alias("src_ip"),
            pl.when(user.str.to_lowercase() == "anonymous")
            .then(None)
            .otherwise(user)
            .alias("user"),
            pl.col("host"),
            _col(10).alias("dst_ip"),
            to_int(pl.col("_u").struct.field("port"), pl.Int32())
            .fill_null(default_port(pl.col("_u").struct.field("scheme"), pl.col("_connect")))
            .alias("dst_port"),
            pl.when(pl.col("_connect"))
            .then(None)
            .otherwise(url_expr(pl.col("_u"), pl.col("host")))
            .alias("url"),
            pl.col("method"),
            to_int(_col(15), pl.Int32()).alias("status"),
            pl.when(action.str.contains(r"^(?:allow|permit)"))
            .then(pl.lit("allowed"))
            .when(action.str.contains(r"^(?:block|den)"))
            .then(pl.lit("blocked"))
            .otherwise(pl.lit("unknown"))
            .alias("action"),
            _col(14).alias("user_agent"),
            _col(3).alias("forcepoint_web_csv_workstation"),
            _col(4).alias("forcepoint_web_csv_category"),
            _col(7).alias("forcepoint_web_csv_policy"),
            _col(9).alias("forcepoint_web_csv_connection_ip"),
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
