"""The human summary printed on stderr after a scan: what was read, what was not, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl
from rich.console import Console

if TYPE_CHECKING:
    from shadowscan.api import ScanResult


def _lines(nos: list[int]) -> str:
    return ", ".join(str(n) for n in nos)


def print_summary(console: Console, result: ScanResult) -> None:
    stats = result.stats
    files = stats.files
    lines, parsed, skipped = stats.total("lines"), stats.total("parsed"), stats.total("skipped")
    unparsed = stats.total("unparsed_total")
    console.print(
        f"[bold]shadowscan:[/] {len(files)} file(s), {lines:,} lines: {parsed:,} parsed, {skipped:,} skipped, "
        f"{unparsed:,} unparsed; {stats.total('matched'):,} matched; {stats.findings:,} finding(s).",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    for f in files:
        if f.error:
            console.print(
                f"  [yellow]{f.path}[/]: {f.error}", markup=True, highlight=False, soft_wrap=True
            )
            continue
        if not f.unparsed and not f.latin1_lines:
            continue
        for reason, count in sorted(f.unparsed.items(), key=lambda kv: -kv[1]):
            sample = f.unparsed_lines.get(reason, [])
            more = " ..." if count > len(sample) else ""
            console.print(
                f"  [yellow]{f.path}[/] ({f.format}): {count:,} unparsed: {reason} (line {_lines(sample)}{more})",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
        if f.latin1_lines:
            console.print(
                f"  {f.path}: {f.latin1_lines:,} line(s) were not UTF-8 and were read as Latin-1",
                highlight=False,
                soft_wrap=True,
            )
    _identity(console, result)
    for warning in result.warnings:
        console.print(
            f"  [yellow]warning:[/] {warning}", markup=True, highlight=False, soft_wrap=True
        )


def _identity(console: Console, result: ScanResult) -> None:
    """How findings were attributed, and what the identity files could not say."""
    stats = result.stats
    for f in stats.identity:
        for reason, count in sorted(f["rejected"].items(), key=lambda kv: -kv[1]):
            sample = f["rejected_sample_lines"].get(reason, [])
            more = " ..." if count > len(sample) else ""
            console.print(
                f"  [yellow]{f['path']}[/] ({f['type']}): {count:,} rejected: {reason} "
                f"(line {_lines(sample)}{more})",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
    counts = {m: v["findings"] for m, v in stats.attribution.items() if v["findings"]}
    if stats.identity or set(counts) - {"log_user", "unattributed"}:
        parts = ", ".join(f"{n:,} {method}" for method, n in counts.items())
        console.print(f"  attribution: {parts or 'no findings'}", highlight=False, soft_wrap=True)
    if result.conflicts.height:
        console.print(
            f"  [yellow]{result.conflicts.height:,} address conflict(s)[/]: two holders at once; "
            "their events are 'ambiguous'. --stats-json lists them under `conflicts`.",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )


def print_changes(console: Console, result: ScanResult, last: tuple[int, Any] | None) -> None:
    """What changed since the last run (``--state``): AI services the organisation, a
    department or a user used for the first time. Printed before the findings."""
    findings = result.findings
    since = f"since run {last[0]} ({last[1]:%Y-%m-%d %H:%M} UTC)" if last else "(first run)"
    new = findings.filter(pl.col("new_service").fill_null(False))
    dept = findings.filter(pl.col("new_for_department").fill_null(False))
    users = findings.filter(pl.col("new_for_user").fill_null(False))
    console.print(
        f"[bold]Changes {since}:[/] {new['service_id'].n_unique()} new AI service(s), "
        f"{dept.select('department', 'service_id').n_unique()} new for a department, "
        f"{users.select('user', 'service_id').n_unique()} new for a user.",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    for row in (
        new.group_by("service", "vendor")
        .agg(
            pl.col("user").drop_nulls().unique().sort(),
            pl.col("department").drop_nulls().unique().sort(),
        )
        .sort("service")
        .iter_rows(named=True)
    ):
        who = ", ".join(row["user"][:5]) or "address-only traffic"
        where = f" ({', '.join(row['department'][:3])})" if row["department"] else ""
        console.print(
            f"  [yellow]new:[/] {row['service']} ({row['vendor']}) first used by {who}{where}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
    for row in (
        dept.filter(~pl.col("new_service").fill_null(False))
        .select("department", "service")
        .unique()
        .sort("department", "service")
        .iter_rows(named=True)
    ):
        console.print(
            f"  new for {row['department']}: {row['service']}", highlight=False, soft_wrap=True
        )
