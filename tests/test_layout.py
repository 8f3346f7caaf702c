"""The project's promises about itself: every format has samples, golden output and a
test file; every sink has its own module; every command and format is in the README."""

from __future__ import annotations

import re

from shadowscan.directory import DIRECTORY_READERS
from shadowscan.identity import IDENTITY_READERS
from shadowscan.outputs import SINKS
from shadowscan.parsers import PARSERS
from shadowscan.schema import EVENT_FIELDS, FINDING_FIELDS
from tests.conftest import GOLDEN, ROOT, SAMPLES
from tests.test_cli import _commands

README = (ROOT / "README.md").read_text(encoding="utf-8")
IDENTITY_SAMPLES = ROOT / "sample_identity"
KINDS = {"identity": IDENTITY_READERS, "directory": DIRECTORY_READERS}


def test_every_format_has_samples_golden_and_tests() -> None:
    for name, parser in PARSERS.items():
        assert (ROOT / "shadowscan" / "parsers" / f"{name}.py").is_file(), (
            f"{name}: one module per format, same name"
        )
        samples = (
            sorted(
                p
                for p in (SAMPLES / name).rglob("*")
                if p.is_file() and not p.name.endswith(".mapping.yaml")
            )
            if (SAMPLES / name).is_dir()
            else []
        )
        assert samples, f"{name}: needs samples in sample_logs/{name}/"
        for sample in samples:
            golden = GOLDEN / name / (sample.relative_to(SAMPLES / name).as_posix() + ".golden")
            assert golden.is_file(), f"{name}: {sample.name} has no golden file (run `make golden`)"
        assert any(p.stat().st_size == 0 for p in samples), f"{name}: needs an empty sample"
        assert any("malformed" in p.name for p in samples), f"{name}: needs a malformed sample"
        assert (ROOT / "tests" / "parsers" / f"test_{name}.py").is_file(), (
            f"{name}: needs tests/parsers/test_{name}.py"
        )
        assert parser.summary and parser.example, (
            f"{name}: needs summary and example for the README"
        )


def test_no_orphan_samples_or_golden() -> None:
    for folder in [*SAMPLES.iterdir(), *GOLDEN.iterdir()]:
        if folder.is_dir() and not (
            folder.parent == GOLDEN and folder.name in {*KINDS, "outputs", "exports"}
        ):
            assert folder.name in PARSERS, f"{folder} belongs to no registered format"
    identity_samples = [
        f for f in (IDENTITY_SAMPLES).iterdir() if f.is_dir() and f.name != "directory"
    ]
    for folder in [*identity_samples, *(GOLDEN / "identity").iterdir()]:
        assert folder.name in IDENTITY_READERS, f"{folder} belongs to no identity type"
    for folder in [*(IDENTITY_SAMPLES / "directory").iterdir(), *(GOLDEN / "directory").iterdir()]:
        if folder.is_dir():
            assert folder.name in DIRECTORY_READERS, f"{folder} belongs to no directory format"


def test_every_identity_and_directory_type_is_documented() -> None:
    from tests.readme_tables import identity_reference

    for registry in KINDS.values():
        for name, reader in registry.items():
            assert reader.summary and reader.example, f"{name}: needs summary and example"
    assert identity_reference() in README, (
        "README identity type reference out of date: run `make golden` (python -m tests.readme_tables)"
    )


def test_every_sink_has_its_module() -> None:
    for name, _ in SINKS.items():
        assert (ROOT / "shadowscan" / "outputs" / f"{name}.py").is_file(), name


def test_readme_documents_every_command_format_sink_and_field() -> None:
    for name, _ in _commands():
        assert re.search(rf"shadowscan {re.escape(name)}\b", README), (
            f"README lacks `shadowscan {name}`"
        )
    for name, _ in PARSERS.items():
        assert f"`{name}`" in README, f"README lacks format `{name}`"
    for name, _ in SINKS.items():
        assert f"`{name}`" in README, f"README lacks output format `{name}`"
    for field in (*EVENT_FIELDS, *FINDING_FIELDS):
        assert f"`{field.name}`" in README, f"README lacks schema field `{field.name}`"


def test_readme_schema_tables_match_the_code() -> None:
    from shadowscan.schema import ATTRIBUTION_FIELDS, MATCH_FIELDS, markdown_table

    for fields in (EVENT_FIELDS, MATCH_FIELDS, ATTRIBUTION_FIELDS, FINDING_FIELDS):
        assert markdown_table(fields) in README, (
            "README schema table out of date: paste shadowscan.schema.markdown_table()"
        )


def test_readme_risk_settings_match_the_code() -> None:
    from tests.readme_tables import risk_reference

    assert risk_reference() in README, (
        "README risk settings out of date: run `make golden` (python -m tests.readme_tables)"
    )


def test_every_sink_has_golden_output() -> None:
    for name, _ in SINKS.items():
        if name == "table":
            continue  # for people at a terminal; tests/test_cli.py checks it
        folder = GOLDEN / "outputs" / name
        assert folder.is_dir() and any(folder.iterdir()), (
            f"{name}: needs golden output in tests/golden/outputs/{name}/ (make golden)"
        )


def test_readme_history_columns_match_the_code() -> None:
    from tests.readme_tables import history_reference

    assert history_reference() in README, (
        "README history columns out of date: run `make golden` (python -m tests.readme_tables)"
    )


def test_readme_documents_every_config_key() -> None:
    from shadowscan.config import Config

    for key in Config.model_fields:
        assert f"`{key}`" in README, f"README lacks config key `{key}`"


def test_every_export_format_has_golden_output_and_a_readme_example() -> None:
    from shadowscan.exports import EXPORTERS

    for name, _ in EXPORTERS.items():
        folder = GOLDEN / "exports" / name
        assert folder.is_dir() and any(folder.rglob("*")), (
            f"{name}: needs golden output in tests/golden/exports/{name}/ (make golden)"
        )
        assert f"| `{name}` |" in README, f"README lacks an export example for `{name}`"
    for folder in (GOLDEN / "exports").iterdir():
        assert folder.name in EXPORTERS, f"{folder} belongs to no export format"
