"""Shared helpers for identity-reader tests: golden rendering, the accounting property
every reader must keep (``parsed + ignored + rejected == lines``, never an exception), the
Hypothesis line strategies behind it, and the sniffing check that a reader claims its own
samples and nothing else. The directory tests reuse the golden and strategy helpers."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import strategies as st

from shadowscan.identity import ASSET_SCHEMA, BINDING_SCHEMA, IDENTITY_READERS, IdentityReader
from shadowscan.identity.base import IdentityBatch, IdentityContext
from shadowscan.identity.load import load_identity
from shadowscan.outputs.base import records
from shadowscan.reference import head_of, read_lines
from tests.golden import PINNED_MTIME, UPDATE

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_identity"
LOGS = ROOT / "sample_logs"
GOLDEN = ROOT / "tests" / "golden" / "identity"
FILE_TIME = dt.datetime.fromtimestamp(PINNED_MTIME, tz=dt.UTC)

#: Characters that end a line for ``str.splitlines``: no line of a file holds one.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
#: Arbitrary text without line breaks (what one line of a file can hold).
NOISE = st.text(st.characters(codec="utf-8", exclude_characters=LINE_BREAKS), max_size=120)
#: A few random characters, line breaks included.
SHORT_TEXT = st.text(max_size=6)


def read(name: str, lines: list[str], timezone: str = "UTC") -> IdentityBatch:
    """Run reader ``name`` over ``lines`` directly (no file)."""
    reader = IDENTITY_READERS.get(name)(IdentityContext("t", timezone, FILE_TIME))
    return reader.read(lines)


def sample_lines(name: str, file: str) -> list[str]:
    """The lines of ``sample_identity/<name>/<file>``, as the loader reads them."""
    return read_lines(str(SAMPLES / name / file))


def utc(text: str) -> dt.datetime:
    """``2026-11-19 08:00:01`` as a UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def spans(
    name: str,
    lines: list[str],
    timezone: str = "UTC",
    columns: Sequence[str] = ("ip", "user", "start", "end"),
) -> list[tuple[Any, ...]]:
    """``columns`` of each binding reader ``name`` reads from ``lines``, in its order
    (bindings come sorted by address and start)."""
    return read(name, lines, timezone).frame.select(columns).rows()


def check_accounting(name: str, lines: list[str]) -> IdentityBatch:
    """The reader never raises on any input, accounts for every line exactly once, and
    returns records in its kind's schema, each from a line read; a binding never ends
    before it starts."""
    batch = read(name, lines)
    assert batch.lines == len(lines)
    assert batch.parsed >= 0 and batch.ignored >= 0
    assert batch.parsed + batch.ignored + batch.rejected.height == batch.lines
    nos = batch.rejected["line_no"]
    assert nos.is_between(1, max(1, len(lines))).all()
    assert nos.n_unique() == nos.len(), "a line is rejected twice"
    frame = batch.frame
    asset = IDENTITY_READERS.get(name).kind == "asset"
    assert frame.schema == pl.Schema(ASSET_SCHEMA if asset else BINDING_SCHEMA)
    assert frame["line_no"].is_between(1, len(lines)).all()
    if not asset:
        assert (frame["end"] >= frame["start"]).all()
    return batch


def mutated(
    valid: Sequence[str], insert: st.SearchStrategy[str] = SHORT_TEXT, span: int = 12
) -> st.SearchStrategy[str]:
    """A ``valid`` line with up to ``span`` characters somewhere replaced by ``insert``:
    the near misses that reach a reader's rejection paths."""

    @st.composite
    def near_miss(draw: st.DrawFn) -> str:
        line = draw(st.sampled_from(valid))
        i = draw(st.integers(0, len(line)))
        j = draw(st.integers(i, min(len(line), i + span)))
        return line[:i] + draw(insert) + line[j:]

    return near_miss()


def any_lines(
    valid: Sequence[str],
    *,
    max_size: int,
    line_breaks: bool = True,
    insert: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[list[str]]:
    """Files of up to ``max_size`` lines mixing ``valid`` lines, near misses of them
    (``insert``, by default a few random characters, put in) and random text.
    ``line_breaks=False`` keeps line-break characters out of the random text, for readers
    whose records span lines and so must be given lines as ``str.splitlines`` cuts them."""
    chars = st.characters(codec="utf-8", exclude_characters="" if line_breaks else LINE_BREAKS)
    near_misses = mutated(valid, st.text(chars, max_size=6) if insert is None else insert)
    noise = st.text(chars, max_size=120)
    return st.lists(st.one_of(st.sampled_from(valid), near_misses, noise), max_size=max_size)


def assert_claims_only_own_samples(reader_cls: type[IdentityReader], own_folder: str) -> None:
    """The reader is sure (0.9) of every sample under ``sample_identity/<own_folder>/``
    and claims (0.5) no other file under ``sample_identity/`` or ``sample_logs/``."""
    own_root = SAMPLES / own_folder
    own = sorted(p for p in own_root.rglob("*") if p.is_file())
    assert own, f"no samples under {own_root}"
    unsure = [str(p) for p in own if reader_cls.sniff(head_of(str(p))) < 0.9]
    assert unsure == []
    others = sorted(
        p
        for root in (SAMPLES, LOGS)
        for p in root.rglob("*")
        if p.is_file() and own_root not in p.parents
    )
    claimed = [str(p) for p in others if reader_cls.sniff(head_of(str(p))) >= 0.5]
    assert claimed == []


def ndjson_text(head: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """Golden text: ``head`` (a file's accounting) as indented JSON, then one row a line."""
    return (
        json.dumps(head, indent=2, sort_keys=True)
        + "\n"
        + "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    )


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
    return ndjson_text(head, records(frame.sort(pl.all(), nulls_last=True)))


def compare(text: str, golden: Path) -> None:
    """``text`` equals the golden file (``make golden`` writes it instead)."""
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    if not golden.exists():
        raise AssertionError(f"missing golden file {golden}; run `make golden` and review it")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{golden} differs; if the change is intended run `make golden` and review the diff"
    )
