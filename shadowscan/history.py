"""Trends from the state database: per day, week or month, per service, department or
user, with the same counters as a finding.

The state's ``history`` table holds each run's per-day partial aggregates, additive across
runs, so one SQL query per call buckets them into periods: summing a history over all its
periods gives the totals of one scan over all the data, and ``active_days`` summed over
periods gives the distinct active days. ``bytes_out``/``bytes_in`` are null where no row
knew them, exactly as :func:`shadowscan.findings.finalise` decides.

The state is opened read-only, so reading never changes it; DuckDB refuses a read-only
open while a scan holds the file for writing, and that is reported as such.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal, get_args

import duckdb
import polars as pl

from shadowscan.errors import InputError, UsageError
from shadowscan.schema import UTC_TS, Field, conform
from shadowscan.state import SCHEMA_VERSION

By = Literal["service", "department", "user"]
Period = Literal["day", "week", "month"]
BY_VALUES: tuple[str, ...] = get_args(By)
PERIODS: tuple[str, ...] = get_args(Period)

_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field(
            "period",
            pl.Date(),
            "First day of the period: the day, the Monday of the ISO week, or the 1st of the month.",
        ),
        Field("service_id", pl.String(), "`--by service`: stable id of the AI service."),
        Field("service", pl.String(), "`--by service`: display name (as the latest run named it)."),
        Field("vendor", pl.String(), "`--by service`: vendor."),
        Field("category", pl.String(), "`--by service`: service category."),
        Field(
            "user",
            pl.String(),
            "`--by user`: the user; null for traffic nobody could be named for (then `source` holds its address).",
        ),
        Field(
            "source",
            pl.String(),
            "`--by user`: source address of unattributed or ambiguous traffic, so it stays visible; null for named users.",
        ),
        Field(
            "department",
            pl.String(),
            "`--by department`: the department (null: none known). `--by user`: the user's department as last seen.",
        ),
        Field("requests", pl.UInt64(), "Matched proxy requests and connections in the period."),
        Field("queries", pl.UInt64(), "Matched DNS lookups in the period."),
        Field("blocked", pl.UInt64(), "Of those requests and lookups, how many were blocked."),
        Field(
            "bytes_out",
            pl.Int64(),
            "Bytes sent to the services (null when no log of the period recorded them).",
        ),
        Field(
            "bytes_in",
            pl.Int64(),
            "Bytes received from the services (null when no log of the period recorded them).",
        ),
        Field(
            "large_uploads", pl.UInt64(), "Requests that each sent more than `--upload-threshold`."
        ),
        Field(
            "active_days",
            pl.UInt32(),
            "Distinct UTC days with use in the period (summed over periods: the distinct active days).",
        ),
        Field(
            "users",
            pl.UInt32(),
            "`--by service`, `--by department`: distinct named users in the period.",
        ),
        Field(
            "sources",
            pl.UInt32(),
            "`--by service`, `--by department`: distinct source addresses of traffic nobody could be named for.",
        ),
        Field(
            "services",
            pl.UInt32(),
            "`--by department`, `--by user`: distinct services used in the period.",
        ),
        Field("first_seen", UTC_TS, "Earliest matched event in the period, UTC."),
        Field("last_seen", UTC_TS, "Latest matched event in the period, UTC."),
        Field(
            "new_service",
            pl.Boolean(),
            "`--by service`: the organisation first used this service in this period.",
        ),
        Field(
            "new_for_department",
            pl.Boolean(),
            "`--by department`: the department first used at least one service in this period (null for the row of traffic with no department).",
        ),
        Field(
            "new_for_user",
            pl.Boolean(),
            "`--by user`: the user first used at least one service in this period (null for `source` rows).",
        ),
        Field(
            "new_service_ids",
            pl.List(pl.String()),
            "`--by department`, `--by user`: those services' ids, sorted (null where the flag is null).",
        ),
    )
}

_COUNTERS = (
    "requests",
    "queries",
    "blocked",
    "bytes_out",
    "bytes_in",
    "large_uploads",
    "active_days",
)
_COLUMNS: dict[str, tuple[str, ...]] = {
    "service": (
        "period",
        "service_id",
        "service",
        "vendor",
        "category",
        *_COUNTERS,
        "users",
        "sources",
        "first_seen",
        "last_seen",
        "new_service",
    ),
    "department": (
        "period",
        "department",
        *_COUNTERS,
        "users",
        "sources",
        "services",
        "first_seen",
        "last_seen",
        "new_for_department",
        "new_service_ids",
    ),
    "user": (
        "period",
        "user",
        "source",
        "department",
        *_COUNTERS,
        "services",
        "first_seen",
        "last_seen",
        "new_for_user",
        "new_service_ids",
    ),
}

#: The columns of a history ``--by`` each value, in order (the README tables come from these).
HISTORY_FIELDS: dict[str, tuple[Field, ...]] = {
    by: tuple(_FIELDS[name] for name in names) for by, names in _COLUMNS.items()
}
HISTORY_SCHEMA: dict[str, dict[str, pl.DataType]] = {
    by: {f.name: f.dtype for f in fields} for by, fields in HISTORY_FIELDS.items()
}
#: Every column any ``--by`` has, once, for a single README table.
HISTORY_README_FIELDS: tuple[Field, ...] = tuple(_FIELDS.values())

# Rows of the period and window; ``source`` keys traffic nobody could be named for.
_USED = """
used AS (
    SELECT *,
        CAST(date_trunc($period, day) AS DATE) AS period,
        CASE WHEN "user" IS NULL THEN src_key END AS source
    FROM history
    WHERE ($since IS NULL OR day >= $since) AND ($until IS NULL OR day <= $until)
)"""
# Services first seen (for the organisation, a department or a user) in each period.
_FRESH = """
fresh AS (
    SELECT CAST(date_trunc($period, first_day) AS DATE) AS period, key,
        list(DISTINCT service_id ORDER BY service_id) AS new_service_ids
    FROM first_seen
    WHERE scope = $scope
        AND ($since IS NULL OR first_day >= $since) AND ($until IS NULL OR first_day <= $until)
    GROUP BY ALL
)"""
# The counters, additive across runs; bytes null when no row knew them (as finalise does).
_TOTALS = """
    CAST(sum(requests) AS UBIGINT) AS requests,
    CAST(sum(queries) AS UBIGINT) AS queries,
    CAST(sum(blocked) AS UBIGINT) AS blocked,
    CASE WHEN sum(bytes_out_known) > 0 THEN CAST(sum(bytes_out) AS BIGINT) END AS bytes_out,
    CASE WHEN sum(bytes_in_known) > 0 THEN CAST(sum(bytes_in) AS BIGINT) END AS bytes_in,
    CAST(sum(large_uploads) AS UBIGINT) AS large_uploads,
    CAST(count(DISTINCT day) AS UINTEGER) AS active_days,
    CAST(count(DISTINCT "user") AS UINTEGER) AS users,
    CAST(count(DISTINCT source) AS UINTEGER) AS sources,
    CAST(count(DISTINCT service_id) AS UINTEGER) AS services,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen"""

_QUERIES: dict[str, str] = {
    "service": f"""
WITH {_USED}, {_FRESH},
totals AS (
    SELECT period, service_id,
        arg_max(service, run_id) AS service,
        arg_max(vendor, run_id) AS vendor,
        arg_max(category, run_id) AS category,
        {_TOTALS}
    FROM used GROUP BY period, service_id
)
SELECT totals.*, coalesce(list_contains(fresh.new_service_ids, totals.service_id), false)
    AS new_service
FROM totals LEFT JOIN fresh ON fresh.period = totals.period AND fresh.key = ''
ORDER BY totals.period, requests DESC, service_id NULLS LAST""",
    "department": f"""
WITH {_USED}, {_FRESH},
totals AS (
    SELECT period, department, {_TOTALS} FROM used GROUP BY period, department
)
SELECT totals.*,
    CASE WHEN totals.department IS NOT NULL THEN fresh.new_service_ids IS NOT NULL END
        AS new_for_department,
    CASE WHEN totals.department IS NOT NULL
        THEN coalesce(fresh.new_service_ids, CAST([] AS VARCHAR[])) END AS new_service_ids
FROM totals LEFT JOIN fresh ON fresh.period = totals.period AND fresh.key = totals.department
ORDER BY totals.period, requests DESC, department NULLS LAST""",
    "user": f"""
WITH {_USED}, {_FRESH},
totals AS (
    SELECT period, "user", source, arg_max(department, last_seen) FILTER (WHERE department IS NOT NULL)
        AS department, {_TOTALS}
    FROM used GROUP BY period, "user", source
)
SELECT totals.*,
    CASE WHEN totals."user" IS NOT NULL THEN fresh.new_service_ids IS NOT NULL END
        AS new_for_user,
    CASE WHEN totals."user" IS NOT NULL
        THEN coalesce(fresh.new_service_ids, CAST([] AS VARCHAR[])) END AS new_service_ids
FROM totals LEFT JOIN fresh ON fresh.period = totals.period AND fresh.key = totals."user"
ORDER BY totals.period, requests DESC, "user" NULLS LAST, source NULLS LAST""",
}


def open_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the state at ``path`` read-only (timestamps in UTC), after checking that it is
    a shadowscan state this version reads."""
    if not path.exists():
        raise InputError(
            f"state {path} does not exist: check the path, or create it with "
            f"`shadowscan scan --state {path}`"
        )
    if path.is_dir():
        raise InputError(f"state {path} is a directory: give the state's file path")
    try:
        conn = duckdb.connect(path, read_only=True)
    except duckdb.IOException as exc:
        raise _open_error(path, str(exc)) from None
    except duckdb.ConnectionException:
        raise InputError(
            f"state {path} is open for writing in this process: read it through that "
            "connection, or after the scan has finished"
        ) from None
    try:
        _check_schema(conn, path)
        conn.execute("SET TimeZone = 'UTC'")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_error(path: Path, message: str) -> InputError:
    if "lock" in message.lower():
        holder = re.search(r"PID (\d+)", message)
        who = f" (process {holder.group(1)})" if holder else ""
        return InputError(
            f"state {path} is being written by a running scan{who}: retry when it has finished"
        )
    if "not a valid DuckDB database" in message:
        return InputError(
            f"{path} is not a shadowscan state (not a DuckDB database): check the --state path"
        )
    return InputError(f"cannot open state {path}: {message}")


def _check_schema(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.CatalogException:
        row = None
    if row is None:
        raise InputError(
            f"{path} is a DuckDB database but not a shadowscan state (no schema_version in "
            "its meta table): check the --state path"
        )
    version = str(row[0])
    if version != SCHEMA_VERSION:
        newer = version.isdigit() and int(version) > int(SCHEMA_VERSION)
        hint = (
            "upgrade shadowscan to read it" if newer else "run a scan with it to upgrade the state"
        )
        raise InputError(
            f"state {path} has schema_version {version}, this shadowscan reads "
            f"{SCHEMA_VERSION}: {hint}"
        )


def history(
    path: Path,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    by: By = "service",
    period: Period = "day",
) -> pl.DataFrame:
    """Trends from the state at ``path``: one row per (period, ``by`` key), see
    ``HISTORY_SCHEMA[by]``; ``since`` and ``until`` (inclusive) bound the days read."""
    _check_arguments(since, until, by, period)
    conn = open_readonly(path)
    try:
        return history_from(conn, since=since, until=until, by=by, period=period)
    finally:
        conn.close()


def history_from(
    conn: duckdb.DuckDBPyConnection,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    by: By = "service",
    period: Period = "day",
) -> pl.DataFrame:
    """:func:`history` over an open state connection (a scan can report trends from the
    connection it writes with)."""
    _check_arguments(since, until, by, period)
    params = {"period": period, "since": since, "until": until, "scope": by}
    try:
        frame = conn.sql(_QUERIES[by], params=params).pl()
    except duckdb.CatalogException as exc:
        raise InputError(f"the state is incomplete ({exc}): check the --state path") from None
    if not isinstance(frame, pl.DataFrame):  # duckdb's stub types .pl() as Any
        raise TypeError(f"duckdb returned {type(frame).__name__}, not a polars DataFrame")
    return conform(frame, HISTORY_SCHEMA[by]).select(list(HISTORY_SCHEMA[by]))


def _check_arguments(since: dt.date | None, until: dt.date | None, by: str, period: str) -> None:
    if by not in BY_VALUES:
        raise UsageError(f"unknown --by {by!r} (known: {', '.join(BY_VALUES)})")
    if period not in PERIODS:
        raise UsageError(f"unknown --period {period!r} (known: {', '.join(PERIODS)})")
    if since is not None and until is not None and since > until:
        raise UsageError(f"--since {since} is after --until {until}: swap them")


def findings_from_state(
    path: Path, *, since: dt.date | None = None, until: dt.date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Findings over ``[since, until]`` from the history of nightly runs (the counters a
    scan over all that data gives; hosts, match rules and models are not kept in the
    state), and the per-day use (``day``, ``service_id``, ``requests``, ``queries``) for
    the report's timeline."""
    from shadowscan.schema import FINDING_SCHEMA, conform

    _check_arguments(since, until, "service", "day")
    conn = open_readonly(path)
    try:
        where, params = _window(since, until)
        findings = pl.DataFrame(
            pl.from_arrow(
                conn.sql(
                    f"""
                    SELECT "user", src_key, akey, service_id,
                           any_value(service) AS service, any_value(vendor) AS vendor,
                           any_value(category) AS category,
                           arg_max(department, last_seen) AS department,
                           CASE WHEN "user" IS NULL THEN akey ELSE 'log_user' END AS attribution,
                           CASE WHEN src_key IS NULL THEN [] ELSE [src_key] END AS src_ips,
                           min(first_seen) AS first_seen, max(last_seen) AS last_seen,
                           count(DISTINCT day) AS active_days,
                           sum(requests) AS requests, sum(queries) AS queries,
                           sum(blocked) AS blocked,
                           CASE WHEN sum(bytes_out_known) > 0 THEN sum(bytes_out) END AS bytes_out,
                           CASE WHEN sum(bytes_in_known) > 0 THEN sum(bytes_in) END AS bytes_in,
                           sum(large_uploads) AS large_uploads
                    FROM history {where}
                    GROUP BY "user", src_key, akey, service_id
                    ORDER BY requests DESC, queries DESC, service_id, "user" NULLS LAST
                    """,
                    params=params,
                ).to_arrow_table()
            )
        )
        daily = pl.DataFrame(
            pl.from_arrow(
                conn.sql(
                    f"SELECT day, service_id, sum(requests)::UBIGINT AS requests, "
                    f"sum(queries)::UBIGINT AS queries "
                    f"FROM history {where} GROUP BY day, service_id ORDER BY day, service_id",
                    params=params,
                ).to_arrow_table()
            )
        )
    finally:
        conn.close()
    # Attribution of a named user's rows is not kept per method in the state: "log_user"
    # stands for "named" here.
    return conform(findings.drop("src_key", "akey"), FINDING_SCHEMA), daily


def _window(since: dt.date | None, until: dt.date | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if since is not None:
        clauses.append("day >= ?")
        params.append(since)
    if until is not None:
        clauses.append("day <= ?")
        params.append(until)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params
