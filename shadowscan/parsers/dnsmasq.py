"""dnsmasq query log (``log-queries``, also ``=extra``) from syslog, OpenWrt ``logread`` or
dnsmasq's own log file::

    Nov  4 09:00:00 dnsmasq[812]: query[A] chatgpt.com from 10.20.1.15
    Nov  4 09:00:00 dnsmasq[812]: reply chatgpt.com is 104.18.32.47

Every ``query[...]`` line is an event (the lookup: client, name, type;
``dns_answer_only = false``); every ``reply``/``cached``/``config``/hosts-file answer line
is an event too, with ``dns_answer_only = true`` and the address in ``dns_answers`` (the
aggregation counts only query lines as lookups; the answers map names to addresses).
``dnsmasq_kind`` says which line it was. ``forwarded`` lines, start-up messages and
``dnsmasq-dhcp`` lines are skipped. The full design is in
:mod:`shadowscan.parsers._dnsmasq`.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._dnsmasq import PATTERN, SKIP, parse_dnsmasq, sniff_dnsmasq
from shadowscan.parsers.base import ParsedBatch, Parser


@PARSERS.register("dnsmasq")
class DnsmasqParser(Parser):
    name = "dnsmasq"
    log_type = "dns"
    summary = "dnsmasq log-queries syslog: query lines as lookups, reply/cached/config lines as answer-only rows."
    example = "Nov  4 09:00:00 dnsmasq[812]: query[A] chatgpt.com from 10.20.1.15"
    line_pattern = PATTERN
    skip_pattern = SKIP

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        return sniff_dnsmasq(lines, "dnsmasq", pihole=False)

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        return parse_dnsmasq(
            batch, "dnsmasq", self.mismatch_reason(), self.context.timezone, self.context.file_time
        )
