"""Apache Parquet: the frame as it is, with its types (lists stay lists, times stay UTC
datetimes, counts stay unsigned integers), for pandas, DuckDB, Spark or a data lake.

Findings, events and ``--group-by`` rollups all write; the file's key-value metadata says
which (``shadowscan.kind``) and which shadowscan wrote it (``shadowscan.version``).
"""

from __future__ import annotations

from typing import IO, Any

import polars as pl

from shadowscan import __version__
from shadowscan.outputs import SINKS
from shadowscan.outputs.base import Sink


@SINKS.register("parquet")
class ParquetSink(Sink):
    name = "parquet"
    summary = "Apache Parquet, typed (lists, UTC datetimes); findings, events or rollups."
    extensions = (".parquet",)
    binary = True

    def write(self, frame: pl.DataFrame, stream: IO[Any], *, kind: str) -> None:
        frame.write_parquet(
            stream,
            metadata={"shadowscan.kind": kind, "shadowscan.version": __version__},
        )
