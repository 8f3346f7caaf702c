"""Cisco Meraki MX/MR ``flows`` and layer-3/layer-7 ``firewall`` events (syslog).

``<134>1 1730707200.123456789 MX68_HQ firewall src=10.20.1.15 dst=160.79.104.10 mac=3C:22:FB:10:AA:01 protocol=tcp sport=52144 dport=443 pattern: allow all``

``<PRI>1`` (optional; a relay may put a BSD time and its address in front), the time as
epoch seconds with nanoseconds, the device name, then the event type:

- ``flows`` (MX before 18.101, MR): ``flows [allow|deny] src= dst= [mac=] protocol=
  [sport= dport=|type=] [pattern: <rule>]``;
- ``firewall``, ``vpn_firewall``, ``cellular_firewall``,
  ``bridge_anyconnect_client_vpn_firewall`` (MX 18.101+): the same, always with
  ``pattern:``;
- ``l7_firewall``: ``src= dst= protocol= sport= dport= decision=blocked``.

``action``: the ``allow``/``deny`` word after ``flows``; else ``decision=``; else the rule
after ``pattern:``: ``allow ...`` / ``deny ...`` (also ``Group Policy Allow``), and for
inbound rules Meraki writes ``1`` for deny and ``0`` for allow (``pattern: 1 all``);
anything else is ``unknown``. The rule text is free (spaces, parentheses) and kept as
``meraki_flows_rule``. There are no users and no byte counts. Only these event types are
read: ``urls`` events of the same devices are the ``meraki_urls`` format.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS
from shadowscan.parsers._netfw import BSD_TS, blank_to_null, epoch_ns_ts
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, split_skipped, to_int

PATTERN = (
    rf"^(?:<\d{{1,3}}>)?(?:{BSD_TS}\s+)?(?:Original Address=)?(?:\d{{1,3}}(?:\.\d{{1,3}}){{3}}\s+)?"
    r"(?:1\s+)?"
    r"(?P<ts>\d{9,11})(?:\.(?P<frac>\d{1,9}))?\s+"
    r"(?P<device>\S+)\s+"
    r"(?P<event>flows|[a-z0-9_]*firewall)\s+"
    r"(?:(?P<op>allow|deny)\s+)?"
    r"src=(?P<src>[0-9A-Fa-f:.]+)\s+dst=(?P<dst>[0-9A-Fa-f:.]+)\s+"
    r"(?:mac=(?P<mac>\S+)\s+)?"
    r"protocol=(?P<proto>\S+)"
    r"(?:\s+sport=(?P<sport>\d{1,5}))?(?:\s+dport=(?P<dport>\d{1,5}))?"
    r"(?:\s+type=\d+)?"
    r"(?:\s+decision=(?P<decision>\S+))?"
    r"(?:\s+pattern:\s*(?P<pattern>.*?))?\s*$"
)


def _action() -> pl.Expr:
    op = pl.col("op")
    decision = pl.col("decision").str.to_lowercase()
    rule = pl.col("pattern").str.to_lowercase().str.strip_chars()
    rule_blocked = rule.str.contains(r"^(?:deny|1)(?:\s|$)|policy (?:deny|block)")
    rule_allowed = rule.str.contains(r"^(?:allow|0)(?:\s|$)|policy allow")
    return (
        pl.when(op == "allow")
        .then(pl.lit("allowed"))
        .when(op == "deny")
        .then(pl.lit("blocked"))
        .when(decision.str.contains(r"^(?:block|deny|drop)"))
        .then(pl.lit("blocked"))
        .when(decision.str.contains(r"^(?:allow|pass)"))
        .then(pl.lit("allowed"))
        .when(rule_blocked)
        .then(pl.lit("blocked"))
        .when(rule_allowed)
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
    )


@PARSERS.register("meraki_flows")
class MerakiFlowsParser(Parser):
    name = "meraki_flows"
    log_type = "firewall"
    summary = (
        "Cisco Meraki `flows`, `firewall` (L3, VPN, cellular) and `l7_firewall` syslog events."
    )
    example = (
        "<134>1 1730707200.123456789 MX68_HQ firewall src=10.20.1.15 dst=160.79.104.10 "
        "mac=3C:22:FB:10:AA:01 protocol=tcp sport=52144 dport=443 pattern: allow all"
    )
    line_pattern = PATTERN

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        ok = batch["line"].str.contains(PATTERN)
        fields = (
            batch.filter(ok)
            .select(pl.col("line_no"), pl.col("line").str.extract_groups(PATTERN).alias("f"))
            .unnest("f")
        )
        events = fields.select(
            pl.col("line_no"),
            epoch_ns_ts(pl.col("ts"), pl.col("frac")).alias("ts"),
            pl.col("src").alias("src_ip"),
            to_int(pl.col("sport"), pl.Int32()).alias("src_port"),
            pl.col("dst").alias("dst_ip"),
            to_int(pl.col("dport"), pl.Int32()).alias("dst_port"),
            _action().alias("action"),
            pl.col("event").alias("meraki_flows_event"),
            blank_to_null(pl.col("pattern")).alias("meraki_flows_rule"),
            pl.col("proto").str.to_lowercase().alias("meraki_flows_protocol"),
            pl.col("device").alias("meraki_flows_device"),
            pl.col("mac").alias("meraki_flows_mac"),
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
