"""What an identity source is, and the helpers the readers share.

Identity sources say who (or which device) held an IP address, and when. Each reader turns
one file into a frame of **bindings** (``BINDING_SCHEMA``: an address held over
``[start, end)`` by a user or a device) or, for asset inventories, of **assets**
(``ASSET_SCHEMA``: a device and its owner). Attribution (:mod:`shadowscan.attribution`)
joins events to these *as of each event's time*.

Identity files are small next to the logs they explain (100,000 leases is a few MB), so a
reader sees the whole file as a list of lines; what must be fast is the join, which is
vectorised. As with log parsers, every line is accounted for: it contributed to a record
(``parsed``), carried nothing about identity (``ignored``: headers, comments, other
messages), or was malformed (``rejected`` with line number and reason).

Point events (a DHCPACK, a logon, a VPN connect line) become intervals with
:func:`intervals_from_points`, so each reader only has to say what happened when.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from shadowscan.schema import UTC_TS

#: An address held by a user (``kind="session"``) or a device (``kind="lease"``) over
#: ``[start, end)``. ``end`` is never null: readers close open intervals (an active lease
#: with ``ends never``, a logon without logoff) with a documented default duration.
BINDING_SCHEMA: dict[str, pl.DataType] = {
    "ip": pl.String(),
    "start": UTC_TS,
    "end": UTC_TS,
    "user": pl.String(),  # sessions: user as the source spells it; leases: null
    "mac": pl.String(),  # normalised aa:bb:cc:dd:ee:ff, or null
    "device": pl.String(),  # normalised host name (lower case, no domain), or null
    "kind": pl.String(),  # "session" or "lease"
    "source": pl.String(),  # reader name (``dhcpd_leases``, ``windows_logon``, ...)
    "source_file": pl.String(),
    "line_no": pl.UInt64(),  # first line of the record
}

#: A device (host name and/or MAC) and the user it belongs to.
ASSET_SCHEMA: dict[str, pl.DataType] = {
    "device": pl.String(),
    "mac": pl.String(),
    "user": pl.String(),
    "source": pl.String(),
    "source_file": pl.String(),
    "line_no": pl.UInt64(),
}

#: Point events, before :func:`intervals_from_points` turns them into bindings.
#: ``op`` is ``"start"`` (a lease granted or renewed, a logon, a VPN connect) or ``"end"``
#: (a release, an expiry, a logoff, a disconnect). ``key`` groups the points of one
#: session where the source has an id for it (a tunnel id, ``cn/real-address``); null
#: otherwise, and then the points of one address pair up in time order.
POINT_SCHEMA: dict[str, pl.DataType] = {
    "ts": UTC_TS,
    "op": pl.String(),
    "ip": pl.String(),
    "user": pl.String(),
    "mac": pl.String(),
    "device": pl.String(),
    "key": pl.String(),
    "line_no": pl.UInt64(),
}

REJECTED_SCHEMA: dict[str, pl.DataType] = {"line_no": pl.UInt64(), "reason": pl.String()}


@dataclass(frozen=True)
class IdentityContext:
    """What a reader may need to know about the file it reads."""

    source_file: str
    #: Zone of timestamps that carry none (Windows DHCP audit logs are local time).
    timezone: str = "UTC"
    #: The file's mtime (UTC): the year of year-less syslog timestamps; None: now.
    file_time: dt.datetime | None = None
    #: How long a lease lasts when the source does not say (a DHCPACK line).
    lease_time: dt.timedelta = dt.timedelta(hours=12)
    #: How long a logon or VPN connect holds its address when no end is logged.
    session_time: dt.timedelta = dt.timedelta(hours=8)


@dataclass
class IdentityBatch:
    """What a reader read from one file. ``frame`` is in ``BINDING_SCHEMA`` or
    ``ASSET_SCHEMA`` (per the reader's ``kind``); ``parsed + ignored + len(rejected)``
    equals the number of lines read."""

    frame: pl.DataFrame
    lines: int
    parsed: int
    ignored: int = 0
    rejected: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTED_SCHEMA))


class IdentityReader(ABC):
    """One identity-source format. Subclasses register with
    ``@IDENTITY_READERS.register(name)``."""

    #: Registry name, also the ``TYPE`` in ``--identity TYPE:FILE``.
    name: ClassVar[str]
    #: ``"lease"`` (IP -> device), ``"session"`` (IP -> user) or ``"asset"`` (device -> user).
    kind: ClassVar[str]
    #: One line for ``shadowscan identity formats`` and the README.
    summary: ClassVar[str]
    #: A short, typical excerpt of the format (may span lines), for the README.
    example: ClassVar[str]

    def __init__(self, context: IdentityContext) -> None:
        self.context = context

    @classmethod
    @abstractmethod
    def sniff(cls, head: list[str]) -> float:
        """How sure (0..1) the reader is that a file starting with ``head`` is its format."""

    @abstractmethod
    def read(self, lines: list[str]) -> IdentityBatch:
        """Read every line of the file (``lines[0]`` is line 1, line ends stripped)."""


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def rejected_frame(rows: list[tuple[int, str]]) -> pl.DataFrame:
    """Rejected lines from ``(line_no, reason)`` pairs."""
    return pl.DataFrame(rows, schema=REJECTED_SCHEMA, orient="row")


def normalise_mac(expr: pl.Expr) -> pl.Expr:
    """``AA-BB-CC-DD-EE-FF``, ``aabb.ccdd.eeff``, ``aabbccddeeff`` -> ``aa:bb:cc:dd:ee:ff``;
    null when the value is not 12 hex digits (a Windows DHCP client id, ``-``)."""
    # Separators go, letters stay (so a non-hex letter makes the value invalid).
    digits = expr.str.to_lowercase().str.replace_all(r"[^0-9a-z]", "")
    pairs = digits.str.replace_all(r"([0-9a-f]{2})", "${1}:").str.strip_suffix(":")
    return pl.when(digits.str.contains(r"^[0-9a-f]{12}$")).then(pairs).otherwise(None)


def normalise_device(expr: pl.Expr) -> pl.Expr:
    """A host name as assets are keyed: lower case, no domain (``LAPTOP-7.corp.example``
    -> ``laptop-7``), no quotes; null when empty or ``-``."""
    name = expr.str.strip_chars().str.strip_chars('"').str.to_lowercase().str.extract(r"^([^.]*)")
    return pl.when(~name.is_in(["", "-"])).then(name)


def normalise_ip(expr: pl.Expr) -> pl.Expr:
    """An address as events carry it: no IPv4-mapped prefix (``::ffff:10.1.2.3``), no
    brackets, no ``%zone``, lower case; null for ``-``, empty, unspecified (``0.0.0.0``,
    ``::``) and loopback addresses, which name no client."""
    ip = (
        expr.str.strip_chars()
        .str.strip_chars("[]")
        .str.to_lowercase()
        .str.replace(r"^::ffff:(\d+\.\d+\.\d+\.\d+)$", "$1")
        .str.replace(r"%.*$", "")
    )
    return pl.when(~ip.is_in(["", "-", "0.0.0.0", "::", "127.0.0.1", "::1"])).then(ip)


def merge_runs(intervals: pl.DataFrame, keys: list[str], *extra: pl.Expr) -> pl.DataFrame:
    """Merge overlapping or touching ``[start, end)`` intervals that share ``keys``,
    with ``extra`` aggregations over each merged run (other columns are dropped).

    Vectorised without a window per group key: rows are sorted by key, a new group starts
    where a key changes, and a run starts at a new group or after a gap.
    """
    new_group = pl.any_horizontal([pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys])
    iv = intervals.sort([*keys, "start"]).with_columns(new_group.alias("_new"))
    iv = iv.with_columns(pl.col("_new").cum_sum().alias("_g"))
    iv = iv.with_columns(pl.col("end").cum_max().over("_g").shift(1).alias("_prev"))
    iv = iv.with_columns(
        (pl.col("_new") | (pl.col("start") > pl.col("_prev"))).cum_sum().alias("_run")
    )
    return iv.group_by("_run", maintain_order=True).agg(
        *(pl.col(k).first() for k in keys), pl.col("start").min(), pl.col("end").max(), *extra
    )


def intervals_from_points(
    points: pl.DataFrame,
    *,
    kind: str,
    source: str,
    source_file: str,
    default_duration: dt.timedelta,
    cut_on_change: bool,
) -> pl.DataFrame:
    """Bindings from point events (``POINT_SCHEMA``), vectorised.

    A ``start`` point opens (or renews) a binding that lasts ``default_duration`` unless a
    later point ends it first: an ``end`` point of the same session (same ``key`` when
    given, else same address and holder), or, with ``cut_on_change`` (DHCP, where the
    server gives an address to one client at a time), a ``start`` for the same address by
    a different holder. Renewals by the same holder merge into one binding. ``end``
    points with no open binding contribute nothing.
    """
    if points.is_empty():
        return empty(BINDING_SCHEMA)
    holder = pl.coalesce(pl.col("user").str.to_lowercase(), pl.col("mac"), pl.col("device"))
    # ``_seq`` orders points by time, then by line: an end logged after a start in the
    # same second closes it, one logged before it does not.
    pts = (
        points.with_columns(
            holder.fill_null("").alias("_holder"),
            pl.coalesce(pl.col("key"), pl.col("ip")).alias("_session"),
        )
        .sort(["ts", "line_no"], maintain_order=True)
        .with_row_index("_seq")
    )
    starts = pts.filter(pl.col("op") == "start")
    ends = pts.filter(pl.col("op") == "end")
    # The end of a start: the earliest of (a) the next end point of its session,
    # (b) start + default duration, (c) with cut_on_change, the next start on the
    # address by another holder.
    candidates = [pl.col("ts") + pl.lit(default_duration)]
    if not ends.is_empty():
        by = ["_session", "_holder"] if points["key"].is_null().all() else ["_session"]
        matched_end = starts.select("_seq", *by).join_asof(
            ends.select(pl.col("_seq").alias("_end_seq"), pl.col("ts").alias("_end_ts"), *by),
            left_on="_seq",
            right_on="_end_seq",
            by=by,
            strategy="forward",
            check_sortedness=False,
        )
        starts = starts.join(matched_end.select("_seq", "_end_ts"), on="_seq", how="left")
        candidates.append(pl.col("_end_ts"))
    if cut_on_change:
        # Each start is cut at the next start on its address by another holder: the
        # first start of the next run of one holder. Global shifts (no window per
        # address): the last start of each address gets a sentinel so that the backward
        # fill never reaches into the next address.
        starts = starts.sort(["ip", "ts", "line_no"])
        same_ip_next = pl.col("ip") == pl.col("ip").shift(-1)
        changed = (pl.col("_holder") != pl.col("_holder").shift(1)) | (
            pl.col("ip") != pl.col("ip").shift(1)
        )
        sentinel = pl.lit(dt.datetime.max.replace(tzinfo=dt.UTC)).cast(UTC_TS)
        starts = starts.with_columns(
            pl.when(changed.fill_null(True)).then(pl.col("ts")).alias("_change")
        ).with_columns(
            pl.when(same_ip_next.fill_null(False))
            .then(pl.col("_change").shift(-1))
            .otherwise(sentinel)
            .backward_fill()
            .alias("_next_other")
        )
        starts = starts.with_columns(
            pl.when(pl.col("_next_other") == sentinel)
            .then(None)
            .otherwise(pl.col("_next_other"))
            .alias("_next_other")
        )
        candidates.append(pl.col("_next_other"))
    bound = starts.with_columns(pl.min_horizontal(candidates).alias("end")).rename({"ts": "start"})
    # Renewals: consecutive bindings of one address by one holder that touch or overlap
    # become one.
    merged = merge_runs(
        bound,
        ["ip", "_holder"],
        pl.col("user").drop_nulls().last(),
        pl.col("mac").drop_nulls().last(),
        pl.col("device").drop_nulls().last(),
        pl.col("line_no").min(),
    )
    out = merged.with_columns(
        pl.lit(kind).alias("kind"),
        pl.lit(source).alias("source"),
        pl.lit(source_file).alias("source_file"),
    )
    return out.select([pl.col(c).cast(t) for c, t in BINDING_SCHEMA.items()]).sort(["ip", "start"])
