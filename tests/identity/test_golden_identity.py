"""Every identity sample reads to its golden records and accounting, and is detected as
its own type; every identity type has a sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity.load import HEAD_LINES, detect_type, read_lines
from tests.identity.helpers import GOLDEN, SAMPLES, compare, render

CASES = [
    (name, sample)
    for name in IDENTITY_READERS.names()
    for sample in sorted((SAMPLES / name).glob("*"))
    if sample.is_file()
]


@pytest.mark.parametrize("name", IDENTITY_READERS.names())
def test_every_type_has_a_sample(name: str) -> None:
    assert any((SAMPLES / name).glob("*")), f"add a sample under sample_identity/{name}/"


@pytest.mark.parametrize(("name", "sample"), CASES, ids=[f"{n}/{s.name}" for n, s in CASES])
def test_golden(name: str, sample: Path) -> None:
    compare(render(sample, name), GOLDEN / name / (sample.name + ".ndjson"))


@pytest.mark.parametrize(("name", "sample"), CASES, ids=[f"{n}/{s.name}" for n, s in CASES])
def test_detected(name: str, sample: Path) -> None:
    head = [ln for ln in read_lines(str(sample)) if ln.strip()][:HEAD_LINES]
    assert detect_type(str(sample), head).name == name
