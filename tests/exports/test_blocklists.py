"""The blocklist and flat exports (hosts, rpz, adblock, pac, csv, json): goldens from the
fixed fixture services, and checks over the whole catalogue with the real consumers'
syntax checkers (``named-checkzone``, ``node --check``) and the matcher's verdicts."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.exports import EXPORTERS
from shadowscan.exports._lists import COLUMNS, URL_ONLY
from shadowscan.exports.base import Export
from shadowscan.exports.rpz import serial
from shadowscan.exports.run import run_export
from shadowscan.match import Matcher
from tests.exports import fixtures
from tests.outputs.golden import check_golden

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "exports"
FORMATS = ("hosts", "rpz", "adblock", "pac", "csv", "json")
DNS_FORMATS = ("hosts", "rpz")
_HOST = r"(?=[^ ]{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}"


def tool(name: str) -> str:
    """The path of a checker; skipped locally when absent, a failure under CI."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing on CI (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def text_of(export: Export) -> str:
    (text,) = export.files.values()
    return text


@pytest.fixture(scope="module")
def whole() -> dict[str, Export]:
    return {f: run_export(fixtures.catalogue(), f)[0] for f in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt: str) -> None:
    export = EXPORTERS.get(fmt)().export(fixtures.services(), fixtures.context())
    (name,) = export.files
    check_golden(export.files[name], GOLDEN / fmt / name)
    expected = [("example-url-only", URL_ONLY)] if fmt in DNS_FORMATS else []
    assert export.skipped == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_active_service_exported_or_skipped(fmt: str, whole: dict[str, Export]) -> None:
    text, skipped = text_of(whole[fmt]), dict(whole[fmt].skipped)
    for service in fixtures.catalogue().active():
        sid = re.escape(service.id)
        listed = re.search(rf'(?m)^(?:(?:#|;|!|  //) {sid}: |{sid},|    "id": "{sid}",$)', text)
        assert (listed is not None) != (service.id in skipped), service.id
        if service.id in skipped:
            assert skipped[service.id]
    if fmt in DNS_FORMATS:
        assert URL_ONLY in skipped.values()


def test_named_checkzone_accepts_the_whole_catalogue(
    whole: dict[str, Export], tmp_path: Path
) -> None:
    zone = tmp_path / "rpz.zone"
    zone.write_text(text_of(whole["rpz"]), encoding="utf-8")
    done = subprocess.run(
        [tool("named-checkzone"), "rpz.local", str(zone)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("OK")
    assert "loaded serial" in done.stdout


def test_rpz_serial_is_deterministic_and_in_range() -> None:
    assert serial("cafecafe0000") == 0xCAFECAFE % 2**31
    assert 0 < serial("not-hex!") < 2**31
    assert serial("00000000") == 1


def test_hosts_lines_are_valid(whole: dict[str, Export]) -> None:
    lines = [x for x in text_of(whole["hosts"]).splitlines() if x and not x.startswith("#")]
    assert lines
    bad = [x for x in lines if not re.fullmatch(rf"0\.0\.0\.0 {_HOST}", x)]
    assert bad == []
    assert len(lines) == len(set(lines))


def test_adblock_rules_are_anchored(whole: dict[str, Export]) -> None:
    text = text_of(whole["adblock"])
    assert text.startswith("[Adblock Plus 2.0]\n! Title: ")
    assert f"! Version: {fixtures.catalogue().version}\n" in text
    rules = [x for x in text.splitlines()[1:] if not x.startswith("!")]
    assert [r for r in rules if not re.fullmatch(r"\|\|[a-z0-9*][^\s|]*(\^|\*)", r)] == []


def test_node_accepts_the_whole_pac(whole: dict[str, Export], tmp_path: Path) -> None:
    script = tmp_path / "shadowscan.js"
    script.write_text(text_of(whole["pac"]), encoding="utf-8")
    done = subprocess.run([tool("node"), "--check", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


#: Runs the PAC with the standard dnsDomainIs and prints isShadowAI for each [url, host].
_HARNESS = """
const fs = require("fs");
function dnsDomainIs(host, domain) {
  return host.length >= domain.length && host.substring(host.length - domain.length) == domain;
}
eval(fs.readFileSync(process.argv[2], "utf8"));
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(([url, host]) => isShadowAI(url, host))));
"""


def test_pac_agrees_with_the_matcher_on_catalogue_examples(
    whole: dict[str, Export], tmp_path: Path
) -> None:
    """Every host or http:// URL in the catalogue's examples gets the matcher's verdict."""
    matcher = Matcher(fixtures.catalogue())
    cases: list[tuple[str, str]] = []
    expected: list[bool] = []
    for service in fixtures.catalogue().active():
        for value in [*service.examples.match, *service.examples.no_match]:
            if re.match(r"^(app|ua|ip):", value):
                continue
            url = value if "://" in value else f"http://{value}/"
            host = re.sub(r"^[a-z]+://|[/:?#].*$", "", value.lower())
            cases.append((url.replace(value.split("://")[-1].split("/")[0], host, 1), host))
            expected.append(matcher.match_value(value) is not None)
    pac = tmp_path / "shadowscan.js"
    pac.write_text(text_of(whole["pac"]), encoding="utf-8")
    harness = tmp_path / "harness.js"
    harness.write_text(_HARNESS, encoding="utf-8")
    done = subprocess.run(
        [tool("node"), str(harness), str(pac)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    verdicts = json.loads(done.stdout)
    wrong = [c for c, got, want in zip(cases, verdicts, expected, strict=True) if got != want]
    assert wrong == []
    assert sum(expected) > 500


def test_csv_reads_back_one_row_per_service(whole: dict[str, Export]) -> None:
    rows = list(csv.DictReader(io.StringIO(text_of(whole["csv"]), newline="")))
    active = fixtures.catalogue().active()
    assert [r["id"] for r in rows] == [s.id for s in active]
    assert list(rows[0]) == list(COLUMNS)
    by_id = {r["id"]: r for r in rows}
    for service in active:
        assert by_id[service.id]["domains"].split(";") == (service.domains or [""])


def test_json_is_one_object_per_service(whole: dict[str, Export]) -> None:
    records = json.loads(text_of(whole["json"]))
    active = fixtures.catalogue().active()
    assert [r["id"] for r in records] == [s.id for s in active]
    assert all(list(r) == list(COLUMNS) for r in records)
    assert records[0]["domains"] == active[0].domains


_FORMULA = r"[=+\-@\t\r\x00]"


@given(st.text(min_size=1), st.text())
def test_csv_cells_never_start_a_formula(name: str, description: str) -> None:
    """A cell starting a formula, or a formula after a ``;``, reads back with a ``'``."""
    base = fixtures.catalogue().get("deepseek-chat")
    service = base.model_copy(update={"name": name, "description": description})
    export = EXPORTERS.get("csv")().export([service], fixtures.context())
    (row,) = csv.DictReader(io.StringIO(text_of(export), newline=""))
    for original, cell in ((name, row["name"]), (description, row["description"])):
        quoted = re.sub(f";({_FORMULA})", r";'\1", re.sub(f"^({_FORMULA})", r"'\1", original))
        assert cell == quoted
        assert re.match(_FORMULA, cell) is None
