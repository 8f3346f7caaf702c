"""`shadowscan signatures export` through the CLI: selection, files, skipped services."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shadowscan.cli import app


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["signatures", "export", *args])
    return res.exit_code, res.stdout, res.stderr


def test_single_file_to_stdout_with_skipped_services_named() -> None:
    code, out, err = invoke("--to", "hosts", "--category", "coding_assistant")
    assert code == 0
    assert "0.0.0.0 githubcopilot.com" in out
    assert "skipped openai-codex: only URL patterns" in err
    assert "exported" in err and "skipped" in err


def test_policy_only_and_multi_file_directory(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nservices:\n  openai-chatgpt: unsanctioned\n", encoding="utf-8")
    out = tmp_path / "rules"
    code, _, err = invoke(
        "--to", "sigma", "--policy", str(policy), "--only", "unsanctioned", "-o", str(out)
    )
    assert code == 0, err
    assert sorted(p.name for p in out.rglob("*.yml")) == [
        "openai-chatgpt.yml",
        "openai-chatgpt.yml",
    ]
    assert "level: high" in (out / "proxy" / "openai-chatgpt.yml").read_text(encoding="utf-8")


def test_usage_errors() -> None:
    assert invoke("--to", "carrier-pigeon")[0] == 2
    assert invoke("--to", "sigma")[0] == 2  # several files need -o DIRECTORY
    assert invoke("--to", "hosts", "--only", "unsanctioned")[0] == 2  # --only needs --policy
    assert invoke("--to", "hosts", "--category", "no_such_category")[0] == 2
