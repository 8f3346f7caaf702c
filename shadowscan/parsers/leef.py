"""IBM QRadar Log Event Extended Format (LEEF 1.0 and 2.0), bare or after a syslog header.

``LEEF:2.0|Acme|SWG|5.2|Allowed|^|devTime=1714640043518^src=10.1.2.3^usrName=jdoe^url=https://chatgpt.com/backend-api/conversation^srcBytes=5123^dstBytes=48211^action=allowed``

The header is ``LEEF:Version|Vendor|Product|Version|EventID|``; LEEF 2.0 may add a
delimiter field (one character, or hex as ``x5E``/``0x09``; empty means tab). Attributes
are ``key=value`` pairs split on that delimiter (tab for LEEF 1.0); a line whose
attributes hold no delimiter at all (tabs turned into spaces by a relay) is split before
each `` key=`` instead. ``devTime`` is read with ``devTimeFormat`` (Java
``SimpleDateFormat``) when given, else as epoch seconds/milliseconds,
``MMM dd yyyy HH:mm:ss`` or ISO; without it the syslog header's time is used.
``srcBytes``/``dstBytes`` are bytes sent by / to the client. ``log_type`` is ``proxy``
for rows with a ``url`` or user agent, ``firewall`` otherwise.
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
    java_formatted_ts,
    normalise_action,
    pair_values,
    spaced_pairs,
    split_header,
    unescape_header,
)
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, split_skipped, to_int

_F = HEADER_FIELD
#: Every LEEF line has this; ``parse`` accepts exactly the lines it matches.
LINE_PATTERN = rf"LEEF:\s?[0-9](?:\.[0-9]+)?\|(?:{_F}\|){{4}}"
_HEADER = (
    rf"^LEEF:\s?(?P<version>[0-9](?:\.[0-9]+)?)\|(?P<vendor>{_F})\|"
    rf"(?P<product>{_F})\|(?P<product_version>{_F})\|(?P<event_id>{_F})\|(?P<rest>.*)$"
)
#: LEEF 2.0's optional delimiter field: one character or its hex code, then ``|``.
_DELIMITER = r"^(?:(?P<char>[^|=])|(?:0?[xX](?P<hex>[0-9A-Fa-f]{2,4})))?\|(?P<attrs>.*)$"

_KEYS = (
    "devTime",
    "devTimeFormat",
    "src",
    "srcPort",
    "dst",
    "dstPort",
    "usrName",
    "accountName",
    "url",
    "proto",
    "action",
    "policy",
    "srcBytes",
    "dstBytes",
    "dstHost",
    "identHostName",
    "userAgent",
    "useragent",
)


def _attributes(good: pl.DataFrame) -> pl.DataFrame:
    """``_attrs`` (pairs separated by tabs) and ``_tabbed`` from the header remainder."""
    v2 = pl.col("version").str.starts_with("2")
    d = pl.col("rest").str.extract_groups(_DELIMITER)
    frame = good.with_columns(
        pl.when(v2 & d.struct.field("attrs").is_not_null())
        .then(d.struct.field("attrs"))
        .otherwise(pl.col("rest"))
        .alias("_attrs"),
        pl.when(v2).then(d.struct.field("char")).alias("_char"),
        pl.when(v2).then(d.struct.field("hex")).alias("_hex"),
    )
    # Few distinct delimiters: turn each into a tab.
    hexes = [h for h in frame["_hex"].unique().to_list() if h is not None]
    chars = [c for c in frame["_char"].unique().to_list() if c not in (None, "\t")]
    attrs = pl.col("_attrs")
    for h in hexes:
        code = int(h, 16)
        if 0 < code < 0x110000 and chr(code) != "\t":
            attrs = (
                pl.when(pl.col("_hex") == h)
                .then(attrs.str.replace_all(chr(code), "\t", literal=True))
                .otherwise(attrs)
            )
    for c in chars:
        attrs = (
            pl.when(pl.col("_char") == c)
            .then(attrs.str.replace_all(c, "\t", literal=True))
            .otherwise(attrs)
        )
    return frame.with_columns(attrs.alias("_attrs")).with_columns(
        pl.col("_attrs").str.contains("\t", literal=True).alias("_tabbed")
    )


def leef_events(fields: pl.DataFrame, tz: str, ref: dt.datetime | None) -> pl.DataFrame:
    """Canonical columns from the header groups and the tab-separated ``_attrs``."""
    frame = _attributes(fields)
    attrs = pl.col("_attrs")
    pairs = pl.when(pl.col("_tabbed")).then(attrs.str.split("\t")).otherwise(spaced_pairs(attrs))
    frame = pair_values(frame, pairs, _KEYS)
    formats = [f for f in frame["k_devTimeFormat"].unique().to_list() if f is not None]
    dev_time = pl.col("k_devTime")
    url = pl.col("k_url")
    frame = frame.with_columns(url_parts(url).alias("_u")).with_columns(
        host_expr(
            pl.coalesce(
                pl.col("_u").struct.field("host"), pl.col("k_dstHost"), pl.col("k_identHostName")
            )
        ).alias("host")
    )
    user_agent = pl.coalesce(pl.col("k_userAgent"), pl.col("k_useragent"))
    dst_port = to_int(pl.col("k_dstPort"), pl.Int32())
    events = frame.select(
        pl.col("line_no"),
        pl.coalesce(
            java_formatted_ts(dev_time, pl.col("k_devTimeFormat"), formats, tz),
            event_ts(dev_time, tz, ref),
        ).alias("ts"),
        pl.col("prefix"),
        pl.when(url.is_not_null() | user_agent.is_not_null())
        .then(pl.lit("proxy"))
        .otherwise(pl.lit("firewall"))
        .alias("log_type"),
        pl.col("k_src").alias("src_ip"),
        to_int(pl.col("k_srcPort"), pl.Int32()).alias("src_port"),
        pl.coalesce(pl.col("k_usrName"), pl.col("k_accountName")).alias("user"),
        pl.col("host"),
        pl.col("k_dst").alias("dst_ip"),
        pl.coalesce(
            dst_port,
            to_int(pl.col("_u").struct.field("port"), pl.Int32()),
            default_port(pl.col("_u").struct.field("scheme")),
        ).alias("dst_port"),
        pl.when(pl.col("_u").struct.field("host").is_not_null())
        .then(
            url_expr(
                pl.col("_u"),
                host_expr(pl.col("_u").struct.field("host")),
                pl.when(dst_port == 443).then(pl.lit("https")).otherwise(pl.lit("http")),
            )
        )
        .alias("url"),
        normalise_action(pl.coalesce(pl.col("k_action"), pl.col("k_policy"))).alias("action"),
        to_int(pl.col("k_srcBytes")).alias("bytes_out"),
        to_int(pl.col("k_dstBytes")).alias("bytes_in"),
        user_agent.alias("user_agent"),
        unescape_header(pl.col("vendor")).alias("leef_vendor"),
        unescape_header(pl.col("product")).alias("leef_product"),
        unescape_header(pl.col("event_id")).alias("leef_event_id"),
        pl.col("k_proto").alias("leef_proto"),
    )
    return fill_ts_from_prefix(events, tz, ref)


@PARSERS.register("leef")
class LeefParser(Parser):
    name = "leef"
    log_type = "proxy"
    summary = "IBM QRadar LEEF 1.0/2.0 from any device, bare or after a syslog header (proxy rows with a URL, firewall otherwise)."
    example = "LEEF:2.0|Acme|SWG|5.2|Allowed|^|devTime=1714640043518^src=10.1.2.3^usrName=jdoe^url=https://chatgpt.com/backend-api/conversation^srcBytes=5123^dstBytes=48211^action=allowed"
    line_pattern = LINE_PATTERN
    priority = -1  # generic: a vendor-specific parser that scores the same wins

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        fields = split_header(batch, LINE_PATTERN, _HEADER)
        ok = fields["version"].is_not_null()
        events = leef_events(fields.filter(ok), self.context.timezone, self.context.file_time)
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
