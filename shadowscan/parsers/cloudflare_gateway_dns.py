"""Cloudflare Zero Trust Gateway DNS queries, as Logpush JSON lines (``gateway_dns``).

``{"Datetime":"2024-11-04T08:00:00Z","Email":"jdoe@corp.example","DeviceName":"LT-JDOE-01",
"QueryName":"chatgpt.com","QueryType":1,"QueryTypeName":"A","RCode":0,
"ResolvedIPs":["104.18.32.47"],"ResolverDecision":"allowedOnNoPolicyMatch",
"SrcIP":"203.0.113.40","SrcPort":0,"DstIP":"172.64.36.1","DstPort":53,...}``

``Datetime`` comes as RFC 3339, or as epoch seconds or nanoseconds (the Logpush
``timestamp_format`` option), as in ``cloudflare_gateway_http``. A line is an event when
it is a JSON object with a ``QueryName`` and a readable ``Datetime``. ``dns_qtype`` is
``QueryTypeName``, else the number ``QueryType`` by name; ``RCode`` (a number) becomes its
name. ``dns_answers`` are the intermediate ``CNAMEs`` (newer jobs) then ``ResolvedIPs``;
the wire-format ``RData`` is not decoded. ``ResolverDecision`` (a name or its number)
gives the action: ``blocked*`` (2, 3, 6, 9) and ``overrideApplied`` (8, the answer was
rewritten) -> blocked; ``allowed*`` (1, 4, 5, 10) and ``overrideForSafeSearch`` (7) ->
allowed; others unknown. Port 0 (not seen) is null. The device name, the matched
categories and the decision (by name) are kept. The HTTP dataset (``HTTPHost``...) is
``cloudflare_gateway_http``.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._dns_saas import (
    answers_expr,
    json_string_array,
    saas_qtype_expr,
    saas_rcode_expr,
)
from shadowscan.parsers._swg import JsonGatewayParser, int_value, list_text, no_value
from shadowscan.parsers.cloudflare_gateway_http import gateway_ts

FIELDS = {
    "_datetime": "Datetime",
    "_qname": "QueryName",
    "_qtype_name": "QueryTypeName",
    "_qtype": "QueryType",
    "_rcode": "RCode",
    "_ips": "ResolvedIPs",
    "_cnames": "CNAMEs",
    "_src_ip": "SrcIP",
    "_src_port": "SrcPort",
    "_dst_ip": "DstIP",
    "_dst_port": "DstPort",
    "_email": "Email",
    "_device": "DeviceName",
    "_decision": "ResolverDecision",
    "_categories": "MatchedCategoryNames",
}
CHECK = {k: FIELDS[k] for k in ("_datetime", "_qname")}
#: Keys only Gateway DNS logs carry (the HTTP dataset has HTTPHost instead).
MARKER = r'"(?:QueryName|QueryTypeName|ResolverDecision|ResolvedIPs)"\s*:'

#: ``ResolverDecision`` numbers (older jobs and the GraphQL API) -> names.
DECISIONS = {
    "0": "unknown",
    "1": "allowedByQueryName",
    "2": "blockedByQueryName",
    "3": "blockedByCategory",
    "4": "allowedOnNoLocation",
    "5": "allowedOnNoPolicyMatch",
    "6": "blockedAlwaysCategory",
    "7": "overrideForSafeSearch",
    "8": "overrideApplied",
    "9": "blockedRule",
    "10": "allowedRule",
}


def is_event() -> pl.Expr:
    return pl.col("_qname").is_not_null() & gateway_ts(pl.col("_datetime")).is_not_null()


def decision(raw: pl.Expr) -> pl.Expr:
    """``ResolverDecision`` by name (numbers are translated)."""
    d = no_value(raw)
    return d.replace_strict(DECISIONS, default=d, return_dtype=pl.String)


def decision_action(name: pl.Expr) -> pl.Expr:
    """``blocked*`` and ``overrideApplied`` (the answer was rewritten) -> blocked;
    ``allowed*`` and ``overrideForSafeSearch`` (the safe variant is served) -> allowed."""
    d = name.str.to_lowercase()
    return (
        pl.when(d.str.starts_with("blocked") | d.is_in(["overrideapplied", "overriderule"]))
        .then(pl.lit("blocked"))
        .when(d.str.starts_with("allowed") | (d == "overrideforsafesearch"))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
    )


def _port(raw: pl.Expr) -> pl.Expr:
    port = int_value(raw, pl.Int32())
    return pl.when(port > 0).then(port)


@PARSERS.register("cloudflare_gateway_dns")
class CloudflareGatewayDnsParser(JsonGatewayParser):
    name = "cloudflare_gateway_dns"
    log_type = "dns"
    summary = (
        "Cloudflare Zero Trust Gateway DNS Logpush JSON lines (Datetime as RFC 3339 or epoch)."
    )
    example = (
        '{"Datetime":"2024-11-04T08:00:00Z","DeviceName":"LT-JDOE-01","Email":"jdoe@corp.example",'
        '"QueryName":"chatgpt.com","QueryType":1,"QueryTypeName":"A","RCode":0,'
        '"ResolvedIPs":["104.18.32.47"],"ResolverDecision":"allowedOnNoPolicyMatch",'
        '"SrcIP":"203.0.113.40",...}'
    )
    fields = FIELDS
    check = CHECK
    marker = MARKER
    product = "Cloudflare Gateway DNS records"
    is_event = staticmethod(is_event)

    def events(self, raw: pl.DataFrame) -> pl.DataFrame:
        c = pl.col
        answers = pl.concat_list(json_string_array(c("_cnames")), json_string_array(c("_ips")))
        return raw.with_columns(decision(c("_decision")).alias("_decision_name")).select(
            c("line_no"),
            gateway_ts(c("_datetime")).alias("ts"),
            no_value(c("_src_ip")).alias("src_ip"),
            _port(c("_src_port")).alias("src_port"),
            no_value(c("_email")).alias("user"),
            host_expr(no_value(c("_qname"))).alias("host"),
            no_value(c("_dst_ip")).alias("dst_ip"),
            _port(c("_dst_port")).alias("dst_port"),
            decision_action(c("_decision_name")).alias("action"),
            pl.coalesce(saas_qtype_expr(c("_qtype_name")), saas_qtype_expr(c("_qtype"))).alias(
                "dns_qtype"
            ),
            answers_expr(answers).alias("dns_answers"),
            saas_rcode_expr(c("_rcode")).alias("dns_rcode"),
            no_value(c("_device")).alias("cloudflare_gateway_dns_device"),
            list_text(c("_categories")).alias("cloudflare_gateway_dns_categories"),
            c("_decision_name").alias("cloudflare_gateway_dns_decision"),
        )
