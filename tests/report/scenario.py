"""A large findings frame built with polars: 30 days, 500 users, 100 services, every user
on 20 services, for the report's size limit."""

from __future__ import annotations

import datetime as dt

import polars as pl

from shadowscan.schema import FINDING_SCHEMA, conform

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
POLICIES = ["sanctioned", "tolerated", "unsanctioned", "unreviewed"]
SEVERITIES = ["info", "low", "medium", "high", "critical"]


def big_findings(users: int = 500, services: int = 100, per_user: int = 20) -> pl.DataFrame:
    n = users * per_user
    idx = pl.int_range(0, n, eager=True)
    user = idx // per_user
    service = (user * 7 + idx % per_user) % services
    frame = pl.DataFrame({"i": idx, "u": user, "s": service}).select(
        pl.format("user{}@corp.example", "u").alias("user"),
        pl.format("Department {}", pl.col("u") % 25).alias("department"),
        pl.lit("log_user").alias("attribution"),
        pl.concat_list(pl.format("10.{}.{}.{}", pl.col("u") // 250, pl.col("u") % 250, 7)).alias(
            "src_ips"
        ),
        pl.format("svc-{}", "s").alias("service_id"),
        pl.format("Service number {}", "s").alias("service"),
        pl.format("Vendor {}", pl.col("s") % 40).alias("vendor"),
        pl.format("category_{}", pl.col("s") % 6).alias("category"),
        (pl.col("s") % 4).replace_strict(dict(enumerate(POLICIES))).alias("policy"),
        (pl.col("i") % 5).replace_strict(dict(enumerate(SEVERITIES))).alias("severity"),
        (pl.col("i") % 101).alias("risk_score"),
        (pl.lit(START) + pl.duration(hours=pl.col("i") % 48)).alias("first_seen"),
        (pl.lit(START) + pl.duration(days=29, hours=pl.col("i") % 20)).alias("last_seen"),
        (pl.col("i") % 30 + 1).alias("active_days"),
        (pl.col("i") * 13 % 997).alias("requests"),
        (pl.col("i") * 7 % 113).alias("queries"),
        (pl.col("i") % 9).alias("blocked"),
        (pl.col("i") * 104_729 % 50_000_000).alias("bytes_out"),
        (pl.col("i") * 15_485_863 % 90_000_000).alias("bytes_in"),
        (pl.col("i") % 4).alias("large_uploads"),
        pl.concat_list(pl.lit("proxy"), pl.lit("dns")).alias("log_types"),
        pl.concat_list(pl.format("api.svc{}.example", "s")).alias("hosts"),
        pl.lit("high").alias("confidence"),
        pl.concat_list(pl.format("domain:svc{}.example", "s")).alias("match_rules"),
        (pl.col("i") % 50 == 0).alias("new_service"),
        pl.concat_list(pl.lit("unsanctioned +30"), pl.lit("2.4 MB sent +12")).alias("risk_factors"),
    )
    return conform(frame, FINDING_SCHEMA)


def big_daily(services: int = 100) -> pl.DataFrame:
    days = pl.date_range(START.date(), START.date() + dt.timedelta(days=29), eager=True)
    return (
        pl.DataFrame({"day": days})
        .join(pl.DataFrame({"s": list(range(services))}), how="cross")
        .select(
            "day",
            pl.format("svc-{}", "s").alias("service_id"),
            (pl.col("s") * 31 % 500).cast(pl.UInt64).alias("requests"),
            (pl.col("s") * 17 % 90).cast(pl.UInt64).alias("queries"),
        )
    )
