"""Aggregate matched events into findings: one per (user, or source IP when the traffic
carried no user) x service.

Aggregation is two-step so memory stays flat on any input size (and so the same code
serves a distributed engine): :func:`partial` turns a batch of events into small rows per
(principal, service, UTC day); :func:`merge_partials` folds partials together; and
:func:`finalise` turns them into findings. ``aggregate(events)`` is all three at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from shadowscan.attribution import METHOD_RANK, RANK_METHOD
from shadowscan.schema import CONFIDENCE_RANK, FINDING_SCHEMA, UTC_TS, conform

if TYPE_CHECKING:
    from shadowscan.attribution import Attributor

_RANK_TO_CONF = {v: k for k, v in CONFIDENCE_RANK.items()}

#: Group keys of a partial: the finding key plus the UTC day (for active_days and history).
#: Traffic nobody could be named for is keyed by its source address (``_src_key``) and
#: by why (``_akey``: ``ambiguous`` or ``unattributed``).
FINDING_KEY = ["user", "_src_key", "_akey", "service_id"]
PARTIAL_KEY = [*FINDING_KEY, "day"]
#: Events waiting for attribution are kept per second (``at``) until the scan has seen
#: every identity clue; see :mod:`shadowscan.attribution`.
DEFERRED_KEY = [*PARTIAL_KEY, "at"]

PARTIAL_SCHEMA: dict[str, pl.DataType] = {
    "user": pl.String(),
    "_src_key": pl.String(),
    "_akey": pl.String(),
    "service_id": pl.String(),
    "day": pl.Date(),
    "service": pl.String(),
    "vendor": pl.String(),
    "category": pl.String(),
    "first_seen": UTC_TS,
    "last_seen": UTC_TS,
    "requests": pl.UInt64(),
    "queries": pl.UInt64(),
    "blocked": pl.UInt64(),
    "bytes_out": pl.Int64(),
    "bytes_out_known": pl.UInt64(),
    "bytes_in": pl.Int64(),
    "bytes_in_known": pl.UInt64(),
    "src_ips": pl.List(pl.String()),
    "log_types": pl.List(pl.String()),
    "hosts": pl.List(pl.String()),
    "match_rules": pl.List(pl.String()),
    "models": pl.List(pl.String()),
    "candidates": pl.List(pl.String()),
    "devices": pl.List(pl.String()),
    "conf_rank": pl.Int8(),
    "attr_rank": pl.Int8(),
}
DEFERRED_SCHEMA: dict[str, pl.DataType] = {**PARTIAL_SCHEMA, "at": UTC_TS}

#: ``<format>_phase`` values of lines that do not close a connection (start, interim).
OPENING_PHASES = frozenset({"start", "build", "create", "interim", "update"})

_LISTS = ("src_ips", "log_types", "hosts", "match_rules", "models", "candidates", "devices")


def partial(events: pl.DataFrame, deferred: bool = False) -> pl.DataFrame:
    """Per (user or source, service, day) partial aggregates of matched events.

    Events may carry ``attribution``, ``candidates`` and ``device`` (from
    :mod:`shadowscan.attribution`); without them a logged user is ``log_user`` and the
    rest ``unattributed``. ``deferred=True`` also keys by the second (``DEFERRED_SCHEMA``)
    so the rows can still be attributed by time.
    """
    schema = DEFERRED_SCHEMA if deferred else PARTIAL_SCHEMA
    key = DEFERRED_KEY if deferred else PARTIAL_KEY
    if events.is_empty():
        return pl.DataFrame(schema=schema)
    # Answer-only DNS rows teach addresses; they are not anyone's use of a service.
    events = (
        events.filter(~pl.col("dns_answer_only").fill_null(False))
        if "dns_answer_only" in events.columns
        else events
    )
    is_dns = pl.col("log_type") == "dns"
    repeat = pl.col("repeat").fill_null(False) if "repeat" in events.columns else pl.lit(False)
    # A firewall that logs a session at its start (and in between) and at its end writes
    # several lines for one connection: only the closing line counts as a request.
    phases = [c for c in events.columns if c.endswith("_phase")]
    opening = (
        pl.coalesce(phases).is_in(list(OPENING_PHASES)).fill_null(False)
        if phases
        else pl.lit(False)
    )
    repeat = repeat | opening
    named = pl.col("user").is_not_null()
    method = (
        pl.col("attribution")
        if "attribution" in events.columns
        else pl.when(named).then(pl.lit("log_user")).otherwise(pl.lit("unattributed"))
    )
    keyed = events.with_columns(
        # Traffic without a user is grouped by its source address, and by why.
        pl.when(named).then(None).otherwise(pl.col("src_ip")).alias("_src_key"),
        pl.when(named).then(None).otherwise(method).alias("_akey"),
        pl.col("ts").dt.date().alias("day"),
        pl.col("ts").dt.truncate("1s").alias("at"),
        pl.col("confidence")
        .replace_strict(CONFIDENCE_RANK, default=0, return_dtype=pl.Int8)
        .alias("conf_rank"),
        method.replace_strict(METHOD_RANK, default=0, return_dtype=pl.Int8).alias("attr_rank"),
    )
    out = keyed.group_by(key).agg(
        pl.col("service").first(),
        pl.col("vendor").first(),
        pl.col("category").first(),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        (~is_dns & ~repeat).sum().cast(pl.UInt64).alias("requests"),
        (is_dns & ~repeat).sum().cast(pl.UInt64).alias("queries"),
        ((pl.col("action") == "blocked") & ~repeat).sum().cast(pl.UInt64).alias("blocked"),
        pl.col("bytes_out").sum().alias("bytes_out"),
        pl.col("bytes_out").is_not_null().sum().cast(pl.UInt64).alias("bytes_out_known"),
        pl.col("bytes_in").sum().alias("bytes_in"),
        pl.col("bytes_in").is_not_null().sum().cast(pl.UInt64).alias("bytes_in_known"),
        pl.col("src_ip").drop_nulls().unique().alias("src_ips"),
        pl.col("log_type").drop_nulls().unique().alias("log_types"),
        pl.col("host").drop_nulls().unique().alias("hosts"),
        pl.col("match_rule").drop_nulls().unique().alias("match_rules"),
        (pl.col("model") if "model" in keyed.columns else pl.lit(None, pl.String))
        .drop_nulls()
        .unique()
        .alias("models"),
        _optional_list(keyed, "candidates").alias("candidates"),
        (pl.col("device") if "device" in keyed.columns else pl.lit(None, pl.String))
        .drop_nulls()
        .unique()
        .alias("devices"),
        pl.col("conf_rank").max(),
        pl.col("attr_rank").max(),
    )
    return conform(out, schema).select(list(schema))


def _optional_list(frame: pl.DataFrame, column: str) -> pl.Expr:
    if column not in frame.columns:
        return pl.lit([], dtype=pl.List(pl.String)).first()
    return pl.col(column).list.explode(keep_nulls=False, empty_as_null=False).drop_nulls().unique()


def merge_partials(parts: Sequence[pl.DataFrame], deferred: bool = False) -> pl.DataFrame:
    """Fold partials with the same key into one row each (associative and commutative)."""
    schema = DEFERRED_SCHEMA if deferred else PARTIAL_SCHEMA
    frames = [p for p in parts if p.height]
    if not frames:
        return pl.DataFrame(schema=schema)
    both = pl.concat(frames, how="vertical_relaxed")
    out = both.group_by(DEFERRED_KEY if deferred else PARTIAL_KEY).agg(
        pl.col("service").first(),
        pl.col("vendor").first(),
        pl.col("category").first(),
        pl.col("first_seen").min(),
        pl.col("last_seen").max(),
        pl.col("requests").sum(),
        pl.col("queries").sum(),
        pl.col("blocked").sum(),
        pl.col("bytes_out").sum(),
        pl.col("bytes_out_known").sum(),
        pl.col("bytes_in").sum(),
        pl.col("bytes_in_known").sum(),
        *(pl.col(c).list.explode(keep_nulls=False, empty_as_null=False).unique() for c in _LISTS),
        pl.col("conf_rank").max(),
        pl.col("attr_rank").max(),
    )
    return conform(out, schema).select(list(schema))


def finalise(partials: pl.DataFrame) -> pl.DataFrame:
    """Findings (see ``FINDING_SCHEMA``) from merged partials, most requests first."""
    if partials.is_empty():
        return pl.DataFrame(schema=FINDING_SCHEMA)
    grouped = partials.group_by(FINDING_KEY).agg(
        *(
            pl.col(c).list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
            for c in _LISTS
        ),
        pl.col("service").first(),
        pl.col("vendor").first(),
        pl.col("category").first(),
        pl.col("first_seen").min(),
        pl.col("last_seen").max(),
        pl.col("day").drop_nulls().n_unique().cast(pl.UInt32).alias("active_days"),
        pl.col("requests").sum(),
        pl.col("queries").sum(),
        pl.col("blocked").sum(),
        pl.when(pl.col("bytes_out_known").sum() > 0)
        .then(pl.col("bytes_out").sum())
        .otherwise(None)
        .alias("bytes_out"),
        pl.when(pl.col("bytes_in_known").sum() > 0)
        .then(pl.col("bytes_in").sum())
        .otherwise(None)
        .alias("bytes_in"),
        pl.col("conf_rank").max(),
        pl.col("attr_rank").max(),
    )
    grouped = grouped.with_columns(
        pl.col("conf_rank")
        .replace_strict(_RANK_TO_CONF, default=None, return_dtype=pl.String)
        .alias("confidence"),
        pl.col("attr_rank")
        .replace_strict(RANK_METHOD, default="unattributed", return_dtype=pl.String)
        .alias("attribution"),
        pl.col("src_ips").list.join(",").alias("_sort_src"),
    )
    findings = grouped.sort(
        ["requests", "queries", "service_id", "user", "_sort_src"],
        descending=[True, True, False, False, False],
        nulls_last=True,
    )
    return conform(
        findings.drop("_src_key", "_akey", "conf_rank", "attr_rank", "_sort_src"), FINDING_SCHEMA
    ).select(list(FINDING_SCHEMA))


def aggregate(events: pl.DataFrame) -> pl.DataFrame:
    """Findings straight from matched events."""
    return finalise(merge_partials([partial(events)]))


def settle(partials: pl.DataFrame, deferred: pl.DataFrame, attributor: Attributor) -> pl.DataFrame:
    """Attribute what the scan had to defer and fold everything into partials keyed by
    canonical user.

    ``partials`` hold events whose log named the user (spelled as logged: the directory
    turns every spelling into one id here); ``deferred`` holds the rest per second, which
    is attributed by address and time now that every identity clue is known.
    """
    named = attributor.canonicalise(partials, "user")
    if deferred.is_empty():
        return merge_partials([named])
    found = attributor.attribute_points(
        deferred.select(pl.col("_src_key").alias("ip"), pl.col("at").alias("ts"))
    )
    rank = found["attribution"].replace_strict(METHOD_RANK, default=0, return_dtype=pl.Int8)
    who = found["user"]
    settled = deferred.drop("at").with_columns(
        who.alias("user"),
        pl.when(who.is_null()).then(pl.col("_src_key")).otherwise(None).alias("_src_key"),
        pl.when(who.is_null()).then(found["attribution"]).otherwise(None).alias("_akey"),
        rank.alias("attr_rank"),
        found["candidates"].alias("candidates"),
        pl.concat_list(pl.col("devices"), found["device"])
        .list.drop_nulls()
        .list.unique()
        .alias("devices"),
    )
    return merge_partials([named, settled])


def enrich(findings: pl.DataFrame, attributor: Attributor) -> pl.DataFrame:
    """Departments for findings: the directory's for a named user; for findings keyed by
    address, the ``--sites`` department, site and subnet."""
    if findings.is_empty():
        return findings
    by_user = attributor.canonical(findings["user"])["department"]
    first_ip = findings["src_ips"].list.first()
    unnamed = findings["user"].is_null()
    if attributor.sites is not None:
        place = attributor.sites.lookup(first_ip)
    else:
        from shadowscan.sites import Sites

        place = Sites.empty().lookup(first_ip)  # no sites: subnets only
    site, site_dept, subnet = place["site"], place["department"], place["subnet"]
    return findings.with_columns(
        pl.when(unnamed).then(site_dept).otherwise(by_user).alias("department"),
        pl.when(unnamed).then(site).otherwise(None).alias("site"),
        pl.when(unnamed).then(subnet).otherwise(None).alias("subnet"),
    )
