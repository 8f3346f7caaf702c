"""What the DHCP lease readers share.

Two shapes of source, one helper each:

- **Logs of lease events** (``dhcpd_syslog``, ``dnsmasq_dhcp``, ``windows_dhcp``): each
  line is a point (a lease granted or renewed, a lease given back) and
  :func:`points_batch` hands them to :func:`~shadowscan.identity.base.intervals_from_points`
  with ``cut_on_change=True``, since a server leases an address to one client at a time.
  :class:`SyslogLeaseReader` does the whole job for the two syslog formats, which differ
  only in their program name and message patterns.
- **Lease databases that append a record per change** (``dhcpd.leases``, Kea's CSV):
  each record says "this client holds the address from *start* to *end*", and a later
  record for the same address overrides what an earlier one said from its own start on.
  :func:`records_batch` applies that and merges a client's renewals into one binding.

Each reader first builds one row per input line with a ``_status``: ``"parsed"``,
``"ignored"``, or the reason the line is rejected; :func:`account` turns that into the
counts of :class:`~shadowscan.identity.base.IdentityBatch`.
"""

from __future__ import annotations

import re
from typing import ClassVar

import polars as pl

from shadowscan.identity.base import (
    BINDING_SCHEMA,
    POINT_SCHEMA,
    REJECTED_SCHEMA,
    IdentityBatch,
    IdentityContext,
    IdentityReader,
    empty,
    intervals_from_points,
    normalise_device,
    normalise_ip,
)
from shadowscan.parsers.common import iso_ts, strptime_ts, syslog_ts

PARSED = "parsed"
IGNORED = "ignored"

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
#: A dotted-quad IPv4 address with every octet in 0..255 (anchored).
IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
#: A colon-separated MAC as ISC dhcpd and dnsmasq print it; old ISC versions drop the
#: leading zero of an octet (``0:1a:2b:3:4d:5e``).
COLON_MAC = r"[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}"

#: The syslog envelopes DHCP servers are read through: BSD (``Nov 19 08:00:01``, host
#: optional), OpenWrt ``logread`` (``Thu Nov 19 08:00:01 2026 daemon.info``), RFC 3339
#: (rsyslog's high-precision template) and RFC 5424. ``tag``/``app`` is the program.
SYSLOG_HEADER = (
    r"^(?:<\d{1,3}>)?(?:"
    r"1\s+(?P<ts5424>\S+)\s+\S+\s+(?P<app>\S+)\s+\S+\s+\S+\s+(?:-|(?:\[[^\]]*\])+)\s+"
    r"|(?:(?P<bsd>[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2})"
    r"|(?P<owrt>[A-Z][a-z]{2} [A-Z][a-z]{2}\s+\d{1,2} \d{2}:\d{2}:\d{2} \d{4})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2}T\S+))"
    r"\s+(?:\S+\s+)?(?P<tag>[^\s\[:]+)(?:\[\d+\])?:\s"
    r")\s*(?P<msg>.*?)\s*$"
)
_HEADER_RE = re.compile(SYSLOG_HEADER)


def sniff_syslog(head: list[str], program: str, message: str) -> float:
    """How sure a syslog reader is of ``head``: sure when lines of ``program`` whose
    message starts like ``message`` make up half of it; unsure below a quarter, since
    a firewall or DNS log with a few DHCP lines mixed in belongs to a log parser (such a
    file can still be named as ``TYPE:FILE``)."""
    hits = 0
    for line in head:
        match = _HEADER_RE.match(line)
        if match and re.fullmatch(program, match["tag"] or match["app"] or ""):
            hits += bool(re.match(message, match["msg"]))
    if not hits:
        return 0.0
    share = hits / len(head)
    return 0.9 if share >= 0.5 else 0.6 if share >= 0.25 else 0.3


def colon_mac(expr: pl.Expr) -> pl.Expr:
    """A colon-separated MAC, octets zero-padded first, as ``aa:bb:cc:dd:ee:ff``; null when
    it is not six octets."""
    single = r"(^|:)([0-9A-Fa-f])(:|$)"
    # Twice: a match consumes the colon the next single-digit octet would need.
    padded = expr.str.replace_all(single, "${1}0${2}${3}").str.replace_all(single, "${1}0${2}${3}")
    return pl.when(expr.str.contains(rf"^{COLON_MAC}$")).then(padded.str.to_lowercase())


def valid_ipv4(expr: pl.Expr) -> pl.Expr:
    """True where ``expr`` is an IPv4 address that can be held (not ``0.0.0.0``)."""
    return expr.str.contains(IPV4) & normalise_ip(expr).is_not_null()


def syslog_time(context: IdentityContext) -> pl.Expr:
    """The UTC time of a line split by :data:`SYSLOG_HEADER` (null when it does not
    parse); stamps without a zone are in ``context.timezone``."""
    return pl.coalesce(
        syslog_ts(pl.col("bsd"), context.file_time, context.timezone),
        strptime_ts(pl.col("owrt"), "%a %b %d %H:%M:%S %Y", context.timezone),
        iso_ts(pl.coalesce(pl.col("iso"), pl.col("ts5424")), context.timezone),
    )


def line_frame(lines: list[str]) -> pl.DataFrame:
    """One row per input line: ``_line`` and its 1-based ``line_no``."""
    return (
        pl.DataFrame({"_line": lines}, schema={"_line": pl.String()})
        .with_row_index("line_no", offset=1)
        .with_columns(pl.col("line_no").cast(pl.UInt64()))
    )


def account(frame: pl.DataFrame, bindings: pl.DataFrame) -> IdentityBatch:
    """The batch of a reader whose per-line ``_status`` is ``parsed``, ``ignored`` or a
    rejection reason."""
    status = frame["_status"]
    rejected = frame.filter(~pl.col("_status").is_in([PARSED, IGNORED])).select(
        pl.col("line_no").cast(REJECTED_SCHEMA["line_no"]),
        pl.col("_status").cast(REJECTED_SCHEMA["reason"]).alias("reason"),
    )
    return IdentityBatch(
        bindings,
        lines=frame.height,
        parsed=int((status == PARSED).sum()),
        ignored=int((status == IGNORED).sum()),
        rejected=rejected,
    )


def points_batch(
    frame: pl.DataFrame, context: IdentityContext, source: str, *, key_by_address: bool = False
) -> IdentityBatch:
    """Bindings from the ``parsed`` rows of ``frame`` (columns ``ts``, ``op``, ``ip``,
    ``mac``, ``device``), each a start or end point.

    ``key_by_address``: an end point closes the lease of whoever holds the address, for
    sources whose expiry lines do not name the client.
    """
    parsed = frame.filter(pl.col("_status") == PARSED)
    address = normalise_ip(pl.col("ip"))
    points = parsed.with_columns(
        address.alias("ip"),
        pl.lit(None, pl.String()).alias("user"),
        (address if key_by_address else pl.lit(None, pl.String())).alias("key"),
    ).select([pl.col(c).cast(t) for c, t in POINT_SCHEMA.items()])
    bindings = intervals_from_points(
        points,
        kind="lease",
        source=source,
        source_file=context.source_file,
        default_duration=context.lease_time,
        cut_on_change=True,
    )
    return account(frame, bindings)


def read_syslog_leases(
    lines: list[str],
    context: IdentityContext,
    *,
    source: str,
    program: str,
    claimed: str,
    skip: str,
    start: str,
    end: str,
) -> IdentityBatch:
    """Read a syslog stream of one DHCP server's lease events.

    Lines of other programs, and the server's messages that do not match ``claimed``,
    are ignored. A claimed message is a lease granted (``start``) or given back (``end``),
    both regexes with groups ``ip`` (always filled by a match), ``mac`` and optionally
    ``host``; one matching
    ``skip`` carries nothing (a release of a lease the server did not know) and is
    ignored; any other claimed message is rejected.
    """
    frame = (
        line_frame(lines)
        .with_columns(pl.col("_line").str.extract_groups(SYSLOG_HEADER).alias("_h"))
        .unnest("_h")
        .with_columns(
            pl.col("msg").str.extract_groups(start).alias("_start"),
            pl.col("msg").str.extract_groups(end).alias("_end"),
        )
    )

    def group(name: str) -> pl.Expr:
        fields = [
            pl.col(column).struct.field(name)
            for column, pattern in (("_start", start), ("_end", end))
            if f"(?P<{name}>" in pattern
        ]
        return pl.coalesce([*fields, pl.lit(None, pl.String())])

    frame = frame.with_columns(
        # ``ip`` is a group every match fills, so it tells which pattern matched.
        pl.when(pl.col("_start").struct.field("ip").is_not_null())
        .then(pl.lit("start"))
        .when(pl.col("_end").struct.field("ip").is_not_null())
        .then(pl.lit("end"))
        .alias("op"),
        group("ip").alias("ip"),
        colon_mac(group("mac")).alias("mac"),
        normalise_device(group("host")).alias("device"),
        syslog_time(context).alias("ts"),
    )
    msg = pl.col("msg")
    ours = pl.coalesce(pl.col("tag"), pl.col("app")).str.contains(rf"^(?:{program})$")
    frame = frame.with_columns(
        pl.when((~(ours & msg.str.contains(claimed)) | msg.str.contains(skip)).fill_null(True))
        .then(pl.lit(IGNORED))
        .when(pl.col("op").is_null())
        .then(pl.lit("malformed line"))
        .when(pl.col("ts").is_null())
        .then(pl.lit("bad timestamp"))
        .when(~valid_ipv4(pl.col("ip")))
        .then(pl.lit("bad address"))
        .when(pl.col("mac").is_null())
        .then(pl.lit("bad MAC"))
        .otherwise(pl.lit(PARSED))
        .alias("_status")
    )
    return points_batch(frame, context, source)


class SyslogLeaseReader(IdentityReader):
    """A DHCP server's lease events read from syslog. A subclass names the server's
    program and gives its message patterns (as :func:`read_syslog_leases` takes them);
    sniffing and reading are the same for every server."""

    kind = "lease"
    #: The program in the syslog header (a regex matched in full).
    program: ClassVar[str]
    #: How the server's DHCP messages start, lease events or not (for sniffing).
    dhcp_message: ClassVar[str]
    #: The messages the reader reads: lease events, read by ``start`` or ``end``.
    claimed: ClassVar[str]
    #: Claimed messages that carry nothing (a release of a lease the server did not know).
    skip: ClassVar[str]
    start: ClassVar[str]
    end: ClassVar[str]

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        return sniff_syslog(head, cls.program, cls.dhcp_message)

    def read(self, lines: list[str]) -> IdentityBatch:
        return read_syslog_leases(
            lines,
            self.context,
            source=self.name,
            program=self.program,
            claimed=self.claimed,
            skip=self.skip,
            start=self.start,
            end=self.end,
        )


def records_batch(
    frame: pl.DataFrame, records: pl.DataFrame, context: IdentityContext, source: str
) -> IdentityBatch:
    """Bindings from lease-database records (``ip``, ``mac``, ``device``, ``start``,
    ``end``, ``line_no``, in file order), with the per-line accounting of ``frame``.

    A database appends a record for each change of a lease, so a record's end is cut at
    the start of the next record for the same address (the renewal, release or new
    client it was superseded by) when that start falls inside it; a client's records that
    then touch or overlap merge into one binding. A released lease is written with its
    release time as end, which is how the cut shortens the lease it supersedes.
    """
    if records.is_empty():
        return account(frame, empty(BINDING_SCHEMA))
    holder = pl.coalesce(pl.col("mac"), pl.col("device")).fill_null("")
    # Sorted frames and shifts rather than window functions: a file has as many
    # addresses and clients as lines, and ``over`` with that many groups is slow.
    same_ip = pl.col("ip") == pl.col("ip").shift(-1)
    following = pl.when(same_ip).then(pl.col("start").shift(-1))
    cut = (
        records.sort(["ip", "line_no"])
        .with_columns(holder.alias("_holder"))
        .with_columns(
            pl.when((following >= pl.col("start")) & (following < pl.col("end")))
            .then(following)
            .otherwise(pl.col("end"))
            .alias("end")
        )
    )
    first_of_group = (pl.col("ip") != pl.col("ip").shift(1)) | (
        pl.col("_holder") != pl.col("_holder").shift(1)
    )
    runs = (
        cut.sort(["ip", "_holder", "start", "line_no"])
        .with_columns(first_of_group.fill_null(True).cum_sum().alias("_group"))
        .with_columns(pl.col("end").cum_max().shift(1).over("_group").alias("_reach"))
        .with_columns(
            (pl.col("_reach").is_null() | (pl.col("start") > pl.col("_reach")))
            .cum_sum()
            .alias("_run")
        )
    )
    merged = (
        runs.group_by(["ip", "_run"], maintain_order=True)
        .agg(
            pl.col("start").min(),
            pl.col("end").max(),
            pl.col("mac").drop_nulls().last(),
            pl.col("device").drop_nulls().last(),
            pl.col("line_no").min(),
        )
        .filter(pl.col("end") > pl.col("start"))
        .with_columns(
            pl.lit(None, pl.String()).alias("user"),
            pl.lit("lease").alias("kind"),
            pl.lit(source).alias("source"),
            pl.lit(context.source_file).alias("source_file"),
        )
    )
    bindings = merged.select([pl.col(c).cast(t) for c, t in BINDING_SCHEMA.items()]).sort(
        ["ip", "start", "line_no"]
    )
    return account(frame, bindings)
