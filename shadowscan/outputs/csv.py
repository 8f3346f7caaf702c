"""CSV for spreadsheets; safe against formula injection.

A log value such as ``=HYPERLINK(...)`` would run as a formula when the CSV is opened in
Excel; cells starting with ``= + - @`` or a tab/carriage return get a leading ``'``.
Lists are joined with ``;``.
"""

from __future__ import annotations

from typing import IO, Any

import polars as pl

from shadowscan.outputs import SINKS
from shadowscan.outputs.base import Sink, iso_timestamps

_FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    strings = [n for n, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(n).str.contains(_FORMULA_START))
        .then(pl.lit("'") + pl.col(n))
        .otherwise(pl.col(n))
        .alias(n)
        for n in strings
    )


def flatten_lists(frame: pl.DataFrame) -> pl.DataFrame:
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(pl.col(n).cast(pl.List(pl.String)).list.join(";") for n in lists)


@SINKS.register("csv")
class CsvSink(Sink):
    name = "csv"
    summary = "Comma-separated values with a header; formula injection neutralised."
    extensions = (".csv",)

    def write(self, frame: pl.DataFrame, stream: IO[Any], *, kind: str) -> None:
        out = neutralise_formulas(flatten_lists(iso_timestamps(frame)))
        stream.write(out.write_csv())
