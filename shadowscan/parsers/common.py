"""Vectorised building blocks shared by the parsers: timestamps, JSON fields, quoted CSV,
``key=value`` pairs and syslog headers. Everything works on whole polars columns; nothing
loops over lines in Python.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import polars as pl

from shadowscan.schema import UTC_TS

# --- time ------------------------------------------------------------------------------

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    )
}


def epoch_ts(expr: pl.Expr) -> pl.Expr:
    """Epoch seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude,
    as text or number, with or without a fraction) -> UTC datetime."""
    num = expr.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    us = (
        pl.when(num.abs() < 1e11)
        .then(num * 1e6)
        .when(num.abs() < 1e14)
        .then(num * 1e3)
        .when(num.abs() < 1e17)
        .then(num)
        .otherwise(num / 1e3)
    )
    return (
        us.round(0)
        .cast(pl.Int64, strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .cast(UTC_TS)
    )


def iso_ts(expr: pl.Expr, default_tz: str = "UTC") -> pl.Expr:
    """ISO 8601 / RFC 3339 (``T`` or space, optional fraction, ``Z``/offset or none) -> UTC.

    Values without an offset are taken in ``default_tz``.
    """
    s = (
        expr.cast(pl.String)
        .str.strip_chars()
        .str.replace(" ", "T")
        .str.replace(r"(\.\d{6})\d+", "$1")
    )
    has_zone = s.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$")
    with_zone = s.str.replace(r"Z$", "+00:00").str.replace(r"([+-]\d{2})(\d{2})$", "$1:$2")
    aware = with_zone.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False
    ).dt.convert_time_zone("UTC")
    naive = (
        s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
        .dt.replace_time_zone(default_tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    return pl.when(has_zone).then(aware).otherwise(naive).cast(UTC_TS)


def strptime_ts(expr: pl.Expr, fmt: str, tz: str = "UTC") -> pl.Expr:
    """``strptime`` with a fixed format; the result is read in ``tz`` unless the format has ``%z``."""
    parsed = (
        expr.cast(pl.String).str.strip_chars().str.to_datetime(fmt, time_unit="us", strict=False)
    )
    if "%z" in fmt or "%:z" in fmt:
        return parsed.dt.convert_time_zone("UTC").cast(UTC_TS)
    return (
        parsed.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .cast(UTC_TS)
    )


def syslog_ts(expr: pl.Expr, reference: dt.datetime | None, tz: str = "UTC") -> pl.Expr:
    """``Aug 21 22:08:13`` (no year) -> UTC.

    The year is the one that puts the time at or before ``reference`` (the file's mtime,
    or now): a December line in a file written in January belongs to the previous year.
    """
    ref = reference or dt.datetime.now(dt.UTC)
    text = expr.cast(pl.String).str.strip_chars().str.replace_all(r"\s+", " ")
    this_year = strptime_ts(pl.lit(str(ref.year)) + pl.lit(" ") + text, "%Y %b %d %H:%M:%S", tz)
    last_year = strptime_ts(pl.lit(str(ref.year - 1)) + pl.lit(" ") + text, "%Y %b %d %H:%M:%S", tz)
    limit = ref + dt.timedelta(days=1)
    return pl.when(this_year > limit).then(last_year).otherwise(this_year)


# --- JSON --------------------------------------------------------------------------------


def json_valid(lines: pl.Series | pl.Expr) -> pl.Series | pl.Expr:
    """True where a line is one JSON object (arrays and scalars are not events)."""
    return (
        lines.str.strip_chars().str.starts_with("{") & lines.str.json_path_match("$").is_not_null()
    )


def json_path(key: str) -> str:
    """JSONPath for a possibly dotted key path: ``event.cip`` or ``["id.orig_h"]`` style.

    Keys are separated by ``/`` so that keys containing dots stay whole:
    ``"event/cs-host"`` -> ``$['event']['cs-host']``.
    """
    return "$" + "".join(f"['{part}']" for part in key.split("/"))


def json_fields(lines: pl.Expr, fields: Mapping[str, str]) -> list[pl.Expr]:
    """One string column per ``name: key-path``; missing keys and JSON null become null,
    arrays and objects come back as JSON text (so type changes between lines never fail)."""
    return [lines.str.json_path_match(json_path(path)).alias(name) for name, path in fields.items()]


# --- delimited and key=value -------------------------------------------------------------

_CSV_FIELD = r'(?:^|,)[ \t]*(?:"((?:[^"]|"")*)"|([^,]*))'


def csv_fields(lines: pl.Expr) -> pl.Expr:
    """Split quoted CSV lines into a list of strings (quotes removed, ``""`` unescaped,
    blanks after commas ignored). Rows may have different lengths."""
    raw = lines.str.extract_all(_CSV_FIELD)
    return raw.list.eval(
        pl.element()
        .str.strip_prefix(",")
        .str.strip_chars_start(" \t")
        .str.replace(r'^"(.*)"$', "$1")
        .str.replace_all('""', '"', literal=True)
    )


def split_item(i: int, column: str = "_f") -> pl.Expr:
    """Item ``i`` of a split row (e.g. from :func:`csv_fields`), stripped; null when the
    row is shorter, or the item empty or ``-``."""
    item = pl.col(column).list.get(i, null_on_oob=True).str.strip_chars()
    return pl.when(item.is_in(["-", ""])).then(None).otherwise(item)


def kv_value(lines: pl.Expr, key: str, sep: str = "=") -> pl.Expr:
    """The value of ``key`` in ``key=value`` / ``key="quoted value"`` text, or null.

    Quoted values may contain escaped quotes (``\\"``); unquoted ones end at whitespace.
    """
    k = re.escape(key)
    s = re.escape(sep)
    quoted = lines.str.extract(rf'(?:^|[\s,;\[|]){k}{s}"((?:[^"\\]|\\.)*)"', 1).str.replace_all(
        r'\\(["\\])', "$1"
    )
    bare = lines.str.extract(rf'(?:^|[\s,;\[|]){k}{s}([^"\s][^\s]*|)(?:\s|$)', 1)
    return pl.coalesce(quoted, bare)


# --- syslog ------------------------------------------------------------------------------

#: RFC 3164 header: ``<PRI>Mmm dd hh:mm:ss host tag[pid]:`` (PRI, host and tag optional).
RFC3164 = (
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<syslog_ts>[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2})\s+"
    r"(?:(?P<syslog_host>[^\s:\[]+)\s+)?(?P<tag>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?:\s?"
)
#: RFC 5424 header: ``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD or -]``.
RFC5424 = (
    r"^<(?P<pri>\d{1,3})>1\s+(?P<syslog_ts>\S+)\s+(?P<syslog_host>\S+)\s+(?P<app>\S+)\s+"
    r"(?P<procid>\S+)\s+(?P<msgid>\S+)\s+"
)
