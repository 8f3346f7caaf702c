"""Zeek ``ssl.log`` (TLS/DTLS handshakes), ASCII (TSV) writer with its ``#fields`` header.

``1730707260.514220	CqA8xB3mW0zT5nP2	10.20.1.15	52230	104.18.32.47	443	TLSv13	TLS_AES_128_GCM_SHA256	x25519	chatgpt.com	F	-	h2	T	...``

Header-driven (see :mod:`shadowscan.parsers._zeek`; btest baselines with masked ``ts``
parse with a null ``ts``). ``server_name`` (the SNI the client sent) -> ``host``; it is
``-`` or absent when the client sent none, and then ``host`` is null and only ``dst_ip``
(``id.resp_h``) identifies the server. ``zeek_ssl_version``, ``zeek_ssl_cipher`` and
``zeek_ssl_established`` keep the handshake outcome; ``action`` is ``allowed`` for an
established session and ``unknown`` otherwise (Zeek observes, it does not block).

ssl.log has no byte counts: join to ``conn.log`` on ``uid`` (kept as ``zeek_uid``) for
``orig_bytes``/``resp_bytes``.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._zeek import CONN_ID_TYPES, ZeekLog, ZeekTsvParser


def ssl_events(r: pl.DataFrame) -> pl.DataFrame:
    """Canonical events from typed ``ssl.log`` records (TSV or JSON)."""
    established = pl.col("established")
    return r.select(
        pl.col("line_no"),
        pl.col("ts"),
        pl.col("id.orig_h").alias("src_ip"),
        pl.col("id.orig_p").cast(pl.Int32, strict=False).alias("src_port"),
        host_expr(pl.col("server_name")).alias("host"),
        pl.col("id.resp_h").alias("dst_ip"),
        pl.col("id.resp_p").cast(pl.Int32, strict=False).alias("dst_port"),
        pl.when(established.fill_null(False))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
        .alias("action"),
        pl.col("uid").alias("zeek_uid"),
        pl.when(pl.col("version") != "").then(pl.col("version")).alias("zeek_ssl_version"),
        pl.when(pl.col("cipher") != "").then(pl.col("cipher")).alias("zeek_ssl_cipher"),
        established.alias("zeek_ssl_established"),
    )


SSL = ZeekLog(
    path="ssl",
    types={
        **CONN_ID_TYPES,
        "version": "string",
        "cipher": "string",
        "server_name": "string",
        "established": "bool",
    },
    events=ssl_events,
    markers=(
        "server_name",
        "established",
        "resumed",
        "ssl_history",
        "cert_chain_fps",
        "cert_chain_fuids",
        "validation_status",
    ),
    # quic.log has server_name too
    excluded=("client_initial_dcid", "client_scid", "client_protocol"),
)


@PARSERS.register("zeek_ssl")
class ZeekSslParser(ZeekTsvParser):
    name = "zeek_ssl"
    log_type = "proxy"
    summary = "Zeek ssl.log (TLS SNI), ASCII TSV with #fields header (btest baselines too)."
    example = "1730707260.514220\tCqA8xB3mW0zT5nP2\t10.20.1.15\t52230\t104.18.32.47\t443\tTLSv13\tTLS_AES_128_GCM_SHA256\tx25519\tchatgpt.com\tF\t-\th2\tT\tCsiI\t..."
    log = SSL
