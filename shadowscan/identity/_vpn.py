"""What the VPN session readers (``asa_vpn``, ``openvpn_log``, ``openvpn_status``,
``fortigate_vpn``, ``globalprotect``) share: sniffing a vendor's log for its share of VPN
events, cleaning users and addresses, OpenVPN's two time formats, and turning one row per
line into an :class:`IdentityBatch` with every line accounted for.

A reader describes each line as a row of :data:`ROW_SCHEMA`: what happened (``op``:
``start`` for a connect, an address assignment or a "still connected" record; ``end`` for
a disconnect; null for a line that says nothing about who held an address), when, the
address handed to the client (``ip``, and ``ip6`` when the same line also gives an IPv6
address), the user, the device, the session ``key`` that pairs a disconnect with its
connect, and a rejection ``reason``. :func:`session_batch` does the rest.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.identity.base import (
    POINT_SCHEMA,
    IdentityBatch,
    IdentityContext,
    intervals_from_points,
    normalise_ip,
)
from shadowscan.parsers.common import strptime_ts
from shadowscan.schema import UTC_TS

#: One row per line read, as :func:`session_batch` takes it.
ROW_SCHEMA: dict[str, pl.DataType] = {
    "line_no": pl.UInt64(),
    "op": pl.String(),
    "ts": UTC_TS,
    "ip": pl.String(),
    "ip6": pl.String(),
    "user": pl.String(),
    "device": pl.String(),
    "key": pl.String(),
    "reason": pl.String(),
}

#: What sources write for "no user", and names that are not a person (compared in lower
#: case): OpenVPN's ``UNDEF`` before authentication, GlobalProtect's ``pre-logon`` tunnel
#: (the machine connects before anyone logs on), FortiOS's ``N/A``.
_NO_USER = ("", "-", "n/a", "na", "none", "null", "(null)", "undef", "anonymous logon", "pre-logon")
#: What sources write for "no address" (normalise_ip already drops 0.0.0.0 and ::).
_NO_ADDRESS = ("", "-", "n/a", "na", "none", "null", "undef", "(not enabled)")


#: An OpenVPN virtual address that is not a client's own: a subnet (``--iroute``), a MAC
#: address (``dev tap``), or a cached route to a host behind the client (status files flag
#: it ``C``).
NOT_A_HOST = r"/|C$|^(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}(?:@\d+)?$"

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
_IPV6 = r"^[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}$"


def _is_ip(text: pl.Expr) -> pl.Expr:
    """An IPv4 literal (octets up to 255) or an IPv6 one in hex groups: eight groups, or
    fewer with exactly one ``::`` (so a MAC address is not taken for one)."""
    double = text.str.count_matches("::", literal=True)
    colons = text.str.count_matches(":", literal=True)
    v6 = (
        text.str.contains(_IPV6)
        & ~text.str.contains(":::", literal=True)
        & ((double == 1) | (colons == 7))
    )
    return text.str.contains(_IPV4) | v6


def sniff_share(head: list[str], vendor: re.Pattern[str], vpn: re.Pattern[str]) -> float:
    """How sure a reader of VPN events in a vendor's general log is of ``head``: sure when
    at least a fifth of the ``vendor`` lines are ``vpn`` session events, unsure below
    that, so a firewall or traffic log with a few VPN events is left to the log parsers."""
    records = [line for line in head if vendor.search(line)]
    hits = sum(1 for line in records if vpn.search(line))
    if not hits:
        return 0.0
    return 0.9 if hits / len(records) >= 0.2 else 0.3


def lines_frame(lines: list[str]) -> pl.DataFrame:
    """``line_no`` (1-based) and ``line`` for every line read."""
    return pl.DataFrame(
        {
            "line_no": pl.Series(range(1, len(lines) + 1), dtype=pl.UInt64),
            "line": pl.Series(lines, dtype=pl.String),
        }
    )


def clean_user(expr: pl.Expr) -> pl.Expr:
    """The user as the source spells it (blanks and quotes trimmed); null for "no user"
    placeholders and machine accounts (``HOST$``)."""
    user = expr.str.strip_chars().str.strip_chars('"').str.strip_chars()
    drop = user.str.to_lowercase().is_in(_NO_USER) | user.str.ends_with("$")
    return pl.when(drop).then(None).otherwise(user)


def address(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """``(ip, bad)``: the normalised address (null when absent, a placeholder, or not an
    IP literal) and whether a value was given that is not an address."""
    text = expr.str.strip_chars()
    given = normalise_ip(
        pl.when(text.str.to_lowercase().is_in(_NO_ADDRESS)).then(None).otherwise(text)
    )
    valid = _is_ip(given)
    return pl.when(valid).then(given), given.is_not_null() & ~valid


def openvpn_ts(expr: pl.Expr, tz: str) -> pl.Expr:
    """OpenVPN's local times: ``2026-11-19 08:00:01`` (2.5 and later) or the older
    ``Thu Nov 19 08:00:01 2026`` (the weekday is not checked)."""
    text = expr.str.strip_chars().str.replace_all(r"\s+", " ")
    ctime = text.str.replace(r"^[A-Z][a-z]{2} ([A-Z][a-z]{2} )", "$1")
    return pl.coalesce(
        strptime_ts(text, "%Y-%m-%d %H:%M:%S", tz),
        strptime_ts(ctime, "%b %d %H:%M:%S %Y", tz),
    )


def tally(rows: pl.DataFrame, used: pl.Series, frame: pl.DataFrame) -> IdentityBatch:
    """The batch for ``frame``: lines with a ``reason`` are rejected, the ``used`` ones
    parsed, the rest ignored."""
    rejected = rows.filter(pl.col("reason").is_not_null()).select("line_no", "reason")
    parsed = int((used & rows["reason"].is_null()).sum())
    return IdentityBatch(
        frame,
        lines=rows.height,
        parsed=parsed,
        ignored=rows.height - parsed - rejected.height,
        rejected=rejected,
    )


def session_batch(rows: pl.DataFrame, *, source: str, context: IdentityContext) -> IdentityBatch:
    """Sessions from one row per line (:data:`ROW_SCHEMA`).

    A start with a user and an address, or an end with a key or an address, is parsed
    (an end need not close anything in this file); a start without a user or address
    carries no identity and is ignored; a start or end without a time is rejected. Each
    start's session lasts until the next end of its key (else of its address and user),
    or ``context.session_time``; overlapping sessions of one user on one address merge.
    """
    c = pl.col
    rows = rows.select([c(name).cast(dtype) for name, dtype in ROW_SCHEMA.items()]).with_columns(
        pl.when(c("reason").is_null() & c("op").is_not_null() & c("ts").is_null())
        .then(pl.lit("bad timestamp"))
        .otherwise(c("reason"))
        .alias("reason")
    )
    starts = (
        (c("op") == "start")
        & c("user").is_not_null()
        & pl.any_horizontal(c("ip", "ip6").is_not_null())
    )
    ends = (c("op") == "end") & pl.any_horizontal(c("key", "ip").is_not_null())
    used = rows.select((c("reason").is_null() & (starts | ends)).fill_null(False)).to_series()
    kept = rows.filter(used).with_columns(pl.lit(None, pl.String).alias("mac"))
    point_columns = [c(name) for name in POINT_SCHEMA if name != "ip"]
    points = pl.concat(
        [
            kept.select(c("ip"), *point_columns),
            kept.filter((c("op") == "start") & c("ip6").is_not_null()).select(
                c("ip6").alias("ip"), *point_columns
            ),
        ]
    ).filter((c("op") == "end") | c("ip").is_not_null())
    frame = intervals_from_points(
        points.select([c(name).cast(dtype) for name, dtype in POINT_SCHEMA.items()]),
        kind="session",
        source=source,
        source_file=context.source_file,
        default_duration=context.session_time,
        cut_on_change=False,
    )
    return tally(rows, used, frame)
