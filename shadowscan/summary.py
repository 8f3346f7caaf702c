"""The human summary printed on stderr after a scan: what was read, what was not, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
