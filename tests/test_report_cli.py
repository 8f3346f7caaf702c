"""`scan -o report.html|md|xlsx` and `report --state` through the CLI."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from shadowscan.cli import app

ROOT = Path(__file__).resolve().parent.parent
SQUID = str(ROOT / "sample_logs" / "squid")


def invoke(*args: str) -> int:
    return CliRunner().invoke(app, list(args)).exit_code


def test_scan_writes_each_report_format_by_extension(tmp_path: Path) -> None:
    for name in ("report.html", "report.md", "report.xlsx"):
        assert invoke("scan", SQUID, "-q", "-o", str(tmp_path / name)) == 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "Data quality" in html
    assert "sample_logs/squid/access.log" in html  # the per-file account is in the report
    assert (tmp_path / "report.md").read_text(encoding="utf-8").startswith("# ")
    sheets = openpyxl.load_workbook(tmp_path / "report.xlsx").sheetnames
    assert {"Summary", "Findings", "Departments", "Data quality"} <= set(sheets)


def test_report_from_the_nightly_state(tmp_path: Path) -> None:
    state = tmp_path / "state.duckdb"
    assert invoke("scan", SQUID, "--state", str(state), "-q", "-F", "ndjson") == 0
    out = tmp_path / "nightly.html"
    assert invoke("report", "--state", str(state), "-o", str(out)) == 0
    html = out.read_text(encoding="utf-8")
    assert "ChatGPT" in html
    assert invoke("report", "--state", str(state), "-o", str(tmp_path / "r.csv")) == 2
    assert invoke("report", "--state", str(tmp_path / "none.duckdb"), "-o", str(out)) == 3
