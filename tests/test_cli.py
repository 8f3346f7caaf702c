"""The command line through typer's runner: exit codes, clean stdout, errors on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shadowscan.cli import app
from shadowscan.errors import ExitStatus

runner = CliRunner()
ACCESS = "sample_logs/squid/access.log"


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)


def test_scan_writes_ndjson_to_stdout_and_summary_to_stderr() -> None:
    res = runner.invoke(app, ["scan", ACCESS])
    assert res.exit_code == ExitStatus.OK, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert {r["service_id"] for r in rows} >= {
        "openai-chatgpt",
        "anthropic-claude",
        "github-copilot",
    }
    assert res.stderr.startswith("shadowscan: 1 file(s), 25 lines: 25 parsed")


def test_events_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    res = runner.invoke(app, ["scan", ACCESS, "--events", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    header, *rows = out.read_text(encoding="utf-8").splitlines()
    assert header.startswith("ts,log_format,log_type,source_file,line_no")
    assert any("domain:chatgpt.com" in r for r in rows)


def test_since_until_filter() -> None:
    res = runner.invoke(
        app,
        [
            "scan",
            ACCESS,
            "--since",
            "2024-11-05",
            "--until",
            "2024-11-05T08:05",
            "-q",
            "-F",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    services = {f["service_id"] for f in json.loads(res.stdout)}
    assert services == {"openai-chatgpt", "perplexity", "huggingface-hub", "huggingface-inference"}


def test_stats_json(tmp_path: Path) -> None:
    stats = tmp_path / "stats.json"
    res = runner.invoke(app, ["scan", "sample_logs/squid", "--stats-json", str(stats), "-q"])
    assert res.exit_code == 0, res.output
    data = json.loads(stats.read_text())
    by_name = {Path(f["path"]).name: f for f in data["files"]}
    bad = by_name["malformed.log"]
    assert (bad["format"], bad["lines"], bad["parsed"], bad["skipped"]) == ("squid", 10, 6, 1)
    assert bad["unparsed"] == {"does not match the squid layout": 3}


def test_missing_file_exits_3_naming_it() -> None:
    res = runner.invoke(app, ["scan", "no/such/file.log"])
    assert res.exit_code == ExitStatus.INPUT
    assert (
        res.stderr.splitlines()[0]
        == "shadowscan: error: no/such/file.log: no such file or directory"
    )


def test_wrong_format_exits_3_with_sample_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\nworld\n", encoding="utf-8")
    res = runner.invoke(app, ["scan", str(path), "--log-format", "squid"])
    assert res.exit_code == ExitStatus.INPUT
    assert "no line parses as squid" in res.stderr
    assert "'hello'" in res.stderr
    res = runner.invoke(app, ["scan", str(path)])
    assert res.exit_code == ExitStatus.INPUT
    assert "format not recognised" in res.stderr


def test_usage_errors_exit_2() -> None:
    res = runner.invoke(app, ["scan", ACCESS, "--log-format", "nonsense"])
    assert res.exit_code == ExitStatus.USAGE
    assert "unknown log format 'nonsense' (known: " in res.stderr
    res = runner.invoke(app, ["scan", ACCESS, "--since", "yesterday-ish"])
    assert res.exit_code == ExitStatus.USAGE
    res = runner.invoke(app, ["scan", ACCESS, "--no-such-option"])
    assert res.exit_code == ExitStatus.USAGE
    res = runner.invoke(app, ["scan", ACCESS, "-F", "xml"])
    assert res.exit_code == ExitStatus.USAGE


def test_detect_formats_version() -> None:
    res = runner.invoke(app, ["detect", ACCESS, "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["format"] == "squid"
    res = runner.invoke(app, ["formats", "--json"])
    assert any(json.loads(line)["name"] == "squid" for line in res.stdout.splitlines())
    res = runner.invoke(app, ["version"])
    assert res.stdout.startswith("shadowscan ")


def test_every_command_has_help_with_an_example() -> None:
    for name, cmd in _commands():
        res = runner.invoke(app, [*name.split(), "--help"])
        assert res.exit_code == 0, name
        assert cmd.help and "Example" in cmd.help, f"{name} needs help text with an example"


def _commands() -> list[tuple[str, object]]:
    import typer.main

    group = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        if sub:
            out.extend((f"{name} {s}", c) for s, c in sub.items())
        else:
            out.append((name, cmd))
    return out
