"""Every directory sample reads to its golden people and accounting and is detected as
its own type; every type has a sample and a README summary; no reader claims files of
another kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadowscan.directory import DIRECTORY_READERS
from shadowscan.directory.load import detect_type
from shadowscan.reference import MIN_SNIFF, head_of
from tests.directory.helpers import GOLDEN, ROOT, SAMPLES, compare, render

CASES = [
    (name, sample)
    for name in DIRECTORY_READERS.names()
    for sample in sorted((SAMPLES / name).glob("*"))
    if sample.is_file()
]

#: Files that are not directory exports: every log sample, the identity samples, sites.
FOREIGN = sorted(
    p
    for p in [*(ROOT / "sample_logs").rglob("*"), *(ROOT / "sample_identity").rglob("*")]
    if p.is_file() and SAMPLES not in p.parents
)


@pytest.mark.parametrize("name", DIRECTORY_READERS.names())
def test_every_type_has_a_sample_and_docs(name: str) -> None:
    assert any((SAMPLES / name).glob("*")), f"add a sample under {SAMPLES}/{name}/"
    reader = DIRECTORY_READERS.get(name)
    assert reader.summary and reader.example
    assert (ROOT / "shadowscan" / "directory" / f"{name}.py").is_file()


def test_no_orphan_samples_or_golden() -> None:
    for folder in [*SAMPLES.iterdir(), *GOLDEN.iterdir()]:
        assert folder.name in DIRECTORY_READERS, f"{folder} belongs to no directory type"


@pytest.mark.parametrize(("name", "sample"), CASES, ids=[f"{n}/{s.name}" for n, s in CASES])
def test_golden(name: str, sample: Path) -> None:
    compare(render(sample, name), GOLDEN / name / (sample.name + ".ndjson"))


@pytest.mark.parametrize(("name", "sample"), CASES, ids=[f"{n}/{s.name}" for n, s in CASES])
def test_detected_as_its_own_type(name: str, sample: Path) -> None:
    assert detect_type(str(sample), head_of(str(sample))).name == name


@pytest.mark.parametrize(("name", "sample"), CASES, ids=[f"{n}/{s.name}" for n, s in CASES])
def test_sample_has_the_people_the_end_to_end_test_needs(name: str, sample: Path) -> None:
    from shadowscan.directory.load import load_directory

    people = load_directory([f"{name}:{sample}"]).people
    for sam, upn, department in [
        ("jdoe", "john.doe@corp.example", "Engineering"),
        ("asmith", "alice.smith@corp.example", "Finance"),
        ("bwong", "bernard.wong@corp.example", "Sales"),
    ]:
        row = people.filter(people["aliases"].list.contains(sam))
        assert row.height == 1, f"{sample.name}: {sam} missing"
        assert upn in row["aliases"][0] and row["department"][0] == department


@pytest.mark.parametrize("path", FOREIGN, ids=[str(p.relative_to(ROOT)) for p in FOREIGN])
def test_readers_do_not_claim_other_files(path: Path) -> None:
    head = head_of(str(path))
    for name, reader in DIRECTORY_READERS.items():
        assert reader.sniff(head) < MIN_SNIFF, f"{name} claims {path}"


@pytest.mark.parametrize(("name", "sample"), CASES, ids=[f"{n}/{s.name}" for n, s in CASES])
def test_readers_do_not_claim_each_other(name: str, sample: Path) -> None:
    head = head_of(str(sample))
    for other, reader in DIRECTORY_READERS.items():
        if other != name:
            assert reader.sniff(head) < MIN_SNIFF, f"{other} claims {sample}"
