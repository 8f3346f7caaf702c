"""Zeek ``conn.log`` (one record per connection: TCP, UDP or ICMP, with the byte counts of
both directions), ASCII (TSV) writer with its ``#fields`` header.

``1730707262.008115	CMsGcXPYkUO1c0DIzO	10.20.1.15	52232	160.79.104.10	443	tcp	ssl	31.402116	18544	3987	SF	T	F	0	ShADadFf	38	20532	31	5611	-``

Header-driven (see :mod:`shadowscan.parsers._zeek`; btest baselines with masked ``ts``
parse with a null ``ts``). Zeek writes one record per connection when it ends, so there
is no start/end pair: ``ts`` is when the first packet was seen and ``duration`` (seconds,
kept as ``zeek_conn_duration``) how long it lasted.

Mapping: ``id.orig_h``/``id.orig_p`` -> ``src_ip``/``src_port`` (the originator: the side
that sent the first packet), ``id.resp_h``/``id.resp_p`` -> ``dst_ip``/``dst_port``;
``orig_bytes`` -> ``bytes_out`` and ``resp_bytes`` -> ``bytes_in`` (payload bytes, as Zeek
counts them from sequence numbers: unset for connections without payload analysis);
``orig_ip_bytes``/``resp_ip_bytes`` (bytes on the wire, IP headers included) are kept as
``zeek_conn_orig_ip_bytes``/``zeek_conn_resp_ip_bytes``; ``service`` (the protocols Zeek's
analysers found, e.g. ``ssl``, ``http``, ``dns``, comma-joined when several) -> ``app``
exactly as logged; ``proto`` -> ``zeek_conn_proto``; ``conn_state`` and ``history`` ->
``zeek_conn_state``/``zeek_conn_history``; ``uid`` -> ``zeek_uid`` (join to ``ssl.log``,
``http.log``, ``dns.log``). conn.log names no host: attribution is by ``dst_ip`` (an AI
service's published ranges, or addresses learned from DNS answers).

``action``: Zeek only observes, it never blocks, so the state says what happened on the
wire: ``REJ`` (the responder refused the attempt, TCP RST to the SYN) is ``blocked``; the
states of a connection that was established (``S1``, ``SF``, ``S2``, ``S3``, ``RSTO``,
``RSTR``) are ``allowed``; everything else (``S0``: attempt without reply, ``SH``,
``RSTOS0``, ``RSTRH``, ``SHR``, ``OTH``: midstream or one-sided traffic, unset) is
``unknown``. A silently dropped attempt looks like ``S0``, so it is not counted as blocked.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS
from shadowscan.parsers._zeek import CONN_ID_TYPES, ZeekLog, ZeekTsvParser

#: Connection states of an established connection (Zeek ``conn_state``).
ESTABLISHED_STATES = ("S1", "SF", "S2", "S3", "RSTO", "RSTR")
#: The responder refused the connection attempt.
REJECTED_STATES = ("REJ",)


def _text(name: str) -> pl.Expr:
    """A string field, null when unset or empty."""
    return pl.when(pl.col(name) != "").then(pl.col(name))


def conn_events(r: pl.DataFrame) -> pl.DataFrame:
    """Canonical events from typed ``conn.log`` records (TSV or JSON)."""
    state = pl.col("conn_state")
    return r.select(
        pl.col("line_no"),
        pl.col("ts"),
        pl.col("id.orig_h").alias("src_ip"),
        pl.col("id.orig_p").cast(pl.Int32, strict=False).alias("src_port"),
        pl.col("id.resp_h").alias("dst_ip"),
        pl.col("id.resp_p").cast(pl.Int32, strict=False).alias("dst_port"),
        pl.when(state.is_in(REJECTED_STATES))
        .then(pl.lit("blocked"))
        .when(state.is_in(ESTABLISHED_STATES))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
        .alias("action"),
        pl.col("orig_bytes").alias("bytes_out"),
        pl.col("resp_bytes").alias("bytes_in"),
        _text("service").alias("app"),
        pl.col("uid").alias("zeek_uid"),
        _text("proto").alias("zeek_conn_proto"),
        pl.col("duration").alias("zeek_conn_duration"),
        _text("conn_state").alias("zeek_conn_state"),
        _text("history").alias("zeek_conn_history"),
        pl.col("orig_ip_bytes").alias("zeek_conn_orig_ip_bytes"),
        pl.col("resp_ip_bytes").alias("zeek_conn_resp_ip_bytes"),
    )


CONN = ZeekLog(
    path="conn",
    types={
        **CONN_ID_TYPES,
        "proto": "enum",
        "service": "string",
        "duration": "interval",
        "orig_bytes": "count",
        "resp_bytes": "count",
        "conn_state": "string",
        "history": "string",
        "orig_ip_bytes": "count",
        "resp_ip_bytes": "count",
    },
    events=conn_events,
    # keys only conn.log has (http/ssl/dns/socks records have none of them); ``duration``
    # and ``service`` alone are generic (files.log, dce_rpc.log...)
    markers=(
        "conn_state",
        "history",
        "orig_bytes",
        "resp_bytes",
        "orig_ip_bytes",
        "resp_ip_bytes",
        "missed_bytes",
        "orig_pkts",
        "resp_pkts",
    ),
)


@PARSERS.register("zeek_conn")
class ZeekConnParser(ZeekTsvParser):
    name = "zeek_conn"
    log_type = "flow"
    summary = "Zeek conn.log (connections with byte counts, service and state), ASCII TSV with #fields header (btest baselines too)."
    example = "1730707262.008115\tCMsGcXPYkUO1c0DIzO\t10.20.1.15\t52232\t160.79.104.10\t443\ttcp\tssl\t31.402116\t18544\t3987\tSF\tT\tF\t0\tShADadFf\t38\t20532\t31\t5611\t-"
    log = CONN
