"""Golden files for the output formats, rendered from ``tests/outputs/fixtures.py`` and
rewritten by ``make golden`` (SHADOWSCAN_UPDATE_GOLDEN=1) for review in the diff."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from shadowscan.outputs import SINKS
from tests.golden import UPDATE

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "outputs"


def render(sink_name: str, frame: pl.DataFrame, kind: str = "findings") -> bytes:
    """What ``sink_name`` writes for ``frame``, as bytes."""
    sink = SINKS.get(sink_name)()
    if sink.binary:
        raw = io.BytesIO()
        sink.write(frame, raw, kind=kind)
        return raw.getvalue()
    text = io.StringIO(newline="")
    sink.write(frame, text, kind=kind)
    return text.getvalue().encode("utf-8")


def check_golden(data: bytes | str, path: Path) -> None:
    """``data`` equals the golden file at ``path`` (or rewrites it under ``make golden``)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        return
    assert path.exists(), f"missing golden file {path}; run `make golden` and review it"
    assert raw == path.read_bytes(), (
        f"{path} differs; if the change is intended run `make golden` and review the diff"
    )
