"""The user-defined mapping: every shape, clear errors, honest accounting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from shadowscan.api import parse_files, scan
from shadowscan.cli import app
from shadowscan.errors import UsageError
from tests.conftest import SAMPLES
from tests.parsers.props import NOISE, check_accounting

MAPPED = SAMPLES / "mapped"


def test_csv_with_header_timezone_and_value_rewrite() -> None:
    events, stats = parse_files(
        [str(MAPPED / "acme.csv")], mapping=MAPPED / "acme.csv.mapping.yaml"
    )
    first = events.row(0, named=True)
    assert first["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)  # 09:00 Europe/Berlin
    assert (first["host"], first["url"], first["user"], first["bytes_out"]) == (
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
        "jdoe",
        18230,
    )
    assert events["action"].to_list() == ["allowed", "allowed", "allowed", "blocked"]
    assert stats.files[0].skipped == 1  # the header


def test_json_nested_keys_and_unparseable_timestamps() -> None:
    events, stats = parse_files(
        [str(MAPPED / "export.jsonl")], mapping=MAPPED / "export.jsonl.mapping.yaml"
    )
    assert events["user"].to_list() == ["jdoe@corp.example", "asmith@corp.example"]
    assert events["dst_port"].to_list() == [443, 443]
    # the third line's epoch value is not ISO as the mapping says: unparsed, never guessed
    assert dict(stats.files[0].unparsed) == {"no timestamp": 1}


def test_kv_and_regex_shapes_scan_to_findings() -> None:
    kv = scan([str(MAPPED / "firewall.kv")], mapping=MAPPED / "firewall.kv.mapping.yaml")
    assert set(kv.findings["service_id"]) == {"openai-chatgpt", "openai-api"}
    assert (
        kv.findings.filter(kv.findings["service_id"] == "openai-chatgpt")["user"].item()
        == "CORP\\jdoe"
    )
    rx = scan([str(MAPPED / "appliance.log")], mapping=MAPPED / "appliance.log.mapping.yaml")
    assert rx.findings["service_id"].to_list() == ["microsoft-copilot"]


def test_bad_mappings_name_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("shape: csv\ntimestamp: {field: t}\nfields: {usr: a}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"m\.yaml: .*unknown schema field"):
        parse_files([str(MAPPED / "acme.csv")], mapping=bad)
    with pytest.raises(UsageError, match="needs --mapping"):
        parse_files([str(MAPPED / "acme.csv")], log_format="mapped")
    with pytest.raises(UsageError, match="drop --log-format squid"):
        parse_files(
            [str(MAPPED / "acme.csv")], log_format="squid", mapping=MAPPED / "acme.csv.mapping.yaml"
        )


def test_cli_mapping_option() -> None:
    res = CliRunner().invoke(
        app,
        [
            "scan",
            str(MAPPED / "acme.csv"),
            "--mapping",
            str(MAPPED / "acme.csv.mapping.yaml"),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "anthropic-claude" in res.stdout


def test_sniff_never_guesses() -> None:
    from shadowscan.parsers.mapped import MappedParser

    assert MappedParser.sniff(["a,b,c", "1,2,3"]) is None


csv_rows = st.builds(
    lambda d, u, h, n: f"{d:02d}/11/2024 09:00:00,{u},10.0.0.1,https://{h}/x,ALLOW,{n},{n},ua",
    st.integers(1, 28),
    st.sampled_from(["jdoe", "a b", ""]),
    st.sampled_from(["chatgpt.com", "example.com"]),
    st.integers(0, 10**9),
)


@given(st.lists(st.one_of(csv_rows, NOISE), max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    header = "when,who,client,url,verdict,sent,received,agent"
    check_accounting("mapped", [header, *lines], mapping=MAPPED / "acme.csv.mapping.yaml")
