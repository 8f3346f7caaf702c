"""Shared helpers for directory tests: golden rendering and the accounting every reader
must keep (``parsed + ignored + rejected == lines``, never an exception)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from shadowscan.directory import DIRECTORY_READERS, PERSON_SCHEMA
from shadowscan.directory.base import DirectoryBatch, DirectoryContext
from shadowscan.directory.load import load_directory
from tests.golden import UPDATE

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
    rows = directory.people.sort("user").to_dicts()
    return (
        json.dumps(head, indent=2, sort_keys=True)
        + "\n"
        + "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    )


def compare(text: str, golden: Path) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    if not golden.exists():
        raise AssertionError(f"missing golden file {golden}; run `make golden` and review it")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{golden} differs; if the change is intended run `make golden` and review the diff"
    )
