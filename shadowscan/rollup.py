"""Roll findings up by department, or (for traffic nobody could be named for) by subnet:
what a CISO reads first, and where an analyst starts chasing unattributed use."""

from __future__ import annotations

import polars as pl

#: ``--group-by`` values and what each row is keyed by.
GROUPINGS = ("finding", "department", "subnet")

DEPARTMENT_SCHEMA: dict[str, pl.DataType] = {
    "department": pl.String(),
    "users": pl.UInt32(),
    "requests": pl.UInt64(),
    "queries": pl.UInt64(),
    "blocked": pl.UInt64(),
    "bytes_out": pl.Int64(),
    "services": pl.List(pl.String()),
    "service_count": pl.UInt32(),
}

SUBNET_SCHEMA: dict[str, pl.DataType] = {
    "subnet": pl.String(),
    "site": pl.String(),
    "department": pl.String(),
    "attribution": pl.String(),
    "addresses": pl.UInt32(),
    "requests": pl.UInt64(),
    "queries": pl.UInt64(),
    "blocked": pl.UInt64(),
    "bytes_out": pl.Int64(),
    "services": pl.List(pl.String()),
    "service_count": pl.UInt32(),
}


def by_department(findings: pl.DataFrame) -> pl.DataFrame:
    """One row per department (null: no department known): distinct users, requests,
    lookups, blocked attempts, bytes sent and the services used, busiest first."""
    if findings.is_empty():
        return pl.DataFrame(schema=DEPARTMENT_SCHEMA)
    out = findings.group_by("department").agg(
        pl.col("user").drop_nulls().n_unique().cast(pl.UInt32).alias("users"), *_use()
    )
    return _busiest(out, "department", DEPARTMENT_SCHEMA)


def by_subnet(findings: pl.DataFrame) -> pl.DataFrame:
    """Findings keyed by source address (ambiguous or unattributed), per subnet."""
    open_rows = findings.filter(pl.col("user").is_null())
    if open_rows.is_empty():
        return pl.DataFrame(schema=SUBNET_SCHEMA)
    out = open_rows.group_by(["subnet", "attribution"]).agg(
        pl.col("site").drop_nulls().first(),
        pl.col("department").drop_nulls().first(),
        pl.col("src_ips")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .n_unique()
        .cast(pl.UInt32)
        .alias("addresses"),
        *_use(),
    )
    return _busiest(out, "subnet", SUBNET_SCHEMA)


def _use() -> list[pl.Expr]:
    """What every rollup row adds up: requests, lookups, blocked attempts, bytes sent and
    the services used."""
    return [
        pl.col("requests").sum(),
        pl.col("queries").sum(),
        pl.col("blocked").sum(),
        pl.col("bytes_out").sum(),
        pl.col("service").unique().sort().alias("services"),
        pl.col("service_id").n_unique().cast(pl.UInt32).alias("service_count"),
    ]


def _busiest(out: pl.DataFrame, key: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Busiest rows first (ties by ``key``), in ``schema``'s columns and types."""
    return out.sort(
        ["requests", "queries", key], descending=[True, True, False], nulls_last=True
    ).select([pl.col(c).cast(t) for c, t in schema.items()])


def rollup(findings: pl.DataFrame, group_by: str) -> pl.DataFrame:
    if group_by == "department":
        return by_department(findings)
    if group_by == "subnet":
        return by_subnet(findings)
    return findings
