"""Golden-file helpers: a parse of each sample, written as NDJSON events plus the line
accounting, compared exactly. ``make golden`` (SHADOWSCAN_UPDATE_GOLDEN=1) rewrites them
for review in the diff."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from shadowscan.api import parse_files
from shadowscan.outputs.base import records

UPDATE = os.environ.get("SHADOWSCAN_UPDATE_GOLDEN") == "1"


#: Formats without a year in their timestamps take it from the file's mtime; a checkout
#: sets mtimes to "now", so the goldens pin it.
PINNED_MTIME = dt.datetime(2026, 12, 31, tzinfo=dt.UTC).timestamp()


def render(sample: Path, log_format: str, root: Path) -> dict[str, Any]:
    """Events and stats of one sample, with paths relative to the project root."""
    rel = sample.relative_to(root).as_posix()
    os.utime(sample, (PINNED_MTIME, PINNED_MTIME))
    cwd = os.getcwd()
    os.chdir(root)
    try:
        mapping = (
            sample.with_name(sample.name + ".mapping.yaml") if log_format == "mapped" else None
        )
        events, stats = parse_files([rel], log_format=log_format, mapping=mapping)
    finally:
        os.chdir(cwd)
    file_stats = stats.files[0].to_dict()
    return {"stats": file_stats, "events": records(events)}


def compare(actual: dict[str, Any], golden_path: Path) -> None:
    text = (
        json.dumps(actual["stats"], indent=2, sort_keys=True)
        + "\n"
        + "".join(
            json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in actual["events"]
        )
    )
    if UPDATE or not golden_path.exists():
        if not UPDATE:
            raise AssertionError(
                f"missing golden file {golden_path}; run `make golden` and review it"
            )
        golden_path.parent.mkdir(parents=True, exist_ok=True)
        golden_path.write_text(text, encoding="utf-8")
        return
    expected = golden_path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{golden_path} differs; if the change is intended run `make golden` and review the diff"
    )
