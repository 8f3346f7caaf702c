"""How report values read as text, shared by the HTML and Markdown renderers so both say
the same thing: one header label per column, bytes in KB/MB, times in UTC minutes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from shadowscan.outputs.table import human_bytes
from shadowscan.report.model import Table

LABELS: dict[str, str] = {
    "who": "User or source",
    "department": "Department",
    "attribution": "How found",
    "service": "Service",
    "vendor": "Vendor",
    "category": "Category",
    "policy": "Policy",
    "policies": "Policy",
    "worst_policy": "Policy",
    "severity": "Severity",
    "risk_score": "Risk",
    "max_risk": "Top risk",
    "requests": "Requests",
    "queries": "DNS lookups",
    "blocked": "Blocked",
    "bytes_out": "Sent",
    "large_uploads": "Large uploads",
    "first_seen": "First seen (UTC)",
    "last_seen": "Last seen (UTC)",
    "confidence": "Confidence",
    "hosts": "Hosts",
    "risk_factors": "Risk factors",
    "users": "Users",
    "departments": "Departments",
    "services": "Services",
    "use": "Requests + lookups",
    "day": "Day (UTC)",
    "path": "File",
    "format": "Format",
    "detection": "Detected by",
    "compression": "Compression",
    "lines": "Lines",
    "parsed": "Parsed",
    "skipped": "Skipped",
    "unparsed": "Unparsed",
    "matched": "Matched",
    "reasons": "Reasons (sample lines)",
    "type": "Type",
    "kind": "Kind",
    "ignored": "Ignored",
    "records": "Records",
    "rejected": "Rejected",
    "method": "Method",
    "findings": "Findings",
    "share": "Share of findings (%)",
    **{p: p for p in ("unsanctioned", "unreviewed", "tolerated", "sanctioned")},
}
#: Byte counts read better as KB/MB; their sort key stays the exact number.
BYTE_COLUMNS = frozenset({"bytes_out"})
#: Columns that hide a number of little interest to the printed page.
HIDDEN = frozenset({"use"})


@dataclass(frozen=True)
class Header:
    name: str
    label: str
    numeric: bool


def headers(table: Table) -> list[Header]:
    return [
        Header(name, LABELS.get(name, name), dtype.is_numeric())
        for name, dtype in table.frame.schema.items()
        if name not in HIDDEN and not (name == "worst_policy" and "policies" in table.frame.schema)
    ]


def text(value: Any, column: str) -> str:
    """The value as a reader sees it (``-`` for none)."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    if column in BYTE_COLUMNS:
        return human_bytes(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def sort_key(value: Any, dtype: pl.DataType) -> str | None:
    """What a sortable table orders a numeric or time column by (None: by its text)."""
    if dtype.is_numeric():
        return "-1" if value is None else str(value)
    if isinstance(value, dt.datetime):
        return str(int(value.timestamp()))
    if isinstance(dtype, pl.Datetime | pl.Date):
        return "-1" if value is None else str(value.toordinal())
    return None


def rows(table: Table) -> list[list[tuple[str, Any, pl.DataType]]]:
    """(column, value, dtype) per shown cell, row by row."""
    names = [h.name for h in headers(table)]
    schema = table.frame.schema
    return [
        [(name, row[name], schema[name]) for name in names]
        for row in table.frame.iter_rows(named=True)
    ]
