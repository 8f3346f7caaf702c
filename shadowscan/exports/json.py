"""The catalogue flat as JSON: one array of objects (one per service), keys in a fixed
order, lists as arrays and unknown values as null."""

from __future__ import annotations

import json

from shadowscan.exports import EXPORTERS
from shadowscan.exports._lists import flat_record
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.signatures import Service


@EXPORTERS.register("json")
class JsonExporter(Exporter):
    name = "json"
    summary = "The catalogue flat: a JSON array with one object per service."

    def export(self, services: list[Service], context: ExportContext) -> Export:
        records = [flat_record(s, context) for s in services]
        text = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
        return Export(files={"shadowscan.json": text})
