"""CSV for spreadsheets; safe against formula injection.

A log value such as ``=HYPERLINK(...)`` would run as a formula when the CSV is opened in
Excel; cells starting with ``= + - @``, a tab, a carriage return or NUL get a leading
``'`` (OWASP; ASVS 1.2.10). Lists are joined with ``;``, and Excel in a locale whose list
separator is ``;`` (much of Europe) splits cells there, whatever the quoting: so a
formula character right after a ``;`` gets a ``'`` too, which protects every item of a
list and every piece of a value like ``a;=cmd|' /C calc'!A0``.
"""

from __future__ import annotations

from typing import IO, Any

import polars as pl

from shadowscan.outputs import SINKS
from shadowscan.outputs.base import Sink, iso_timestamps

_FORMULA_CHARS = r"=+\-@\t\r\x00"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    strings = [n for n, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.col(n)
        .str.replace(rf"^([{_FORMULA_CHARS}])", "'$1")
        .str.replace_all(rf";([{_FORMULA_CHARS}])", ";'$1")
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
