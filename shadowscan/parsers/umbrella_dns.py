"""Cisco Umbrella / Secure Access DNS logs: fully quoted CSV, no header.

``"2024-11-04 08:00:00","jdoe@corp.example","jdoe@corp.example,LAPTOP-7Q2K","10.20.1.15",
"198.51.100.7","Allowed","1 (A)","NOERROR","chatgpt.com.","Generative AI,Application",
"AD Users","AD Users,Roaming Computers",""``

Columns (0-based; later log-schema versions only append columns):

====  ===================================  ====  ============================
 0    timestamp (UTC)                       7    response code (``NOERROR``)
 1    most granular identity                8    domain (trailing dot)
 2    identities (comma list)               9    categories
 3    internal client IP                   10    most granular identity type
 4    external (egress) IP                 11    identity types
 5    action ``Allowed``/``Blocked``       12    blocked categories
 6    query type ``1 (A)``                 13+   rule id, countries, ...
====  ===================================  ====  ============================

Rows have 10 columns (the oldest schema) or more, and may have a blank after a comma;
:func:`csv_fields` handles both. The most granular identity is kept as logged as
``user`` (a user such as ``Doe, Jane (jane.doe@corp.example)``, a computer or a network
name; ``umbrella_dns_identity_type`` says which, when the row has it). The query type
``28 (AAAA)`` becomes ``AAAA``. The Umbrella proxy log is told apart by its columns 5-6
(a content type and an upper-case verdict where this log has ``Allowed`` and ``1 (A)``).
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._dns_saas import saas_qtype_expr, saas_rcode_expr
from shadowscan.parsers.base import (
    ParsedBatch,
    Parser,
    not_matching,
    split_skipped,
)
from shadowscan.parsers.common import csv_fields, iso_ts, split_item

_F = r'"(?:[^"]|"")*"'
_SEP = r",[ \t]*"
#: Quoted timestamp, four quoted fields, the verdict, the ``N (TYPE)`` query type, then
#: response code, domain, categories and any later columns (10 columns or more).
PATTERN = (
    r'^"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z?"'
    rf"(?:{_SEP}{_F}){{4}}"
    rf'{_SEP}"(?:[Aa]llowed|[Bb]locked|ALLOWED|BLOCKED)"'
    rf'{_SEP}"\d{{1,5}}(?: \([^"]*\))?"'
    rf"(?:{_SEP}{_F}){{3,}}"
    r"\s*$"
)

_ACTIONS = {"allowed": "allowed", "blocked": "blocked"}


@PARSERS.register("umbrella_dns")
class UmbrellaDnsParser(Parser):
    name = "umbrella_dns"
    log_type = "dns"
    summary = "Cisco Umbrella / Secure Access DNS logs: quoted CSV, no header, 10 to 13+ columns."
    example = (
        '"2024-11-04 08:00:00","jdoe@corp.example","jdoe@corp.example,LAPTOP-7Q2K",'
        '"10.20.1.15","198.51.100.7","Allowed","1 (A)","NOERROR","chatgpt.com.",'
        '"Generative AI,Application","AD Users","AD Users,Roaming Computers",""'
    )
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        ok = batch["line"].str.contains(PATTERN)
        fields = batch.filter(ok).select(pl.col("line_no"), csv_fields(pl.col("line")).alias("_f"))
        events = fields.select(
            pl.col("line_no"),
            iso_ts(split_item(0), "UTC").alias("ts"),
            split_item(3).alias("src_ip"),
            split_item(1).alias("user"),
            host_expr(split_item(8)).alias("host"),
            split_item(5)
            .str.to_lowercase()
            .replace_strict(_ACTIONS, default="unknown", return_dtype=pl.String)
            .fill_null("unknown")
            .alias("action"),
            saas_qtype_expr(split_item(6)).alias("dns_qtype"),
            saas_rcode_expr(split_item(7)).alias("dns_rcode"),
            split_item(10).alias("umbrella_dns_identity_type"),
            split_item(9).alias("umbrella_dns_categories"),
            split_item(4).alias("umbrella_dns_external_ip"),
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
