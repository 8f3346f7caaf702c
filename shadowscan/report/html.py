"""The audit report as one self-contained HTML file.

Nothing is loaded from anywhere: the CSS and the small table script are inline, charts are
SVG drawn here, and a Content-Security-Policy allows exactly that CSS and that script (by
their SHA-256) and nothing else, so even a log value that slipped past escaping could not
run or fetch anything. Jinja2 autoescapes every value; only the two constants are marked
safe. Geometry is computed here; the template only places it.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from shadowscan import __version__
from shadowscan.outputs.table import human_bytes
from shadowscan.report import cells
from shadowscan.report.model import POLICIES, ReportData, Table

POLICY_FILL = {
    "unsanctioned": "#c62828",
    "unreviewed": "#ef8f00",
    "tolerated": "#5f93c9",
    "sanctioned": "#3c8d47",
}
SECTIONS = (
    ("summary", "Summary"),
    ("services", "Services"),
    ("heatmap", "Departments × services"),
    ("users", "Top users"),
    ("timeline", "Timeline"),
    ("uploads", "Large uploads"),
    ("new-services", "New services"),
    ("blocked", "Blocked"),
    ("data-quality", "Data quality"),
    ("limitations", "Limitations"),
)
#: Class names a value may pick; anything else (a log value) gets no class.
_VALUE_CLASSES = {
    "severity": {s: f"sev-{s}" for s in ("critical", "high", "medium", "low", "info")},
    "policy": {p: f"pol-{p}" for p in POLICIES},
    "worst_policy": {p: f"pol-{p}" for p in POLICIES},
}
HEAT_LEVELS = 9


def _asset(name: str) -> str:
    return resources.files("shadowscan.report").joinpath("assets", name).read_text("utf-8")


@cache
def script() -> str:
    """The inline script, exactly as embedded (its hash is in the CSP)."""
    return _asset("report.js").strip()


@cache
def stylesheet() -> str:
    return _asset("report.css").strip()


def csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy() -> str:
    """Only the report's own style and script run; nothing is fetched, framed or posted."""
    return (
        f"default-src 'none'; style-src {csp_hash(stylesheet())}; "
        f"script-src {csp_hash(script())}; img-src data:; base-uri 'none'; form-action 'none'"
    )


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str | None
    cls: str


@dataclass(frozen=True)
class TableView:
    headers: list[cells.Header]
    rows: list[list[Cell]]
    more: int
    note: str


def _view(table: Table, heat: bool = False) -> TableView:
    grid = cells.rows(table)
    peak = max(
        (v for row in grid for _, v, t in row if t.is_numeric() and v is not None), default=0
    )
    out = []
    for row in grid:
        shown = []
        for column, value, dtype in row:
            classes = []
            if dtype.is_numeric():
                classes.append("num")
                if heat:
                    level = math.ceil(HEAT_LEVELS * math.sqrt(value / peak)) if value else 0
                    classes.append(f"heat{level}")
            known = _VALUE_CLASSES.get(column, {})
            if isinstance(value, str) and value in known:
                classes.append(known[value])
            shown.append(
                Cell(cells.text(value, column), cells.sort_key(value, dtype), " ".join(classes))
            )
        out.append(shown)
    return TableView(cells.headers(table), out, table.more, table.note)


def _short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _service_bars(report: ReportData) -> dict[str, Any]:
    frame = report.chart_services
    label_width, bar_height, gap, plot = 200, 16, 6, 460
    peak = max(int(frame["use"].max() or 0), 1) if frame.height else 1  # type: ignore[arg-type]
    rows = [
        {
            "label": row["service"],
            "short": _short(str(row["service"])),
            "policy": row["worst_policy"],
            "fill": POLICY_FILL.get(row["worst_policy"], "#8a93a3"),
            "y": 4 + i * (bar_height + gap),
            "w": max(1, round(plot * int(row["use"]) / peak)),
            "value_text": f"{int(row['use']):,}",
        }
        for i, row in enumerate(frame.iter_rows(named=True))
    ]
    return {
        "rows": rows,
        "label_width": label_width,
        "bar_height": bar_height,
        "width": label_width + plot + 80,
        "height": 8 + len(rows) * (bar_height + gap),
    }


def _timeline(report: ReportData) -> dict[str, Any]:
    frame = report.timeline
    width, height, left, top, bottom = 760, 220, 56, 10, 24
    base = height - bottom
    days = frame.height
    peak = max(int((frame["requests"] + frame["queries"]).max() or 0), 1) if days else 1  # type: ignore[arg-type]
    step = (width - left) / max(days, 1)
    scale = (base - top) / peak
    bars = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        rh = row["requests"] * scale
        qh = row["queries"] * scale
        bars.append(
            {
                "day": row["day"].isoformat(),
                "requests": f"{row['requests']:,}",
                "queries": f"{row['queries']:,}",
                "x": round(left + i * step + step * 0.1, 2),
                "w": round(max(step * 0.8, 0.5), 2),
                "ry": round(base - rh, 2),
                "rh": round(rh, 2),
                "qy": round(base - rh - qh, 2),
                "qh": round(qh, 2),
            }
        )
    every = max(1, math.ceil(days / 8))
    ticks = [
        {"x": round(left + (i + 0.5) * step, 2), "label": f"{row['day']:%m-%d}"}
        for i, row in enumerate(frame.iter_rows(named=True))
        if i % every == 0
    ]
    return {
        "bars": bars if days else [],
        "ticks": ticks,
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "base": base,
        "max_text": f"{peak:,}",
    }


def _cards(report: ReportData) -> list[tuple[str, str]]:
    t = report.totals
    return [
        (f"{t.services:,}", "AI services"),
        (f"{t.users:,}", "named users"),
        (f"{t.unnamed_sources:,}", "unnamed sources"),
        (f"{t.departments:,}", "departments"),
        (f"{t.requests:,}", "requests"),
        (f"{t.queries:,}", "DNS lookups"),
        (human_bytes(t.bytes_out_unsanctioned), "sent to unsanctioned services"),
        (f"{t.blocked:,}", "blocked attempts"),
    ]


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    return env.from_string(_asset("report.html.j2"))


def render_html(report: ReportData) -> str:
    """The report as one HTML document (the entry point the browser test uses)."""
    quality = report.quality
    tables = {
        "risks": _view(report.top_risks),
        "services": _view(report.services),
        "category_policy": _view(report.category_policy),
        "matrix": _view(report.matrix, heat=True),
        "users": _view(report.users),
        "timeline": _view(report.timeline_table),
        "uploads": _view(report.large_uploads),
        "new_services": _view(report.new_services),
        "blocked": _view(report.blocked),
    }
    if quality is not None:
        files, identity, attribution = quality.tables()
        tables |= {"files": _view(files), "identity": _view(identity)}
        tables["attribution"] = _view(attribution)

    def when(ts: Any) -> str:
        return cells.text(ts, "") + " UTC" if ts else "-"

    return _template().render(
        r=report,
        q=quality,
        csp=content_security_policy(),
        css=Markup(stylesheet()),  # constant, hashed in the CSP
        script=Markup(script()),  # constant, hashed in the CSP
        sections=SECTIONS,
        cards=_cards(report),
        tables=tables,
        bars=_service_bars(report),
        policies=POLICIES,
        timeline=_timeline(report),
        generated=when(report.generated_at),
        window=f"{when(report.window_start)} to {when(report.window_end)}",
        catalogue=quality.catalogue_version if quality else "unknown",
        version=__version__,
    )
