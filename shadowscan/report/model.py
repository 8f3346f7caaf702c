"""What an audit report says, computed once and rendered as HTML, Markdown or a workbook.

Every renderer reads the same :class:`ReportData`, so the three formats cannot disagree.
Tables are capped (the full data is in the CSV/NDJSON output), which keeps a 30-day report
for hundreds of users small enough to open and print. Values stay raw (numbers, datetimes,
log strings): each renderer formats and escapes them for its own medium.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from shadowscan.attribution import METHODS
from shadowscan.schema import FINDING_SCHEMA, conform

if TYPE_CHECKING:
    from shadowscan.api import ScanResult

DEFAULT_TITLE = "Shadow AI audit report"
#: Policy statuses from most to least worrying (a service's colour is its worst status).
POLICIES = ("unsanctioned", "unreviewed", "tolerated", "sanctioned")
#: Row caps per section: enough to act on, small enough to print.
TOP_FINDINGS = 200
TOP_USERS = 100
TOP_ROWS = 100
TOP_FILES = 500
MATRIX_DEPARTMENTS = 40
MATRIX_SERVICES = 20
CHART_SERVICES = 20
#: The columns of ``daily``: per-day partials the state history (or the events) give.
DAILY_SCHEMA: dict[str, pl.DataType] = {
    "day": pl.Date(),
    "service_id": pl.String(),
    "requests": pl.UInt64(),
    "queries": pl.UInt64(),
}


@dataclass(frozen=True)
class Table:
    """One section's rows: at most a cap of them, and how many there were in all."""

    key: str
    title: str
    frame: pl.DataFrame
    total_rows: int
    note: str = ""

    @property
    def more(self) -> int:
        return max(0, self.total_rows - self.frame.height)


@dataclass(frozen=True)
class Totals:
    findings: int
    services: int
    users: int
    #: Source addresses whose traffic nobody could be named for.
    unnamed_sources: int
    departments: int
    requests: int
    queries: int
    blocked: int
    large_uploads: int
    bytes_out: int
    bytes_out_unsanctioned: int
    #: Findings with no byte count (DNS, or a log format without one).
    bytes_unknown_findings: int


@dataclass(frozen=True)
class DataQuality:
    """How the logs were read: the account every line is in, and how users were found."""

    files: pl.DataFrame
    identity: pl.DataFrame
    attribution: pl.DataFrame
    catalogue_version: str
    prefilter: str
    lines: int
    parsed: int
    skipped: int
    unparsed: int
    matched: int

    @property
    def summary(self) -> str:
        return (
            f"{self.files.height:,} log file(s), {self.lines:,} lines: {self.parsed:,} parsed, "
            f"{self.skipped:,} skipped (blank, comments, headers), {self.unparsed:,} unparsed; "
            f"{self.matched:,} matched a known AI service."
        )

    def tables(self) -> tuple[Table, Table, Table]:
        """Files, identity files and attribution methods, capped like every section."""
        return (
            _table("files", "Log files", self.files, TOP_FILES),
            _table("identity", "Identity and directory files", self.identity, TOP_FILES),
            _table("attribution", "How users were found", self.attribution, TOP_ROWS),
        )


@dataclass(frozen=True)
class ReportData:
    title: str
    generated_at: dt.datetime
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    totals: Totals
    summary: list[str]
    top_risks: Table
    services: Table
    category_policy: Table
    #: Departments (rows) by services (columns): requests plus DNS lookups.
    matrix: Table
    users: Table
    #: (day, requests, queries), one row per day of the window.
    timeline: pl.DataFrame
    timeline_note: str
    large_uploads: Table
    new_services: Table
    blocked: Table
    quality: DataQuality | None
    limitations: list[str]
    pseudonymized: bool
    #: Every finding, uncapped, for the workbook's Findings sheet.
    findings: pl.DataFrame = field(repr=False)

    @property
    def timeline_table(self) -> Table:
        # The chart shows every day; the table only the days with use (a window of logs
        # years apart would otherwise list a thousand empty days).
        used = self.timeline.filter((pl.col("requests") + pl.col("queries")) > 0)
        return Table("timeline", "Use per day", used, used.height)

    @property
    def chart_services(self) -> pl.DataFrame:
        """The services bar chart's rows: the most used services first."""
        return (
            self.services.frame.sort(["use", "service"], descending=[True, False])
            .head(CHART_SERVICES)
            .select("service", "worst_policy", "use")
        )


def _who() -> pl.Expr:
    """The user, else the source addresses: unnamed traffic stays visible, never merged."""
    return pl.coalesce(
        pl.col("user"), pl.col("src_ips").list.join(", "), pl.lit("(unknown source)")
    ).alias("who")


def _worst_policy(column: str = "policy") -> pl.Expr:
    rank = {p: i for i, p in enumerate(POLICIES)}
    return (
        pl.col(column)
        .replace_strict(rank, default=len(POLICIES), return_dtype=pl.Int8)
        .min()
        .replace_strict({i: p for p, i in rank.items()}, default="unreviewed")
        .alias("worst_policy")
    )


def _known_sum(column: str) -> pl.Expr:
    """The sum, or null when no row knew the value (unknown is not zero)."""
    return pl.when(pl.col(column).is_not_null().any()).then(pl.col(column).sum()).alias(column)


def _count(frame: pl.DataFrame, column: str) -> int:
    return int(frame[column].sum() or 0)


def _totals(findings: pl.DataFrame) -> Totals:
    unnamed = findings.filter(pl.col("user").is_null())
    unsanctioned = findings.filter(pl.col("policy") == "unsanctioned")
    return Totals(
        findings=findings.height,
        services=findings["service_id"].n_unique() if findings.height else 0,
        users=findings["user"].drop_nulls().n_unique(),
        unnamed_sources=unnamed["src_ips"].explode().drop_nulls().n_unique(),
        departments=findings["department"].drop_nulls().n_unique(),
        requests=_count(findings, "requests"),
        queries=_count(findings, "queries"),
        blocked=_count(findings, "blocked"),
        large_uploads=_count(findings, "large_uploads"),
        bytes_out=_count(findings, "bytes_out"),
        bytes_out_unsanctioned=_count(unsanctioned, "bytes_out"),
        bytes_unknown_findings=findings["bytes_out"].null_count(),
    )


def _table(key: str, title: str, frame: pl.DataFrame, cap: int, note: str = "") -> Table:
    return Table(key, title, frame.head(cap), frame.height, note)


def _top_risks(findings: pl.DataFrame) -> Table:
    frame = findings.sort(
        ["risk_score", "requests", "queries"], descending=True, maintain_order=True
    ).select(
        _who(),
        "department",
        "attribution",
        "service",
        "policy",
        "severity",
        "risk_score",
        "requests",
        "queries",
        "blocked",
        "bytes_out",
        "large_uploads",
        "first_seen",
        "last_seen",
        "confidence",
        "hosts",
        "risk_factors",
    )
    return _table("risks", "Top risks", frame, TOP_FINDINGS)


def _services(findings: pl.DataFrame) -> Table:
    frame = (
        findings.group_by("service_id")
        .agg(
            pl.col("service").first(),
            pl.col("vendor").first(),
            pl.col("category").first(),
            pl.col("policy").drop_nulls().unique().sort().alias("policies"),
            _worst_policy(),
            pl.col("user").drop_nulls().n_unique().alias("users"),
            pl.col("department").drop_nulls().n_unique().alias("departments"),
            pl.col("requests").sum(),
            pl.col("queries").sum(),
            pl.col("blocked").sum(),
            _known_sum("bytes_out"),
            pl.col("risk_score").max().alias("max_risk"),
        )
        .with_columns((pl.col("requests") + pl.col("queries")).alias("use"))
        .sort(["max_risk", "use", "service_id"], descending=[True, True, False])
        .drop("service_id")
    )
    return _table("services", "Services by category and policy", frame, TOP_ROWS)


def _category_policy(findings: pl.DataFrame) -> Table:
    """Distinct services per category and policy status (a service with a user exception
    counts under each status it has)."""
    counts = findings.group_by("category", "policy").agg(
        pl.col("service_id").n_unique().alias("services")
    )
    rows = []
    for category in sorted({c or "(none)" for c in counts["category"].to_list()}):
        row: dict[str, Any] = {"category": category}
        for policy in POLICIES:
            hit = counts.filter(
                (pl.col("category").fill_null("(none)") == category) & (pl.col("policy") == policy)
            )
            row[policy] = int(hit["services"].sum() or 0)
        rows.append(row)
    schema: dict[str, pl.DataType] = {"category": pl.String()} | {p: pl.Int64() for p in POLICIES}
    frame = pl.DataFrame(rows, schema=schema)
    return _table("category-policy", "Services per category and policy status", frame, TOP_ROWS)


def _matrix(findings: pl.DataFrame) -> Table:
    use = (pl.col("requests") + pl.col("queries")).alias("use")
    dept = pl.col("department").fill_null("(none)")
    top_services = (
        findings.group_by("service")
        .agg(use.sum())
        .sort(["use", "service"], descending=[True, False])
        .head(MATRIX_SERVICES)["service"]
        .to_list()
    )
    by_dept = (
        findings.group_by(dept).agg(use.sum()).sort(["use", "department"], descending=[True, False])
    )
    cells = findings.group_by(dept, "service").agg(use.sum())
    rows = []
    for department in by_dept["department"].to_list():
        row: dict[str, Any] = {"department": department}
        mine = dict(
            cells.filter(pl.col("department") == department).select("service", "use").iter_rows()
        )
        for service in top_services:
            row[service] = int(mine.get(service) or 0)
        rows.append(row)
    schema: dict[str, pl.DataType] = {"department": pl.String()} | {
        s: pl.Int64() for s in top_services
    }
    frame = pl.DataFrame(rows, schema=schema)
    shown = len(top_services)
    all_services = findings["service"].n_unique() if findings.height else 0
    note = (
        f"Requests plus DNS lookups. The {shown} most used of {all_services} services are shown."
        if all_services > shown
        else "Requests plus DNS lookups."
    )
    return _table("heatmap", "Departments × services", frame, MATRIX_DEPARTMENTS, note)


def _users(findings: pl.DataFrame) -> Table:
    frame = (
        findings.with_columns(_who())
        .group_by("who")
        .agg(
            pl.col("department").drop_nulls().first(),
            pl.col("attribution").first(),
            pl.col("service").unique().sort().alias("services"),
            pl.col("risk_score").max().alias("max_risk"),
            pl.col("requests").sum(),
            pl.col("queries").sum(),
            pl.col("blocked").sum(),
            _known_sum("bytes_out"),
            pl.col("large_uploads").sum(),
        )
        .sort(["max_risk", "requests", "queries", "who"], descending=[True, True, True, False])
    )
    return _table("users", "Top users", frame, TOP_USERS)


def _large_uploads(findings: pl.DataFrame) -> Table:
    frame = (
        findings.filter(pl.col("large_uploads") > 0)
        .sort(["large_uploads", "bytes_out"], descending=True, nulls_last=True)
        .select(
            _who(), "department", "service", "policy", "large_uploads", "bytes_out", "last_seen"
        )
    )
    return _table("uploads", "Large uploads", frame, TOP_ROWS)


def _new_services(findings: pl.DataFrame) -> Table:
    known = findings["new_service"].null_count() < findings.height
    frame = (
        findings.filter(pl.col("new_service").fill_null(False))
        .group_by("service")
        .agg(
            pl.col("vendor").first(),
            pl.col("category").first(),
            _worst_policy(),
            pl.col("first_seen").min(),
            pl.col("user").drop_nulls().unique().sort().alias("users"),
            pl.col("department").drop_nulls().unique().sort().alias("departments"),
        )
        .sort(["first_seen", "service"])
    )
    note = (
        "Services the organisation had never used before this run."
        if known
        else "Not available: new services are known only to scans with --state."
    )
    return _table("new-services", "New services", frame, TOP_ROWS, note)


def _blocked(findings: pl.DataFrame) -> Table:
    frame = (
        findings.filter(pl.col("blocked") > 0)
        .sort(["blocked", "risk_score"], descending=True)
        .select(_who(), "department", "service", "policy", "blocked", "requests", "queries")
    )
    return _table(
        "blocked",
        "Blocked attempts",
        frame,
        TOP_ROWS,
        "A blocked attempt is still demand for the service.",
    )


def _days(start: dt.date, end: dt.date) -> pl.DataFrame:
    return pl.DataFrame({"day": pl.date_range(start, end, "1d", eager=True)})


def _timeline(findings: pl.DataFrame, daily: pl.DataFrame | None) -> tuple[pl.DataFrame, str]:
    """Use per day: exact from per-day partials, else spread over each finding's span."""
    empty = pl.DataFrame(schema={"day": pl.Date(), "requests": pl.Int64(), "queries": pl.Int64()})
    if daily is not None:
        per_day = (
            daily.group_by("day")
            .agg(pl.col("requests").sum().cast(pl.Int64), pl.col("queries").sum().cast(pl.Int64))
            .sort("day")
        )
        if per_day.is_empty():
            return empty, "No use in the window."
        days = _days(per_day["day"].min(), per_day["day"].max())  # type: ignore[arg-type]
        return days.join(per_day, on="day", how="left").fill_null(
            0
        ), "Requests and DNS lookups per UTC day."
    if findings.is_empty():
        return empty, "No use in the window."
    spans = findings.select(
        pl.date_ranges(pl.col("first_seen").dt.date(), pl.col("last_seen").dt.date()).alias("day"),
        pl.col("requests").cast(pl.Float64),
        pl.col("queries").cast(pl.Float64),
    ).with_columns(n=pl.col("day").list.len())
    spread = (
        spans.explode("day")
        .group_by("day")
        .agg(
            (pl.col("requests") / pl.col("n")).sum().round().cast(pl.Int64),
            (pl.col("queries") / pl.col("n")).sum().round().cast(pl.Int64),
        )
        .sort("day")
    )
    days = _days(spread["day"].min(), spread["day"].max())  # type: ignore[arg-type]
    note = (
        "Coarse: the findings alone do not say on which day each request happened, so each "
        "finding's requests and lookups are spread evenly from its first to its last day."
    )
    return days.join(spread, on="day", how="left").fill_null(0), note


def _stats_frame(rows: Sequence[Mapping[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def _reasons(counts: Mapping[str, int], samples: Mapping[str, Sequence[int]]) -> str:
    parts = []
    for reason, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines = ", ".join(str(n) for n in samples.get(reason, []))
        parts.append(f"{reason}: {count:,}" + (f" (line {lines})" if lines else ""))
    return "; ".join(parts)


def _attribution(findings: pl.DataFrame, summary: Mapping[str, Mapping[str, int]]) -> pl.DataFrame:
    if not summary:
        summary = {
            m: {
                "findings": findings.filter(pl.col("attribution") == m).height,
                "requests": _count(findings.filter(pl.col("attribution") == m), "requests"),
                "queries": _count(findings.filter(pl.col("attribution") == m), "queries"),
            }
            for m in METHODS
        }
    total = sum(v.get("findings", 0) for v in summary.values()) or 1
    rows = [
        {
            "method": method,
            "findings": v.get("findings", 0),
            "requests": v.get("requests", 0),
            "queries": v.get("queries", 0),
            "share": round(100 * v.get("findings", 0) / total, 1),
        }
        for method, v in summary.items()
    ]
    schema: dict[str, pl.DataType] = {
        "method": pl.String(),
        "findings": pl.Int64(),
        "requests": pl.Int64(),
        "queries": pl.Int64(),
        "share": pl.Float64(),
    }
    return pl.DataFrame(rows, schema=schema)


def _quality(findings: pl.DataFrame, stats: Mapping[str, Any] | None) -> DataQuality | None:
    if stats is None:
        return None
    files = [
        {
            **f,
            "unparsed": sum((f.get("unparsed") or {}).values()),
            "reasons": _reasons(f.get("unparsed") or {}, f.get("unparsed_sample_lines") or {})
            + (f"; error: {f['error']}" if f.get("error") else ""),
        }
        for f in stats.get("files", [])
    ]
    identity = [
        {
            **f,
            "rejected": sum((f.get("rejected") or {}).values()),
            "reasons": _reasons(f.get("rejected") or {}, f.get("rejected_sample_lines") or {}),
        }
        for f in stats.get("identity_files", [])
    ]
    file_frame = _stats_frame(
        files,
        {
            "path": pl.String(),
            "format": pl.String(),
            "detection": pl.String(),
            "compression": pl.String(),
            "lines": pl.Int64(),
            "parsed": pl.Int64(),
            "skipped": pl.Int64(),
            "unparsed": pl.Int64(),
            "matched": pl.Int64(),
            "reasons": pl.String(),
        },
    )
    identity_frame = _stats_frame(
        identity,
        {
            "path": pl.String(),
            "type": pl.String(),
            "kind": pl.String(),
            "lines": pl.Int64(),
            "parsed": pl.Int64(),
            "ignored": pl.Int64(),
            "records": pl.Int64(),
            "rejected": pl.Int64(),
            "reasons": pl.String(),
        },
    )
    return DataQuality(
        files=file_frame,
        identity=identity_frame,
        attribution=_attribution(findings, stats.get("attribution") or {}),
        catalogue_version=str(stats.get("catalogue_version") or "unknown"),
        prefilter=str(stats.get("prefilter") or "none"),
        lines=_count(file_frame, "lines"),
        parsed=_count(file_frame, "parsed"),
        skipped=_count(file_frame, "skipped"),
        unparsed=_count(file_frame, "unparsed"),
        matched=_count(file_frame, "matched"),
    )


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{n:,} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def _when(ts: dt.datetime | None) -> str:
    return f"{ts:%Y-%m-%d %H:%M} UTC" if ts else "the start of the logs"


def _summary(
    totals: Totals,
    top: Table,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[str]:
    if not totals.findings:
        return [f"No use of a known AI service was found between {_when(start)} and {_when(end)}."]
    lines = [
        f"Between {_when(start)} and {_when(end)}, {totals.users:,} named user(s)"
        + (
            f" and {totals.unnamed_sources:,} unnamed source address(es)"
            if totals.unnamed_sources
            else ""
        )
        + f" in {totals.departments:,} department(s) used {totals.services:,} AI service(s): "
        f"{totals.requests:,} request(s) and {totals.queries:,} DNS lookup(s).",
        f"{_human_bytes(totals.bytes_out_unsanctioned)} were sent to unsanctioned services "
        f"({_human_bytes(totals.bytes_out)} to AI services in all); "
        f"{totals.large_uploads:,} single request(s) sent more than the large-upload threshold.",
        f"{totals.blocked:,} request(s) or lookup(s) were blocked.",
    ]
    for row in top.frame.head(3).iter_rows(named=True):
        lines.append(
            f"Risk {row['risk_score']} ({row['severity']}): {row['who']} used {row['service']} "
            f"({row['policy']})."
        )
    return lines


def _limitations(findings: pl.DataFrame, pseudonymized: bool, timeline_note: str) -> list[str]:
    dns_only = findings.filter(
        pl.col("log_types").list.eval(pl.element() != "dns").list.any().not_()
    ).height
    ip_only = findings.filter(
        pl.col("match_rules")
        .list.eval(pl.element().str.starts_with("ip:").not_())
        .list.any()
        .not_()
        & (pl.col("match_rules").list.len() > 0)
    ).height
    unattributed = findings.filter(pl.col("attribution") == "unattributed").height
    ambiguous = findings.filter(pl.col("attribution") == "ambiguous").height
    return [
        f"{dns_only:,} finding(s) rest on DNS lookups alone. A lookup shows that a device asked "
        "for the service's address (someone meant to use it, or a browser or app prefetched it); "
        "it does not show that anyone used the service or sent it data.",
        f"{ip_only:,} finding(s) rest on destination addresses alone (firewall or flow logs "
        "without a host name). Cloud addresses are shared, so these are low confidence: the "
        "connection may have been to another service on the same address.",
        f"{unattributed:,} finding(s) could not be tied to a user and {ambiguous:,} were "
        "ambiguous (several users held the address at once); they are listed by source address.",
        "Bytes sent are known only where the proxy or firewall logged them; "
        f"{findings['bytes_out'].null_count():,} finding(s) have no byte count.",
        "User names and addresses are pseudonymised: tokens replace them, and only the holder "
        "of the key can map them back."
        if pseudonymized
        else "User names and addresses are shown as logged (not pseudonymised).",
        f"Timeline: {timeline_note}",
    ]


def build_report_from_frames(
    findings: pl.DataFrame,
    stats: Mapping[str, Any] | None = None,
    daily: pl.DataFrame | None = None,
    *,
    title: str = DEFAULT_TITLE,
    generated_at: dt.datetime | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    pseudonymized: bool = False,
) -> ReportData:
    """The report for ``findings`` (FINDING_SCHEMA); ``stats`` is ``ScanStats.to_dict()``
    (None: the data-quality section says it is not available); ``daily`` holds
    (day, service_id, requests, queries) rows, e.g. from the state history."""
    findings = conform(findings, FINDING_SCHEMA)
    if daily is not None:
        daily = conform(daily.select([c for c in DAILY_SCHEMA if c in daily.columns]), DAILY_SCHEMA)
    totals = _totals(findings)
    start = since or (findings["first_seen"].min() if findings.height else None)
    end = until or (findings["last_seen"].max() if findings.height else None)
    top = _top_risks(findings)
    timeline, timeline_note = _timeline(findings, daily)
    return ReportData(
        title=title,
        generated_at=generated_at or dt.datetime.now(dt.UTC),
        window_start=start,  # type: ignore[arg-type]
        window_end=end,  # type: ignore[arg-type]
        totals=totals,
        summary=_summary(totals, top, start, end),  # type: ignore[arg-type]
        top_risks=top,
        services=_services(findings),
        category_policy=_category_policy(findings),
        matrix=_matrix(findings),
        users=_users(findings),
        timeline=timeline,
        timeline_note=timeline_note,
        large_uploads=_large_uploads(findings),
        new_services=_new_services(findings),
        blocked=_blocked(findings),
        quality=_quality(findings, stats),
        limitations=_limitations(findings, pseudonymized, timeline_note),
        pseudonymized=pseudonymized,
        findings=findings,
    )


def build_report(
    result: ScanResult,
    *,
    daily: pl.DataFrame | None = None,
    title: str = DEFAULT_TITLE,
    generated_at: dt.datetime | None = None,
) -> ReportData:
    """The report for a scan; without ``daily``, the matched events (when kept) give the
    exact use per day."""
    if daily is None and not result.events.is_empty():
        from shadowscan.findings import units

        daily = units(result.events).select("day", "service_id", "requests", "queries")
    return build_report_from_frames(
        result.findings,
        result.stats.to_dict(),
        daily,
        title=title,
        generated_at=generated_at,
        pseudonymized=result.pseudonymized,
    )
