"""AWS Route 53 Resolver query logs, as JSON lines (log ``version`` 1.100000).

``{"version":"1.100000","account_id":"...","region":"eu-west-1","vpc_id":"vpc-...",
"query_timestamp":"2024-11-04T08:00:00Z","query_name":"chatgpt.com.","query_type":"A",
"query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"104.18.32.47","Type":"A",
"Class":"IN"}],"srcaddr":"10.20.1.15","srcport":"51012","transport":"UDP",
"srcids":{"instance":"i-0abc..."}}``

A line is an event when it is a JSON object with a ``query_name`` and a readable
``query_timestamp`` (keys may come in any order). ``host`` is the query name without its
trailing dot (some names, such as ``ip6.arpa`` PTRs, are logged without one);
``dns_answers`` are the ``Rdata`` of the A, AAAA and CNAME answers, in order (PTR, MX, ...
answers are not addresses and are left out). ``srcaddr``/``srcport`` are the client.
Lines that DNS Firewall blocked carry ``firewall_rule_action: BLOCK`` (-> ``blocked``);
``REFUSED`` answers are blocked too, other answered queries ``allowed``. The EC2 instance
(``srcids.instance``), the VPC and the DNS Firewall domain list are kept.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._dns_codes import outcome_action
from shadowscan.parsers._dns_saas import answers_expr, saas_qtype_expr, saas_rcode_expr
from shadowscan.parsers._swg import JsonGatewayParser, int_value, no_value
from shadowscan.parsers.common import iso_ts

FIELDS = {
    "_ts": "query_timestamp",
    "_qname": "query_name",
    "_qtype": "query_type",
    "_rcode": "rcode",
    "_answers": "answers",
    "_src_ip": "srcaddr",
    "_src_port": "srcport",
    "_vpc": "vpc_id",
    "_instance": "srcids/instance",
    "_fw_action": "firewall_rule_action",
    "_fw_list": "firewall_domain_list_id",
}
CHECK = {k: FIELDS[k] for k in ("_ts", "_qname")}
#: Keys only Route 53 Resolver query logs write.
MARKER = r'"query_timestamp"\s*:'

_ANSWER_TYPES = r'"Type"\s*:\s*"(?:A|AAAA|CNAME)"'
_RDATA = r'"Rdata"\s*:\s*"((?:[^"\\]|\\.)*)"'


def is_event() -> pl.Expr:
    return pl.col("_qname").is_not_null() & iso_ts(pl.col("_ts")).is_not_null()


def answers(raw: pl.Expr) -> pl.Expr:
    """``[{"Rdata":"...","Type":"A","Class":"IN"},...]`` -> the A/AAAA/CNAME Rdata."""
    rdata = raw.str.extract_all(r"\{[^{}]*\}").list.eval(
        pl.element()
        .filter(pl.element().str.contains(_ANSWER_TYPES))
        .str.extract(_RDATA, 1)
        .str.replace_all(r"\\(.)", "$1")
        .drop_nulls()
    )
    return answers_expr(rdata)


@PARSERS.register("route53_resolver")
class Route53ResolverParser(JsonGatewayParser):
    name = "route53_resolver"
    log_type = "dns"
    summary = "AWS Route 53 Resolver query logs (JSON lines), with DNS Firewall actions."
    example = (
        '{"version":"1.100000","account_id":"123456789012","region":"eu-west-1",'
        '"vpc_id":"vpc-0a1b2c3d","query_timestamp":"2024-11-04T08:00:00Z",'
        '"query_name":"chatgpt.com.","query_type":"A","query_class":"IN","rcode":"NOERROR",'
        '"answers":[{"Rdata":"104.18.32.47","Type":"A","Class":"IN"}],'
        '"srcaddr":"10.20.1.15","srcport":"51012","transport":"UDP","srcids":{"instance":"i-0a1b2c3d4e5f60718"}}'
    )
    fields = FIELDS
    check = CHECK
    marker = MARKER
    product = "Route 53 Resolver query log records"
    is_event = staticmethod(is_event)

    def events(self, raw: pl.DataFrame) -> pl.DataFrame:
        c = pl.col
        rcode = saas_rcode_expr(c("_rcode"))
        fw = no_value(c("_fw_action")).str.to_uppercase()
        return raw.select(
            c("line_no"),
            iso_ts(c("_ts")).alias("ts"),
            no_value(c("_src_ip")).alias("src_ip"),
            int_value(c("_src_port"), pl.Int32()).alias("src_port"),
            host_expr(c("_qname")).alias("host"),
            outcome_action((fw == "BLOCK") | (rcode == "REFUSED"), rcode.is_not_null()).alias(
                "action"
            ),
            saas_qtype_expr(c("_qtype")).alias("dns_qtype"),
            answers(c("_answers")).alias("dns_answers"),
            rcode.alias("dns_rcode"),
            no_value(c("_instance")).alias("route53_resolver_instance"),
            no_value(c("_vpc")).alias("route53_resolver_vpc_id"),
            no_value(c("_fw_list")).alias("route53_resolver_firewall_domain_list"),
        )
