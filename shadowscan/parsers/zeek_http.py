"""Zeek ``http.log``, ASCII (TSV) writer with its ``#fields`` header.

``1730707200.125873	CkP3Lm2V9sQ1aB7dE	10.20.1.15	52114	104.18.32.47	80	1	POST	chatgpt.com	/backend-api/conversation	...``

Header-driven (see :mod:`shadowscan.parsers._zeek`): the columns come from ``#fields``,
``-`` is unset, ``(empty)`` is empty, ``\\xNN`` escapes are decoded, and a new header
block (concatenated logs) replaces the old one. btest baselines (``###`` banner, masked
``XXXXXXXXXX.XXXXXX`` timestamps) parse with a null ``ts``.

Mapping: ``id.orig_h``/``id.orig_p`` -> ``src_ip``/``src_port``, ``id.resp_h``/``id.resp_p``
-> ``dst_ip``/``dst_port``, the ``Host`` header (or the authority of an absolute ``uri``,
as sent to a proxy) -> ``host``, ``host`` + ``uri`` -> ``url`` (``http://``, query
dropped; none for ``CONNECT``), ``username`` (HTTP basic auth) -> ``user``,
``request_body_len`` -> ``bytes_out`` and ``response_body_len`` -> ``bytes_in`` (bodies
only, without headers), ``uid`` -> ``zeek_uid`` (join key to ``conn.log``). Zeek is a
passive sensor, so ``action`` is ``blocked`` only when a proxy refused a request sent to
it (``CONNECT`` or an absolute URI answered 403, 407 or 451), ``allowed`` when another
response status was seen, and ``unknown`` when none was.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers._zeek import CONN_ID_TYPES, ZeekLog, ZeekTsvParser


def _absolute() -> pl.Expr:
    """An absolute-form ``uri``: the request was sent to a proxy."""
    return pl.col("uri").str.contains(r"^[A-Za-z][A-Za-z0-9+.\-]*://").fill_null(False)


def _uri_target() -> pl.Expr:
    """The request target as a URL: absolute ``uri`` as is (proxy requests), ``CONNECT``
    ``host:port``, otherwise ``http://`` + Host header + path."""
    uri, host = pl.col("uri"), pl.col("host")
    absolute = _absolute()
    path = (
        pl.when(uri.str.starts_with("/"))
        .then(uri)
        .when(uri.is_null() | (uri == ""))
        .then(pl.lit("/"))
        .otherwise(pl.lit("/") + uri)
    )
    return (
        pl.when(absolute)
        .then(uri)
        .when(_connect())
        .then(pl.coalesce(host, uri))
        .otherwise(pl.concat_str([pl.lit("http://"), host, path]))
    )


def _connect() -> pl.Expr:
    return (pl.col("method").str.to_uppercase() == "CONNECT").fill_null(False)


#: Statuses a proxy answers a refused ``CONNECT`` or absolute-URI request with.
PROXY_REFUSALS = [403, 407, 451]


def http_events(r: pl.DataFrame) -> pl.DataFrame:
    """Canonical events from typed ``http.log`` records (TSV or JSON)."""
    status = pl.col("status_code")
    frame = r.with_columns(url_parts(_uri_target()).alias("_u")).with_columns(
        host_expr(pl.col("_u").struct.field("host")).alias("_host")
    )
    return frame.select(
        pl.col("line_no"),
        pl.col("ts"),
        pl.col("id.orig_h").alias("src_ip"),
        pl.col("id.orig_p").cast(pl.Int32, strict=False).alias("src_port"),
        pl.when(pl.col("username") != "").then(pl.col("username")).alias("user"),
        pl.col("_host").alias("host"),
        pl.col("id.resp_h").alias("dst_ip"),
        pl.col("id.resp_p").cast(pl.Int32, strict=False).alias("dst_port"),
        pl.when(_connect())
        .then(None)
        .otherwise(url_expr(pl.col("_u"), pl.col("_host")))
        .alias("url"),
        pl.when(pl.col("method") != "").then(pl.col("method").str.to_uppercase()).alias("method"),
        status.cast(pl.Int32, strict=False).alias("status"),
        pl.when((_connect() | _absolute()) & status.is_in(PROXY_REFUSALS).fill_null(False))
        .then(pl.lit("blocked"))
        .when(status.is_not_null() & (status > 0))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
        .alias("action"),
        pl.col("request_body_len").alias("bytes_out"),
        pl.col("response_body_len").alias("bytes_in"),
        pl.when(pl.col("user_agent") != "").then(pl.col("user_agent")).alias("user_agent"),
        pl.col("uid").alias("zeek_uid"),
    )


HTTP = ZeekLog(
    path="http",
    types={
        **CONN_ID_TYPES,
        "trans_depth": "count",
        "method": "string",
        "host": "string",
        "uri": "string",
        "user_agent": "string",
        "request_body_len": "count",
        "response_body_len": "count",
        "status_code": "count",
        "username": "string",
    },
    events=http_events,
    required=("ts", "uid", "id.orig_h", "trans_depth"),
    markers=(
        "method",
        "host",
        "uri",
        "status_code",
        "request_body_len",
        "response_body_len",
    ),
    # SIP and SMTP records also have trans_depth (and SIP method/uri/status_code).
    excluded=("call_id", "request_path", "response_path", "mailfrom", "rcptto", "helo"),
)


@PARSERS.register("zeek_http")
class ZeekHttpParser(ZeekTsvParser):
    name = "zeek_http"
    log_type = "proxy"
    summary = "Zeek http.log, ASCII TSV with #fields header (btest baselines too)."
    example = "1730707200.125873\tCkP3Lm2V9sQ1aB7dE\t10.20.1.15\t52114\t104.18.32.47\t80\t1\tPOST\tchatgpt.com\t/backend-api/conversation\t-\t1.1\tMozilla/5.0\t-\t5120\t88211\t200\tOK\t-\t-\t(empty)\tjdoe\t..."
    log = HTTP
