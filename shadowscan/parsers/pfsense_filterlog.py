"""pfSense / OPNsense packet filter log (``filterlog``): one CSV record in a syslog line.

``<134>1 2024-11-04T08:00:00.123456+00:00 fw01.corp.example filterlog 4410 - - 104,,,1000000103,igb0,match,pass,out,4,0x0,,63,23817,0,DF,6,tcp,60,10.20.1.15,160.79.104.10,52144,443,0,S,1804289383,,64240,,mss;sackOK;TS;nop;wscale``

The header is RFC 5424 (``<PRI>1 TIME HOST filterlog PID - [SD]``, pfSense 2.6+ and
OPNsense) or RFC 3164 (``Mmm dd hh:mm:ss HOST filterlog[PID]:``, older pfSense). The CSV
record follows pfSense's documented raw filter log format:

- every record: rule number, sub-rule, anchor, tracker (OPNsense: the rule's hash),
  real interface, reason, action (``pass``/``block``), direction (``in``/``out``),
  IP version;
- IPv4: TOS, ECN, TTL, id, offset, flags, protocol id, protocol name; IPv6: class, flow
  label, hop limit, protocol name, protocol id (the order differs);
- then length, source, destination, and for TCP and UDP (protocol 6 and 17) source port,
  destination port, data length, then TCP flags, sequence, ack, window, urgent, options;
  ICMP, CARP and others carry their own fields instead of ports.

``action``: ``pass`` -> allowed, ``block``/``reject`` -> blocked, else ``unknown``. The log
is per packet: source and destination are the packet's; there are no users, host names
or byte counts (``pfsense_filterlog_len`` is the IP packet length). BSD-header times carry
no zone: they are read in ``--timezone``.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS
from shadowscan.parsers._netfw import BSD_TS, ISO_TS, blank_to_null, header_ts, verdict
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, split_skipped, to_int

_HEADER = (
    rf"^(?:<\d{{1,3}}>)?(?:1\s+)?(?:(?P<bsd_ts>{BSD_TS})|(?P<iso_ts>{ISO_TS}))\s+"
    r"(?:(?P<device>[^\s\[:]+)\s+)?"
    r'filterlog(?:\[\d+\]:|:|\s+\S+\s+\S+\s+(?:-|(?:\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\])+))\s*'
)
_COMMON = (
    r"(?P<rule>\d*),(?P<subrule>[^,]*),(?P<anchor>[^,]*),(?P<tracker>[^,]*),"
    r"(?P<iface>[^,]*),(?P<reason>[^,]*),(?P<action>[^,]*),(?P<dir>[^,]*),"
)
_IPV4 = (
    r"4,[^,]*,[^,]*,\d*,\d*,\d*,[^,]*,(?P<pid4>\d+),(?P<pname4>[^,]*),"
    r"(?P<len4>\d*),(?P<src4>[0-9.]+),(?P<dst4>[0-9.]+)"
)
_IPV6 = (
    r"6,[^,]*,[^,]*,\d*,(?P<pname6>[^,]*),(?P<pid6>\d+),"
    r"(?P<len6>\d*),(?P<src6>[0-9A-Fa-f:.]+),(?P<dst6>[0-9A-Fa-f:.]+)"
)
PATTERN = rf"{_HEADER}{_COMMON}(?:{_IPV4}|{_IPV6})(?:,(?P<rest>.*))?$"

#: Source and destination port at the start of what follows the addresses (TCP, UDP).
_PORTS = r"^(\d{1,5}),(\d{1,5})(?:,|$)"


@PARSERS.register("pfsense_filterlog")
class PfsenseFilterlogParser(Parser):
    name = "pfsense_filterlog"
    log_type = "firewall"
    summary = (
        "pfSense / OPNsense `filterlog` packet filter CSV records in RFC 3164 or RFC 5424 syslog."
    )
    example = (
        "<134>1 2024-11-04T08:00:00.123456+00:00 fw01.corp.example filterlog 4410 - - "
        "104,,,1000000103,igb0,match,pass,out,4,0x0,,63,23817,0,DF,6,tcp,60,10.20.1.15,"
        "160.79.104.10,52144,443,0,S,1804289383,,64240,,mss;sackOK;TS;nop;wscale"
    )
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        ok = batch["line"].str.contains(PATTERN)
        fields = (
            batch.filter(ok)
            .select(pl.col("line_no"), pl.col("line").str.extract_groups(PATTERN).alias("f"))
            .unnest("f")
            .with_columns(
                pl.coalesce(pl.col("pid4"), pl.col("pid6")).alias("_pid"),
                pl.coalesce(pl.col("pname4"), pl.col("pname6")).alias("_pname"),
            )
        )
        has_ports = pl.col("_pid").is_in(["6", "17"])
        rest = pl.col("rest").fill_null("")
        events = fields.select(
            pl.col("line_no"),
            header_ts(pl.col("bsd_ts"), pl.col("iso_ts"), self.context).alias("ts"),
            pl.coalesce(pl.col("src4"), pl.col("src6")).alias("src_ip"),
            pl.when(has_ports)
            .then(to_int(rest.str.extract(_PORTS, 1), pl.Int32()))
            .alias("src_port"),
            pl.coalesce(pl.col("dst4"), pl.col("dst6")).alias("dst_ip"),
            pl.when(has_ports)
            .then(to_int(rest.str.extract(_PORTS, 2), pl.Int32()))
            .alias("dst_port"),
            verdict(pl.col("action")).alias("action"),
            blank_to_null(pl.col("rule")).alias("pfsense_filterlog_rule"),
            blank_to_null(pl.col("tracker")).alias("pfsense_filterlog_tracker"),
            blank_to_null(pl.col("iface")).alias("pfsense_filterlog_interface"),
            blank_to_null(pl.col("dir")).alias("pfsense_filterlog_direction"),
            blank_to_null(pl.col("reason")).alias("pfsense_filterlog_reason"),
            blank_to_null(pl.col("_pname")).str.to_lowercase().alias("pfsense_filterlog_protocol"),
            to_int(pl.coalesce(pl.col("len4"), pl.col("len6"))).alias("pfsense_filterlog_len"),
            pl.col("device").alias("pfsense_filterlog_device"),
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
