"""Windows DHCP Server audit log (``%windir%\\System32\\dhcp\\DhcpSrvLog-Mon.log``):
which device held an address.

The file opens with a legend (``Microsoft DHCP Service Activity Log``, the event IDs and
their meaning), then a header and one CSV row per event::

    ID,Date,Time,Description,IP Address,Host Name,MAC Address,User Name, TransactionID, ...
    10,11/19/26,08:00:01,Assign,10.0.0.5,LAPTOP-JDOE.corp.example,001A2B3C4D5E,,123456,0,,,,...

Date ``MM/DD/YY`` and time are the server's local time (``context.timezone``). The MAC is
12 hex digits without separators; a longer client id is kept as no MAC (the host name
still names the device).

- IDs 10 (new lease) and 11 (renewal) are start points, lasting ``context.lease_time``
  unless renewed or ended first (the log does not carry the scope's lease duration).
- IDs 12 (released), 16 (deleted), 17 (expired) and 18 (expired, DNS records deleted)
  are end points. Expiry rows often name no client, so an end closes the lease of whoever
  holds the address.
- Every other ID (00/01/02 log started/stopped/paused, 13 address in use, 14 pool
  exhausted, 15 denied, 20-25 BOOTP and cleanup, 30-36 DNS updates and drops, 50+ rogue
  server detection and authorisation) is ignored.

The legend (from the start of the file, or from a title line naming DHCP, to the next
header) is ignored; a file of several days' logs concatenated has several. A start row naming neither MAC nor host, or without an
address, is rejected, as are rows with a bad date and lines that are not rows.
The file is usually UTF-16 with a BOM; :func:`~shadowscan.identity.load.read_lines`
decodes it.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._dhcp import IGNORED, PARSED, line_frame, points_batch, valid_ipv4
from shadowscan.identity.base import IdentityBatch, IdentityReader, normalise_device, normalise_mac
from shadowscan.parsers.common import strptime_ts

_STARTS = ["10", "11"]
_ENDS = ["12", "16", "17", "18"]
_ROW = r"^\s*\d{1,3},"
_HEADER = r"^\s*ID,\s*Date,\s*Time,"
_TITLE = "Microsoft DHCP Service Activity Log"
#: The legend's title, in any language: a line naming DHCP that is no CSV row.
_TITLE_LIKE = r"^[^,]*\bDHCP\b[^,]*$"
_SNIFF_ROW = re.compile(r"^\d{2},\d{2}/\d{2}/\d{2}(?:\d{2})?,\d{1,2}:\d{2}:\d{2},")


def _field(i: int) -> pl.Expr:
    return pl.col("_f").list.get(i, null_on_oob=True).str.strip_chars()


@IDENTITY_READERS.register("windows_dhcp")
class WindowsDhcpReader(IdentityReader):
    """Windows DHCP Server audit log rows."""

    name = "windows_dhcp"
    kind = "lease"
    summary = (
        "Windows DHCP Server audit log (`DhcpSrvLog-*.log`, UTF-16 or UTF-8, local time): "
        "IDs 10/11 (assign, renew) start a lease of the default lease time, 12/16/17/18 "
        "(release, delete, expiry) end the address's lease; the legend and other IDs "
        "are ignored."
    )
    example = (
        "ID,Date,Time,Description,IP Address,Host Name,MAC Address,User Name, TransactionID, ...\n"
        "10,11/19/26,08:00:01,Assign,10.0.0.5,LAPTOP-JDOE.corp.example,001A2B3C4D5E,,123456,0,,,,"
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        if any(_TITLE in line or re.match(_HEADER, line) for line in head):
            return 0.95
        rows = sum(bool(_SNIFF_ROW.match(line)) for line in head)
        return 0.8 if head and rows * 2 >= len(head) else 0.0

    def read(self, lines: list[str]) -> IdentityBatch:
        line = pl.col("_line")
        is_row = line.str.contains(_ROW)
        is_header = line.str.contains(_HEADER)
        is_title = ~is_row & line.str.contains(_TITLE_LIKE)
        # Legend: the lines from the file's start or a title line up to a header.
        marker = (
            pl.when(is_header)
            .then(pl.lit("header"))
            .when(is_row)
            .then(pl.lit("row"))
            .when(is_title)
            .then(pl.lit("title"))
        )
        frame = line_frame(lines).with_columns(
            is_row.alias("_row"),
            (is_header | is_title).alias("_heading"),
            marker.shift(1).forward_fill().alias("_previous"),
            marker.backward_fill().alias("_next"),
            line.str.split(",").alias("_f"),
        )
        event = _field(0).str.zfill(2)
        date, time = _field(1), _field(2)
        ts = pl.coalesce(
            strptime_ts(date + " " + time, "%m/%d/%y %H:%M:%S", self.context.timezone),
            strptime_ts(date + " " + time, "%m/%d/%Y %H:%M:%S", self.context.timezone),
        )
        frame = frame.with_columns(
            pl.when(event.is_in(_STARTS))
            .then(pl.lit("start"))
            .when(event.is_in(_ENDS))
            .then(pl.lit("end"))
            .alias("op"),
            ts.alias("ts"),
            _field(4).alias("ip"),
            _field(6).alias("_mac"),
            normalise_device(_field(5)).alias("device"),
        ).with_columns(normalise_mac(pl.col("_mac")).alias("mac"))
        unnamed = pl.col("mac").is_null() & pl.col("device").is_null()
        frame = frame.with_columns(
            pl.when(line.str.strip_chars() == "")
            .then(pl.lit(IGNORED))
            .when(~pl.col("_row"))
            .then(
                pl.when(
                    pl.col("_heading")
                    | (
                        pl.col("_previous").fill_null("title").is_in(["title"])
                        & pl.col("_next").is_in(["header", "title"])
                    )
                )
                .then(pl.lit(IGNORED))
                .otherwise(pl.lit("not a row"))
            )
            .when(pl.col("op").is_null())
            .then(pl.lit(IGNORED))
            .when(pl.col("ts").is_null())
            .then(pl.lit("bad timestamp"))
            .when(pl.col("ip").is_null() | (pl.col("ip") == ""))
            .then(pl.lit("missing address"))
            .when(~valid_ipv4(pl.col("ip")))
            .then(pl.lit("bad address"))
            .when((pl.col("op") == "start") & unnamed)
            .then(pl.lit("missing client"))
            .otherwise(pl.lit(PARSED))
            .alias("_status")
        )
        return points_batch(frame, self.context, self.name, key_by_address=True)
