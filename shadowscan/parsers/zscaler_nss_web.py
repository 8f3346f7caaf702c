"""Zscaler Internet Access NSS web feed, in the three shapes NSS feeds are configured with.

- JSON lines: ``{ "sourcetype" : "zscalernss-web", "event" :{"time":"Fri Dec 31 07:07:07 2021",
  "login":"...","eurl":"...",...}}`` (the Splunk/Cloud NSS default; every value a string).
- Tab-separated and quoted comma-separated lines without a header, in the default field
  order of the NSS web feed: ``time login proto eurl action appname appclass reqsize
  respsize stime ctime urlclass urlsupercat urlcat malwarecat threatname riskscore dlpeng
  dlpdict location dept cip sip reqmethod respcode ua ereferer ruletype rulelabel
  contenttype unscannabletype deviceowner devicehostname`` (newer feeds append
  ``keyprotectiontype``; extra trailing fields are ignored).

The shape is decided per line (``{`` -> JSON, a tab -> TSV, else CSV), so a file may mix
them. ``time`` has no zone (``Fri Dec 31 07:07:07 2021``): it is read in
``--timezone`` (NSS feeds normally use UTC). ``eurl`` has no scheme (``host/path`` or
``host:443``): the scheme comes from ``proto`` (``HTTPS``/``SSL`` -> https). Zscaler
writes ``None``/``NA`` for empty values; they become null. ``reqsize`` is the upload,
``respsize`` the download; ``appname`` goes in ``app``.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers._swg import (
    action_expr,
    int_value,
    no_value,
    sniff_share,
)
from shadowscan.parsers.base import ParsedBatch, Parser, Sniff, not_matching, split_skipped
from shadowscan.parsers.common import csv_fields, json_fields, strptime_ts

SOURCETYPE = "zscalernss-web"

#: Default NSS web feed field order (0-based positions of the fields we read).
POSITIONS: dict[str, int] = {
    "time": 0,
    "login": 1,
    "proto": 2,
    "eurl": 3,
    "action": 4,
    "appname": 5,
    "appclass": 6,
    "reqsize": 7,
    "respsize": 8,
    "urlcat": 13,
    "cip": 21,
    "sip": 22,
    "reqmethod": 23,
    "respcode": 24,
    "ua": 25,
    "devicehostname": 32,
}
#: A default-layout line has at least this many fields.
MIN_FIELDS = 33

_RAW = [f"_{name}" for name in POSITIONS]
#: ``Dec 31 07:07:07 2021`` once the weekday is dropped and blanks squeezed.
_TIME = r"^[A-Za-z]{3} \d{1,2} \d{2}:\d{2}:\d{2} \d{4}$"


def nss_time(expr: pl.Expr, tz: str) -> pl.Expr:
    """``Fri Dec 31 07:07:07 2021`` / ``Thu Sep  6 22:55:48 2012`` -> UTC (read in ``tz``).

    The weekday is dropped, so a wrong one does not lose the line."""
    text = (
        expr.str.strip_chars()
        .str.replace_all(r"\s+", " ")
        .str.replace(r"^[A-Za-z]{3},? ([A-Za-z]{3} )", "$1")
    )
    return (
        pl.when(text.str.contains(_TIME))
        .then(strptime_ts(text, "%b %d %H:%M:%S %Y", tz))
        .otherwise(None)
    )


def _shapes(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split lines into JSON, tab-separated and comma-separated ones."""
    line = pl.col("line")
    is_json = line.str.strip_chars_start().str.starts_with("{")
    is_tsv = ~is_json & line.str.contains("\t", literal=True)
    shaped = frame.with_columns(is_json.alias("_json"), is_tsv.alias("_tsv"))
    return (
        shaped.filter(pl.col("_json")),
        shaped.filter(pl.col("_tsv")),
        shaped.filter(~pl.col("_json") & ~pl.col("_tsv")),
    )


def _json_raw(frame: pl.DataFrame, full: bool) -> pl.DataFrame:
    line = pl.col("line")
    keys = {f"_{n}": f"event/{n}" for n in (POSITIONS if full else ["time"])}
    # A root key found means a well-formed JSON object (json_path_match gives null
    # otherwise), so no separate json_valid pass.
    raw = frame.with_columns(json_fields(line, {"_sourcetype": "sourcetype", **keys}))
    ok = pl.col("_sourcetype") == SOURCETYPE
    return raw.with_columns(
        (ok & nss_time(pl.col("_time"), "UTC").is_not_null()).fill_null(False).alias("_ok")
    )


def _delimited_raw(frame: pl.DataFrame, fields: pl.Expr, full: bool) -> pl.DataFrame:
    raw = frame.with_columns(fields.alias("_f"))
    wanted = POSITIONS if full else {"time": 0}
    raw = raw.with_columns(
        pl.col("_f").list.get(i, null_on_oob=True).alias(f"_{n}") for n, i in wanted.items()
    )
    ok = (pl.col("_f").list.len() >= MIN_FIELDS) & nss_time(pl.col("_time"), "UTC").is_not_null()
    return raw.with_columns(ok.fill_null(False).alias("_ok"))


def raw_fields(frame: pl.DataFrame, full: bool = True) -> pl.DataFrame:
    """``frame`` (``line`` and any other columns) in line order, with one ``_<field>``
    text column per NSS field (only ``_time`` unless ``full``) and ``_ok`` (the line is an
    NSS web event)."""
    indexed = frame.with_row_index("_row")
    js, tsv, csv = _shapes(indexed)
    parts = [
        _json_raw(js, full),
        _delimited_raw(tsv, pl.col("line").str.split("\t"), full),
        _delimited_raw(csv, csv_fields(pl.col("line")), full),
    ]
    cols = ["_row", *frame.columns, *(_RAW if full else ["_time"]), "_ok"]
    return pl.concat([p.select(cols) for p in parts], how="vertical").sort("_row").drop("_row")


def _scheme(proto: pl.Expr) -> pl.Expr:
    p = proto.str.to_uppercase()
    return (
        pl.when(p.str.contains("HTTPS|SSL|TLS"))
        .then(pl.lit("https"))
        .when(p.str.contains("FTP"))
        .then(pl.lit("ftp"))
        .otherwise(pl.lit("http"))
    )


def nss_events(raw: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Canonical columns from the ``_<field>`` text columns of :func:`raw_fields`."""
    method = no_value(pl.col("_reqmethod")).str.to_uppercase()
    connect = method == "CONNECT"
    frame = raw.with_columns(
        url_parts(no_value(pl.col("_eurl"))).alias("_u"), _scheme(pl.col("_proto")).alias("_s")
    ).with_columns(host_expr(pl.col("_u").struct.field("host")).alias("host"))
    port = pl.col("_u").struct.field("port")
    scheme = pl.coalesce(
        pl.col("_u").struct.field("scheme").str.to_lowercase(),
        pl.when(port == "443").then(pl.lit("https")).otherwise(pl.col("_s")),
    )
    return frame.select(
        pl.col("line_no"),
        nss_time(pl.col("_time"), tz).alias("ts"),
        no_value(pl.col("_cip")).alias("src_ip"),
        no_value(pl.col("_login")).alias("user"),
        pl.col("host"),
        no_value(pl.col("_sip")).alias("dst_ip"),
        pl.coalesce(
            port.cast(pl.Int32, strict=False),
            pl.when(connect).then(pl.lit(443, pl.Int32)).otherwise(default_port(scheme)),
        ).alias("dst_port"),
        pl.when(connect)
        .then(None)
        .otherwise(url_expr(pl.col("_u"), pl.col("host"), pl.col("_s")))
        .alias("url"),
        method.alias("method"),
        int_value(pl.col("_respcode"), pl.Int32()).alias("status"),
        action_expr(pl.col("_action")).alias("action"),
        int_value(pl.col("_reqsize")).alias("bytes_out"),
        int_value(pl.col("_respsize")).alias("bytes_in"),
        no_value(pl.col("_ua")).alias("user_agent"),
        no_value(pl.col("_appname")).alias("app"),
        no_value(pl.col("_urlcat")).alias("zscaler_nss_web_urlcat"),
        no_value(pl.col("_appclass")).alias("zscaler_nss_web_appclass"),
        no_value(pl.col("_devicehostname")).alias("zscaler_nss_web_devicehostname"),
    )


@PARSERS.register("zscaler_nss_web")
class ZscalerNssWebParser(Parser):
    name = "zscaler_nss_web"
    log_type = "proxy"
    summary = "Zscaler NSS web feed: JSON lines (zscalernss-web), or the default field order as TSV or quoted CSV."
    example = '{ "sourcetype" : "zscalernss-web", "event" :{"time":"Mon Nov 04 08:00:00 2024","login":"jdoe@corp.example","proto":"HTTPS","eurl":"chatgpt.com/backend-api/conversation","action":"Allowed","appname":"ChatGPT","reqsize":"5120","respsize":"48211","cip":"10.20.1.15","sip":"104.18.32.47","reqmethod":"POST","respcode":"200",...}}'
    stateless = True

    @classmethod
    def validate(cls, text: pl.Series) -> pl.Series:
        return raw_fields(text.to_frame("line"), full=False)["_ok"].alias(text.name)

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        valid = cls.validate(pl.Series("line", lines, dtype=pl.String))
        # Valid JSON lines carry the zscalernss-web sourcetype; valid TSV/CSV lines start
        # with an NSS time and have the default field count.
        return sniff_share(cls.name, lines, valid, r".", "Zscaler NSS web feed lines")

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        raw = raw_fields(batch)
        ok = raw["_ok"]
        events = nss_events(raw.filter(ok), self.context.timezone)
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
