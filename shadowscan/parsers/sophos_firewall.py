"""Sophos Firewall (XG / SFOS) traffic logs, and Sophos UTM packet filter (``ulogd``) lines.

SFOS up to 19.0 (``device="SFW" date= time= timezone=``, bare and quoted values)::

    device="SFW" date=2024-11-04 time=08:00:00 timezone="CET" device_name="XG135" device_id=C1B0A6JC7TCVBEA log_id=010101600001 log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" status="Allow" ... fw_rule_id=5 user_name="jdoe" application="ChatGPT" ... src_ip=10.20.1.15 dst_ip=104.18.32.47 protocol="TCP" src_port=52144 dst_port=443 sent_pkts=20 recv_pkts=24 sent_bytes=18544 recv_bytes=48211 ... connevent="Stop"

SFOS 19.5 and later (``device_name= timestamp=`` with an offset, quoted values), often
behind a syslog header::

    Nov  4 08:00:00 xg135 device_name="SFW" timestamp="2024-11-04T08:00:00+0100" ... log_type="Content Filtering" log_component="HTTP" log_subtype="Allowed" ... user_name="jdoe" url="https://chatgpt.com/" src_ip="10.20.1.15" dst_ip="104.18.32.47" ... bytes_sent=1157 bytes_received=4092 domain="chatgpt.com" ...

UTM 9 packet filter::

    2024:11:04-08:00:00 utm-gw ulogd[4120]: id="2001" severity="info" sys="SecureNet" sub="packetfilter" name="Packet dropped" action="drop" fwrule="60001" initf="eth0" srcip="10.20.1.15" dstip="160.79.104.10" proto="6" length="60" ... srcport="52144" dstport="443" tcpflags="SYN"

Events: SFOS ``Firewall`` and ``Content Filtering`` records with ``src_ip`` and ``dst_ip``,
and UTM ``packetfilter`` records. Other SFOS log types (Event, System Health, IDP, ATP,
Anti-Virus, Anti-Spam, Sandstorm, WAF, SSL, Wireless Protection...) are not traffic and are
skipped. UTM ``httpproxy`` lines are the ``sophos_utm_http`` format.

Mapping: ``user_name`` -> ``user`` (empty -> null); ``application``/``app_name`` -> ``app``
(Sophos's own application name, e.g. ``ChatGPT``); the ``url`` host, else ``domain`` ->
``host``; ``sent_bytes``/``bytes_sent`` (from the initiator) -> ``bytes_out``,
``recv_bytes``/``bytes_received`` -> ``bytes_in``. A connection is logged at ``Start``
(no bytes yet), possibly ``Interim``, and ``Stop``: every record is an event, with
``sophos_firewall_phase`` = start / interim / end, and bytes only on ``end`` records and
records without a phase (web requests, denials), so that a connection's bytes count once.
``action``: ``status`` (SFOS < 19.5), else ``log_subtype``, else the UTM ``action``:
allow/accept/pass/proceeded -> allowed; deny/drop/reject/block/warn -> blocked; else
unknown. SFOS ``date``/``time`` and UTM times carry no usable zone (the ``timezone`` field
is an abbreviation such as ``IST``): they are read in ``--timezone``; SFOS 19.5 timestamps
carry their offset.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._netfw import (
    BSD_TS,
    ISO_TS,
    blank_to_null,
    sniff_among_skips,
    split_events,
    verdict,
)
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, to_int
from shadowscan.parsers.common import iso_ts, kv_value, strptime_ts

_RELAY = rf"^(?:<\d{{1,3}}>)?(?:(?:{BSD_TS}|{ISO_TS})\s+\S+\s+)?"
_SFOS_HEAD = (
    r'(?:device="[^"]*"\s+date=(?P<date>\d{4}-\d{2}-\d{2})\s+time=(?P<time>\d{2}:\d{2}:\d{2})'
    r'|device_name="[^"]*"\s+timestamp="(?P<stamp>[^"]+)")'
)
_IP = r'"?[0-9A-Fa-f:.]+"?(?:\s|$)'
_SFOS = (
    _SFOS_HEAD + r'\s(?:.*?\s)?log_type="(?:Firewall|Content Filtering)"'
    rf"\s(?:.*?\s)?src_ip={_IP}(?:.*?\s)?dst_ip={_IP}"
)
_UTM = (
    r"(?P<utm_ts>\d{4}:\d{2}:\d{2}-\d{2}:\d{2}:\d{2})\s+(?P<utm_device>\S+)\s+ulogd(?:\[\d+\])?:\s"
    r'(?:.*?\s)?sub="packetfilter"\s(?:.*?\s)?srcip="[^"]+"\s(?:.*?\s)?dstip="[^"]+"'
)
PATTERN = rf"{_RELAY}(?:{_SFOS}|{_UTM})"

#: SFOS log types that are not traffic records.
_OTHER_TYPES = (
    r"Event|System Health|IDP|ATP|Anti-Virus|Anti-Spam|Sandstorm|Zero-day Protection"
    r'|Wireless Protection|WAF|SSL[^"]*|SD-WAN[^"]*|Heartbeat'
)
#: Blank lines and SFOS records of other log types (only consulted for lines that do not
#: match ``PATTERN``).
SKIP = rf'^\s*$|{_RELAY}{_SFOS_HEAD}\s(?:.*\s)?log_type="(?:{_OTHER_TYPES})"'

_BLOCKED = r"(?i)(?:^|[^a-z])(?:drop|reject|block|deny|denied|reset|warn)"
_ALLOWED = r"(?i)(?:^|[^a-z])(?:accept|allow|pass|permit|proceed)"


@PARSERS.register("sophos_firewall")
class SophosFirewallParser(Parser):
    name = "sophos_firewall"
    log_type = "firewall"
    summary = (
        "Sophos Firewall (XG/SFOS) Firewall and Content Filtering key=value syslog "
        "(both SFOS layouts), and Sophos UTM packet filter lines."
    )
    example = (
        'device="SFW" date=2024-11-04 time=08:00:00 timezone="CET" device_name="XG135" '
        'log_id=010101600001 log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" '
        'status="Allow" fw_rule_id=5 user_name="jdoe" application="ChatGPT" src_ip=10.20.1.15 '
        'dst_ip=104.18.32.47 protocol="TCP" src_port=52144 dst_port=443 sent_bytes=18544 '
        'recv_bytes=48211 connevent="Stop"'
    )
    line_pattern = PATTERN
    skip_pattern = SKIP

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        return sniff_among_skips(cls.name, lines, PATTERN, SKIP, "Sophos traffic records")

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        ok, skipped = split_events(batch, PATTERN, SKIP)
        rejected = not_matching(batch, ok | skipped, self.mismatch_reason())
        line = pl.col("line")

        def kv(*keys: str) -> pl.Expr:
            return pl.coalesce(*[blank_to_null(kv_value(line, k)) for k in keys])

        tz = self.context.timezone
        frame = (
            batch.filter(ok)
            .with_columns(line.str.extract_groups(PATTERN).alias("_h"))
            .with_columns(
                kv("con_event", "connevent").str.to_lowercase().alias("_phase_raw"),
                kv("url").alias("_url"),
                kv("status", "log_subtype", "action").alias("_action"),
            )
            .with_columns(
                url_parts(pl.col("_url")).alias("_u"),
                pl.when(pl.col("_phase_raw") == "stop")
                .then(pl.lit("end"))
                .when(pl.col("_phase_raw").is_in(["start", "interim"]))
                .then(pl.col("_phase_raw"))
                .alias("sophos_firewall_phase"),
            )
        )
        h = pl.col("_h").struct
        ts = pl.coalesce(
            iso_ts(h.field("stamp"), tz),
            strptime_ts(h.field("date") + " " + h.field("time"), "%Y-%m-%d %H:%M:%S", tz),
            strptime_ts(h.field("utm_ts"), "%Y:%m:%d-%H:%M:%S", tz),
        )
        with_bytes = pl.col("sophos_firewall_phase").is_null() | (
            pl.col("sophos_firewall_phase") == "end"
        )
        host = pl.coalesce(host_expr(pl.col("_u").struct.field("host")), host_expr(kv("domain")))
        is_utm = h.field("utm_ts").is_not_null()
        events = frame.select(
            pl.col("line_no"),
            ts.alias("ts"),
            kv("src_ip", "srcip").alias("src_ip"),
            to_int(kv("src_port", "srcport"), pl.Int32()).alias("src_port"),
            kv("user_name").alias("user"),
            host.alias("host"),
            kv("dst_ip", "dstip").alias("dst_ip"),
            to_int(kv("dst_port", "dstport"), pl.Int32()).alias("dst_port"),
            url_expr(pl.col("_u"), host_expr(pl.col("_u").struct.field("host"))).alias("url"),
            verdict(pl.col("_action"), _BLOCKED, _ALLOWED).alias("action"),
            pl.when(with_bytes).then(to_int(kv("sent_bytes", "bytes_sent"))).alias("bytes_out"),
            pl.when(with_bytes).then(to_int(kv("recv_bytes", "bytes_received"))).alias("bytes_in"),
            kv("http_user_agent", "user_agent").alias("user_agent"),
            kv("application", "app_name").alias("app"),
            pl.col("sophos_firewall_phase"),
            pl.when(is_utm)
            .then(pl.lit("packetfilter"))
            .otherwise(kv("log_type"))
            .alias("sophos_firewall_log_type"),
            kv("log_component", "name").alias("sophos_firewall_component"),
            kv("fw_rule_name", "fw_rule_id", "fwrule").alias("sophos_firewall_rule"),
            kv("http_category", "category", "app_category", "application_category").alias(
                "sophos_firewall_category"
            ),
            kv("protocol", "proto").str.to_lowercase().alias("sophos_firewall_protocol"),
            pl.coalesce(kv("device_name"), h.field("utm_device")).alias("sophos_firewall_device"),
        )
        return ParsedBatch(events, rejected, int(skipped.sum()))
