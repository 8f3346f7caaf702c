"""The audit report as Markdown: the same sections as the HTML, charts as tables.

Log values can hold ``|``, newlines, backticks or markup; in a table cell they are escaped
so a value can neither end its cell or row nor turn into a link, an image or HTML when the
Markdown is rendered.
"""

from __future__ import annotations

import re
from typing import Any

from shadowscan.outputs.table import human_bytes
from shadowscan.report import cells
from shadowscan.report.model import ReportData, Table

#: Characters Markdown (CommonMark, GFM tables) gives an inline meaning to anywhere.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>&~|!])")
#: Characters that start a block (heading, list, quote, setext line) at a line's start.
_LEADING = re.compile(r"^(\s*)([#+\-=>])")
_BREAKS = re.compile(r"\r\n|[\r\n\t\x0b\x0c\x85\u2028\u2029]")


def escape_cell(value: str) -> str:
    """``value`` as literal text in a table cell: one line, nothing special, no ``|``."""
    return _SPECIAL.sub(r"\\\1", _BREAKS.sub(" ", value))


def escape(value: str) -> str:
    """``value`` as literal text that may start a line (a heading, a list item)."""
    return _LEADING.sub(r"\1\\\2", escape_cell(value))


def _when(ts: Any) -> str:
    return cells.text(ts, "") + " UTC" if ts else "-"


def table(t: Table) -> list[str]:
    """A GFM table for ``t`` (with its cap and note)."""
    heads = cells.headers(t)
    out: list[str] = []
    if t.frame.is_empty():
        out.append("None.")
    else:
        out.append("| " + " | ".join(escape_cell(h.label) for h in heads) + " |")
        out.append("|" + "|".join("---:" if h.numeric else "---" for h in heads) + "|")
        out.extend(
            "| " + " | ".join(escape_cell(cells.text(v, c)) for c, v, _ in row) + " |"
            for row in cells.rows(t)
        )
    if t.more:
        out += ["", f"{t.more:,} more row(s) in the CSV/NDJSON output."]
    if t.note:
        out += ["", escape(t.note)]
    return [*out, ""]


def render_markdown(report: ReportData) -> str:
    t = report.totals
    q = report.quality
    out = [
        f"# {escape(report.title)}",
        "",
        f"Generated {_when(report.generated_at)}; window {_when(report.window_start)} to "
        f"{_when(report.window_end)}; signature catalogue "
        f"{escape(q.catalogue_version) if q else 'unknown'}"
        + ("; pseudonymised." if report.pseudonymized else "."),
        "",
        "## Executive summary",
        "",
        f"- AI services: {t.services:,}; named users: {t.users:,}; unnamed sources: "
        f"{t.unnamed_sources:,}; departments: {t.departments:,}",
        f"- Requests: {t.requests:,}; DNS lookups: {t.queries:,}; blocked: {t.blocked:,}",
        f"- Sent to unsanctioned services: {human_bytes(t.bytes_out_unsanctioned)}",
        "",
        *(f"- {escape(line)}" for line in report.summary),
        "",
        "### Top risks",
        "",
        *table(report.top_risks),
        "## Services by category and policy",
        "",
        *table(report.services),
        "### Distinct services per category and policy status",
        "",
        *table(report.category_policy),
        "## Departments × services",
        "",
        *table(report.matrix),
        "## Top users",
        "",
        *table(report.users),
        "## Timeline",
        "",
        escape(report.timeline_note),
        "",
        *table(report.timeline_table),
        "## Large uploads",
        "",
        *table(report.large_uploads),
        "## New services",
        "",
        *table(report.new_services),
        "## Blocked attempts",
        "",
        *table(report.blocked),
        "## Data quality and method",
        "",
    ]
    if q is None:
        out += [
            "Not available: this report was made from findings alone, without the scan's "
            "account of the files it read.",
            "",
        ]
    else:
        files, identity, attribution = q.tables()
        out += [
            escape(q.summary),
            "",
            f"Signature catalogue {escape(q.catalogue_version)}; prefilter {escape(q.prefilter)}.",
            "",
            "### Log files",
            "",
            *table(files),
            "### Identity and directory files",
            "",
            *table(identity),
            "### How users were found",
            "",
            *table(attribution),
        ]
    out += ["## Limitations", "", *(f"- {escape(line)}" for line in report.limitations)]
    return "\n".join(out) + "\n"
