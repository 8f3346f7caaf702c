"""dnsmasq's query log (``log-queries``), shared by ``dnsmasq`` and ``pihole`` (Pi-hole's
FTL is a dnsmasq fork writing the same lines plus its blocking verdicts).

Envelope: a syslog header ending in ``dnsmasq[pid]:`` (BSD time with or without host,
RFC 3339, or OpenWrt ``logread``'s ``Tue Jun 20 10:15:32 2023 daemon.info``; Pi-hole's
own ``pihole.log`` has the same shape), then with ``log-queries=extra`` a serial number and
the client's ``address/port``.

One design, for both formats: **every line that names a lookup or its answer is an
event; everything else is skipped.** dnsmasq writes a lookup as several lines::

    query[A] chatgpt.com from 10.20.1.15          the client's query
    forwarded chatgpt.com to 1.1.1.1              passed upstream (skipped)
    reply chatgpt.com is <CNAME>                  the answer, one line per record
    reply chatgpt.com.cdn.cloudflare.net is 104.18.32.47

- ``query[TYPE] NAME from CLIENT`` -> event ``kind=query``: ``src_ip`` = client,
  ``dns_qtype`` (``type=65`` -> ``HTTPS``), ``action`` ``unknown``,
  ``dns_answer_only = false``. This is the line to count as a lookup.
- ``reply``/``cached``/``cached-stale``/``config``/``auth``/``DHCP``/``/etc/hosts`` (a hosts
  file path) ``NAME is VALUE`` -> event with ``dns_answer_only = true``: it carries an
  answer, not a new lookup (the aggregation counts only the query lines; these rows teach
  which addresses a name resolved to, for joining firewall logs). ``dns_answers`` is
  ``[VALUE]`` when it is an address (``<CNAME>``/``<HTTPS>`` placeholders, ``NODATA`` and
  ``NXDOMAIN`` give none); ``dns_rcode`` is ``NOERROR`` for an address, a ``<TYPE>``
  placeholder or ``NODATA*``, else the code written (``NXDOMAIN``, ``SERVFAIL``,
  ``REFUSED``); ``action`` is ``allowed``, or ``blocked`` for a sinkhole address
  (``0.0.0.0``, ``::``), ``REFUSED``, or ``NXDOMAIN`` from ``config``/a hosts file (an
  ``address=/name/`` blocklist entry). Without ``log-queries=extra`` these lines name no
  client (``src_ip`` null); with it they carry the client of the lookup they answer.
- Pi-hole verdicts ``gravity blocked``, ``regex blacklisted``/``regex denied``,
  ``exactly blacklisted``/``exactly denied``, ``blacklisted``, ``special domain``
  ``NAME is VALUE`` -> answer events as above with ``action = blocked``;
  ``Pi-hole hostname NAME is IP`` -> an ordinary answer.
- ``forwarded``, ``dnssec-query``, ``validation`` and the daemon's other messages
  (start-up, ``using nameserver``, statistics) and every ``dnsmasq-dhcp``/``-tftp``/
  ``-script`` line are skipped: they are not lookups. A line that starts like a lookup
  or answer and does not parse is unparsed.

The kind of line (``query``, ``reply``, ``cached``, ``config``, ``hosts``, ``gravity
blocked``, ...) goes to ``<format>_kind``. Both formats read all of these lines, so a
Pi-hole log detected as dnsmasq (no Pi-hole verdict in its first lines) is still read in
full. Times carry no year or zone: ``--timezone`` and the file's modification time.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers._dnslog import (
    DIGIT,
    ISO_TS,
    OPENWRT_TS,
    SYSLOG_TS,
    not_prefixed,
    rcode_name,
    rcode_or_answers_action,
    resolver_qtype_expr,
    single_address,
    words,
)
from shadowscan.parsers.base import ParsedBatch, Sniff, not_matching, to_int
from shadowscan.parsers.common import iso_ts, strptime_ts, syslog_ts

_HEADER = (
    r"^(?:<\d{1,3}>\d?\s*)?"
    rf"(?:(?P<sts>{SYSLOG_TS})|(?P<owrt>{OPENWRT_TS})|(?P<iso>{ISO_TS}))\s+"
    r"(?:[^\s\[]+\s+){0,2}"
)
_TAG = r"(?:dnsmasq|pihole-FTL)\[\d+\]:\s"
_EXTRA = r"(?:\d+ (?:(?P<xaddr>[0-9A-Fa-f:.]+(?:%[\w.\-]+)?)/(?P<xport>\d{1,5}) )?)?"
_ADDR = r"[0-9A-Fa-f:.]+(?:%[\w.\-]+)?"
_QUERY = rf"query\[(?P<qtype>[^\]\s]+)\] (?P<qname>\S+) from (?P<client>{_ADDR})\s*$"
#: Pi-hole's blocking verdicts.
PIHOLE_BLOCKS = (
    "gravity blocked",
    "regex blacklisted",
    "regex denied",
    "exactly blacklisted",
    "exactly denied",
    "blacklisted",
    "special domain",
)
_ANSWER_KINDS = ("reply", "cached", "cached-stale", "config", "auth", "DHCP", "Pi-hole hostname")
_ANSWER = (
    "(?P<kind>"
    + "|".join(re.escape(k) for k in (*PIHOLE_BLOCKS, *_ANSWER_KINDS))
    + r"|/\S+)(?: \([^)]*\))? (?P<aname>\S+) is (?P<value>\S+)(?:\s.*)?$"
)
PATTERN = f"{_HEADER}{_TAG}{_EXTRA}(?:{_QUERY}|{_ANSWER})"

_HEADER_PLAIN = re.sub(r"\(\?P<\w+>", "(?:", _HEADER)
#: How lookup and answer lines start (multi-word verdicts without the trailing blank, so
#: that a verdict cut short is unparsed rather than skipped).
_LOOKUP_STARTS = words(
    "query[",
    "/",
    *(k if " " in k else f"{k} " for k in (*PIHOLE_BLOCKS, *_ANSWER_KINDS)),
)
#: Blank lines; DHCP/TFTP/script lines; dnsmasq's messages that do not start like a lookup
#: (nor with a digit: ``log-queries=extra`` serials); and, in the extra format, the lookup
#: steps that are not events (``forwarded``, ``dnssec-query``, ``validation``...).
SKIP = (
    r"^\s*$"
    + rf"|{_HEADER_PLAIN}dnsmasq-(?:dhcp|tftp|script)\[\d+\]:"
    + rf"|{_HEADER_PLAIN}{_TAG}{not_prefixed([*_LOOKUP_STARTS, [DIGIT]])}"
    + rf"|{_HEADER_PLAIN}{_TAG}\d+ (?:\S+/\d+ )?"
    + r"(?:forwarded|dnssec-query|dnssec-retry|validation|ipset|nftset|reply error)[\s\[]"
)

PIHOLE_EVIDENCE = re.compile(
    _TAG
    + r"(?:\d+ (?:\S+/\d+ )?)?(?:"
    + "|".join(re.escape(k) for k in (*PIHOLE_BLOCKS, "Pi-hole hostname"))
    + r"|/etc/pihole/)"
)


def sniff_dnsmasq(lines: list[str], label: str, pihole: bool) -> Sniff | None:
    """Share of lookup lines and dnsmasq's other lines among the non-blank lines, provided
    some line is a dnsmasq line (and, for Pi-hole, some line is a Pi-hole verdict)."""
    rx, skip = re.compile(PATTERN), re.compile(SKIP)
    data = [ln for ln in lines if ln.strip()]
    hits = sum(1 for ln in data if rx.search(ln))
    known = sum(1 for ln in data if rx.search(ln) or skip.search(ln))
    if not hits and not any(re.search(_TAG, ln) for ln in data):
        return None
    if pihole and not any(PIHOLE_EVIDENCE.search(ln) for ln in data):
        return None
    if not known:
        return None
    return Sniff(
        known / len(data), f"{known}/{len(data)} sample lines are {label} lines ({hits} lookups)"
    )


def parse_dnsmasq(
    batch: pl.DataFrame,
    prefix: str,
    reason: str,
    timezone: str,
    file_time: dt.datetime | None,
) -> ParsedBatch:
    ok = batch["line"].str.contains(PATTERN)
    skipped = ~ok & batch["line"].str.contains(SKIP)
    rejected = not_matching(batch, ok | skipped, reason)
    c = pl.col
    f = (
        batch.filter(ok)
        .select(c("line_no"), c("line").str.extract_groups(PATTERN).alias("f"))
        .unnest("f")
    )
    value = c("value").str.to_uppercase()
    is_answer = c("kind").is_not_null()
    kind = (
        pl.when(~is_answer)
        .then(pl.lit("query"))
        .when(c("kind").str.starts_with("/"))
        .then(pl.lit("hosts"))
        .otherwise(c("kind").str.to_lowercase())
    )
    f = f.with_columns(
        kind.alias("_kind"),
        single_address(c("value")).alias("dns_answers"),
        pl.when(~is_answer)
        .then(None)
        .when(
            c("value").str.contains(r"^[0-9A-Fa-f:.]+$") & c("value").str.contains(r"[.:]")
            | c("value").str.starts_with("<")
            | value.str.starts_with("NODATA")
        )
        .then(pl.lit("NOERROR"))
        .otherwise(rcode_name(c("value")))
        .alias("dns_rcode"),
    )
    blocked = c("_kind").is_in([k.lower() for k in PIHOLE_BLOCKS]) | (
        c("_kind").is_in(["config", "hosts"]) & (c("dns_rcode") == "NXDOMAIN")
    )
    ts = pl.coalesce(
        syslog_ts(c("sts"), file_time, timezone),
        strptime_ts(c("owrt"), "%a %b %d %H:%M:%S %Y", timezone),
        iso_ts(c("iso"), timezone),
    )
    events = f.select(
        c("line_no"),
        ts.alias("ts"),
        pl.coalesce(c("client"), c("xaddr")).alias("src_ip"),
        to_int(c("xport"), pl.Int32()).alias("src_port"),
        host_expr(pl.coalesce(c("qname"), c("aname"))).alias("host"),
        resolver_qtype_expr(c("qtype")).alias("dns_qtype"),
        c("dns_rcode"),
        c("dns_answers"),
        rcode_or_answers_action(c("dns_rcode"), c("dns_answers"), blocked).alias("action"),
        is_answer.alias("dns_answer_only"),
        c("_kind").alias(f"{prefix}_kind"),
    )
    return ParsedBatch(events, rejected, int(skipped.sum()))
