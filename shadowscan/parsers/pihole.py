"""Pi-hole ``pihole.log``: dnsmasq's query log plus Pi-hole FTL's blocking verdicts::

    Nov  4 09:00:00 dnsmasq[812]: query[A] claude.ai from 10.20.1.15
    Nov  4 09:00:00 dnsmasq[812]: gravity blocked claude.ai is 0.0.0.0

Read exactly like ``dnsmasq`` (query lines are the lookups, answer lines are
``dns_answer_only`` rows; see :mod:`shadowscan.parsers._dnsmasq`), with the verdict lines
``gravity blocked``, ``regex blacklisted``/``regex denied``, ``exactly
blacklisted``/``exactly denied``, ``blacklisted`` and ``special domain`` as answer rows
with ``action = blocked``. ``pihole_kind`` says which line it was. A file is Pi-hole when
its first lines contain such a verdict (or a ``/etc/pihole/`` hosts-list answer);
otherwise it reads as ``dnsmasq``, with the same result apart from the format name.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._dnsmasq import PATTERN, SKIP, parse_dnsmasq, sniff_dnsmasq
from shadowscan.parsers.base import ParsedBatch, Parser


@PARSERS.register("pihole")
class PiholeParser(Parser):
    name = "pihole"
    log_type = "dns"
    summary = "Pi-hole pihole.log: dnsmasq query log plus gravity/regex/exact blocking verdicts."
    example = "Nov  4 09:00:00 dnsmasq[812]: gravity blocked claude.ai is 0.0.0.0"
    line_pattern = PATTERN
    skip_pattern = SKIP
    priority = 1  # a dnsmasq log with Pi-hole's verdicts in it is a Pi-hole log

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        return sniff_dnsmasq(lines, "Pi-hole", pihole=True)

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        return parse_dnsmasq(
            batch, "pihole", self.mismatch_reason(), self.context.timezone, self.context.file_time
        )
