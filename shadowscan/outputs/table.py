"""A rich table for people at a terminal (the default on a TTY)."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

import polars as pl
from rich.console import Console
from rich.table import Table

from shadowscan.outputs import SINKS
from shadowscan.outputs.base import Sink


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


Column = tuple[str, Callable[[dict[str, Any]], object]]


def _who(row: dict[str, Any]) -> str:
    """The user, else the source address (with who claimed it, when ambiguous)."""
    if row["user"]:
        return str(row["user"])
    who = ", ".join(row["src_ips"] or []) or "-"
    if row.get("candidates"):
        who += f" ({' or '.join(row['candidates'])}?)"
    elif row.get("devices"):
        who += f" ({', '.join(row['devices'])})"
    return who


_FINDING_COLUMNS: tuple[Column, ...] = (
    ("Who", _who),
    ("Department", lambda r: r.get("department") or "-"),
    ("How", lambda r: r.get("attribution") or "-"),
    ("Service", lambda r: r["service"]),
    ("Policy", lambda r: r.get("policy") or "-"),
    ("Severity", lambda r: f"{r['severity']} ({r['risk_score']})" if r.get("severity") else "-"),
    ("Requests", lambda r: f"{r['requests']:,}"),
    ("Queries", lambda r: f"{r['queries']:,}"),
    ("Blocked", lambda r: f"{r['blocked']:,}"),
    ("Sent", lambda r: human_bytes(r["bytes_out"])),
    ("Uploads", lambda r: f"{r.get('large_uploads') or 0:,}"),
    ("Days", lambda r: str(r["active_days"])),
    (
        "First seen",
        lambda r: r["first_seen"].strftime("%Y-%m-%d %H:%M") if r["first_seen"] else "-",
    ),
    ("Last seen", lambda r: r["last_seen"].strftime("%Y-%m-%d %H:%M") if r["last_seen"] else "-"),
    ("Confidence", lambda r: r["confidence"]),
)

#: Columns shown right-aligned.
_NUMERIC = frozenset(
    {"Requests", "Queries", "Blocked", "Sent", "Received", "Uploads", "Days", "Users", "Addresses"}
)

_EVENT_COLUMNS: tuple[Column, ...] = (
    ("Time", lambda r: r["ts"].strftime("%Y-%m-%d %H:%M:%S") if r["ts"] else "-"),
    ("Source", lambda r: r["src_ip"] or "-"),
    ("User", lambda r: r["user"] or "-"),
    ("Host", lambda r: r["host"] or "-"),
    ("Service", lambda r: r["service"]),
    ("Rule", lambda r: r["match_rule"]),
    ("File:line", lambda r: f"{r['source_file']}:{r['line_no']}"),
)


@SINKS.register("table")
class TableSink(Sink):
    name = "table"
    summary = "A table for the terminal (default when stdout is a terminal)."
    extensions = (".txt",)

    def write(self, frame: pl.DataFrame, stream: IO[Any], *, kind: str) -> None:
        if kind == "findings":
            columns, title = _FINDING_COLUMNS, f"{frame.height} AI finding(s)"
        elif kind == "events":
            columns, title = _EVENT_COLUMNS, f"{frame.height} matched event(s)"
        else:
            columns, title = _generic_columns(frame), f"AI use by {kind}: {frame.height} row(s)"
        table = Table(title=title, title_justify="left", header_style="bold")
        for header, _ in columns:
            table.add_column(
                header,
                overflow="fold",
                justify="right" if header in _NUMERIC else "left",
            )
        for row in frame.iter_rows(named=True):
            table.add_row(*(str(get(row)) for _, get in columns))
        Console(file=stream, soft_wrap=False, width=None if stream.isatty() else 200).print(table)


def _cell(value: object, name: str) -> str:
    if value is None:
        return "-"
    if name == "bytes_out":
        return human_bytes(value)  # type: ignore[arg-type]
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _generic_columns(frame: pl.DataFrame) -> tuple[Column, ...]:
    """Columns of a rollup (``--group-by department``/``subnet``), headed readably."""
    headers = {"bytes_out": "Sent", "service_count": "Services #"}
    return tuple(
        (
            headers.get(name, name.replace("_", " ").capitalize()),
            (lambda r, n=name: _cell(r[n], n)),
        )
        for name in frame.columns
    )
