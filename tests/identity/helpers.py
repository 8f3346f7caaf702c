"""Shared helpers for identity-reader tests: golden rendering and the accounting property
every reader must keep (``parsed + ignored + rejected == lines``, never an exception)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity.base import IdentityBatch, IdentityContext
from shadowscan.identity.load import load_identity
from shadowscan.outputs.base import records
from tests.golden import PINNED_MTIME, UPDATE

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_identity"
GOLDEN = ROOT / "tests" / "golden" / "identity"
FILE_TIME = dt.datetime.fromtimestamp(PINNED_MTIME, tz=dt.UTC)


def read(name: str, lines: list[str], timezone: str = "UTC") -> IdentityBatch:
    """Run reader ``name`` over ``lines`` directly (no file)."""
    reader = IDENTITY_READERS.get(name)(IdentityContext("t", timezone, FILE_TIME))
    return reader.read(lines)


def check_accounting(name: str, lines: list[str]) -> IdentityBatch:
    """The reader never raises on any input and accounts for every line once."""
    batch = read(name, lines)
    assert batch.lines == len(lines)
    assert batch.parsed + batch.ignored + batch.rejected.height == batch.lines
    assert batch.rejected["line_no"].is_between(1, max(1, len(lines))).all()
    return batch


def render(sample: Path, type_name: str) -> str:
    """Golden text of one sample: the file's accounting, then one record per line."""
    os.utime(sample, (PINNED_MTIME, PINNED_MTIME))
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        rel = sample.relative_to(ROOT).as_posix()
        data = load_identity([f"{type_name}:{rel}"])
    finally:
        os.chdir(cwd)
    frame = data.assets if IDENTITY_READERS.get(type_name).kind == "asset" else data.bindings
    head: dict[str, Any] = data.files[0].to_dict()
    rows = records(frame.sort(pl.all(), nulls_last=True))
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
