"""Proxifier client logs (Windows and macOS): one line per connection event.

``[10.30 16:49:06] chrome.exe *64 - chatgpt.com:443 open through proxy proxy.corp.example:8080 HTTPS``

Each line is ``[MM.DD HH:MM:SS] <process> [(pid)] [*64] - <host>:<port> <event>``; the event is
``open through proxy <proxy>:<port> <type>``, ``open directly``, ``close, N bytes [(1.2 KB)]
sent, M bytes [(3.4 MB)] received, lifetime <1 sec|mm:ss|hh:mm:ss``, ``error : <text>``
or (Proxifier 4) ``matching <rule> rule : connection blocked`` / ``using proxy ...``.
Process names may contain spaces (macOS apps), IPv6 targets are bracketed, and Proxifier 4
adds ``(UDP connect)``/``(IPv6)`` flags after the target.

The timestamp has no year and no zone: the year is the one that puts the line at or before
the file's mtime (as for syslog), the zone is ``--timezone``. Bytes appear only on
``close`` lines (``sent`` is the upload, ``bytes_out``). ``error`` lines are connection
failures (``action`` ``unknown``), ``... blocked`` lines are ``blocked``, everything else is
``allowed``. There is no URL, user or client address: the log is the client's own.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, split_skipped, to_int
from shadowscan.schema import UTC_TS

PATTERN = (
    r"^\[(?P<md>(?:0[1-9]|1[0-2])\.(?:0[1-9]|[12][0-9]|3[01])) "
    r"(?P<hms>(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])\] "
    r"(?P<process>[^\s\[\]](?:[^\[\]]*?[^\s\[\]])??)"
    r"(?: \((?P<pid>[0-9]+)\))?(?: \*64)? - "
    r"(?P<target>\[[0-9A-Fa-f:.]+\]|[^\s\[\]]+?):(?P<port>[0-9]{1,5})"
    r"(?: \([A-Za-z0-9 ]+\))* "
    r"(?P<event>\S.*?)\s*$"
)

_CLOSE = (
    r"^close, (?P<sent>[0-9]+) bytes(?: \([^)]*\))? sent, "
    r"(?P<recv>[0-9]+) bytes(?: \([^)]*\))? received"
)
_PROXY = r"(?:through|to|using) proxy (\S+:[0-9]{1,5})"
_IP = r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)$"


def month_day_ts(
    text: pl.Expr, reference: dt.datetime | None, tz: str = "UTC", fmt: str = "%m.%d %H:%M:%S"
) -> pl.Expr:
    """``10.30 16:49:06`` (no year) -> UTC.

    Like :func:`shadowscan.parsers.common.syslog_ts`, the year is the latest one that puts
    the local time at or before ``reference`` (the file's mtime, or now) plus a day. Years
    further back are tried too, so that ``02.29`` lands in the last leap year; the choice is
    made on local wall-clock time so a DST gap never shifts a line into another year.
    """
    ref = reference or dt.datetime.now(dt.UTC)
    if ref.tzinfo is None:
        ref = ref.replace(tzinfo=dt.UTC)
    limit = (ref + dt.timedelta(days=1)).astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    s = text.cast(pl.String).str.strip_chars()
    candidates = []
    for year in range(limit.year, limit.year - 9, -1):
        naive = (pl.lit(f"{year} ") + s).str.to_datetime(f"%Y {fmt}", time_unit="us", strict=False)
        candidates.append(pl.when(naive <= pl.lit(limit)).then(naive))
    return (
        pl.coalesce(candidates)
        .dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .cast(UTC_TS)
    )


@PARSERS.register("proxifier")
class ProxifierParser(Parser):
    name = "proxifier"
    log_type = "proxy"
    summary = "Proxifier client log: per-process open/close/error connection events, no year."
    example = "[10.30 16:49:06] chrome.exe *64 - chatgpt.com:443 close, 1190 bytes (1.16 KB) sent, 48211 bytes (47.0 KB) received, lifetime 00:02"
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        fields = batch.select(
            pl.col("line_no"), pl.col("line").str.extract_groups(PATTERN).alias("f")
        ).unnest("f")
        ok = fields["md"].is_not_null()
        fields = fields.filter(ok)
        event = pl.col("event")
        close = event.str.extract_groups(_CLOSE)
        target = pl.col("target").str.strip_chars("[]")
        kind = event.str.extract(r"^([A-Za-z]+)", 1).str.to_lowercase()
        events = fields.select(
            pl.col("line_no"),
            month_day_ts(
                pl.col("md") + pl.lit(" ") + pl.col("hms"),
                self.context.file_time,
                self.context.timezone,
            ).alias("ts"),
            pl.col("process"),
            host_expr(pl.col("target")).alias("host"),
            pl.when(target.str.contains(_IP)).then(target).otherwise(None).alias("dst_ip"),
            to_int(pl.col("port"), pl.Int32()).alias("dst_port"),
            pl.when(event.str.to_lowercase().str.contains(r"\bblocked\b"))
            .then(pl.lit("blocked"))
            .when(kind == "error")
            .then(pl.lit("unknown"))
            .otherwise(pl.lit("allowed"))
            .alias("action"),
            to_int(close.struct.field("sent")).alias("bytes_out"),
            to_int(close.struct.field("recv")).alias("bytes_in"),
            kind.alias("proxifier_event"),
            event.str.extract(_PROXY, 1).alias("proxifier_proxy"),
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
