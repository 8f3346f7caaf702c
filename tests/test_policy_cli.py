"""--policy, --fail-on, --min-severity and --upload-threshold through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shadowscan.cli import app

SAMPLE = "sample_logs/squid"


def run(*args: str) -> tuple[int, list[dict[str, object]], str]:
    res = CliRunner().invoke(app, ["scan", SAMPLE, "-F", "ndjson", *args])
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    return res.exit_code, rows, res.stderr


def test_policy_decides_status_and_fail_on_exits_1(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nservices:\n  openai-chatgpt: unsanctioned\ncategories:\n  model_api: sanctioned\n",
        encoding="utf-8",
    )
    code, rows, _ = run("--policy", str(policy), "-q")
    assert code == 0
    chatgpt = [r for r in rows if r["service_id"] == "openai-chatgpt"]
    assert chatgpt and all(r["policy"] == "unsanctioned" for r in chatgpt)
    assert {r["policy"] for r in rows if r["category"] == "model_api"} == {"sanctioned"}
    worst = max(r["risk_score"] for r in rows)  # type: ignore[type-var]
    severity = next(r["severity"] for r in rows if r["risk_score"] == worst)
    code, _, err = run("--policy", str(policy), "--fail-on", str(severity))
    assert code == 1
    assert "--fail-on" in err
    assert run("--policy", str(policy), "--fail-on", "critical", "-q")[0] == (
        1 if severity == "critical" else 0
    )


def test_min_severity_filters_the_output() -> None:
    _, every, _ = run("-q")
    _, some, _ = run("-q", "--min-severity", "medium")
    assert len(some) < len(every)
    assert {r["severity"] for r in some} <= {"medium", "high", "critical"}


def test_upload_threshold_moves_the_large_upload_count() -> None:
    _, default, _ = run("-q")
    _, low, _ = run("-q", "--upload-threshold", "1KB")
    assert sum(r["large_uploads"] for r in low) > sum(r["large_uploads"] for r in default)  # type: ignore[misc]


def test_bad_values_are_usage_errors(tmp_path: Path) -> None:
    assert run("--fail-on", "severe")[0] == 2
    assert run("--upload-threshold", "lots")[0] == 2
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\nservices:\n  chatgpt-typo: unsanctioned\n", encoding="utf-8")
    code, _, err = run("--policy", str(bad))
    assert code == 2
    assert f"{bad}:3" in err
