"""The catalogue flat as CSV: one row per service, lists joined with ``;``, and cells a
spreadsheet would run as a formula neutralised exactly as the csv output sink does."""

from __future__ import annotations

import polars as pl

from shadowscan.exports import EXPORTERS
from shadowscan.exports._lists import BOOL_COLUMNS, COLUMNS, LIST_COLUMNS, flat_record
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.outputs.csv import neutralise_formulas
from shadowscan.signatures import Service

SCHEMA = {
    c: pl.List(pl.String) if c in LIST_COLUMNS else pl.Boolean if c in BOOL_COLUMNS else pl.String
    for c in COLUMNS
}


@EXPORTERS.register("csv")
class CsvExporter(Exporter):
    name = "csv"
    summary = "The catalogue flat: one CSV row per service, lists joined with ';'."

    def export(self, services: list[Service], context: ExportContext) -> Export:
        rows = [list(flat_record(s, context).values()) for s in services]
        frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
        flat = frame.with_columns(pl.col(c).list.join(";") for c in sorted(LIST_COLUMNS))
        return Export(files={"shadowscan.csv": neutralise_formulas(flat).write_csv()})
