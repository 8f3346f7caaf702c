"""Google Cloud DNS query logs, as Cloud Logging ``LogEntry`` JSON lines
(``resource.type`` = ``dns_query``).

``{"insertId":"...","jsonPayload":{"authAnswer":false,"protocol":"UDP",
"queryName":"chatgpt.com.","queryType":"A","rdata":"chatgpt.com.\\t300\\tIN\\ta\\t104.18.32.47",
"responseCode":"NOERROR","sourceIP":"10.128.0.12","vmInstanceName":"...","vmProjectId":"..."},
"logName":"projects/p/logs/dns.googleapis.com%2Fdns_queries","resource":{"type":"dns_query",...},
"timestamp":"2024-11-04T08:00:00.123456789Z"}``

A line is an event when it is a JSON object with ``jsonPayload.queryName`` and a
readable ``timestamp`` (RFC 3339 with nanoseconds; ``receiveTimestamp`` when it is
missing). ``rdata`` holds the answer RRs as zone-file text (``name ttl class type data``,
tab-separated, one per line, type in lower case): the data of the A, AAAA and CNAME
records become ``dns_answers``. ``sourceIP`` is the client and ``destinationIP`` (set for
forwarded queries) the server. ``REFUSED`` answers are blocked, other answered queries
allowed. The VM instance name and its project are kept.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._dns_codes import outcome_action
from shadowscan.parsers._dns_saas import answers_expr, saas_qtype_expr, saas_rcode_expr
from shadowscan.parsers._swg import JsonGatewayParser, no_value
from shadowscan.parsers.common import iso_ts

FIELDS = {
    "_ts": "timestamp",
    "_rts": "receiveTimestamp",
    "_qname": "jsonPayload/queryName",
    "_qtype": "jsonPayload/queryType",
    "_rcode": "jsonPayload/responseCode",
    "_rdata": "jsonPayload/rdata",
    "_src_ip": "jsonPayload/sourceIP",
    "_dst_ip": "jsonPayload/destinationIP",
    "_vm": "jsonPayload/vmInstanceName",
    "_project": "jsonPayload/vmProjectId",
}
CHECK = {k: FIELDS[k] for k in ("_ts", "_rts", "_qname")}
#: Cloud DNS query logs name their resource type or their log.
MARKER = r'"dns_query"|dns\.googleapis\.com'

#: One RR of ``rdata``: ``name ttl class type data`` -> the data of A/AAAA/CNAME records.
_RR = r"^\s*\S+\s+\d+\s+\S+\s+(?i:a|aaaa|cname)\s+(\S+)\s*$"


def _ts() -> pl.Expr:
    return pl.coalesce(iso_ts(pl.col("_ts")), iso_ts(pl.col("_rts")))


def is_event() -> pl.Expr:
    return pl.col("_qname").is_not_null() & _ts().is_not_null()


def answers(rdata: pl.Expr) -> pl.Expr:
    """``"a.\\t300\\tIN\\tcname\\tb.\\nb.\\t300\\tIN\\ta\\t1.2.3.4"`` -> ``["b", "1.2.3.4"]``."""
    data = rdata.str.split("\n").list.eval(pl.element().str.extract(_RR, 1).drop_nulls())
    return answers_expr(data)


@PARSERS.register("gcp_cloud_dns")
class GcpCloudDnsParser(JsonGatewayParser):
    name = "gcp_cloud_dns"
    log_type = "dns"
    summary = "Google Cloud DNS query logs as Cloud Logging LogEntry JSON lines (resource.type dns_query)."
    example = (
        '{"insertId":"1x2y3z4a5b6c","jsonPayload":{"authAnswer":false,"protocol":"UDP",'
        '"queryName":"chatgpt.com.","queryType":"A","rdata":"chatgpt.com.\\t300\\tIN\\ta\\t104.18.32.47",'
        '"responseCode":"NOERROR","sourceIP":"10.128.0.12","vmInstanceName":"1234567890.build-01",'
        '"vmProjectId":"acme-prod"},"resource":{"type":"dns_query",...},'
        '"timestamp":"2024-11-04T08:00:00.123456789Z"}'
    )
    fields = FIELDS
    check = CHECK
    marker = MARKER
    product = "Cloud DNS query log entries"
    is_event = staticmethod(is_event)

    def events(self, raw: pl.DataFrame) -> pl.DataFrame:
        c = pl.col
        rcode = saas_rcode_expr(c("_rcode"))
        return raw.select(
            c("line_no"),
            _ts().alias("ts"),
            no_value(c("_src_ip")).alias("src_ip"),
            host_expr(c("_qname")).alias("host"),
            no_value(c("_dst_ip")).alias("dst_ip"),
            outcome_action(rcode == "REFUSED", rcode.is_not_null()).alias("action"),
            saas_qtype_expr(c("_qtype")).alias("dns_qtype"),
            answers(c("_rdata")).alias("dns_answers"),
            rcode.alias("dns_rcode"),
            no_value(c("_vm")).alias("gcp_cloud_dns_vm_instance"),
            no_value(c("_project")).alias("gcp_cloud_dns_vm_project"),
        )
