"""OpenVPN server log (``--log`` file or syslog): which client held which virtual address.

``2026-11-19 08:00:01 jdoe/203.0.113.7:51234 MULTI_sva: pool returned IPv4=10.8.0.6, IPv6=(Not enabled)``

Times are local (``--timezone``): ``2026-11-19 08:00:01`` (OpenVPN 2.5 and later), the
older ``Thu Nov 19 08:00:01 2026`` (with or without `` us=123456``), or a syslog header
(``Nov 19 08:00:01 vpn1 openvpn[999]:``, whose year comes from the file's time; RFC 3339
or RFC 5424 with their own offset).

Client lines start with ``common name/real address``; the session ``key`` is that whole
prefix, the user its common name.

- A session starts (or is confirmed) with ``MULTI_sva: pool returned IPv4=a, IPv6=b``,
  ``MULTI: Learn: a -> cn/addr`` or ``MULTI: primary virtual IP for cn/addr: a``. Learned
  subnets (``--iroute``) and MAC addresses (``dev tap``) are not client addresses and are
  ignored.
- It ends with ``SIGTERM[soft,remote-exit] received, client-instance exiting`` (any
  signal, ``exiting`` or ``restarting``), ``Connection reset, restarting`` or
  ``Inactivity timeout (--ping-restart), restarting``.

A session with no logged end lasts ``--session-time``. Every other line is ignored; a
start whose address is not an IP is rejected.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._vpn import (
    NOT_A_HOST,
    address,
    clean_user,
    lines_frame,
    openvpn_ts,
    session_batch,
)
from shadowscan.identity.base import IdentityBatch, IdentityReader
from shadowscan.parsers.common import iso_ts, syslog_ts

_NATIVE = (
    r"(?:(?P<native>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})"
    r"|(?P<ctime>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})(?: us=(?P<us>\d{1,6}))?)"
)
#: A syslog header: BSD or RFC 3339 time, an optional host, then ``tag[pid]:`` (a tag has
#: no ``/``, so a client prefix is never taken for one).
_SYSLOG = (
    r"(?:<\d{1,3}>\d?\s*)?"
    r"(?:(?P<bsd>[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?))"
    r"\s+(?:\S+\s+)?[^\s:\[/]+(?:\[\d+\])?:"
)
#: RFC 5424: ``<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD``.
_RFC5424 = r"<\d{1,3}>1\s+(?P<iso5>\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s+(?:-|(?:\[[^\]]*\])+)"
_LINE = rf"^\s*(?:{_NATIVE}|{_RFC5424}|{_SYSLOG})\s+(?P<body>.*)$"
#: ``cn/real-address`` then the message (the common name may hold blanks, not ``/``).
_CLIENT = r"^(?P<client>(?P<cn>[^/]+)/[^\s/]+) (?P<msg>.*)$"
_POOL = r"^MULTI_sva: pool returned IPv4=(?P<v4>\(Not enabled\)|[^,\s]*), IPv6=(?P<v6>\(Not enabled\)|\S*)"
_LEARN = (
    r"^MULTI: (?:Learn: (?P<learn>\S+) -> |primary virtual IP(?:v6)? for .+: (?P<primary>\S+)$)"
)
_END = (
    r"^(?:SIG[A-Z0-9]+\[[^\]]*\] received, client-instance (?:exiting|restarting)"
    r"|Connection reset, restarting|Inactivity timeout \(--ping-restart\), restarting)"
)
_SNIFF_START = re.compile(
    r"/\S+ (?:MULTI_sva: pool returned|MULTI: Learn: |MULTI: primary virtual IP)"
)
_SNIFF_END = re.compile(r"/\S+ SIG[A-Z0-9]+\[[^\]]*\] received, client-instance")


@IDENTITY_READERS.register("openvpn_log")
class OpenVpnLogReader(IdentityReader):
    name = "openvpn_log"
    kind = "session"
    summary = (
        "OpenVPN server log: the virtual address each client (common name) was given "
        "(MULTI_sva / MULTI: Learn) until it disconnected."
    )
    example = (
        "2026-11-19 08:00:01 jdoe/203.0.113.7:51234 MULTI_sva: pool returned IPv4=10.8.0.6, "
        "IPv6=(Not enabled)\n"
        "2026-11-19 09:15:42 jdoe/203.0.113.7:51234 SIGTERM[soft,remote-exit] received, "
        "client-instance exiting"
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """Address assignments are OpenVPN's alone; disconnects alone are a weaker sign."""
        if any(_SNIFF_START.search(line) for line in head):
            return 0.9
        return 0.6 if any(_SNIFF_END.search(line) for line in head) else 0.0

    def read(self, lines: list[str]) -> IdentityBatch:
        c = pl.col
        tz = self.context.timezone
        f = (
            lines_frame(lines)
            .select(c("line_no"), c("line").str.extract_groups(_LINE).alias("h"))
            .unnest("h")
            .with_columns(c("body").str.extract_groups(_CLIENT).alias("who"))
            .with_columns(
                c("who").struct.field("msg").str.extract_groups(_POOL).alias("pool"),
                c("who").struct.field("msg").str.extract_groups(_LEARN).alias("learn"),
            )
        )
        msg = c("who").struct.field("msg")
        learned = pl.coalesce(c("learn").struct.field("learn"), c("learn").struct.field("primary"))
        host_learned = learned.is_not_null() & ~learned.str.contains(NOT_A_HOST)
        pool_v4, bad_v4 = address(c("pool").struct.field("v4"))
        pool_v6, bad_v6 = address(c("pool").struct.field("v6"))
        learned_ip, bad_learned = address(pl.when(host_learned).then(learned))
        pool = c("pool").struct.field("v4").is_not_null()
        op = (
            pl.when(pool | host_learned)
            .then(pl.lit("start"))
            .when(msg.str.contains(_END).fill_null(False))
            .then(pl.lit("end"))
        )
        native = openvpn_ts(pl.coalesce(c("native"), c("ctime")), tz)
        native = (
            pl.when(c("us").is_not_null())
            .then(native + pl.duration(microseconds=c("us").cast(pl.Int64)))
            .otherwise(native)
        )
        ts = pl.coalesce(
            native,
            syslog_ts(c("bsd"), self.context.file_time, tz),
            iso_ts(pl.coalesce(c("iso"), c("iso5")), tz),
        )
        rows = f.select(
            c("line_no"),
            op.alias("op"),
            ts.alias("ts"),
            pl.when(pool).then(pool_v4).otherwise(learned_ip).alias("ip"),
            pl.when(pool).then(pool_v6).alias("ip6"),
            clean_user(c("who").struct.field("cn")).alias("user"),
            pl.lit(None, pl.String).alias("device"),
            c("who").struct.field("client").alias("key"),
            pl.when(op.is_not_null() & (bad_v4 | bad_v6 | bad_learned).fill_null(False))
            .then(pl.lit("bad address"))
            .alias("reason"),
        )
        return session_batch(rows, source=self.name, context=self.context)
