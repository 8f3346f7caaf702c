"""Zeek ``socks.log`` (SOCKS 4/5 proxy requests), JSON-lines writer.

``{"ts":1730707320.20511,"uid":"CsK2nB7xQ4vT1mZ8","id.orig_h":"10.20.4.31","id.orig_p":50321,"id.resp_h":"10.20.0.5","id.resp_p":1080,"version":5,"user":"asmith","status":"succeeded","request.name":"claude.ai","request_p":443,...}``

The requested destination is ``request.name`` (a domain name) or ``request.host`` (an
address; dotted keys, or a nested ``request`` object): ``host`` is the name, else the
address; ``dst_ip`` is ``request.host`` and ``dst_port`` ``request_p``. The SOCKS server
itself (``id.resp_h``/``id.resp_p``) is kept as ``zeek_socks_proxy_ip``/``_port``, the
address the server bound (``bound.host`` or ``bound.name``, ``bound_p``) as
``zeek_socks_bound_host``/``_port``, the reply as ``zeek_socks_status``. ``action``:
``succeeded`` -> ``allowed``, ``connection not allowed by ruleset`` -> ``blocked``,
other failures -> ``unknown``. No byte counts: join to ``conn.log`` on ``uid``
(``zeek_uid``). The password Zeek can capture is never read.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._zeek import CONN_ID_TYPES, ZeekJsonParser, ZeekLog


def _blank_to_null(name: str) -> pl.Expr:
    return pl.when(pl.col(name) != "").then(pl.col(name))


def socks_events(r: pl.DataFrame) -> pl.DataFrame:
    """Canonical events from typed ``socks.log`` records (TSV or JSON)."""
    status = pl.col("status").str.to_lowercase()
    return r.select(
        pl.col("line_no"),
        pl.col("ts"),
        pl.col("id.orig_h").alias("src_ip"),
        pl.col("id.orig_p").cast(pl.Int32, strict=False).alias("src_port"),
        _blank_to_null("user").alias("user"),
        host_expr(pl.coalesce(_blank_to_null("request.name"), pl.col("request.host"))).alias(
            "host"
        ),
        pl.col("request.host").alias("dst_ip"),
        pl.col("request_p").cast(pl.Int32, strict=False).alias("dst_port"),
        pl.when(status.is_in(["succeeded", "success"]))
        .then(pl.lit("allowed"))
        .when(status.str.contains("not allowed|reject").fill_null(False))
        .then(pl.lit("blocked"))
        .otherwise(pl.lit("unknown"))
        .alias("action"),
        pl.col("uid").alias("zeek_uid"),
        _blank_to_null("status").alias("zeek_socks_status"),
        pl.col("version").alias("zeek_socks_version"),
        pl.col("id.resp_h").alias("zeek_socks_proxy_ip"),
        pl.col("id.resp_p").cast(pl.Int32, strict=False).alias("zeek_socks_proxy_port"),
        pl.coalesce(_blank_to_null("bound.name"), pl.col("bound.host")).alias(
            "zeek_socks_bound_host"
        ),
        pl.col("bound_p").cast(pl.Int32, strict=False).alias("zeek_socks_bound_port"),
    )


SOCKS = ZeekLog(
    path="socks",
    types={
        **CONN_ID_TYPES,
        "version": "count",
        "user": "string",
        "status": "string",
        "request.host": "addr",
        "request.name": "string",
        "request_p": "port",
        "bound.host": "addr",
        "bound.name": "string",
        "bound_p": "port",
    },
    events=socks_events,
    required=("ts", "uid", "id.orig_h", "version"),
    markers=("request.host", "request.name", "request_p", "bound.host", "bound.name", "bound_p"),
)


@PARSERS.register("zeek_socks_json")
class ZeekSocksJsonParser(ZeekJsonParser):
    name = "zeek_socks_json"
    log_type = "proxy"
    summary = "Zeek socks.log (SOCKS proxy requests) as JSON lines."
    example = '{"ts":1730707320.20511,"uid":"CsK2nB7xQ4vT1mZ8","id.orig_h":"10.20.4.31","id.orig_p":50321,"id.resp_h":"10.20.0.5","id.resp_p":1080,"version":5,"user":"asmith","status":"succeeded","request.name":"claude.ai","request_p":443,"bound.host":"10.20.0.5","bound_p":50321}'
    log = SOCKS
