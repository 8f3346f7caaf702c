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
#: Events whose log names no user wait for attribution per source address, service,
#: second and evidence, as scalar rows (no lists), so millions of them stay compact.
DEFERRED_KEY = ["_src_key", "service_id", "at", "log_type", "host", "match_rule", "model"]

#: The counters a partial, a deferred row and a finding carry: added when rows merge.
_COUNTS: dict[str, pl.DataType] = {
    "requests": pl.UInt64(),
    "queries": pl.UInt64(),
    "blocked": pl.UInt64(),
    "bytes_out": pl.Int64(),
    "bytes_out_known": pl.UInt64(),
    "bytes_in": pl.Int64(),
    "bytes_in_known": pl.UInt64(),
    "large_uploads": pl.UInt64(),
}
_SUMS = tuple(_COUNTS)
_SEEN: dict[str, pl.DataType] = {"first_seen": UTC_TS, "last_seen": UTC_TS}

PARTIAL_SCHEMA: dict[str, pl.DataType] = {
    "user": pl.String(),
    "_src_key": pl.String(),
    "_akey": pl.String(),
    "service_id": pl.String(),
    "day": pl.Date(),
    "service": pl.String(),
    "vendor": pl.String(),
    "category": pl.String(),
    **_SEEN,
    **_COUNTS,
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
DEFERRED_SCHEMA: dict[str, pl.DataType] = {
    "_src_key": pl.String(),
    "service_id": pl.String(),
    "at": UTC_TS,
    "log_type": pl.String(),
    "host": pl.String(),
    "match_rule": pl.String(),
    "model": pl.String(),
    **_SEEN,
    **_COUNTS,
    "conf_rank": pl.Int8(),
}

#: ``<format>_phase`` values of lines that do not close a connection (start, interim).
OPENING_PHASES = frozenset({"start", "build", "create", "interim", "update"})

_LISTS = ("src_ips", "log_types", "hosts", "match_rules", "models", "candidates", "devices")


#: A request that sends more than this many bytes is a large upload (``--upload-threshold``).
UPLOAD_THRESHOLD = 1_000_000


def units(events: pl.DataFrame, upload_threshold: int = UPLOAD_THRESHOLD) -> pl.DataFrame:
    """One scalar row per matched event with what aggregation needs: keys, the counts it
    adds (0 or 1 request, lookup, blocked attempt), bytes, evidence and ranks.

    Events may carry ``attribution``, ``candidates`` and ``device`` (from
    :mod:`shadowscan.attribution`); without them a logged user is ``log_user`` and the
    rest ``unattributed``.
    """
    # Answer-only DNS rows teach addresses; they are not anyone's use of a service.
    if "dns_answer_only" in events.columns:
        events = events.filter(~pl.col("dns_answer_only").fill_null(False))
    is_dns = pl.col("log_type") == "dns"
    repeat = pl.col("repeat").fill_null(False) if "repeat" in events.columns else pl.lit(False)
    # A firewall that logs a session at its start (and in between) and at its end writes
    # several lines for one connection: only the closing line counts as a request.
    phases = [c for c in events.columns if c.endswith("_phase")]
    if phases:
        repeat = repeat | pl.coalesce(phases).is_in(list(OPENING_PHASES)).fill_null(False)
    named = pl.col("user").is_not_null()
    method = (
        pl.col("attribution")
        if "attribution" in events.columns
        else pl.when(named).then(pl.lit("log_user")).otherwise(pl.lit("unattributed"))
    )

    def optional(column: str, dtype: pl.DataType) -> pl.Expr:
        return pl.col(column) if column in events.columns else pl.lit(None, dtype)

    return events.select(
        "user",
        # Traffic without a user is grouped by its source address, and by why.
        pl.when(named).then(None).otherwise(pl.col("src_ip")).alias("_src_key"),
        pl.when(named).then(None).otherwise(method).alias("_akey"),
        "service_id",
        pl.col("ts").dt.date().alias("day"),
        pl.col("ts").dt.truncate("1s").alias("at"),
        "service",
        "vendor",
        "category",
        pl.col("ts").alias("first_seen"),
        pl.col("ts").alias("last_seen"),
        (~is_dns & ~repeat).cast(pl.UInt64).alias("requests"),
        (is_dns & ~repeat).cast(pl.UInt64).alias("queries"),
        ((pl.col("action") == "blocked") & ~repeat)
        .fill_null(False)
        .cast(pl.UInt64)
        .alias("blocked"),
        "bytes_out",
        pl.col("bytes_out").is_not_null().cast(pl.UInt64).alias("bytes_out_known"),
        "bytes_in",
        pl.col("bytes_in").is_not_null().cast(pl.UInt64).alias("bytes_in_known"),
        ((pl.col("bytes_out") > upload_threshold) & ~is_dns & ~repeat)
        .fill_null(False)
        .cast(pl.UInt64)
        .alias("large_uploads"),
        "src_ip",
        "log_type",
        "host",
        "match_rule",
        optional("model", pl.String()).alias("model"),
        optional("candidates", pl.List(pl.String())).alias("candidates"),
        optional("device", pl.String()).alias("device"),
        pl.col("confidence")
        .replace_strict(CONFIDENCE_RANK, default=0, return_dtype=pl.Int8)
        .alias("conf_rank"),
        method.replace_strict(METHOD_RANK, default=0, return_dtype=pl.Int8).alias("attr_rank"),
    )


def _to_partial(rows: pl.DataFrame) -> pl.DataFrame:
    """Partials from unit-like rows (scalar evidence columns, counts to sum)."""
    if rows.is_empty():
        return pl.DataFrame(schema=PARTIAL_SCHEMA)
    out = rows.group_by(PARTIAL_KEY).agg(
        pl.col("service").first(),
        pl.col("vendor").first(),
        pl.col("category").first(),
        pl.col("first_seen").min(),
        pl.col("last_seen").max(),
        *(pl.col(c).sum() for c in _SUMS),
        pl.col("src_ip").drop_nulls().unique().alias("src_ips"),
        pl.col("log_type").drop_nulls().unique().alias("log_types"),
        pl.col("host").drop_nulls().unique().alias("hosts"),
        pl.col("match_rule").drop_nulls().unique().alias("match_rules"),
        pl.col("model").drop_nulls().unique().alias("models"),
        pl.col("candidates")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .drop_nulls()
        .unique()
        .alias("candidates"),
        pl.col("device").drop_nulls().unique().alias("devices"),
        pl.col("conf_rank").max(),
        pl.col("attr_rank").max(),
    )
    return conform(out, PARTIAL_SCHEMA).select(list(PARTIAL_SCHEMA))


def partial(events: pl.DataFrame, upload_threshold: int = UPLOAD_THRESHOLD) -> pl.DataFrame:
    """Per (user or source, service, day) partial aggregates of matched events."""
    if events.is_empty():
        return pl.DataFrame(schema=PARTIAL_SCHEMA)
    return _to_partial(units(events, upload_threshold))


def defer(events: pl.DataFrame, upload_threshold: int = UPLOAD_THRESHOLD) -> pl.DataFrame:
    """Matched events whose log names no user, compacted per source address, service,
    second and evidence until attribution (``DEFERRED_SCHEMA``)."""
    if events.is_empty():
        return pl.DataFrame(schema=DEFERRED_SCHEMA)
    return merge_deferred([units(events, upload_threshold).select(list(DEFERRED_SCHEMA))])


def merge_deferred(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Fold deferred rows with the same key (associative and commutative)."""
    frames = [p for p in parts if p.height]
    if not frames:
        return pl.DataFrame(schema=DEFERRED_SCHEMA)
    out = (
        pl.concat(frames, how="vertical_relaxed")
        .group_by(DEFERRED_KEY)
        .agg(
            pl.col("first_seen").min(),
            pl.col("last_seen").max(),
            *(pl.col(c).sum() for c in _SUMS),
            pl.col("conf_rank").max(),
        )
    )
    return out.select([pl.col(c).cast(t) for c, t in DEFERRED_SCHEMA.items()])


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
        *(pl.col(c).sum() for c in _SUMS),
        *(pl.col(c).list.explode(keep_nulls=False, empty_as_null=False).unique() for c in _LISTS),
        pl.col("conf_rank").max(),
        pl.col("attr_rank").max(),
    )
    return conform(out, PARTIAL_SCHEMA).select(list(PARTIAL_SCHEMA))


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
        pl.col("large_uploads").sum(),
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


def settle(
    partials: pl.DataFrame,
    deferred: pl.DataFrame,
    attributor: Attributor,
    services: pl.DataFrame,
) -> pl.DataFrame:
    """Attribute what the scan had to defer and fold everything into partials keyed by
    canonical user.

    ``partials`` hold events whose log named the user (spelled as logged: the directory
    turns every spelling into one id here); ``deferred`` (``DEFERRED_SCHEMA``, rows with
    the same key may repeat) holds the rest, attributed by address and time now that
    every identity clue is known.
    ``services`` names each ``service_id`` (``service``, ``vendor``, ``category``).
    """
    named = attributor.canonicalise(partials, "user")
    # In slices, so that attributing millions of rows never holds them all twice.
    settled = [
        _settle_slice(part, attributor, services)
        for part in deferred.iter_slices(SETTLE_SLICE)
        if part.height
    ]
    return merge_partials([named, *settled])


#: Deferred rows attributed at a time.
SETTLE_SLICE = 500_000


def _settle_slice(
    deferred: pl.DataFrame, attributor: Attributor, services: pl.DataFrame
) -> pl.DataFrame:
    found = attributor.attribute_points(
        deferred.select(pl.col("_src_key").alias("ip"), pl.col("at").alias("ts"))
    )
    who = found["user"]
    rows = deferred.with_columns(
        who.alias("user"),
        pl.col("_src_key").alias("src_ip"),
        pl.when(who.is_null()).then(pl.col("_src_key")).otherwise(None).alias("_src_key"),
        pl.when(who.is_null()).then(found["attribution"]).otherwise(None).alias("_akey"),
        pl.col("at").dt.date().alias("day"),
        found["attribution"]
        .replace_strict(METHOD_RANK, default=0, return_dtype=pl.Int8)
        .alias("attr_rank"),
        found["candidates"].alias("candidates"),
        found["device"].alias("device"),
    ).join(services, on="service_id", how="left")
    return _to_partial(rows)


def enrich(findings: pl.DataFrame, attributor: Attributor) -> pl.DataFrame:
    """Departments for findings: the directory's for a named user; for findings keyed by
    address, the ``--sites`` department, site and subnet."""
    if findings.is_empty():
        return findings
    return findings.with_columns(
        places(findings["user"], findings["src_ips"].list.first(), attributor)
    )


def places(users: pl.Series, ips: pl.Series, attributor: Attributor) -> list[pl.Series]:
    """``department``, ``site`` and ``subnet`` for rows keyed by ``users`` (the
    directory's department) or, where the user is null, by ``ips`` (``--sites``)."""
    by_user = attributor.canonical(users)["department"]
    if attributor.sites is not None:
        place = attributor.sites.lookup(ips)
    else:
        from shadowscan.sites import Sites

        place = Sites.empty().lookup(ips)  # no sites: subnets only
    unnamed = users.is_null()
    pick = pl.DataFrame(
        {
            "u": unnamed,
            "by_user": by_user,
            "site_dept": place["department"],
            "site": place["site"],
            "subnet": place["subnet"],
        }
    ).select(
        pl.when("u").then("site_dept").otherwise("by_user").alias("department"),
        pl.when("u").then("site").alias("site"),
        pl.when("u").then("subnet").alias("subnet"),
    )
    return [pick["department"], pick["site"], pick["subnet"]]
