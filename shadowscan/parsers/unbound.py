"""Unbound query and reply logs (``log-queries``, ``log-replies``, ``log-local-actions``),
via syslog (``unbound[pid]: [pid:thread] info:``, pfSense/OPNsense write no host name) or
Unbound's own log file (``[epoch] unbound[pid:thread] info:``, or an ASCII/ISO time)::

    <30>Nov  4 09:00:00 unbound[4120]: [4120:0] info: 10.20.1.15 chatgpt.com. A IN
    <30>Nov  4 09:00:00 unbound[4120]: [4120:0] info: 10.20.1.15 chatgpt.com. A IN NOERROR 0.000152 1 89
    <30>Nov  4 09:00:00 unbound[4120]: [4120:1] info: ads.example. always_nxdomain 10.20.1.15@53122 ads.example. A IN

A query line (client, name, type, class) says nothing of the outcome: ``action`` is
``unknown``. A reply line adds the response code, the time taken, a cache flag and the
reply size in bytes (``unbound_reply_size``: DNS bytes, not traffic with the service, so
not ``bytes_in``; ``unbound_cached`` is true for a cache answer): ``allowed``,
or ``blocked`` for REFUSED. A local-zone or RPZ action line (``<zone> <type>
<ip>@<port> <qname> <TYPE> <CLASS>``, with ``rpz: applied [name]`` in front for RPZ) is
``blocked`` unless the type lets the query through (``transparent``,
``typetransparent``, ``inform``, ``always_transparent``, ``nodefault``,
``rpz-passthru``); the type goes to ``unbound_action``. Types written as ``TYPE65`` get
their names. Unbound's other messages (start-up, statistics, verbose resolution traces)
are skipped. Syslog times carry no zone: they are read in ``--timezone``.
"""

from __future__ import annotations

import itertools
import re

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._dnslog import (
    DIGIT,
    HEX_LETTER,
    IP,
    ISO_TS,
    SYSLOG_TS,
    lit,
    not_prefixed,
    rcode_name,
    rcode_or_answers_action,
    resolver_qtype_expr,
)
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, to_int
from shadowscan.parsers.common import epoch_ts, iso_ts, syslog_ts

_HEADER = (
    r"^(?:<\d{1,3}>\d?\s*)?"
    rf"(?:(?P<sts>{SYSLOG_TS})|(?P<iso>{ISO_TS})|\[(?P<epoch>\d+(?:\.\d+)?)\])\s+"
    r"(?:[^\s\[]+\s+)?unbound(?:\[\d+(?::\w+)?\])?:?\s+(?:\[\d+:\w+\]\s+)?"
)
_TYPE = r"[A-Z][A-Z0-9\-]*|TYPE\d+"
_CLASS = r"IN|CH|HS|NONE|ANY|CLASS\d+"
_QUERY = (
    rf"(?P<ip>{IP})(?:[@#](?P<port>\d{{1,5}}))? (?P<qname>\S+) (?P<qtype>{_TYPE}) (?:{_CLASS})"
    r"(?: (?P<rcode>[A-Z][A-Z0-9]*|rcode\d+) (?P<secs>\d+\.\d+) (?P<cached>[01]) (?P<size>\d+)"
    r"(?:\s.*)?)?\s*$"
)
_ACTION = (
    r"(?:rpz: applied (?:\[[^\]]*\] )?)?(?:\S+ )*?(?P<lz>[a-z][a-z0-9_\-]*) "
    rf"(?P<la_ip>{IP})@(?P<la_port>\d{{1,5}}) (?P<la_qname>\S+) (?P<la_qtype>{_TYPE}) (?:{_CLASS})\s*$"
)
PATTERN = f"{_HEADER}info: (?:{_QUERY}|{_ACTION})"

#: Address starts (``10.``, ``2001:``, ``fe80:``, ``::``) for the skip pattern below.
_ADDRESS_STARTS = [
    *([DIGIT] * n + lit(".") for n in (1, 2, 3)),
    *(
        [*hexes, *lit(":")]
        for n in (1, 2, 3, 4)
        for hexes in itertools.product((DIGIT, HEX_LETTER), repeat=n)
    ),
    lit(":"),
]
_HEADER_PLAIN = re.sub(r"\(\?P<\w+>", "(?:", _HEADER)
#: Blank lines and Unbound's other messages: other log levels, and ``info:`` lines that do
#: not start with a client address (statistics, start-up) or ``rpz: applied``. Lines that
#: start like a query line and do not parse are unparsed.
SKIP = (
    r"^\s*$"
    + f"|{_HEADER_PLAIN}{not_prefixed([lit('info: '), lit('[')])}"
    + f"|{_HEADER_PLAIN}info: {not_prefixed([*_ADDRESS_STARTS, lit('rpz: ')])}"
)

#: Local-zone / RPZ types that answer normally.
_PASS = (
    "transparent",
    "typetransparent",
    "inform",
    "always_transparent",
    "nodefault",
    "rpz-passthru",
)


@PARSERS.register("unbound")
class UnboundParser(Parser):
    name = "unbound"
    log_type = "dns"
    summary = "Unbound log-queries/log-replies/local-action lines, via syslog (pfSense, OPNsense) or Unbound's log file."
    example = "<30>Nov  4 09:00:00 unbound[4120]: [4120:0] info: 10.20.1.15 chatgpt.com. A IN"
    line_pattern = PATTERN
    skip_pattern = SKIP

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        """Share of query lines and Unbound's other messages among the non-blank lines,
        provided some are query lines."""
        rx, skip = re.compile(PATTERN), re.compile(SKIP)
        data = [ln for ln in lines if ln.strip()]
        hits = sum(1 for ln in data if rx.search(ln))
        if not hits:
            return None
        known = sum(1 for ln in data if rx.search(ln) or skip.search(ln))
        return Sniff(known / len(data), f"{hits}/{len(data)} sample lines are Unbound queries")

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        ok = batch["line"].str.contains(PATTERN)
        skipped = ~ok & batch["line"].str.contains(SKIP)
        rejected = not_matching(batch, ok | skipped, self.mismatch_reason())
        c = pl.col
        f = (
            batch.filter(ok)
            .select(c("line_no"), c("line").str.extract_groups(PATTERN).alias("f"))
            .unnest("f")
            .with_columns(
                rcode_name(c("rcode")).alias("dns_rcode"),
                pl.lit(None, pl.List(pl.String())).alias("dns_answers"),
                (c("lz").is_not_null() & ~c("lz").is_in(_PASS)).alias("_blocked"),
            )
        )
        tz = self.context.timezone
        ts = pl.coalesce(
            syslog_ts(c("sts"), self.context.file_time, tz),
            iso_ts(c("iso"), tz),
            epoch_ts(c("epoch")),
        )
        action = rcode_or_answers_action(c("dns_rcode"), c("dns_answers"), c("_blocked"))
        events = f.select(
            c("line_no"),
            ts.alias("ts"),
            pl.coalesce(c("ip"), c("la_ip")).alias("src_ip"),
            to_int(pl.coalesce(c("port"), c("la_port")), pl.Int32()).alias("src_port"),
            host_expr(pl.coalesce(c("qname"), c("la_qname"))).alias("host"),
            resolver_qtype_expr(pl.coalesce(c("qtype"), c("la_qtype"))).alias("dns_qtype"),
            c("dns_rcode"),
            pl.when(c("lz").is_in(_PASS)).then(pl.lit("allowed")).otherwise(action).alias("action"),
            to_int(c("size")).alias("unbound_reply_size"),
            pl.when(c("cached").is_not_null()).then(c("cached") == "1").alias("unbound_cached"),
            c("lz").alias("unbound_action"),
        )
        return ParsedBatch(events, rejected, int(skipped.sum()))
