"""A single JSON array, for tools that want one document."""

from __future__ import annotations

import json
from typing import IO, Any

import polars as pl

from shadowscan.outputs import SINKS
from shadowscan.outputs.base import Sink, records


@SINKS.register("json")
class JsonSink(Sink):
    name = "json"
    summary = "One JSON array of objects."
    extensions = (".json",)

    def write(self, frame: pl.DataFrame, stream: IO[Any], *, kind: str) -> None:
        json.dump(records(frame), stream, ensure_ascii=False, indent=2)
        stream.write("\n")
