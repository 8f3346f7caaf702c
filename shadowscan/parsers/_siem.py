"""Pieces shared by the SIEM interchange formats (``cef``, ``leef``): pipe-delimited
headers with ``\\|`` escapes, ``key=value`` extensions whose values may contain spaces,
the time formats ArcSight and QRadar accept, a syslog prefix in front of the header, and
device actions normalised to ``allowed``/``blocked``/``unknown``. All vectorised.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import polars as pl

from shadowscan.parsers.common import epoch_ts, iso_ts, strptime_ts
from shadowscan.schema import UTC_TS

#: One pipe-delimited header field: anything but ``|``, with ``\|`` and ``\\`` escapes.
HEADER_FIELD = r"(?:[^|\\]|\\.)*"

#: Characters an extension key is made of (CEF keys are alphanumeric; vendors add ``_.-``).
KEY_CHARS = r"[A-Za-z0-9_.\-]"


def unescape_header(expr: pl.Expr) -> pl.Expr:
    """``\\|`` -> ``|`` and ``\\\\`` -> ``\\`` in a header field; empty -> null."""
    out = expr.str.replace_all(r"\\([|\\])", "$1")
    return pl.when(out.str.strip_chars() == "").then(None).otherwise(out)


_CUT = "\ue002"  # private-use character marking where a pair starts


def spaced_pairs(text: pl.Expr) -> pl.Expr:
    """``k1=v1 k2=v two k3=v3`` -> ``["k1=v1", "k2=v two", "k3=v3"]``: a value runs up to
    the next `` key=`` (or the end), so it may contain spaces (and ``=`` not preceded by
    a space, as in unescaped URL queries)."""
    return (
        text.str.strip_chars()
        .str.replace_all(rf"\s+({KEY_CHARS}+)=", _CUT + "${1}=")
        .str.split(_CUT)
    )


def pair_values(frame: pl.DataFrame, pairs: pl.Expr, keys: Sequence[str]) -> pl.DataFrame:
    """``frame`` with a ``k_<key>`` column per key: the value of the first ``key=value``
    in the row's ``pairs`` list (stripped; empty or absent -> null). One explode and one
    group-by for all keys, instead of a regex per key."""
    rows = frame.with_row_index("_row")
    long = (
        rows.select(pl.col("_row"), pairs.alias("_pair"))
        .explode("_pair")
        .with_columns(pl.col("_pair").str.splitn("=", 2).alias("_kv"))
        .select(
            pl.col("_row"),
            pl.col("_kv").struct.field("field_0").str.strip_chars().alias("_key"),
            pl.col("_kv").struct.field("field_1").str.strip_chars().alias("_value"),
        )
        .filter(pl.col("_key").is_in(list(keys)) & (pl.col("_value") != ""))
    )
    wide = long.group_by("_row").agg(
        pl.col("_value").filter(pl.col("_key") == key).first().alias(f"k_{key}") for key in keys
    )
    return (
        rows.join(wide, on="_row", how="left", maintain_order="left")
        .with_columns(pl.col(f"k_{key}").cast(pl.String) for key in keys)
        .drop("_row")
    )


# --- time ---------------------------------------------------------------------------

#: Common zone abbreviations (fixed offsets in minutes); others are read in the default
#: time zone.
ZONE_OFFSETS: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "UT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 60,
    "BST": 60,
    "CET": 60,
    "CEST": 120,
    "MET": 60,
    "MEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "SGT": 480,
    "HKT": 480,
    "JST": 540,
    "KST": 540,
    "AEST": 600,
    "AEDT": 660,
    "NZST": 720,
    "NZDT": 780,
    "EST": -300,
    "EDT": -240,
    "CST": -360,
    "CDT": -300,
    "MST": -420,
    "MDT": -360,
    "PST": -480,
    "PDT": -420,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
}

_NUMERIC_ZONE = r"^(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?$"


def zone_offset_minutes(zone: pl.Expr) -> pl.Expr:
    """Minutes east of UTC for ``+0100``, ``-04:00``, ``GMT+01:00``, ``UTC``, ``CET``...;
    null for zones it does not know (and for null)."""
    z = zone.str.strip_chars().str.to_uppercase()
    parts = z.str.extract_groups(_NUMERIC_ZONE)
    sign = pl.when(parts.struct.field("1") == "-").then(-1).otherwise(1)
    numeric = sign * (
        parts.struct.field("2").cast(pl.Int32, strict=False) * 60
        + parts.struct.field("3").cast(pl.Int32, strict=False).fill_null(0)
    )
    named = z.replace_strict(ZONE_OFFSETS, default=None, return_dtype=pl.Int32)
    return pl.coalesce(numeric.cast(pl.Int32), named)


def _apply_zone(naive: pl.Expr, offset: pl.Expr, tz: str) -> pl.Expr:
    """A naive datetime read at ``offset`` minutes east of UTC, or in ``tz`` without one."""
    fixed = naive.dt.replace_time_zone("UTC") - pl.duration(minutes=offset)
    local = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    return (
        pl.when(offset.is_not_null())
        .then(fixed.cast(UTC_TS))
        .otherwise(local.dt.convert_time_zone("UTC").cast(UTC_TS))
    )


#: ``MMM dd [yyyy] HH:mm:ss[.SSS] [zone]``: ArcSight's documented text time formats.
_MONTH_TIME = (
    r"^(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2}),?\s+(?:(?P<year>\d{4})\s+)?"
    r"(?P<time>\d{1,2}:\d{2}:\d{2}(?:\.\d{1,9})?)(?:\s+(?P<zone>\S+))?$"
)


def month_time_ts(text: pl.Expr, tz: str, reference: dt.datetime | None) -> pl.Expr:
    """``Jan 18 2024 11:07:53.520 UTC`` (year and zone optional) -> UTC. Without a year,
    the one that puts the time at or before ``reference`` (the file's mtime, or now)."""
    ref = reference or dt.datetime.now(dt.UTC)
    p = text.str.strip_chars().str.extract_groups(_MONTH_TIME)
    offset = zone_offset_minutes(p.struct.field("zone"))
    year = p.struct.field("year")
    naive = pl.concat_str(
        [
            year.fill_null(pl.lit(str(ref.year))),
            p.struct.field("mon"),
            p.struct.field("day"),
            p.struct.field("time"),
        ],
        separator=" ",
    ).str.to_datetime("%Y %b %d %H:%M:%S%.f", time_unit="us", strict=False)
    limit = ref + dt.timedelta(days=1)
    future = year.is_null() & (_apply_zone(naive, offset, tz) > limit)
    return _apply_zone(pl.when(future).then(naive.dt.offset_by("-1y")).otherwise(naive), offset, tz)


def event_ts(text: pl.Expr, tz: str, reference: dt.datetime | None) -> pl.Expr:
    """A device time as CEF/LEEF producers write it: epoch seconds or milliseconds,
    ``MMM dd [yyyy] HH:mm:ss[.SSS] [zone]``, or ISO 8601 -> UTC (null when none fits)."""
    t = text.str.strip_chars()
    epoch = pl.when(t.str.contains(r"^\d{9,19}(?:\.\d+)?$")).then(epoch_ts(t))
    iso = pl.when(t.str.contains(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")).then(iso_ts(t, tz))
    return pl.coalesce(epoch, month_time_ts(t, tz, reference), iso).cast(UTC_TS)


#: The time at the start of a syslog header (RFC 3164, with or without a year, or
#: RFC 3339 as in RFC 5424 and relays).
_PREFIX_TIME = (
    r"^\s*(?:<\d{1,3}>)?(?:\d\s+)?"
    r"(?P<t>[A-Z][a-z]{2}\s+\d{1,2}(?:\s+\d{4})?\s+\d{2}:\d{2}:\d{2}(?:\.\d+)?"
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"
)


def prefix_ts(prefix: pl.Expr, tz: str, reference: dt.datetime | None) -> pl.Expr:
    """The syslog header's time (the fallback when the event itself carries none)."""
    return event_ts(prefix.str.extract(_PREFIX_TIME, 1), tz, reference)


def fill_ts_from_prefix(
    events: pl.DataFrame, tz: str, reference: dt.datetime | None
) -> pl.DataFrame:
    """Fill a null ``ts`` from the syslog header in ``prefix`` (then dropped); only the
    rows that need it are parsed."""
    need = events["ts"].is_null() & (events["prefix"].str.len_chars() > 0).fill_null(False)
    if need.any():
        filled = events.filter(need).select(prefix_ts(pl.col("prefix"), tz, reference))
        events = events.with_columns(
            events["ts"].scatter(need.arg_true(), filled.to_series()).alias("ts")
        )
    return events.drop("prefix")


def split_header(batch: pl.DataFrame, find: str, header: str) -> pl.DataFrame:
    """``line_no``, ``prefix`` (what comes before the header: a syslog header, or empty)
    and the named groups of ``header`` (anchored at the header's start), for the lines
    where ``find`` matches (nulls elsewhere). The header starts at the leftmost match of
    ``find``, so a line is read exactly when ``find`` matches it."""
    line = pl.col("line")
    pos = line.str.find(find)
    return batch.select(
        pl.col("line_no"),
        line.str.slice(0, pos).alias("prefix"),
        line.str.slice(pos).str.extract_groups(header).alias("_h"),
    ).unnest("_h")


# Java SimpleDateFormat (LEEF ``devTimeFormat``) -> chrono, for the few distinct formats.
_JAVA_TOKEN = re.compile(r"'[^']*'|''|([A-Za-z])\1*|[^A-Za-z']+")
_JAVA_MAP = {
    "y": {4: "%Y", 2: "%y", 1: "%Y"},
    "Y": {4: "%Y", 2: "%y", 1: "%Y"},
    "d": {1: "%d", 2: "%d"},
    "H": {1: "%H", 2: "%H"},
    "k": {1: "%H", 2: "%H"},
    "h": {1: "%I", 2: "%I"},
    "K": {1: "%I", 2: "%I"},
    "m": {1: "%M", 2: "%M"},
    "s": {1: "%S", 2: "%S"},
    "a": {1: "%p"},
    "Z": {1: "%z"},
    "X": {1: "%#z", 2: "%z", 3: "%:z"},
    "x": {1: "%#z", 2: "%z", 3: "%:z"},
}


def java_time_format(pattern: str) -> tuple[str, bool] | None:
    """Translate a Java ``SimpleDateFormat`` pattern to a chrono format.

    Returns ``(format, zone_name_last)``: when the pattern ends in a zone *name*
    (``z``/``zzz``), the format leaves it out and the caller reads the last word of the
    value as the zone. None for patterns it cannot translate.
    """
    tokens = [m.group(0) for m in _JAVA_TOKEN.finditer(pattern)]
    if "".join(tokens) != pattern:
        return None
    zone_last = False
    if tokens and tokens[-1][0] == "z":
        zone_last = True
        tokens = tokens[:-1]
        if tokens and tokens[-1].strip() == "":
            tokens = tokens[:-1]
    out: list[str] = []
    for i, tok in enumerate(tokens):
        ch = tok[0]
        if tok == "''":
            out.append("'")
        elif ch == "'":
            out.append(tok[1:-1].replace("%", "%%"))
        elif not ch.isalpha():
            if tok.endswith(".") and i + 1 < len(tokens) and tokens[i + 1][0] == "S":
                tok = tok[:-1]  # ".SSS" -> "%.f" below, which consumes the dot
            out.append(tok.replace("%", "%%"))
        elif ch == "M":
            out.append({1: "%m", 2: "%m", 3: "%b"}.get(len(tok), "%B"))
        elif ch == "E":
            out.append("%a" if len(tok) <= 3 else "%A")
        elif ch == "S":
            dotted = i > 0 and tokens[i - 1].endswith(".")
            out.append("%.f" if dotted else f"%{min(len(tok), 9)}f")
        elif ch in _JAVA_MAP:
            table = _JAVA_MAP[ch]
            fmt = table.get(len(tok)) or table[max(table)]
            out.append(fmt)
        else:
            return None
    return "".join(out), zone_last


def java_formatted_ts(value: pl.Expr, pattern: pl.Expr, patterns: list[str], tz: str) -> pl.Expr:
    """``value`` read with its row's Java ``pattern`` (one of the distinct ``patterns``)."""
    expr: pl.Expr = pl.lit(None, dtype=UTC_TS)
    for pat in patterns:
        translated = java_time_format(pat)
        if translated is None:
            continue
        fmt, zone_last = translated
        has_offset = "%z" in fmt or "%:z" in fmt or "%#z" in fmt
        v = value.str.strip_chars()
        if zone_last:
            parts = v.str.extract_groups(r"^(?P<t>.*?)\s*(?P<z>[A-Za-z][A-Za-z0-9+:\-]*)$")
            naive = parts.struct.field("t").str.to_datetime(fmt, time_unit="us", strict=False)
            parsed = (
                naive.dt.convert_time_zone("UTC").cast(UTC_TS)
                if has_offset
                else _apply_zone(naive, zone_offset_minutes(parts.struct.field("z")), tz)
            )
        else:
            parsed = strptime_ts(v, fmt, tz)
        expr = pl.when(pattern == pat).then(parsed).otherwise(expr)
    return expr


# --- actions --------------------------------------------------------------------------

_BLOCKED = r"(?i)block|den(?:y|ied)|drop|reject|prevent|quarantin|sinkhole|reset|forbid"
_ALLOWED = r"(?i)allow|accept|permit|pass|forward|success|observ|monitor|^ok$|^tcp_"


def normalise_action(raw: pl.Expr) -> pl.Expr:
    """A device's own action word -> ``blocked``/``allowed``; ``unknown`` otherwise."""
    return (
        pl.when(raw.str.contains(_BLOCKED))
        .then(pl.lit("blocked"))
        .when(raw.str.contains(_ALLOWED))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
    )
