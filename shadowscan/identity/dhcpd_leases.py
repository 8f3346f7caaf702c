"""ISC dhcpd's lease database (``/var/lib/dhcp/dhcpd.leases``): which device held an
address, and when.

::

    lease 10.0.0.5 {
      starts 4 2026/11/19 08:00:00;
      ends 4 2026/11/19 20:00:00;
      cltt 4 2026/11/19 08:00:00;
      binding state active;
      next binding state free;
      hardware ethernet 00:1a:2b:3c:4d:5e;
      uid "\\001\\000\\032+<M^";
      client-hostname "LAPTOP-JDOE";
    }

dhcpd appends a new block each time a lease changes (granted, renewed, released,
expired), so one address appears many times; the file is rewritten with one block per
lease from time to time. Each block says its client (``hardware ethernet``, and
``client-hostname`` when sent) held the address from ``starts`` to ``ends``: the
scheduled expiry for an active lease, the release or expiry time once ``released``,
``expired`` or ``free``. A later block for the address overrides an earlier one from its
own start on, and a client's renewals merge into one binding (see
:func:`~shadowscan.identity._dhcp.records_batch`).

- Times are UTC (``starts 4 2026/11/19 08:00:00;``, weekday first) or, with
  ``db-time-format local``, epoch seconds (``starts epoch 1763539200; # Thu Nov 19 ...``).
  ``ends never;`` (and a block with no ``ends``) lasts ``context.lease_time``.
- Blocks in state ``active``, ``expired``, ``released`` or ``free`` (or with no state, as
  dhcpd 2 wrote them) are read when they have an ethernet hardware address. Blocks without
  one (pool addresses never leased), ``abandoned`` and ``backup`` blocks, other states, and
  every other declaration (``failover peer``, ``host``, DHCPv6 ``ia-na``...) are ignored,
  as are ``server-duid``, ``authoring-byte-order`` and comments.
- A lease block with a bad address, a bad or missing ``starts``, a bad ``ends`` or
  ``ends`` before ``starts``, a bad ``hardware ethernet`` value, or no closing brace is
  rejected: **every line of the block** is counted as rejected with the block's reason.
  A top-level line that is no statement or block is rejected on its own.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._dhcp import (
    IGNORED,
    PARSED,
    colon_mac,
    line_frame,
    records_batch,
    valid_ipv4,
)
from shadowscan.identity.base import IdentityBatch, IdentityReader, normalise_device
from shadowscan.parsers.common import epoch_ts, strptime_ts

_STATES = ["active", "expired", "released", "free"]
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_OPENER = r"^\s*lease\s+(\S+)\s*\{"
_DATE = r"\d\s+(?P<date>\d{4}/\d{1,2}/\d{1,2}\s+\d{1,2}:\d{1,2}:\d{1,2})"
_TIME = rf"(?:{_DATE}|epoch\s+(?P<epoch>\d+)|(?P<never>never))\s*;"
_SNIFF_LEASE = re.compile(r"^lease\s+\d{1,3}(?:\.\d{1,3}){3}\s*\{")
_SNIFF_FIELD = re.compile(r"^\s*(?:starts|ends|binding state|hardware ethernet)\s")


def _time_of(keyword: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(time, is ``never``, line has the keyword) of a ``starts``/``ends`` line."""
    code = pl.col("_code")
    groups = code.str.extract_groups(rf"^\s*{keyword}\s+{_TIME}\s*$")
    ts = pl.coalesce(
        strptime_ts(groups.struct.field("date").str.replace_all(r"\s+", " "), "%Y/%m/%d %H:%M:%S"),
        epoch_ts(groups.struct.field("epoch")),
    )
    return ts, groups.struct.field("never").is_not_null(), code.str.contains(rf"^\s*{keyword}\s")


@IDENTITY_READERS.register("dhcpd_leases")
class DhcpdLeasesReader(IdentityReader):
    """ISC dhcpd ``dhcpd.leases`` blocks."""

    name = "dhcpd_leases"
    kind = "lease"
    summary = (
        "ISC dhcpd lease database `dhcpd.leases`: every `lease IP { ... }` block with a "
        "hardware address (active, expired, released or free) is the MAC and client "
        "host name holding the address from `starts` to `ends` (UTC or `epoch`; `ends "
        "never` = default lease time); later blocks override earlier ones, renewals merge."
    )
    example = (
        "lease 10.0.0.5 {\n  starts 4 2026/11/19 08:00:00;\n  ends 4 2026/11/19 20:00:00;\n"
        "  binding state active;\n  hardware ethernet 00:1a:2b:3c:4d:5e;\n"
        '  client-hostname "LAPTOP-JDOE";\n}'
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        if any("dhcpd.leases(5)" in line for line in head):
            return 0.95
        if any(_SNIFF_LEASE.match(line) for line in head) and any(
            _SNIFF_FIELD.match(line) for line in head
        ):
            return 0.95
        return 0.0

    def read(self, lines: list[str]) -> IdentityBatch:
        raw = pl.col("_line")
        # Quoted strings may hold braces and '#': blank them before counting braces and
        # cutting comments.
        frame = line_frame(lines).with_columns(
            raw.str.replace_all(_QUOTED, '""').str.replace(r"#.*$", "").alias("_code")
        )
        code = pl.col("_code")
        # Block nesting depth after each line, kept at 0 or above (a stray '}' does not
        # swallow the rest of the file: the running sum reflected at 0), and restarted at
        # each lease opener (a lease block missing its '}' spoils only itself).
        lease_opener = code.str.contains(_OPENER)
        delta = code.str.count_matches(r"\{") - code.str.count_matches(r"\}")
        frame = frame.with_columns(
            lease_opener.cum_sum().alias("_segment"), delta.alias("_delta")
        ).with_columns(pl.col("_delta").cum_sum().over("_segment").alias("_running"))
        frame = frame.with_columns(
            (
                pl.col("_running")
                - pl.min_horizontal(pl.col("_running").cum_min().over("_segment"), pl.lit(0))
            ).alias("_depth")
        ).with_columns(pl.col("_depth").shift(1, fill_value=0).over("_segment").alias("_before"))
        opens = (pl.col("_before") == 0) & code.str.contains(r"\{")
        frame = frame.with_columns(
            opens.cum_sum().alias("_block"),
            ((pl.col("_before") > 0) | opens).alias("_inside"),
        )
        starts, _, has_starts = _time_of("starts")
        ends, never, has_ends = _time_of("ends")
        fields = frame.with_columns(
            code.str.extract(_OPENER, 1).alias("_ip"),
            starts.alias("_starts"),
            (has_starts & starts.is_null()).alias("_bad_starts"),
            has_starts.alias("_has_starts"),
            ends.alias("_ends"),
            (has_ends & ends.is_null() & ~never).alias("_bad_ends"),
            code.str.extract(r"^\s*binding\s+state\s+([\w-]+)\s*;", 1).alias("_state"),
            code.str.contains(r"^\s*abandoned\s*;").alias("_abandoned"),
            code.str.extract(r"^\s*hardware\s+ethernet\s+(\S*?)\s*;", 1).alias("_hw"),
            raw.str.extract(rf"^\s*client-hostname\s+({_QUOTED})\s*;", 1).alias("_host"),
        )
        blocks = (
            fields.filter(pl.col("_inside"))
            .group_by("_block")
            .agg(
                pl.col("line_no").min(),
                pl.col("_ip").first(),
                pl.col("_depth").last().alias("_end_depth"),
                pl.col("_starts").drop_nulls().last(),
                pl.col("_bad_starts").any(),
                pl.col("_has_starts").any(),
                pl.col("_ends").drop_nulls().last(),
                pl.col("_bad_ends").any(),
                pl.col("_state").drop_nulls().last(),
                pl.col("_abandoned").any(),
                pl.col("_hw").drop_nulls().last(),
                pl.col("_host").drop_nulls().last(),
            )
            .with_columns(colon_mac(pl.col("_hw")).alias("mac"))
        )
        ip = pl.col("_ip")
        blocks = blocks.with_columns(
            pl.when(ip.is_null())
            .then(pl.lit(IGNORED))  # failover peer, host, ia-na, ... blocks
            .when(~valid_ipv4(ip))
            .then(pl.lit("bad address"))
            .when(pl.col("_end_depth") > 0)
            .then(pl.lit("unterminated block"))
            .when(pl.col("_bad_starts") | pl.col("_bad_ends"))
            .then(pl.lit("bad timestamp"))
            .when(~pl.col("_has_starts"))
            .then(pl.lit("missing starts"))
            .when(pl.col("_ends") < pl.col("_starts"))
            .then(pl.lit("ends before starts"))
            .when(
                pl.col("_abandoned")
                | ~pl.col("_state").fill_null("active").is_in(_STATES)
                | pl.col("_hw").is_null()
            )
            .then(pl.lit(IGNORED))
            .when(pl.col("mac").is_null())
            .then(pl.lit("bad MAC"))
            .otherwise(pl.lit(PARSED))
            .alias("_status")
        )
        top_level = (
            pl.when(raw.str.strip_chars() == "")
            .then(pl.lit(IGNORED))
            .when(code.str.strip_chars() == "")
            .then(pl.lit(IGNORED))  # a comment
            .when(code.str.contains(r"^\s*[A-Za-z][\w-]*(?:\s[^;{}]*)?;\s*$"))
            .then(pl.lit(IGNORED))  # server-duid, authoring-byte-order, ...
            .otherwise(pl.lit("malformed line"))
        )
        frame = (
            frame.join(
                blocks.select("_block", pl.col("_status").alias("_block_status")),
                on="_block",
                how="left",
            )
            .with_columns(
                pl.when(pl.col("_inside"))
                .then(pl.col("_block_status"))
                .otherwise(top_level)
                .alias("_status")
            )
            .sort("line_no")
        )
        records = blocks.filter(pl.col("_status") == PARSED).select(
            pl.col("_ip").alias("ip"),
            pl.col("mac"),
            normalise_device(pl.col("_host").str.replace_all(r"\\(.)", "$1")).alias("device"),
            pl.col("_starts").alias("start"),
            pl.when(pl.col("_ends").is_null())
            .then(pl.col("_starts") + pl.lit(self.context.lease_time))
            .otherwise(pl.col("_ends"))
            .alias("end"),
            pl.col("line_no"),
        )
        return records_batch(frame, records, self.context, self.name)
