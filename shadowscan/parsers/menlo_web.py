"""Menlo Security (isolation proxy) web logs as JSON lines.

``{"event_time": "2024-11-04T08:00:00.512000", "userid": "jdoe@corp.example", "url":
"https://claude.ai/new", "domain": "claude.ai", "top_url": "claude.ai", "request_type": "GET",
"response_code": "200", "pe_action": "isolate", "categories": "Artificial Intelligence",
"x-client-ip": "10.20.1.15", ...}``

``event_time`` has no zone: it is read in ``--timezone``. A line is an event when it is a
JSON object with an ``event_time`` and a ``url`` or ``domain`` key. ``host`` is the
``url``'s host, else ``domain``; ``pe_action`` ``isolate`` counts as allowed (the page was
served, rendered remotely). ``categories`` and ``dst`` are a string on some lines and an
array on others (``dst_ip`` takes the first address). ``file_size`` is the download size
(the upload size on ``*upload*`` events). Menlo writes ``NA`` for missing values.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import default_port, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers._swg import (
    JsonGatewayParser,
    action_expr,
    int_value,
    list_text,
    no_value,
    url_host,
)
from shadowscan.parsers.common import iso_ts

FIELDS = {
    "_event_time": "event_time",
    "_user": "userid",
    "_url": "url",
    "_domain": "domain",
    "_top_url": "top_url",
    "_method": "request_type",
    "_status": "response_code",
    "_action": "pe_action",
    "_categories": "categories",
    "_client_ip": "x-client-ip",
    "_origin_ip": "origin_ip",
    "_dst": "dst",
    "_ua": "user-agent",
    "_file_size": "file_size",
    "_name": "name",
    "_protocol": "protocol",
}

#: Keys only Menlo writes (for sniffing).
MARKER = r'"(?:pe_action|top_url|pe_rulename|risk_tally)"\s*:'


#: The keys that decide whether a line is an event.
CHECK = {k: FIELDS[k] for k in ("_event_time", "_url", "_domain")}


def is_event() -> pl.Expr:
    """Over the ``CHECK`` columns: a readable ``event_time``, and a ``url`` or ``domain``."""
    c = pl.col
    has_target = c("_url").is_not_null() | c("_domain").is_not_null()
    return has_target & iso_ts(c("_event_time"), "UTC").is_not_null()


def menlo_events(raw: pl.DataFrame, tz: str) -> pl.DataFrame:
    c = pl.col
    method = no_value(c("_method")).str.to_uppercase()
    connect = method == "CONNECT"
    frame = raw.with_columns(url_parts(no_value(c("_url"))).alias("_u"))
    parts = c("_u").struct.field
    url_host_ = url_host(parts("host"))
    scheme = no_value(c("_protocol")).str.to_lowercase()
    dst = no_value(c("_dst"))
    upload = c("_name").fill_null("").str.to_lowercase().str.contains("upload")
    size = int_value(c("_file_size"))
    return frame.select(
        c("line_no"),
        iso_ts(c("_event_time"), tz).alias("ts"),
        pl.coalesce(no_value(c("_client_ip")), no_value(c("_origin_ip"))).alias("src_ip"),
        no_value(c("_user")).alias("user"),
        pl.coalesce(url_host_, url_host(no_value(c("_domain")))).alias("host"),
        pl.when(dst.str.starts_with("["))
        .then(no_value(c("_dst_first")))
        .otherwise(dst)
        .alias("dst_ip"),
        pl.coalesce(
            int_value(parts("port"), pl.Int32()),
            default_port(pl.coalesce(parts("scheme"), scheme), connect),
        ).alias("dst_port"),
        pl.when(connect)
        .then(None)
        .otherwise(url_expr(c("_u"), url_host_, pl.coalesce(scheme, pl.lit("http"))))
        .alias("url"),
        method.alias("method"),
        int_value(c("_status"), pl.Int32()).alias("status"),
        action_expr(pl.coalesce(c("_action"), pl.lit(""))).alias("action"),
        pl.when(upload).then(size).otherwise(None).alias("bytes_out"),
        pl.when(upload).then(None).otherwise(size).alias("bytes_in"),
        no_value(c("_ua")).alias("user_agent"),
        list_text(c("_categories")).alias("menlo_web_categories"),
        no_value(c("_top_url")).alias("menlo_web_top_url"),
    )


@PARSERS.register("menlo_web")
class MenloWebParser(JsonGatewayParser):
    name = "menlo_web"
    log_type = "proxy"
    summary = "Menlo Security isolation web logs as JSON lines (event_time, url, pe_action, ...)."
    example = '{"event_time": "2024-11-04T08:00:00.512000", "userid": "jdoe@corp.example", "url": "https://claude.ai/new", "domain": "claude.ai", "request_type": "GET", "response_code": "200", "pe_action": "isolate", "x-client-ip": "10.20.1.15", ...}'
    fields = FIELDS
    check = CHECK
    marker = MARKER
    product = "Menlo Security web log records"
    is_event = staticmethod(is_event)

    def events(self, raw: pl.DataFrame) -> pl.DataFrame:
        return menlo_events(raw, self.context.timezone)

    def extra_fields(self) -> list[pl.Expr]:
        return [pl.col("line").str.json_path_match("$['dst'][0]").alias("_dst_first")]
