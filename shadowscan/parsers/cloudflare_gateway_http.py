"""Cloudflare Zero Trust Gateway HTTP requests, as Logpush JSON lines.

``{"Datetime":"2024-11-04T08:00:00Z","Email":"jdoe@corp.example","HTTPHost":"chatgpt.com",
"URL":"https://chatgpt.com/backend-api/conversation","HTTPMethod":"POST","HTTPStatusCode":200,
"Action":"allow","PolicyName":"...","SourceIP":"...","SourceInternalIP":"...",...}``

``Datetime`` comes as RFC 3339, or as epoch seconds or nanoseconds in a string or number
(the Logpush ``timestamp_format`` option): all are read. A line is an event when it is a
JSON object with a time and an ``HTTPHost`` or ``URL`` key. ``src_ip`` is the device's
own address ``SourceInternalIP`` (WARP), else the public ``SourceIP``; ``host`` is
``HTTPHost``, else the ``URL``'s host. Numbers may be JSON numbers or strings.
``UploadedFileNames`` (an array) is kept as ``a, b`` text, with the device name and the
policy that matched.
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
from shadowscan.parsers.common import epoch_ts, iso_ts

FIELDS = {
    "_datetime": "Datetime",
    "_email": "Email",
    "_host": "HTTPHost",
    "_url": "URL",
    "_method": "HTTPMethod",
    "_status": "HTTPStatusCode",
    "_action": "Action",
    "_policy": "PolicyName",
    "_src_ip": "SourceIP",
    "_src_int_ip": "SourceInternalIP",
    "_src_port": "SourcePort",
    "_dst_ip": "DestinationIP",
    "_dst_port": "DestinationPort",
    "_ua": "UserAgent",
    "_device": "DeviceName",
    "_uploads": "UploadedFileNames",
}

#: Keys only Gateway HTTP logs carry (the DNS dataset has QueryName instead).
MARKER = r'"(?:HTTPHost|HTTPMethod|HTTPStatusCode)"\s*:'


def gateway_ts(raw: pl.Expr) -> pl.Expr:
    """RFC 3339, or epoch seconds / milliseconds / nanoseconds (as text or number)."""
    s = raw.str.strip_chars()
    return pl.when(s.str.contains(r"^\d+(?:\.\d+)?$")).then(epoch_ts(s)).otherwise(iso_ts(s, "UTC"))


#: The keys that decide whether a line is an event.
CHECK = {k: FIELDS[k] for k in ("_datetime", "_host", "_url")}


def is_event() -> pl.Expr:
    """Over the ``CHECK`` columns: a time, and an ``HTTPHost`` or ``URL`` key."""
    c = pl.col
    has_target = c("_host").is_not_null() | c("_url").is_not_null()
    return has_target & gateway_ts(c("_datetime")).is_not_null()


def gateway_events(raw: pl.DataFrame) -> pl.DataFrame:
    c = pl.col
    method = no_value(c("_method")).str.to_uppercase()
    connect = method == "CONNECT"
    frame = raw.with_columns(url_parts(no_value(c("_url"))).alias("_u"))
    parts = c("_u").struct.field
    url_host_ = url_host(parts("host"))
    src_port = int_value(c("_src_port"), pl.Int32())  # 0 when Gateway did not see one
    return frame.select(
        c("line_no"),
        gateway_ts(c("_datetime")).alias("ts"),
        pl.coalesce(no_value(c("_src_int_ip")), no_value(c("_src_ip"))).alias("src_ip"),
        pl.when(src_port > 0).then(src_port).otherwise(None).alias("src_port"),
        no_value(c("_email")).alias("user"),
        pl.coalesce(url_host(no_value(c("_host"))), url_host_).alias("host"),
        no_value(c("_dst_ip")).alias("dst_ip"),
        pl.coalesce(
            int_value(c("_dst_port"), pl.Int32()),
            int_value(parts("port"), pl.Int32()),
            default_port(parts("scheme"), connect),
        ).alias("dst_port"),
        pl.when(connect).then(None).otherwise(url_expr(c("_u"), url_host_, "https")).alias("url"),
        method.alias("method"),
        int_value(c("_status"), pl.Int32()).alias("status"),
        action_expr(pl.coalesce(c("_action"), pl.lit(""))).alias("action"),
        no_value(c("_ua")).alias("user_agent"),
        list_text(c("_uploads")).alias("cloudflare_gateway_http_uploaded_files"),
        no_value(c("_policy")).alias("cloudflare_gateway_http_policy"),
        no_value(c("_device")).alias("cloudflare_gateway_http_device"),
    )


@PARSERS.register("cloudflare_gateway_http")
class CloudflareGatewayHttpParser(JsonGatewayParser):
    name = "cloudflare_gateway_http"
    log_type = "proxy"
    summary = (
        "Cloudflare Zero Trust Gateway HTTP Logpush JSON lines (Datetime as RFC 3339 or epoch)."
    )
    example = '{"Action":"allow","Datetime":"2024-11-04T08:00:00Z","DestinationIP":"104.18.32.47","DestinationPort":443,"Email":"jdoe@corp.example","HTTPHost":"chatgpt.com","HTTPMethod":"POST","HTTPStatusCode":200,"SourceInternalIP":"10.20.1.15","URL":"https://chatgpt.com/backend-api/conversation",...}'
    fields = FIELDS
    check = CHECK
    marker = MARKER
    product = "Cloudflare Gateway HTTP records"
    is_event = staticmethod(is_event)

    def events(self, raw: pl.DataFrame) -> pl.DataFrame:
        return gateway_events(raw)
