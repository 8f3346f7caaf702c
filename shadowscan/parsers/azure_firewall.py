"""Azure Firewall diagnostic logs (one JSON object per line, as archived to a storage
account or exported from Event Hubs).

Structured (resource-specific) categories::

    {"category": "AZFWApplicationRule", "time": "2024-11-04T08:00:00.1234567Z", "resourceId": ".../AZUREFIREWALLS/FW-HUB", "properties": {"SourceIp": "10.20.1.15", "SourcePort": 52144, "DestinationPort": 443, "Protocol": "HTTPS", "Fqdn": "chatgpt.com", "TargetUrl": "", "Action": "Allow", "WebCategory": "ArtificialIntelligence", "Policy": "...", "RuleCollectionGroup": "...", "RuleCollection": "...", "Rule": "..."}}

``AZFWApplicationRule`` (``Fqdn``, ``TargetUrl`` when TLS inspection shows it,
``WebCategory``), ``AZFWNetworkRule`` (``DestinationIp``), ``AZFWNatRule`` (``TranslatedIp``/
``TranslatedPort``) and ``AZFWThreatIntel`` (``ThreatDescription``). Numbers come as JSON
numbers (sometimes after extra whitespace) or strings.

Legacy categories ``AzureFirewallApplicationRule`` / ``AzureFirewallNetworkRule`` put
everything in the free text ``properties.msg``::

    HTTPS request from 10.0.2.4:56029 to chatgpt.com:443. Action: Deny. No rule matched. Proceeding with default action
    HTTP  request from 10.0.0.1:50776 to ocsp.example.com:80. Url: ocsp.example.com/a. Action: Allow. Policy: p. Rule Collection Group: g. Rule Collection: c. Rule: r. Web Category: w
    TCP request from 10.0.0.4:54321 to 20.1.2.3:443. Action: Allow. Rule Collection: c. Rule: r
    HTTPS request from 10.0.0.1:6065. Action: Deny. Reason: SNI TLS extension was missing.
    TCP request from 1.2.3.4:53836 to 20.1.2.3:3389 was DNAT'ed to 10.0.0.4:3389

Mapping: the target of a legacy message -> ``host`` when it is a name, ``dst_ip`` when it
is an address (application rules keep an address in ``host`` too, as a web proxy would);
``Fqdn`` (else the ``TargetUrl`` host) -> ``host``, ``DestinationIp`` -> ``dst_ip``; a ``Url:`` / ``TargetUrl`` ->
``url`` (scheme from the protocol). DNAT: the translated (real) destination is
``dst_ip``/``dst_port``, and the action is ``allowed``. ``Action``: ``Allow`` -> allowed,
``Deny``/``Drop`` -> blocked, ``Alert`` (threat intelligence and IDPS in alert-only mode,
which let the traffic through) -> allowed. No users and no byte counts are logged. Other
categories (DNS proxy, IDPS signatures, aggregations) are not read.
"""

from __future__ import annotations

from typing import ClassVar

import polars as pl

from shadowscan.hosts import host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers._netfw import blank_to_null, verdict
from shadowscan.parsers._swg import JsonGatewayParser
from shadowscan.parsers.base import to_int
from shadowscan.parsers.common import iso_ts

LEGACY = ("AzureFirewallApplicationRule", "AzureFirewallNetworkRule")
STRUCTURED = ("AZFWApplicationRule", "AZFWNetworkRule", "AZFWNatRule", "AZFWThreatIntel")
APPLICATION = ("AzureFirewallApplicationRule", "AZFWApplicationRule", "AZFWThreatIntel")

#: The head of a legacy ``msg``: protocol, source, optional target.
MSG = (
    r"^(?P<proto>[A-Za-z0-9\-]+)(?:\s+Type=\d+)?\s+request from "
    r"(?P<src>[0-9A-Fa-f.:]+?)(?::(?P<sport>\d{1,5}))?"
    r"(?:\s+to (?P<dst>[^\s:]+?)(?::(?P<dport>\d{1,5}))?)?"
    r"(?:\.\s|\.?$|\s+was\s)"
)
_MSG_HEAD = r"^[A-Za-z0-9\-]+(?:\s+Type=\d+)?\s+request from [0-9A-Fa-f.:]"


def _after(label: str) -> str:
    """The value after ``Label: `` in a legacy message, up to ``. `` or the end."""
    return rf"(?:^|\.\s+){label}:\s+(.+?)(?:\.\s|\.?$)"


_URL = r"Url:\s+(\S+?)\.?(?:\s|$)"
_ACTION = r"Action:\s+([A-Za-z]+)"
_DNAT = r"was DNAT'ed to ([0-9A-Fa-f.:]+?)(?::(\d{1,5}))?(?:\.\s|\.?$|\s)"
_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"


def _action(raw: pl.Expr) -> pl.Expr:
    return verdict(raw, allowed=r"(?i)^(?:allow|alert|dnat)")


@PARSERS.register("azure_firewall")
class AzureFirewallParser(JsonGatewayParser):
    name = "azure_firewall"
    log_type = "firewall"
    summary = (
        "Azure Firewall diagnostic logs as JSON lines: structured `AZFW*` rule categories "
        "and the legacy free-text `AzureFirewall*Rule` messages."
    )
    example = (
        '{"category": "AZFWApplicationRule", "time": "2024-11-04T08:00:00.1234567Z", '
        '"properties": {"SourceIp": "10.20.1.15", "SourcePort": 52144, "DestinationPort": 443, '
        '"Protocol": "HTTPS", "Fqdn": "chatgpt.com", "Action": "Allow", "WebCategory": '
        '"ArtificialIntelligence", "Rule": "allow-ai"}}'
    )
    product = "Azure Firewall rule log records"
    marker = r'"category"\s*:\s*"(?:AzureFirewall|AZFW)'
    check: ClassVar[dict[str, str]] = {
        "_category": "category",
        "_time": "time",
        "_msg": "properties/msg",
        "_sip": "properties/SourceIp",
    }
    fields: ClassVar[dict[str, str]] = {
        **check,
        "_resource": "resourceId",
        "_sport": "properties/SourcePort",
        "_dip": "properties/DestinationIp",
        "_dport": "properties/DestinationPort",
        "_proto": "properties/Protocol",
        "_act": "properties/Action",
        "_fqdn": "properties/Fqdn",
        "_target": "properties/TargetUrl",
        "_webcat": "properties/WebCategory",
        "_policy": "properties/Policy",
        "_collection": "properties/RuleCollection",
        "_rule": "properties/Rule",
        "_nat_ip": "properties/TranslatedIp",
        "_nat_port": "properties/TranslatedPort",
        "_threat": "properties/ThreatDescription",
    }

    @staticmethod
    def is_event() -> pl.Expr:
        category = pl.col("_category")
        legacy = category.is_in(LEGACY) & pl.col("_msg").str.contains(_MSG_HEAD)
        structured = category.is_in(STRUCTURED) & (
            pl.col("_sip").str.strip_chars().str.len_chars() > 0
        )
        return (legacy | structured) & pl.col("_time").str.contains(_TIME)

    def events(self, raw: pl.DataFrame) -> pl.DataFrame:
        msg = pl.col("_msg")
        legacy = raw.filter(pl.col("_category").is_in(LEGACY)).with_columns(
            msg.str.extract_groups(MSG).alias("_m")
        )
        legacy = legacy.select(
            pl.col("line_no"),
            pl.col("_category"),
            pl.col("_time"),
            pl.col("_resource"),
            pl.col("_m").struct.field("proto").alias("_proto"),
            pl.col("_m").struct.field("src").alias("_src"),
            pl.col("_m").struct.field("sport").alias("_sport"),
            pl.col("_m").struct.field("dst").alias("_target_host"),
            pl.col("_m").struct.field("dport").alias("_dport"),
            msg.str.extract(_URL, 1).alias("_url"),
            msg.str.extract(_ACTION, 1).alias("_act"),
            msg.str.extract(_after("Web Category"), 1).alias("_webcat"),
            msg.str.extract(_after("Policy"), 1).alias("_policy"),
            msg.str.extract(_after("Rule Collection"), 1).alias("_collection"),
            msg.str.extract(_after("Rule"), 1).alias("_rule"),
            msg.str.extract(_DNAT, 1).alias("_nat_ip"),
            msg.str.extract(_DNAT, 2).alias("_nat_port"),
            msg.str.extract(_after("ThreatIntel"), 1).alias("_threat"),
        )
        target_url = pl.when(pl.col("_target").str.contains(r"[./]")).then(pl.col("_target"))
        structured = raw.filter(pl.col("_category").is_in(STRUCTURED)).select(
            pl.col("line_no"),
            pl.col("_category"),
            pl.col("_time"),
            pl.col("_resource"),
            pl.col("_proto"),
            pl.col("_sip").alias("_src"),
            pl.col("_sport"),
            pl.coalesce(
                blank_to_null(pl.col("_fqdn")),
                url_parts(target_url).struct.field("host"),
            ).alias("_target_host"),
            pl.col("_dip"),
            pl.col("_dport"),
            target_url.alias("_url"),
            pl.col("_act"),
            pl.col("_webcat"),
            pl.col("_policy"),
            pl.col("_collection"),
            pl.col("_rule"),
            pl.col("_nat_ip"),
            pl.col("_nat_port"),
            pl.col("_threat"),
        )
        frame = pl.concat([legacy, structured], how="diagonal_relaxed").sort("line_no")
        is_app = pl.col("_category").is_in(APPLICATION)
        target = blank_to_null(pl.col("_target_host"))
        target_is_ip = target.str.contains(r"^[0-9.]+$|:")
        proto = pl.col("_proto").str.strip_chars().str.to_lowercase()
        scheme = pl.when(proto.is_in(["http", "https"])).then(proto).otherwise(pl.lit("http"))
        frame = frame.with_columns(
            pl.when(is_app | ~target_is_ip).then(host_expr(target)).alias("host"),
            url_parts(blank_to_null(pl.col("_url"))).alias("_u"),
            pl.coalesce(
                blank_to_null(pl.col("_nat_ip")),
                blank_to_null(pl.col("_dip")),
                pl.when(target_is_ip).then(target),
            ).alias("dst_ip"),
        )
        nat = blank_to_null(pl.col("_nat_ip")).is_not_null()
        return frame.select(
            pl.col("line_no"),
            iso_ts(pl.col("_time")).alias("ts"),
            blank_to_null(pl.col("_src")).alias("src_ip"),
            to_int(pl.col("_sport").str.strip_chars(), pl.Int32()).alias("src_port"),
            pl.col("host"),
            pl.col("dst_ip"),
            to_int(
                pl.coalesce(blank_to_null(pl.col("_nat_port")), pl.col("_dport").str.strip_chars()),
                pl.Int32(),
            ).alias("dst_port"),
            url_expr(pl.col("_u"), host_expr(pl.col("_u").struct.field("host")), scheme).alias(
                "url"
            ),
            pl.when(nat).then(pl.lit("allowed")).otherwise(_action(pl.col("_act"))).alias("action"),
            pl.col("_category").alias("azure_firewall_category"),
            blank_to_null(pl.col("_proto")).alias("azure_firewall_protocol"),
            blank_to_null(pl.col("_rule")).alias("azure_firewall_rule"),
            blank_to_null(pl.col("_collection")).alias("azure_firewall_rule_collection"),
            blank_to_null(pl.col("_policy")).alias("azure_firewall_policy"),
            blank_to_null(pl.col("_webcat")).alias("azure_firewall_web_category"),
            blank_to_null(pl.col("_threat")).alias("azure_firewall_threat"),
            pl.col("_resource").str.extract(r"/([^/]+)$", 1).alias("azure_firewall_name"),
        )
