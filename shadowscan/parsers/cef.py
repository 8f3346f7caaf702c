"""ArcSight Common Event Format (CEF), from any device, bare or after a syslog header.

``CEF:0|Acme|SWG|5.2|1001|URL allowed|3|rt=1714640043518 src=10.1.2.3 suser=jdoe dhost=chatgpt.com request=https://chatgpt.com/backend-api/conversation requestMethod=POST act=allowed out=5123 in=48211``

The header is seven pipe-separated fields (``\\|`` and ``\\\\`` escaped); the extension
is ``key=value`` pairs separated by spaces, where a value runs until the next `` key=``
(so it may contain spaces) and ``\\=``, ``\\\\`` and ``\\n`` are escaped. Time: ``rt``
(else ``end``, ``start``, else the syslog header) as epoch milliseconds or
``MMM dd [yyyy] HH:mm:ss[.SSS] [zone]``. ``src``/``dst`` hold IPv4 addresses only; an
IPv6 source or destination is in ``c6a2``/``c6a3`` (as shadowscan's own ``cef`` sink
writes it), read when ``src``/``dst`` is missing. ``out``/``in`` are read as bytes sent
by / to the client, as proxies and firewalls emit them. ``log_type`` is ``proxy`` for rows
with a request URL, method or user agent, ``firewall`` otherwise.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers._siem import (
    HEADER_FIELD,
    event_ts,
    fill_ts_from_prefix,
    normalise_action,
    pair_values,
    spaced_pairs,
    split_header,
    unescape_header,
)
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, split_skipped, to_int

_F = HEADER_FIELD
#: Every CEF line has this; ``parse`` accepts exactly the lines it matches.
LINE_PATTERN = rf"CEF:\s?[0-9]+(?:\.[0-9]+)?\|(?:{_F}\|){{6}}"
_HEADER = (
    rf"^CEF:\s?(?P<version>[0-9]+(?:\.[0-9]+)?)\|(?P<vendor>{_F})\|"
    rf"(?P<product>{_F})\|(?P<device_version>{_F})\|(?P<signature_id>{_F})\|"
    rf"(?P<name>{_F})\|(?P<severity>{_F})\|(?P<ext>.*)$"
)

#: Extension keys read (canonical or format columns derive from them).
_KEYS = (
    "rt",
    "start",
    "end",
    "src",
    "c6a2",
    "spt",
    "dst",
    "c6a3",
    "dpt",
    "suser",
    "duser",
    "request",
    "requestMethod",
    "dhost",
    "destinationDnsDomain",
    "shost",
    "out",
    "in",
    "act",
    "app",
    "requestClientApplication",
    "sproc",
    "deviceProcessName",
)

# Escapes are swapped for private-use characters while the pairs are split, so that an
# escaped "=" never looks like a separator, then restored.
_BACKSLASH = "\ue000"
_EQUALS = "\ue001"


def _protect(ext: pl.Expr) -> pl.Expr:
    return (
        ext.str.replace_all(r"\\", _BACKSLASH, literal=True)
        .str.replace_all(r"\=", _EQUALS, literal=True)
        .str.strip_chars()
    )


def _restore(value: pl.Expr) -> pl.Expr:
    return (
        value.str.replace_all(r"\n", "\n", literal=True)
        .str.replace_all(r"\r", "\r", literal=True)
        .str.replace_all(_EQUALS, "=", literal=True)
        .str.replace_all(_BACKSLASH, "\\", literal=True)
    )


def cef_events(fields: pl.DataFrame, tz: str, ref: dt.datetime | None) -> pl.DataFrame:
    """Canonical columns from the header groups and the protected extension ``_ext``."""
    kv = pair_values(fields, spaced_pairs(pl.col("_ext")), _KEYS).with_columns(
        _restore(pl.col(f"k_{key}")) for key in _KEYS
    )
    request = pl.col("k_request")
    dhost = pl.coalesce(pl.col("k_dhost"), pl.col("k_destinationDnsDomain"))
    app = pl.col("k_app").str.to_lowercase()
    dpt = to_int(pl.col("k_dpt"), pl.Int32())
    # A request that is only a path gets its host from dhost.
    full_request = (
        pl.when(request.str.starts_with("/") & dhost.is_not_null())
        .then(pl.concat_str([dhost, request]))
        .otherwise(request)
    )
    scheme = (
        pl.when((app == "https") | (dpt == 443)).then(pl.lit("https")).otherwise(pl.lit("http"))
    )
    frame = kv.with_columns(url_parts(full_request).alias("_u")).with_columns(
        host_expr(pl.coalesce(pl.col("_u").struct.field("host"), dhost)).alias("host")
    )
    is_proxy = (
        request.is_not_null()
        | pl.col("k_requestMethod").is_not_null()
        | pl.col("k_requestClientApplication").is_not_null()
    )
    events = frame.select(
        pl.col("line_no"),
        event_ts(pl.coalesce(pl.col("k_rt"), pl.col("k_end"), pl.col("k_start")), tz, ref).alias(
            "ts"
        ),
        pl.col("prefix"),
        pl.when(is_proxy).then(pl.lit("proxy")).otherwise(pl.lit("firewall")).alias("log_type"),
        pl.coalesce(pl.col("k_src"), pl.col("k_c6a2")).alias("src_ip"),
        to_int(pl.col("k_spt"), pl.Int32()).alias("src_port"),
        pl.coalesce(pl.col("k_suser"), pl.col("k_duser")).alias("user"),
        pl.col("host"),
        pl.coalesce(pl.col("k_dst"), pl.col("k_c6a3")).alias("dst_ip"),
        pl.coalesce(
            dpt,
            to_int(pl.col("_u").struct.field("port"), pl.Int32()),
            default_port(pl.col("_u").struct.field("scheme")),
        ).alias("dst_port"),
        pl.when(
            pl.col("_u").struct.field("host").is_not_null()
            & (pl.col("k_requestMethod").str.to_uppercase() != "CONNECT").fill_null(True)
        )
        .then(url_expr(pl.col("_u"), pl.col("host"), scheme))
        .alias("url"),
        pl.col("k_requestMethod").str.to_uppercase().alias("method"),
        normalise_action(pl.col("k_act")).alias("action"),
        to_int(pl.col("k_out")).alias("bytes_out"),
        to_int(pl.col("k_in")).alias("bytes_in"),
        pl.col("k_requestClientApplication").alias("user_agent"),
        pl.col("k_app").alias("app"),
        pl.coalesce(pl.col("k_sproc"), pl.col("k_deviceProcessName")).alias("process"),
        unescape_header(pl.col("vendor")).alias("cef_vendor"),
        unescape_header(pl.col("product")).alias("cef_product"),
        unescape_header(pl.col("name")).alias("cef_name"),
        pl.col("k_shost").alias("cef_shost"),
    )
    return fill_ts_from_prefix(events, tz, ref)


@PARSERS.register("cef")
class CefParser(Parser):
    name = "cef"
    log_type = "proxy"
    summary = "ArcSight CEF from any device, bare or after a syslog header (proxy rows with a URL, firewall otherwise)."
    example = "CEF:0|Acme|SWG|5.2|1001|URL allowed|3|rt=1714640043518 src=10.1.2.3 suser=jdoe dhost=chatgpt.com request=https://chatgpt.com/backend-api/conversation requestMethod=POST act=allowed out=5123 in=48211"
    line_pattern = LINE_PATTERN
    priority = -1  # generic: a vendor-specific parser that scores the same wins

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        fields = split_header(batch, LINE_PATTERN, _HEADER)
        ok = fields["version"].is_not_null()
        good = fields.filter(ok).with_columns(_protect(pl.col("ext")).alias("_ext"))
        events = cef_events(good, self.context.timezone, self.context.file_time)
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
