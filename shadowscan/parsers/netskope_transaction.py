"""Netskope web transaction events (the Log Streaming / Transaction Events export) as JSON
lines with W3C-style keys.

``{"date":"2024-08-05","time":"16:24:20","cs-host":"www.bing.com","cs-uri":"/client/config?cc=US",
"x-cs-url":"https://www.bing.com/client/config?cc=US","cs-username":"...","cs-bytes":"2971",
"sc-bytes":"2050","cs-method":"GET","sc-status":"200","x-cs-app":"Microsoft Bing",...}``

``date`` + ``time`` are UTC (``x-cs-timestamp``, epoch seconds, when they are missing). A
line is an event when it is a JSON object with a time and a ``cs-host`` or ``x-cs-sni``
key. Missing values are ``-`` or ``NotChecked`` (null here). ``host`` is ``cs-host``, else
the TLS SNI ``x-cs-sni``; ``url`` is ``x-cs-url``, else built from ``cs-uri-scheme``,
``cs-host``, ``cs-uri-port`` and ``cs-uri`` (``*`` and ``-`` give none). ``src_ip`` is the
user's own address ``x-cs-userip``, else ``c-ip``; ``dst_ip`` is ``s-ip``, else
``x-cs-dst-ip``. ``x-cs-app`` goes in ``app``, ``x-policy-action`` gives ``action``.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import default_port, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers._swg import (
    JsonGatewayParser,
    action_expr,
    int_value,
    no_value,
    url_host,
)
from shadowscan.parsers.common import epoch_ts, iso_ts

FIELDS = {
    "_date": "date",
    "_time": "time",
    "_epoch": "x-cs-timestamp",
    "_host": "cs-host",
    "_sni": "x-cs-sni",
    "_uri": "cs-uri",
    "_scheme": "cs-uri-scheme",
    "_port": "cs-uri-port",
    "_url": "x-cs-url",
    "_user": "cs-username",
    "_cs_bytes": "cs-bytes",
    "_sc_bytes": "sc-bytes",
    "_method": "cs-method",
    "_status": "sc-status",
    "_app": "x-cs-app",
    "_category": "x-category",
    "_policy_action": "x-policy-action",
    "_c_ip": "c-ip",
    "_userip": "x-cs-userip",
    "_s_ip": "s-ip",
    "_dst_ip": "x-cs-dst-ip",
    "_dst_port": "x-cs-dst-port",
    "_src_port": "x-cs-src-port",
    "_ua": "cs-user-agent",
    "_ua_w3c": "cs(User-Agent)",
}

#: Keys only Netskope writes (for sniffing).
MARKER = r'"(?:x-cs-app|x-cs-sni|x-policy-action|x-cs-url|x-transaction-id)"\s*:'


def _ts(date: pl.Expr, time: pl.Expr, epoch: pl.Expr) -> pl.Expr:
    when = pl.concat_str([no_value(date), pl.lit(" "), no_value(time)])
    return pl.coalesce(iso_ts(when, "UTC"), epoch_ts(no_value(epoch)))


#: The keys that decide whether a line is an event.
CHECK = {k: FIELDS[k] for k in ("_date", "_time", "_epoch", "_host", "_sni")}


def is_event() -> pl.Expr:
    """Over the ``CHECK`` columns: a time, and a ``cs-host`` or ``x-cs-sni`` key."""
    c = pl.col
    has_host = c("_host").is_not_null() | c("_sni").is_not_null()
    return has_host & _ts(c("_date"), c("_time"), c("_epoch")).is_not_null()


def netskope_events(raw: pl.DataFrame) -> pl.DataFrame:
    c = pl.col
    method = no_value(c("_method")).str.to_uppercase()
    connect = method == "CONNECT"
    host = pl.coalesce(url_host(no_value(c("_host"))), url_host(no_value(c("_sni"))))
    scheme = no_value(c("_scheme")).str.to_lowercase()
    port = no_value(c("_port"))
    uri = no_value(c("_uri"))
    built = (
        pl.when(uri.str.starts_with("/") & no_value(c("_host")).is_not_null())
        .then(
            pl.concat_str(
                [
                    no_value(c("_host")),
                    pl.when(port.is_not_null() & ~no_value(c("_host")).str.contains(":"))
                    .then(pl.concat_str([pl.lit(":"), port]))
                    .otherwise(pl.lit("")),
                    uri,
                ]
            )
        )
        .otherwise(None)
    )
    frame = raw.with_columns(
        url_parts(pl.coalesce(no_value(c("_url")), built)).alias("_u"),
        host.alias("host"),
    )
    parts = c("_u").struct.field
    dst_port = pl.coalesce(
        int_value(c("_dst_port"), pl.Int32()),
        int_value(parts("port"), pl.Int32()),
        int_value(port, pl.Int32()),
        default_port(pl.coalesce(parts("scheme"), scheme), connect),
    )
    url_host_ = url_host(parts("host"))
    return frame.select(
        c("line_no"),
        _ts(c("_date"), c("_time"), c("_epoch")).alias("ts"),
        pl.coalesce(no_value(c("_userip")), no_value(c("_c_ip"))).alias("src_ip"),
        int_value(c("_src_port"), pl.Int32()).alias("src_port"),
        no_value(c("_user")).alias("user"),
        pl.coalesce(c("host"), url_host_).alias("host"),
        pl.coalesce(no_value(c("_s_ip")), no_value(c("_dst_ip"))).alias("dst_ip"),
        dst_port.alias("dst_port"),
        pl.when(connect)
        .then(None)
        .otherwise(url_expr(c("_u"), url_host_, pl.coalesce(scheme, pl.lit("http"))))
        .alias("url"),
        method.alias("method"),
        int_value(c("_status"), pl.Int32()).alias("status"),
        action_expr(pl.coalesce(no_value(c("_policy_action")), pl.lit(""))).alias("action"),
        int_value(c("_cs_bytes")).alias("bytes_out"),
        int_value(c("_sc_bytes")).alias("bytes_in"),
        pl.coalesce(no_value(c("_ua")), no_value(c("_ua_w3c"))).alias("user_agent"),
        no_value(c("_app")).alias("app"),
        no_value(c("_category")).alias("netskope_transaction_category"),
    )


@PARSERS.register("netskope_transaction")
class NetskopeTransactionParser(JsonGatewayParser):
    name = "netskope_transaction"
    log_type = "proxy"
    summary = (
        "Netskope web transaction events as JSON lines (W3C-style keys: cs-host, x-cs-app, ...)."
    )
    example = '{"date":"2024-11-04","time":"08:00:00","c-ip":"10.20.1.15","cs-host":"claude.ai","cs-method":"POST","cs-uri":"/api/append_message","x-cs-url":"https://claude.ai/api/append_message","cs-username":"jdoe@corp.example","cs-bytes":"5120","sc-bytes":"48211","sc-status":"200","x-cs-app":"Claude","x-policy-action":"allow",...}'
    fields = FIELDS
    check = CHECK
    marker = MARKER
    product = "Netskope transaction events"
    is_event = staticmethod(is_event)

    def events(self, raw: pl.DataFrame) -> pl.DataFrame:
        return netskope_events(raw)
