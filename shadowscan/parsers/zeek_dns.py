"""Zeek ``dns.log`` (DNS queries and their answers as the sensor saw them), ASCII (TSV)
writer with its ``#fields`` header.

``1730707260.104311	CdN4nV1kR2bX7qT3	10.20.1.15	53211	10.20.0.53	53	udp	41872	0.012877	chatgpt.com	1	C_INTERNET	1	A	0	NOERROR	F	F	T	T	0	104.18.32.47,172.64.155.209	300.000000,300.000000	F``

Header-driven (see :mod:`shadowscan.parsers._zeek`; btest baselines with masked ``ts``
parse with a null ``ts``). Mapping: ``query`` -> ``host``; ``qtype_name`` -> ``dns_qtype``
(or the number ``qtype`` mapped to its name when only that is logged); ``rcode_name`` ->
``dns_rcode`` (unset for queries Zeek saw no reply to); ``answers`` (a vector, joined with
the set separator: addresses, CNAME/PTR/SRV targets, in answer order) -> ``dns_answers``
(TXT strings such as ``TXT 36 v=spf1 ...`` dropped; null when empty); ``id.orig_h``/``id.orig_p`` -> ``src_ip``/``src_port``
(the client), ``id.resp_h``/``id.resp_p`` -> ``dst_ip``/``dst_port`` (the resolver);
``uid`` -> ``zeek_uid`` (join to ``conn.log``); ``proto`` -> ``zeek_dns_proto``. Each
record is one query with its reply: a lookup (``dns_answer_only`` false) that also
carries its answers.

``action``: ``blocked`` for ``REFUSED`` or an answer that is only ``0.0.0.0``/``::``
(sinkholed), ``allowed`` for any other reply, ``unknown`` when no reply was seen. Zeek's
``rejected`` flag is not a block signal (it is set for any reply without answers, such as
NOERROR/NODATA for ``AAAA``) and is not used. Multicast and NetBIOS name lookups (mDNS
``*.local`` on port 5353, LLMNR on 5355, NetBIOS on 137) are ordinary events; they just
never match an AI service.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._dns_codes import answers_or_null, qtype_expr, rcode_action, rcode_expr
from shadowscan.parsers._zeek import CONN_ID_TYPES, ZeekLog, ZeekTsvParser


def dns_events(r: pl.DataFrame) -> pl.DataFrame:
    """Canonical events from typed ``dns.log`` records (TSV or JSON)."""
    rcode = pl.coalesce(
        rcode_expr(pl.col("rcode_name")), rcode_expr(pl.col("rcode").cast(pl.String))
    )
    # addresses and names; TXT strings (``TXT 36 v=spf1 ...``) are not answers to match on
    answers = answers_or_null(
        pl.col("answers").list.eval(pl.element().filter(~pl.element().str.contains(r"\s")))
    )
    return r.select(
        pl.col("line_no"),
        pl.col("ts"),
        pl.col("id.orig_h").alias("src_ip"),
        pl.col("id.orig_p").cast(pl.Int32, strict=False).alias("src_port"),
        host_expr(pl.col("query")).alias("host"),
        pl.col("id.resp_h").alias("dst_ip"),
        pl.col("id.resp_p").cast(pl.Int32, strict=False).alias("dst_port"),
        rcode_action(rcode, pl.col("answers")).alias("action"),
        pl.coalesce(
            qtype_expr(pl.col("qtype_name")), qtype_expr(pl.col("qtype").cast(pl.String))
        ).alias("dns_qtype"),
        answers.alias("dns_answers"),
        rcode.alias("dns_rcode"),
        pl.lit(False).alias("dns_answer_only"),
        pl.col("uid").alias("zeek_uid"),
        pl.when(pl.col("proto") != "").then(pl.col("proto")).alias("zeek_dns_proto"),
    )


DNS = ZeekLog(
    path="dns",
    types={
        **CONN_ID_TYPES,
        "proto": "string",
        "query": "string",
        "qtype": "count",
        "qtype_name": "string",
        "rcode": "count",
        "rcode_name": "string",
        "answers": "vector[string]",
    },
    events=dns_events,
    # keys only dns.log has (``trans_id`` is in dhcp.log too, ``qtype`` alone is generic);
    # the header flags identify replies to question-less packets (NetBIOS) too
    markers=("query", "qtype_name", "qclass_name", "rcode_name", "AA", "RD", "RA"),
)


@PARSERS.register("zeek_dns")
class ZeekDnsParser(ZeekTsvParser):
    name = "zeek_dns"
    log_type = "dns"
    summary = "Zeek dns.log (queries and answers seen on the wire), ASCII TSV with #fields header (btest baselines too)."
    example = "1730707260.104311\tCdN4nV1kR2bX7qT3\t10.20.1.15\t53211\t10.20.0.53\t53\tudp\t41872\t0.012877\tchatgpt.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t104.18.32.47,172.64.155.209\t300.000000,300.000000\tF"
    log = DNS
