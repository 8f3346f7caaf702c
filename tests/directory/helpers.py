"""Shared helpers for directory tests: golden rendering and the accounting every reader
must keep (``parsed + ignored + rejected == lines``, never an exception). The golden
compare and the line strategies are the identity tests' own."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import strategies as st

from shadowscan.directory import DIRECTORY_READERS, PERSON_SCHEMA
from shadowscan.directory.base import DirectoryBatch, DirectoryContext
from shadowscan.directory.load import load_directory
from tests.identity.helpers import any_lines as any_identity_lines
from tests.identity.helpers import compare as compare  # the golden test's, re-exported
from tests.identity.helpers import ndjson_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_identity" / "directory"
GOLDEN = ROOT / "tests" / "golden" / "directory"


def read(name: str, lines: list[str]) -> DirectoryBatch:
    """Run reader ``name`` over ``lines`` directly (no file)."""
    return DIRECTORY_READERS.get(name)(DirectoryContext("t")).read(lines)


def check_accounting(name: str, lines: list[str]) -> DirectoryBatch:
    """The reader never raises, accounts for every line exactly once, and returns people
    in ``PERSON_SCHEMA`` whose aliases include their own id."""
    batch = read(name, lines)
    assert batch.lines == len(lines)
    assert batch.parsed + batch.ignored + batch.rejected.height == batch.lines
    assert batch.parsed >= 0 and batch.ignored >= 0
    nos = batch.rejected["line_no"].to_list()
    assert len(set(nos)) == len(nos), "a line is rejected twice"
    assert all(1 <= no <= len(lines) for no in nos)
    assert batch.frame.schema == pl.Schema(PERSON_SCHEMA)
    for row in batch.frame.iter_rows(named=True):
        assert row["user"].strip().lower() in row["aliases"]
        assert 1 <= row["line_no"] <= len(lines)
    return batch


def any_lines(sample: Sequence[str], *, max_size: int) -> st.SearchStrategy[list[str]]:
    """Lines of ``sample``, near misses of them and random text, as a file gives them:
    without ``\\n`` or ``\\r`` (the readers join lines to find records spanning them);
    other Unicode line breaks stay in."""
    return any_identity_lines(sample, max_size=max_size).map(
        lambda lines: [ln.replace("\n", " ").replace("\r", " ") for ln in lines]
    )


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def render(sample: Path, type_name: str) -> str:
    """Golden text of one sample: the file's accounting, then one person per line."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        directory = load_directory([f"{type_name}:{sample.relative_to(ROOT).as_posix()}"])
    finally:
        os.chdir(cwd)
    head: dict[str, Any] = directory.files[0].to_dict()
    return ndjson_text(head, directory.people.sort("user").to_dicts())
