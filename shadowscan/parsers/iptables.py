"""Linux netfilter (iptables / nftables ``log``, UFW, UniFi) kernel log lines.

``Nov  4 08:00:00 gw01 kernel: [81234.567890] IPTABLES-DROP: IN=eth0 OUT= MAC=52:54:00:aa:bb:cc:52:54:00:dd:ee:ff:08:00 SRC=10.20.1.15 DST=160.79.104.10 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT=52144 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0``

A syslog header (BSD ``Mmm dd hh:mm:ss`` or an ISO time; optional ``<PRI>``), the host,
``kernel:`` (or RFC 5424 ``kernel - - -``) and the kernel's ``[uptime]`` (both optional),
then the rule's log prefix as configured (``IPTABLES-DROP:``, ``[UFW BLOCK]``, anything
without ``=``), then the kernel's tokens in their fixed order: ``IN= OUT=``, optional
``PHYSIN=``/``PHYSOUT=`` (bridges) and ``MAC=``, ``SRC= DST= LEN=``, the IP header fields,
``PROTO=`` and, for TCP/UDP, ``SPT= DPT=``.

UniFi gateways log without ``kernel:``, sometimes with the host name twice, and put the
rule id and a description before the tokens: ``[WAN_LOCAL-D-2147483647]
DESCR="[WAN_LOCAL]Block All Traffic"``; the letter in the rule id is the action (``A``
accept, ``D`` drop, ``R`` reject).

``action``: the UniFi letter where there is one, else words in the prefix (``DROP``,
``REJECT``, ``BLOCK``, ``DENY`` -> blocked; ``ACCEPT``, ``ALLOW``, ``PASS`` -> allowed),
else ``unknown``. Netfilter logs packets, not connections, and no byte counts: ``LEN`` is
the IP packet length, kept as ``iptables_len``. ``SRC``/``DST`` are the logged packet's
addresses (IPv6 ones, which the kernel writes in full, are compressed to the usual form). Times carry no zone (BSD header): they are read in ``--timezone``.

A line is rejected (unparsed) when the tokens do not follow the kernel's layout
(``XX=eth0`` instead of ``IN=``, no ``SRC``/``DST``/``PROTO``), as CrowdSec's parser does;
an interface name with a dot (``eth0.100``, VLAN sub-interfaces) is valid. Lines of other
programs in the same syslog file (``sshd[454]: ...``) and kernel messages without any
``key=value`` token are skipped.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._netfw import (
    BSD_TS,
    ISO_TS,
    blank_to_null,
    compress_ipv6,
    header_ts,
    sniff_among_skips,
    split_events,
    verdict,
)
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, to_int

_HEADER = (
    rf"^(?:<\d{{1,3}}>\d?\s*)?(?:(?P<bsd_ts>{BSD_TS})|(?P<iso_ts>{ISO_TS}))\s+"
    r"(?P<device>[^\s\[=:]+)\s+"
)
#: ``kernel:``, RFC 5424's ``kernel - - -``, or a repeated host name (UniFi) optionally
#: followed by ``kernel:``; then the kernel's uptime stamp.
_TAG = (
    r"(?:kernel(?:\[\d+\])?:\s*|kernel\s+\S+\s+\S+\s+(?:-|\[[^\]]*\])\s+|[^\s\[=:]+\s+(?:kernel:\s*)?)?"
    r"(?:\[\s*\d+\.\d+\]\s*)?"
)
_PREFIX = r'(?P<prefix>[^=]*?)(?:DESCR="(?P<descr>[^"]*)"\s*)?'
_TOKENS = (
    r"IN=(?P<in>\S*)\s+OUT=(?P<out>\S*)\s+"
    r"(?:PHYSIN=\S*\s+)?(?:PHYSOUT=\S*\s+)?(?:MAC=\S*\s+)?"
    r"SRC=(?P<src>[0-9A-Fa-f:.]+)\s+DST=(?P<dst>[0-9A-Fa-f:.]+)\s+LEN=(?P<len>\d+)\s+"
    r"(?:.*?\s)?PROTO=(?P<proto>[A-Za-z0-9\-]+)"
    r"(?:\s+SPT=(?P<spt>\d+)\s+DPT=(?P<dpt>\d+))?"
    r"(?:\s.*)?$"
)
PATTERN = _HEADER + _TAG + _PREFIX + _TOKENS

#: Blank lines; other programs' messages (``tag[pid]:``) and kernel messages with no
#: ``=`` at all (USB, link state...) in the same syslog file. Only consulted for lines
#: that do not match ``PATTERN``.
SKIP = (
    r"^\s*$"
    rf"|^(?:<\d{{1,3}}>\d?\s*)?(?:{BSD_TS}|{ISO_TS})\s+\S+\s+(?:\S+\s+)?[A-Za-z0-9_.()/\-]+\[\d+\]:\s"
    rf"|^(?:<\d{{1,3}}>\d?\s*)?(?:{BSD_TS}|{ISO_TS})\s+\S+\s+kernel:[^=]*$"
)

#: UniFi rule ids: ``[WAN_LOCAL-D-2147483647]``, ``[LAN_IN-2000-A]``, ``[WAN_IN-default-D]``.
_UNIFI_LETTER = r"\[[A-Za-z0-9_]+(?:-[^\]\s]*)?-([ADR])(?:-[^\]\s]*)?\]"


@PARSERS.register("iptables")
class IptablesParser(Parser):
    name = "iptables"
    log_type = "firewall"
    summary = (
        "Linux netfilter kernel log lines (iptables/nftables LOG, UFW, UniFi) in a syslog header."
    )
    example = (
        "Nov  4 08:00:00 gw01 kernel: [81234.567890] IPTABLES-DROP: IN=eth0 OUT= "
        "MAC=52:54:00:aa:bb:cc:52:54:00:dd:ee:ff:08:00 SRC=10.20.1.15 DST=160.79.104.10 LEN=60 "
        "TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT=52144 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0"
    )
    line_pattern = PATTERN
    skip_pattern = SKIP

    @classmethod
    def mismatch_reason(cls) -> str:
        return "not a netfilter log line (IN= OUT= [MAC=] SRC= DST= LEN= ... PROTO= in order)"

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        return sniff_among_skips(cls.name, lines, PATTERN, SKIP, "netfilter log lines")

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        ok, skipped = split_events(batch, PATTERN, SKIP)
        rejected = not_matching(batch, ok | skipped, self.mismatch_reason())
        fields = (
            batch.filter(ok)
            .select(pl.col("line_no"), pl.col("line").str.extract_groups(PATTERN).alias("f"))
            .unnest("f")
        )
        prefix = blank_to_null(pl.col("prefix"))
        unifi = pl.col("prefix").str.extract(_UNIFI_LETTER, 1)
        action = (
            pl.when(unifi == "A")
            .then(pl.lit("allowed"))
            .when(unifi.is_in(["D", "R"]))
            .then(pl.lit("blocked"))
            .otherwise(verdict(prefix))
        )
        events = fields.select(
            pl.col("line_no"),
            header_ts(pl.col("bsd_ts"), pl.col("iso_ts"), self.context).alias("ts"),
            compress_ipv6(pl.col("src")).alias("src_ip"),
            to_int(pl.col("spt"), pl.Int32()).alias("src_port"),
            compress_ipv6(pl.col("dst")).alias("dst_ip"),
            to_int(pl.col("dpt"), pl.Int32()).alias("dst_port"),
            action.alias("action"),
            prefix.alias("iptables_prefix"),
            blank_to_null(pl.col("descr")).alias("iptables_rule"),
            blank_to_null(pl.col("in")).alias("iptables_in"),
            blank_to_null(pl.col("out")).alias("iptables_out"),
            pl.col("proto").str.to_lowercase().alias("iptables_proto"),
            to_int(pl.col("len")).alias("iptables_len"),
            pl.col("device").alias("iptables_device"),
        )
        return ParsedBatch(events, rejected, int(skipped.sum()))
