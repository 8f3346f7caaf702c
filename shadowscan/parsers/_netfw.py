"""Helpers shared by the firewall syslog formats (``iptables``, ``pfsense_filterlog``,
``meraki_flows``, ``sophos_firewall``): syslog header times, epoch-with-nanoseconds times,
the allowed/blocked verdict from a vendor's action word, and a sniffer for formats whose
files also carry lines of other programs (counted as skipped, not as events).
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.parsers.base import ParseContext, Sniff
from shadowscan.parsers.common import iso_ts, syslog_ts
from shadowscan.schema import UTC_TS

#: ``Nov  4 08:00:00`` (RFC 3164, no year).
BSD_TS = r"[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}"
#: ``2024-11-04T08:00:00.123456+01:00`` (RFC 3339 / RFC 5424 / rsyslog high precision).
ISO_TS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"


def header_ts(bsd: pl.Expr, iso: pl.Expr, context: ParseContext) -> pl.Expr:
    """UTC time from whichever syslog header time a line has: an ISO time (its own offset,
    else ``--timezone``) or a BSD time (year from the file's mtime, zone ``--timezone``)."""
    return pl.coalesce(
        iso_ts(iso, context.timezone),
        syslog_ts(bsd, context.file_time, context.timezone),
    )


def epoch_ns_ts(seconds: pl.Expr, fraction: pl.Expr) -> pl.Expr:
    """``"1730707200"`` + ``"123456789"`` -> UTC datetime, exact to the microsecond (a float
    would round nanosecond epochs)."""
    micros = fraction.fill_null("").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64)
    return (
        (seconds.cast(pl.Int64) * 1_000_000 + micros)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .cast(UTC_TS)
    )


#: Action words meaning the traffic was stopped / let through (matched case-insensitively
#: at a word start).
BLOCKED_WORDS = r"(?i)(?:^|[^a-z])(?:drop|reject|block|deny|denied|reset)"
ALLOWED_WORDS = r"(?i)(?:^|[^a-z])(?:accept|allow|pass|permit)"


def verdict(raw: pl.Expr, blocked: str = BLOCKED_WORDS, allowed: str = ALLOWED_WORDS) -> pl.Expr:
    """``blocked`` / ``allowed`` / ``unknown`` from an action word (null -> unknown)."""
    return (
        pl.when(raw.str.contains(blocked))
        .then(pl.lit("blocked"))
        .when(raw.str.contains(allowed))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
    )


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Strip a text value; empty and ``-`` become null."""
    s = expr.str.strip_chars()
    return pl.when(s.is_in(["", "-"])).then(None).otherwise(s)


_FULL_IPV6 = r"^[0-9A-Fa-f]{4}(?::[0-9A-Fa-f]{4}){7}$"


def compress_ipv6(expr: pl.Expr) -> pl.Expr:
    """The kernel writes IPv6 addresses in full (``2001:0db8:0000:...:0015``); DNS answers
    and signature ranges use the compressed RFC 5952 form (``2001:db8::15``), which is what
    address matching compares. Other values are returned unchanged."""
    s = expr.str.to_lowercase().str.replace_all(r"(^|:)0+([0-9a-f])", "${1}${2}")
    out = pl.lit(None, pl.String)
    done = pl.lit(False)
    # The longest run of zero groups (leftmost on a tie) becomes ``::``.
    for n in range(8, 1, -1):
        run = rf"(?:^|:)0(?::0){{{n - 1}}}(?::|$)"
        hit = ~done & s.str.contains(run)
        out = pl.when(hit).then(s.str.replace(run, "::")).otherwise(out)
        done = done | hit
    compressed = pl.when(done).then(out).otherwise(s)
    return pl.when(expr.str.contains(_FULL_IPV6)).then(compressed).otherwise(expr)


def split_events(batch: pl.DataFrame, pattern: str, skip: str) -> tuple[pl.Series, pl.Series]:
    """``(ok, skip)`` masks, exactly as the engine's fast path splits lines: events are
    the ``pattern`` lines; of the others, ``skip`` lines are skipped, the rest rejected."""
    ok = batch["line"].str.contains(pattern)
    skipped = ~ok & batch["line"].str.contains(skip)
    return ok, skipped


def sniff_among_skips(
    name: str, lines: list[str], pattern: str, skip: str, what: str
) -> Sniff | None:
    """Share of event lines among the lines that are not skipped, for formats that skip
    other programs' lines of the same syslog stream. So that a file of mostly other lines
    with one stray event is not claimed, the share is taken over at least half of the
    non-blank lines."""
    rx, sk = re.compile(pattern), re.compile(skip)
    nonblank = [ln for ln in lines if ln.strip()]
    hits = sum(1 for ln in nonblank if rx.search(ln))
    if not hits:
        return None
    data = sum(1 for ln in nonblank if rx.search(ln) or not sk.search(ln))
    score = hits / max(data, len(nonblank) / 2)
    return Sniff(min(score, 1.0), f"{hits}/{data} sample lines are {what} ({name})")
