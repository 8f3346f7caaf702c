"""Pieces shared by the firewall syslog parsers ``cisco_asa``, ``checkpoint`` and
``juniper_srx``: syslog time stamps (with or without year, with a zone abbreviation such
as ``EDT``), placeholder values, the action vocabulary and address checks.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from shadowscan.parsers.common import iso_ts, strptime_ts, syslog_ts
from shadowscan.schema import UTC_TS

#: BSD syslog time, optionally with a year after the day (Cisco: ``Apr 15 2013 09:36:50``).
BSD_TS = r"[A-Z][a-z]{2}\s+\d{1,2}(?:\s+\d{4})?\s+\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"
#: BSD syslog time without a year (a relay's header).
BSD_TS_NO_YEAR = r"[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"
#: RFC 3339 time, with or without fraction and zone.
ISO_TS = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?"

#: Zone abbreviations devices put after the time (``logging timestamp`` on an ASA with
#: ``clock timezone``), as minutes east of UTC. Only unambiguous ones: an abbreviation not
#: listed here is not a zone (the time is then read in ``--timezone``).
ZONE_OFFSETS: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 60,
    "CET": 60,
    "CEST": 120,
    "MET": 60,
    "MEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "EST": -300,
    "EDT": -240,
    "CDT": -300,
    "MST": -420,
    "MDT": -360,
    "PST": -480,
    "PDT": -420,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
    "JST": 540,
    "KST": 540,
    "HKT": 480,
    "SGT": 480,
    "AEST": 600,
    "AEDT": 660,
    "ACST": 570,
    "AWST": 480,
    "NZST": 720,
    "NZDT": 780,
}
ZONE = "(?:" + "|".join(sorted(ZONE_OFFSETS, key=len, reverse=True)) + ")"

#: Values devices write for "nothing here".
PLACEHOLDERS = ("", "-", "N/A", "NA", "None", "none", "NONE", "n/a", "null", "NULL")

_IP = r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+(?:%\S+)?)$"


def strip_group_names(pattern: str) -> str:
    """``(?P<x>...)`` -> ``(?:...)`` (for patterns reused inside others)."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


def placeholder_to_null(expr: pl.Expr, extra: tuple[str, ...] = ()) -> pl.Expr:
    """Trimmed text, null for the placeholders devices write for "no value"."""
    s = expr.str.strip_chars()
    return pl.when(s.is_in([*PLACEHOLDERS, *extra])).then(None).otherwise(s)


def is_ip(expr: pl.Expr) -> pl.Expr:
    """True where the text is an IPv4 or IPv6 literal."""
    return expr.str.contains(_IP)


def firewall_action(
    word: pl.Expr,
    allowed: tuple[str, ...] = ("accept", "allow", "allowed", "permit", "permitted", "pass"),
    blocked: tuple[str, ...] = (
        "deny",
        "denied",
        "drop",
        "dropped",
        "reject",
        "rejected",
        "block",
        "blocked",
        "prevent",
        "reset",
        "reset-both",
        "reset-client",
        "reset-server",
    ),
) -> pl.Expr:
    """``allowed`` / ``blocked`` / ``unknown`` from a device's verdict word (any case)."""
    w = word.str.strip_chars().str.to_lowercase()
    return (
        pl.when(w.is_in(list(allowed)))
        .then(pl.lit("allowed"))
        .when(w.is_in(list(blocked)))
        .then(pl.lit("blocked"))
        .otherwise(pl.lit("unknown"))
    )


def bsd_ts(
    text: pl.Expr, zone: pl.Expr | None, reference: dt.datetime | None, default_tz: str
) -> pl.Expr:
    """``Apr 15 2013 09:36:50`` or ``Apr 15 09:36:50`` (fraction dropped) -> UTC.

    Without a year the file's time decides it (:func:`syslog_ts`). A zone abbreviation
    from :data:`ZONE_OFFSETS` in ``zone`` wins over ``default_tz``.
    """
    t = text.str.replace(r"\.\d+$", "").str.replace_all(r"\s+", " ")
    has_year = t.str.contains(r"^[A-Z][a-z]{2} \d{1,2} \d{4} ")

    def read(tz: str) -> pl.Expr:
        return (
            pl.when(has_year)
            .then(strptime_ts(t, "%b %d %Y %H:%M:%S", tz))
            .otherwise(syslog_ts(t, reference, tz))
        )

    if zone is None:
        return read(default_tz)
    minutes = zone.replace_strict(ZONE_OFFSETS, default=None, return_dtype=pl.Int64)
    shifted = read("UTC") - pl.duration(minutes=minutes)
    return pl.when(minutes.is_not_null()).then(shifted).otherwise(read(default_tz)).cast(UTC_TS)


def any_ts(
    iso: pl.Expr, bsd: pl.Expr, zone: pl.Expr | None, reference: dt.datetime | None, tz: str
) -> pl.Expr:
    """The time from whichever of an RFC 3339 or a BSD syslog time column is set."""
    return pl.coalesce(iso_ts(iso, tz), bsd_ts(bsd, zone, reference, tz))
