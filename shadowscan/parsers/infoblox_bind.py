"""Infoblox NIOS DNS (``named``) syslog: BIND's query log, security and ``query-errors``
lines plus Infoblox's own response logging, query rewrites and CEF RPZ hits::

    <30>Nov  4 09:00:00 ns1.corp.example named[4120]: 04-Nov-2024 09:00:00.120 client 10.20.1.15#50312: UDP: query: chatgpt.com IN A response: NOERROR +ED chatgpt.com. 60 IN A 104.18.32.47;

A response line gives ``dns_rcode`` and ``dns_answers`` (A/AAAA addresses and CNAME
targets of the logged records, in order); ``action`` is ``allowed`` for answered queries,
``blocked`` for REFUSED, sinkholed answers, RPZ rewrites (``rpz QNAME NXDOMAIN rewrite``,
the CEF ``RPZ-QNAME`` lines) and query-name rewrites. Some relays put the appliance's
address between the host name and ``named``; both are accepted. Zone transfers,
notifies, dynamic updates, DNSSEC validation and RPZ reloads are skipped. Detection needs
an Infoblox-only line (response logging, ``infoblox-responses:``, the CEF header or a
query rewrite) in the head of the file; otherwise the same lines read as ``bind``. See
:mod:`shadowscan.parsers._named` for every form.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._named import (
    INFOBLOX_EVIDENCE,
    INFOBLOX_PATTERN,
    SKIP,
    parse_named,
    sniff_named,
)
from shadowscan.parsers.base import ParsedBatch, Parser


@PARSERS.register("infoblox_bind")
class InfobloxBindParser(Parser):
    name = "infoblox_bind"
    log_type = "dns"
    summary = "Infoblox NIOS named syslog: response logging with answers, BIND query log, RPZ (incl. CEF) hits."
    example = (
        "<30>Nov  4 09:00:00 ns1.corp.example named[4120]: 04-Nov-2024 09:00:00.120 client "
        "10.20.1.15#50312: UDP: query: chatgpt.com IN A response: NOERROR +ED chatgpt.com. 60 "
        "IN A 104.18.32.47;"
    )
    line_pattern = INFOBLOX_PATTERN
    skip_pattern = SKIP
    priority = 1  # more specific than bind on the lines both read

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        return sniff_named(INFOBLOX_PATTERN, SKIP, lines, "Infoblox NIOS DNS", INFOBLOX_EVIDENCE)

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        return parse_named(
            batch,
            INFOBLOX_PATTERN,
            SKIP,
            "infoblox_bind",
            self.mismatch_reason(),
            self.context.timezone,
            self.context.file_time,
        )
