"""Zscaler Internet Access NSS DNS feed, as JSON lines (the Splunk/Cloud NSS shape).

``{"sourcetype":"zscalernss-dns","event":{"datetime":"Mon Nov 04 08:00:00 2024",
"user":"jdoe@corp.example","login":"jdoe@corp.example","clt_sip":"10.20.1.15",
"srv_dip":"8.8.8.8","srv_dport":"53","dns_req":"chatgpt.com","dns_reqtype":"A record",
"dns_resp":"104.18.32.47","reqaction":"REQ_ALLOW","resaction":"RES_ALLOW",
"dnsapp":"ChatGPT","category":"Generative AI",...}}`` (some feeds add ``"version":"v3"``).

A line is an event when it is a JSON object with ``sourcetype`` ``zscalernss-dns`` and a
readable ``event.datetime``. ``datetime`` has no zone: it is read in ``--timezone`` (NSS
feeds normally use UTC). ``dns_req`` is the query name and ``dns_reqtype``
(``AAAA record``) the type; ``dns_resp`` (an address, or a name for CNAME answers,
missing on some lines) becomes the one-element ``dns_answers``. The user is ``login``,
else ``user``; ``clt_sip`` is the client and ``srv_dip``/``srv_dport`` the DNS server. A
request or response action naming a block (``REQ_BLOCK``, ``Block``) -> ``blocked``; one
naming an allow -> ``allowed``; anything else ``unknown``. ``error`` is the response code
when it is one (``NXDOMAIN``). ``dnsapp`` goes in ``app``; the URL category and the device
host name are kept. The web feed (``zscalernss-web``) is ``zscaler_nss_web``.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._dns_codes import RCODE_NAMES, outcome_action
from shadowscan.parsers._dns_saas import answers_expr, saas_qtype_expr
from shadowscan.parsers._swg import JsonGatewayParser, int_value, no_value
from shadowscan.parsers.zscaler_nss_web import nss_time

SOURCETYPE = "zscalernss-dns"

FIELDS = {
    "_sourcetype": "sourcetype",
    "_time": "event/datetime",
    "_qname": "event/dns_req",
    "_qtype": "event/dns_reqtype",
    "_resp": "event/dns_resp",
    "_error": "event/error",
    "_login": "event/login",
    "_user": "event/user",
    "_src_ip": "event/clt_sip",
    "_dst_ip": "event/srv_dip",
    "_dst_port": "event/srv_dport",
    "_reqaction": "event/reqaction",
    "_resaction": "event/resaction",
    "_app": "event/dnsapp",
    "_category": "event/category",
    "_device": "event/devicehostname",
}
CHECK = {k: FIELDS[k] for k in ("_sourcetype", "_time")}


def is_event() -> pl.Expr:
    return (pl.col("_sourcetype") == SOURCETYPE) & nss_time(pl.col("_time"), "UTC").is_not_null()


def _has(word: str) -> pl.Expr:
    """Either action names ``word`` (any case)."""
    pattern = f"(?i){word}"
    return pl.any_horizontal(
        pl.col("_reqaction").str.contains(pattern).fill_null(False),
        pl.col("_resaction").str.contains(pattern).fill_null(False),
    )


@PARSERS.register("zscaler_nss_dns")
class ZscalerNssDnsParser(JsonGatewayParser):
    name = "zscaler_nss_dns"
    log_type = "dns"
    summary = "Zscaler NSS DNS feed as JSON lines (sourcetype zscalernss-dns)."
    example = (
        '{"sourcetype":"zscalernss-dns","event":{"datetime":"Mon Nov 04 08:00:00 2024",'
        '"login":"jdoe@corp.example","clt_sip":"10.20.1.15","srv_dip":"8.8.8.8","srv_dport":"53",'
        '"dns_req":"chatgpt.com","dns_reqtype":"A record","dns_resp":"104.18.32.47",'
        '"reqaction":"REQ_ALLOW","resaction":"RES_ALLOW","dnsapp":"ChatGPT",...}}'
    )
    fields = FIELDS
    check = CHECK
    marker = r'"zscalernss-dns"'
    product = "Zscaler NSS DNS feed lines"
    is_event = staticmethod(is_event)

    def events(self, raw: pl.DataFrame) -> pl.DataFrame:
        c = pl.col
        error = no_value(c("_error")).str.to_uppercase()
        return raw.select(
            c("line_no"),
            nss_time(c("_time"), self.context.timezone).alias("ts"),
            no_value(c("_src_ip")).alias("src_ip"),
            pl.coalesce(no_value(c("_login")), no_value(c("_user"))).alias("user"),
            host_expr(no_value(c("_qname"))).alias("host"),
            no_value(c("_dst_ip")).alias("dst_ip"),
            int_value(c("_dst_port"), pl.Int32()).alias("dst_port"),
            outcome_action(_has("block"), _has("allow")).alias("action"),
            no_value(c("_app")).alias("app"),
            saas_qtype_expr(c("_qtype")).alias("dns_qtype"),
            answers_expr(pl.concat_list(no_value(c("_resp")))).alias("dns_answers"),
            pl.when(error.is_in(sorted(RCODE_NAMES))).then(error).alias("dns_rcode"),
            no_value(c("_category")).alias("zscaler_nss_dns_category"),
            no_value(c("_device")).alias("zscaler_nss_dns_devicehostname"),
        )
