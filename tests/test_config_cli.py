"""`scan --config`, `config check` and `history` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shadowscan.cli import app

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_scan_takes_its_options_from_the_file_and_the_command_line_wins(tmp_path: Path) -> None:
    config = tmp_path / "shadowscan.yaml"
    config.write_text(
        f"inputs: [{ROOT / 'sample_logs' / 'squid'}]\noutput_format: ndjson\nquiet: true\n"
        "min_severity: medium\n",
        encoding="utf-8",
    )
    code, out, _ = invoke("scan", "--config", str(config))
    from_file = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and from_file
    assert {r["severity"] for r in from_file} <= {"medium", "high", "critical"}
    code, out, _ = invoke("scan", "--config", str(config), "--min-severity", "info")
    assert code == 0 and len(out.splitlines()) > len(from_file)


def test_config_check_reports_problems_with_their_line(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(f"inputs: [{ROOT / 'sample_logs' / 'squid'}]\n", encoding="utf-8")
    assert invoke("config", "check", str(good))[0] == 0
    typo = tmp_path / "typo.yaml"
    typo.write_text("inputs: [x]\nlog_fromat: squid\n", encoding="utf-8")
    code, out, _ = invoke("config", "check", str(typo))
    assert code == 2
    assert f"{typo}:2" in out and "log_format" in out
    values = tmp_path / "values.yaml"
    values.write_text("inputs: [x]\nfail_on: severe\n", encoding="utf-8")
    code, out, _ = invoke("config", "check", str(values))
    assert code == 2
    assert f"{values}:2" in out and "severe" in out


def test_history_sums_to_one_scan(tmp_path: Path) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state.duckdb"
    logs.mkdir()
    lines = (ROOT / "sample_logs" / "squid" / "access.log").read_text().splitlines()
    (logs / "access.log").write_text("\n".join(lines[:12]) + "\n", encoding="utf-8")
    assert invoke("scan", str(logs), "--state", str(state), "-q", "-F", "ndjson")[0] in (0, 1)
    with open(logs / "access.log", "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines[12:]) + "\n")
    assert invoke("scan", str(logs), "--state", str(state), "-q", "-F", "ndjson")[0] in (0, 1)
    code, out, _ = invoke("history", "--state", str(state), "--by", "service", "-F", "ndjson")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    code, out, _ = invoke(
        "scan", str(ROOT / "sample_logs" / "squid" / "access.log"), "-q", "-F", "ndjson"
    )
    once = [json.loads(line) for line in out.splitlines()]
    for service in {r["service_id"] for r in once}:
        assert sum(r["requests"] for r in rows if r["service_id"] == service) == sum(
            r["requests"] for r in once if r["service_id"] == service
        )
    assert invoke("history", "--state", str(tmp_path / "missing.duckdb"))[0] == 3
