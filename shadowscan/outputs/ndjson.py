"""Newline-delimited JSON: one finding (or event) per line; the default when piped."""

from __future__ import annotations

from typing import IO, Any

import polars as pl

from shadowscan.outputs import SINKS
from shadowscan.outputs.base import Sink, iso_timestamps


@SINKS.register("ndjson")
class NdjsonSink(Sink):
    name = "ndjson"
    summary = "One JSON object per line (default when stdout is not a terminal)."
    extensions = (".ndjson", ".jsonl")

    def write(self, frame: pl.DataFrame, stream: IO[Any], *, kind: str) -> None:
        if frame.height:
            stream.write(iso_timestamps(frame).write_ndjson())
