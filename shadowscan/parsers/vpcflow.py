"""AWS VPC Flow Logs: space-separated flow records, in the default (version 2) layout or a
custom layout (versions 3-8) named by a header line.

Default layout (no header; what CloudWatch Logs receives)::

    2 123456789010 eni-0a1b2c3d4e5f60718 10.40.1.25 160.79.104.10 50418 443 6 42 18544 1730707260 1730707320 ACCEPT OK

``version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes
start end action log-status``. Lines without a header are read by their field count, as
the documented field order extended version by version: 14 fields (v2), 21 (v3: ``vpc-id
subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr``), 25 (v4: ``region az-id
sublocation-type sublocation-id``), 29 (v5: ``pkt-src-aws-service pkt-dst-aws-service
flow-direction traffic-path``), 39 (v7: the ten ``ecs-*`` fields) or 40 (v8:
``reject-reason``). Other counts without a header are not VPC flow records.

**Header-driven** (stateful): files delivered to S3 start with a header line naming the
fields of a custom format in its order (``version account-id interface-id srcaddr ...``;
``${field}`` and ``field_name`` spellings are read too). From a header on, data lines are
read with that field list and must have exactly its fields; a later header line
(concatenated files) replaces it. Header lines count as skipped. Unknown field names in a
header are tolerated (their column is ignored).

**CloudWatch export**: a line may start with an ISO 8601 timestamp (a CloudWatch Logs
export to S3, ``2024-11-04T08:01:00.000Z 2 123456789010 eni-...``), optionally followed by
the log stream name (``eni-0a1b2c3d4e5f60718-all``). The timestamp is only a fallback for
``ts`` (the record's own ``start`` is preferred).

Mapping: ``ts`` = ``start`` (epoch seconds: when the first packet of the aggregation
interval was seen; ``end`` is kept as ``vpcflow_end``); ``srcaddr``/``srcport`` ->
``src_ip``/``src_port``, ``dstaddr``/``dstport`` -> ``dst_ip``/``dst_port``; where the
layout has ``pkt-srcaddr``/``pkt-dstaddr`` (the packet's original addresses) they win, so
that a record on an intermediate interface (NAT gateway, transit gateway) names the real
client and the real destination; the interface-level ``srcaddr``/``dstaddr`` are then
kept as ``vpcflow_srcaddr``/``vpcflow_dstaddr`` where they differ. ``action`` ``ACCEPT``
-> ``allowed``, ``REJECT`` -> ``blocked`` (security group or network ACL), ``-`` or
absent -> ``unknown``.

**One record per direction.** A flow record counts the packets and bytes that went from
``srcaddr`` to ``dstaddr`` on one interface in one aggregation interval; the reply
traffic is a separate record with the addresses swapped. So ``bytes`` -> ``bytes_out``
(bytes the record's source sent) and ``bytes_in`` stays null: an upload to an AI service
is the ``bytes_out`` of the record towards the service, the download is the ``bytes_out``
of the reverse record (whose ``src_ip`` is the service). A long connection is one record
per direction per interval (1 or 10 minutes), and the same packets appear again on every
interface they cross (instance, NAT gateway...), so records are not connections.

``log-status`` ``NODATA`` (no traffic in the interval) and ``SKIPDATA`` (records lost in
the interval) lines carry no addresses: they are counted as **skipped**, not as events.
Also kept: ``packets`` -> ``vpcflow_packets``, ``protocol`` (IANA number) ->
``vpcflow_protocol``, ``account-id``, ``interface-id``, ``instance-id``,
``flow-direction`` (``ingress``/``egress``, v5+), ``pkt-dst-aws-service`` (v5+) and
``reject-reason`` (v8) as ``vpcflow_<name>``.
"""

from __future__ import annotations

import functools

import polars as pl

from shadowscan.parsers import PARSERS
from shadowscan.parsers.base import (
    ParseContext,
    ParsedBatch,
    Parser,
    Sniff,
    dash_to_null,
    epoch_seconds_to_ts,
    not_matching,
    to_int,
)
from shadowscan.parsers.common import iso_ts

#: Every field a VPC flow record can have, in the documented order (versions 2 to 8).
ALL_FIELDS: tuple[str, ...] = (
    # v2 (the default format)
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    # v3
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    # v4
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    # v5
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    # v7
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    # v8
    "reject-reason",
)
#: Field counts of the headerless layouts: the documented order up to each version.
DEFAULT_COUNTS: tuple[int, ...] = (14, 21, 25, 29, 39, 40)

_NUM = r"(?:[0-9]+|-)"
_ADDR = r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*|-)"
#: What each field's value looks like (fields not listed: any token).
_VALUE: dict[str, str] = {
    "version": r"[0-9]{1,2}",
    "account-id": r"(?:[0-9]+|unknown|-)",
    "interface-id": r"(?:eni-[0-9A-Za-z]+|-)",
    "srcaddr": _ADDR,
    "dstaddr": _ADDR,
    "pkt-srcaddr": _ADDR,
    "pkt-dstaddr": _ADDR,
    "srcport": _NUM,
    "dstport": _NUM,
    "protocol": _NUM,
    "packets": _NUM,
    "bytes": _NUM,
    "start": _NUM,
    "end": _NUM,
    "tcp-flags": _NUM,
    "traffic-path": _NUM,
    "action": r"(?:ACCEPT|REJECT|-)",
    "log-status": r"(?:OK|NODATA|SKIPDATA|-)",
}
#: The fields the events are built from (captured; the others are only checked).
USED: tuple[str, ...] = (
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "instance-id",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "pkt-dst-aws-service",
    "flow-direction",
    "reject-reason",
)

_SEP = r"[ \t]+"
#: CloudWatch Logs export: ``<ISO timestamp> [<log stream name>] <record>``.
_PREFIX = (
    r"(?:(?P<prefix_ts>[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?)[ \t]+(?:eni-[0-9A-Za-z]+-(?:all|accept|reject)[ \t]+)?)?"
)
_NAME = r"(?:\$\{)?[a-z][a-z0-9_-]*\}?"
#: A header line: a known field name first, then field names only.
HEADER_PATTERN = (
    r"^[ \t]*(?:\$\{)?(?:"
    + "|".join(f.replace("-", "[-_]") for f in ALL_FIELDS)
    + rf")\}}?(?:{_SEP}{_NAME})*[ \t]*$"
)
_BLANK = r"^\s*$"

#: A layout: the field names of a header line, or None for the headerless layouts.
Layout = tuple[str, ...] | None


def _group(field: str) -> str:
    return field.replace("-", "_")


def _token(field: str, seen: set[str]) -> str:
    """The regex for one field's token: captured if the events use it (first time only)."""
    value = _VALUE.get(field, r"\S+")
    if field in USED and field not in seen:
        seen.add(field)
        return f"(?P<{_group(field)}>{value})"
    return value


@functools.lru_cache(maxsize=64)
def layout_pattern(layout: Layout) -> str:
    """The full-line regex of a layout; group ``rec`` is set on every matching line."""
    seen: set[str] = set()
    if layout is None:
        # the documented order, cut after 14, 21, 25, 29, 39 or 40 fields
        parts: list[str] = []
        prev = 0
        for count in DEFAULT_COUNTS:
            chunk = _SEP.join(_token(f, seen) for f in ALL_FIELDS[prev:count])
            parts.append(chunk if prev == 0 else f"(?:{_SEP}{chunk}")
            prev = count
        body = parts[0] + "".join(parts[1:]) + ")?" * (len(parts) - 1)
    else:
        body = _SEP.join(_token(f, seen) for f in layout)
    return rf"^[ \t]*{_PREFIX}(?P<rec>{body})[ \t]*$"


def header_layout(line: str) -> tuple[str, ...]:
    """Field names of a header line: ``${pkt-srcaddr}`` and ``pkt_srcaddr`` -> ``pkt-srcaddr``."""
    return tuple(
        tok.removeprefix("${").removesuffix("}").lower().replace("_", "-") for tok in line.split()
    )


def _events(f: pl.DataFrame) -> pl.DataFrame:
    """Canonical events from the captured fields (one string column per field group)."""
    src_raw = dash_to_null(pl.col("srcaddr"))
    dst_raw = dash_to_null(pl.col("dstaddr"))
    src = pl.coalesce(dash_to_null(pl.col("pkt_srcaddr")), src_raw)
    dst = pl.coalesce(dash_to_null(pl.col("pkt_dstaddr")), dst_raw)
    start = epoch_seconds_to_ts(dash_to_null(pl.col("start")))
    end = epoch_seconds_to_ts(dash_to_null(pl.col("end")))
    return f.select(
        pl.col("line_no"),
        pl.coalesce(start, end, iso_ts(pl.col("prefix_ts"))).alias("ts"),
        src.alias("src_ip"),
        to_int(pl.col("srcport"), pl.Int32()).alias("src_port"),
        dst.alias("dst_ip"),
        to_int(pl.col("dstport"), pl.Int32()).alias("dst_port"),
        pl.when(pl.col("action") == "ACCEPT")
        .then(pl.lit("allowed"))
        .when(pl.col("action") == "REJECT")
        .then(pl.lit("blocked"))
        .otherwise(pl.lit("unknown"))
        .alias("action"),
        to_int(pl.col("bytes")).alias("bytes_out"),
        end.alias("vpcflow_end"),
        to_int(pl.col("packets")).alias("vpcflow_packets"),
        to_int(pl.col("protocol"), pl.Int32()).alias("vpcflow_protocol"),
        dash_to_null(pl.col("account_id")).alias("vpcflow_account_id"),
        dash_to_null(pl.col("interface_id")).alias("vpcflow_interface_id"),
        dash_to_null(pl.col("instance_id")).alias("vpcflow_instance_id"),
        dash_to_null(pl.col("flow_direction")).alias("vpcflow_flow_direction"),
        dash_to_null(pl.col("pkt_dst_aws_service")).alias("vpcflow_pkt_dst_aws_service"),
        dash_to_null(pl.col("reject_reason")).alias("vpcflow_reject_reason"),
        pl.when(src_raw != src).then(src_raw).alias("vpcflow_srcaddr"),
        pl.when(dst_raw != dst).then(dst_raw).alias("vpcflow_dstaddr"),
    )


_CAPTURED = ("prefix_ts", "rec", *(_group(f) for f in USED))
_NO_REJECTS = pl.DataFrame(schema={"line_no": pl.UInt64, "reason": pl.String})


@PARSERS.register("vpcflow")
class VpcFlowParser(Parser):
    name = "vpcflow"
    log_type = "flow"
    summary = "AWS VPC Flow Logs: default v2 layout, v3-v8 layouts by field count, custom layouts named by a header line (S3), CloudWatch export timestamps; one record per direction."
    example = "2 123456789010 eni-0a1b2c3d4e5f60718 10.40.1.25 160.79.104.10 50418 443 6 42 18544 1730707260 1730707320 ACCEPT OK"
    line_pattern = None
    stateless = False
    priority = 5

    def __init__(self, context: ParseContext) -> None:
        super().__init__(context)
        #: The layout in force at the end of the batches seen so far.
        self.layout: Layout = None

    @classmethod
    def mismatch_reason(cls) -> str:
        return (
            "not a VPC flow record (a default layout has "
            + ", ".join(map(str, DEFAULT_COUNTS))
            + " fields)"
        )

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        if not lines:
            return None
        batch = pl.DataFrame(
            {
                "line_no": pl.Series(range(len(lines)), dtype=pl.UInt64),
                "line": pl.Series(lines, dtype=pl.String),
            }
        )
        parser = cls(ParseContext("<sniff>"))
        out, headers, blanks = parser._parse(batch)
        data = len(lines) - headers - blanks
        if data <= 0:
            return Sniff(0.9, "only a VPC flow header line") if headers else None
        good = out.events.height + out.skipped - headers - blanks
        if good <= 0:
            return None
        how = "the header line's layout" if headers else "a VPC flow default layout"
        return Sniff(good / data, f"{good}/{data} sample lines fit {how}")

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        return self._parse(batch)[0]

    def _parse(self, batch: pl.DataFrame) -> tuple[ParsedBatch, int, int]:
        """The parsed batch, and how many of its skipped lines were headers and blanks."""
        line = batch["line"]
        blank = line.str.contains(_BLANK).fill_null(True)
        header = line.str.contains(HEADER_PATTERN).fill_null(False) & ~blank
        # The loop is over header lines only; data lines are handled per layout block.
        layouts: list[Layout] = [self.layout]
        for text in line.filter(header).to_list():
            layouts.append(header_layout(text))
        self.layout = layouts[-1]
        n_headers, n_blank = int(header.sum()), int(blank.sum())
        data = batch.with_columns(header.cast(pl.UInt32).cum_sum().alias("_block")).filter(
            ~(header | blank)
        )
        events = [_events(self._fields(data.clear(), None))]
        rejected = [_NO_REJECTS]
        record_skips = 0
        for rows in data.partition_by("_block", maintain_order=True):
            layout = layouts[int(rows["_block"][0])]
            f = self._fields(rows, layout)
            ok = f["rec"].is_not_null()
            no_data = ok & f["log_status"].is_in(["NODATA", "SKIPDATA"]).fill_null(False)
            record_skips += int(no_data.sum())
            events.append(_events(f.filter(ok & ~no_data)))
            reason = (
                self.mismatch_reason()
                if layout is None
                else f"does not fit the header line's {len(layout)} fields"
            )
            rejected.append(not_matching(rows, ok, reason))
        return (
            ParsedBatch(
                pl.concat(events, how="diagonal_relaxed"),
                pl.concat(rejected),
                n_headers + n_blank + record_skips,
            ),
            n_headers,
            n_blank,
        )

    @staticmethod
    def _fields(rows: pl.DataFrame, layout: Layout) -> pl.DataFrame:
        """``line_no`` plus one string column per captured group (null where absent)."""
        f = rows.select(
            pl.col("line_no"), pl.col("line").str.extract_groups(layout_pattern(layout)).alias("f")
        ).unnest("f")
        missing = [pl.lit(None, pl.String).alias(c) for c in _CAPTURED if c not in f.columns]
        return f.with_columns(missing) if missing else f
