"""Aggregate matched events into findings: one per (user, or source IP when the traffic
carried no user) x service.

Aggregation is two-step so memory stays flat on any input size (and so the same code
serves a distributed engine): :func:`partial` turns a batch of events into small rows per
(principal, service, UTC day); :func:`merge_partials` folds partials together; and
:func:`finalise` turns them into findings. ``aggregate(events)`` is all three at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from shadowscan.schema import CONFIDENCE_RANK, FINDING_SCHEMA, UTC_TS, conform

_RANK_TO_CONF = {v: k for k, v in CONFIDENCE_RANK.items()}

#: Group keys of a partial: the finding key plus the UTC day (for active_days and history).
PARTIAL_KEY = ["user", "_src_key", "service_id", "day"]

PARTIAL_SCHEMA: dict[str, pl.DataType] = {
    "user": pl.String(),
    "_src_key": pl.String(),
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
    "conf_rank": pl.Int8(),
}

#: ``<format>_phase`` values of lines that do not close a connection (start, interim).
OPENING_PHASES = frozenset({"start", "build", "create", "interim", "update"})

_LISTS = ("src_ips", "log_types", "hosts", "match_rules", "models")


def partial(events: pl.DataFrame) -> pl.DataFrame:
    """Per (user or source, service, day) partial aggregates of matched events."""
    if events.is_empty():
        return pl.DataFrame(schema=PARTIAL_SCHEMA)
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
    keyed = events.with_columns(
        # Traffic without a user is grouped by its source address.
        pl.when(pl.col("user").is_null()).then(pl.col("src_ip")).otherwise(None).alias("_src_key"),
        pl.col("ts").dt.date().alias("day"),
        pl.col("confidence")
        .replace_strict(CONFIDENCE_RANK, default=0, return_dtype=pl.Int8)
        .alias("conf_rank"),
    )
    out = keyed.group_by(PARTIAL_KEY).agg(
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
        pl.col("conf_rank").max(),
    )
    return conform(out, PARTIAL_SCHEMA).select(list(PARTIAL_SCHEMA))


def merge_partials(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Fold partials with the same key into one row each (associative and commutative)."""
    frames = [p for p in parts if p.height]
    if not frames:
        return pl.DataFrame(schema=PARTIAL_SCHEMA)
    both = pl.concat(frames, how="vertical_relaxed")
    out = both.group_by(PARTIAL_KEY).agg(
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
    )
    return conform(out, PARTIAL_SCHEMA).select(list(PARTIAL_SCHEMA))


def finalise(partials: pl.DataFrame) -> pl.DataFrame:
    """Findings (see ``FINDING_SCHEMA``) from merged partials, most requests first."""
    if partials.is_empty():
        return pl.DataFrame(schema=FINDING_SCHEMA)
    grouped = partials.group_by(["user", "_src_key", "service_id"]).agg(
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
    )
    grouped = grouped.with_columns(
        pl.col("conf_rank")
        .replace_strict(_RANK_TO_CONF, default=None, return_dtype=pl.String)
        .alias("confidence"),
        pl.col("src_ips").list.join(",").alias("_sort_src"),
    )
    findings = grouped.sort(
        ["requests", "queries", "service_id", "user", "_sort_src"],
        descending=[True, True, False, False, False],
        nulls_last=True,
    )
    return conform(findings.drop("_src_key", "conf_rank", "_sort_src"), FINDING_SCHEMA).select(
        list(FINDING_SCHEMA)
    )


def aggregate(events: pl.DataFrame) -> pl.DataFrame:
    """Findings straight from matched events."""
    return finalise(merge_partials([partial(events)]))
