"""Suricata EVE JSON (``eve.json``): one JSON object per line.

``{"timestamp":"2024-05-02T09:14:03.518233+0000","flow_id":1,"event_type":"tls","src_ip":"10.1.2.3","src_port":50514,"dest_ip":"104.18.33.45","dest_port":443,"proto":"TCP","tls":{"sni":"chatgpt.com","version":"TLS 1.3"}}``

``event_type`` says which sub-object carries the details: ``http`` (``hostname``, ``url``
as a path or, through a proxy, absolute; method, status, user agent, ``length``), ``tls``
and ``quic`` (``sni``), ``dns`` (``rrname``/``rrtype`` in EVE v1/v2, ``queries[0]`` in
v3; answers as v1 ``rdata``, v2/v3 ``answers[]`` or ``grouped``), ``flow`` (byte
counters), ``alert`` (signature; often with the ``http``/``tls``/``flow`` objects of the
flow it fired on). Every event type is read (``stats``, ``fileinfo``, ``ssh``... with what
they have), and each row gets its own ``log_type``: ``proxy`` for http/tls/quic/fileinfo,
``dns`` for dns, ``flow`` for the rest. Timestamps carry ``+0000``/``-0400`` offsets.
"""

from __future__ import annotations

import json

import polars as pl

from shadowscan.hosts import host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers.base import (
    ParsedBatch,
    Parser,
    Sniff,
    not_matching,
    split_skipped,
    to_int,
)
from shadowscan.parsers.common import iso_ts

#: Top-level keys read directly (name -> JSONPath; missing -> null).
_TOP = {
    "timestamp": "$.timestamp",
    "event_type": "$.event_type",
    "src_ip": "$.src_ip",
    "src_port": "$.src_port",
    "dest_ip": "$.dest_ip",
    "dest_port": "$.dest_port",
    "app_proto": "$.app_proto",
}
#: Sub-object -> {name: path inside it}. Each sub-object is cut out of the line once and
#: its fields read from that (much shorter) text: one full JSON parse per object, not per
#: field.
_NESTED: dict[str, dict[str, str]] = {
    "http": {
        "http_hostname": "$.hostname",
        "http_port": "$.http_port",
        "http_url": "$.url",
        "http_method": "$.http_method",
        "http_status": "$.status",
        "http_user_agent": "$.http_user_agent",
        "http_length": "$.length",
    },
    "tls": {"tls_sni": "$.sni"},
    "quic": {"quic_sni": "$.sni"},
    "dns": {
        "dns_type": "$.type",
        "dns_rrname": "$.rrname",
        "dns_rrtype": "$.rrtype",
        "dns_q_rrname": "$.queries[0].rrname",
        "dns_q_rrtype": "$.queries[0].rrtype",
        "dns_alert_rrname": "$.query[0].rrname",  # DNS metadata of alerts (6.x/7.x)
        "dns_rcode": "$.rcode",
        "dns_rdata": "$.rdata",
        "dns_answers": "$.answers",
        "dns_grouped_a": "$.grouped.A",
        "dns_grouped_aaaa": "$.grouped.AAAA",
        "dns_grouped_cname": "$.grouped.CNAME",
    },
    "flow": {
        "bytes_toserver": "$.bytes_toserver",
        "bytes_toclient": "$.bytes_toclient",
        "flow_action": "$.action",
    },
    "netflow": {"netflow_bytes": "$.bytes"},
    "alert": {"alert_action": "$.action", "alert_signature": "$.signature"},
}

#: DNS response codes by name (the ``status`` column holds the number for DNS rows).
_RCODES = {
    "NOERROR": 0,
    "FORMERR": 1,
    "SERVFAIL": 2,
    "NXDOMAIN": 3,
    "NOTIMP": 4,
    "REFUSED": 5,
    "YXDOMAIN": 6,
    "YXRRSET": 7,
    "NXRRSET": 8,
    "NOTAUTH": 9,
    "NOTZONE": 10,
}

#: Answer record types whose data is an address or a name.
_ANSWER_TYPES = r'"rrtype":"(?:A|AAAA|CNAME)"'
_JSON_STRING = r'"((?:[^"\\]|\\.)*)"'


def _ok(frame: pl.DataFrame) -> pl.Series:
    """The lines that are EVE events: a JSON object with ``event_type`` and a readable
    ``timestamp``. Shared by ``validate`` and ``parse`` so they agree exactly."""
    line = pl.col("line")
    # json_path_match is null for anything but a JSON object holding the key, so no
    # separate validity check (a whole-document parse) is needed.
    return frame.select(
        (
            line.str.json_path_match("$.event_type").is_not_null()
            & iso_ts(line.str.json_path_match("$.timestamp")).is_not_null()
        ).fill_null(False)
    ).to_series()


def _string_list(json_array: pl.Expr) -> pl.Expr:
    """``["a","b"]`` (JSON text) -> list of strings; null stays null."""
    return json_array.str.extract_all(_JSON_STRING).list.eval(
        pl.element().str.strip_prefix('"').str.strip_suffix('"')
    )


def _dns_answers() -> pl.Expr:
    """Addresses and names a DNS answer returned: v2/v3 ``answers[]`` (A, AAAA, CNAME
    records), else ``grouped``, else the v1 one-record-per-event ``rdata``."""
    records = (
        pl.col("dns_answers")
        .str.extract_all(r"\{[^{}]*\}")
        .list.eval(
            pl.element()
            .filter(pl.element().str.contains(_ANSWER_TYPES))
            .str.extract(r'"rdata":' + _JSON_STRING, 1)
            .drop_nulls()
        )
    )
    grouped = pl.concat_list(
        [
            _string_list(pl.col(c)).fill_null(pl.lit([], dtype=pl.List(pl.String)))
            for c in ("dns_grouped_a", "dns_grouped_aaaa", "dns_grouped_cname")
        ]
    )
    v1 = pl.when(
        pl.col("dns_rdata").is_not_null() & pl.col("dns_rrtype").is_in(["A", "AAAA", "CNAME"])
    ).then(pl.concat_list([pl.col("dns_rdata")]))
    non_empty = [pl.when(x.list.len() > 0).then(x) for x in (records, grouped, v1)]
    return pl.coalesce(non_empty)


def _action(raw: pl.Expr) -> pl.Expr:
    r = raw.str.to_lowercase()
    return (
        pl.when(r.is_in(["allowed", "allow", "pass", "accept"]))
        .then(pl.lit("allowed"))
        .when(r.is_in(["blocked", "block", "drop", "dropped", "reject", "rejected", "deny"]))
        .then(pl.lit("blocked"))
        .otherwise(pl.lit("unknown"))
    )


def suricata_events(fields: pl.DataFrame, tz: str = "UTC") -> pl.DataFrame:
    """Canonical columns from the extracted EVE fields."""
    et = pl.col("event_type")
    # http.url is a path for direct requests and absolute for proxied ones.
    full_url = (
        pl.when(pl.col("http_url").str.starts_with("/") & pl.col("http_hostname").is_not_null())
        .then(
            pl.concat_str(
                [
                    pl.lit("http://"),
                    pl.col("http_hostname"),
                    pl.when(pl.col("http_port").is_not_null() & (pl.col("http_port") != "80"))
                    .then(pl.format(":{}", pl.col("http_port")))
                    .otherwise(pl.lit("")),
                    pl.col("http_url"),
                ]
            )
        )
        .when(pl.col("http_url").str.contains(r"^[A-Za-z][A-Za-z0-9+.\-]*://"))
        .then(pl.col("http_url"))
    )
    frame = fields.with_columns(
        url_parts(full_url).alias("_u"),
        host_expr(
            pl.coalesce(
                pl.col("http_hostname"),
                pl.col("tls_sni"),
                pl.col("quic_sni"),
                pl.col("dns_rrname"),
                pl.col("dns_q_rrname"),
                pl.col("dns_alert_rrname"),
            )
        ).alias("host"),
    )
    return frame.select(
        pl.col("line_no"),
        iso_ts(pl.col("timestamp"), tz).alias("ts"),
        pl.when(et == "dns")
        .then(pl.lit("dns"))
        .when(et.is_in(["http", "tls", "quic", "fileinfo"]))
        .then(pl.lit("proxy"))
        .otherwise(pl.lit("flow"))
        .alias("log_type"),
        pl.col("src_ip"),
        to_int(pl.col("src_port"), pl.Int32()).alias("src_port"),
        pl.col("host"),
        pl.col("dest_ip").alias("dst_ip"),
        to_int(pl.col("dest_port"), pl.Int32()).alias("dst_port"),
        url_expr(pl.col("_u"), host_expr(pl.col("_u").struct.field("host"))).alias("url"),
        pl.col("http_method").str.to_uppercase().alias("method"),
        pl.coalesce(
            to_int(pl.col("http_status"), pl.Int32()),
            # the response code of answers only (v3 requests carry one too)
            pl.when(pl.col("dns_type").is_in(["answer", "response"])).then(
                pl.col("dns_rcode")
                .str.to_uppercase()
                .replace_strict(_RCODES, default=None, return_dtype=pl.Int32)
            ),
        ).alias("status"),
        _action(pl.coalesce(pl.col("alert_action"), pl.col("flow_action"))).alias("action"),
        # netflow records are one direction each: their bytes went from src to dest.
        pl.coalesce(to_int(pl.col("bytes_toserver")), to_int(pl.col("netflow_bytes"))).alias(
            "bytes_out"
        ),
        pl.coalesce(to_int(pl.col("bytes_toclient")), to_int(pl.col("http_length"))).alias(
            "bytes_in"
        ),
        pl.col("http_user_agent").alias("user_agent"),
        pl.col("app_proto").alias("app"),
        pl.coalesce(pl.col("dns_rrtype"), pl.col("dns_q_rrtype")).alias("dns_qtype"),
        _dns_answers().alias("dns_answers"),
        et.alias("suricata_eve_event_type"),
        pl.col("alert_signature").alias("suricata_eve_alert"),
    )


@PARSERS.register("suricata_eve")
class SuricataEveParser(Parser):
    name = "suricata_eve"
    log_type = "flow"
    summary = "Suricata EVE JSON (eve.json): http, tls, quic, dns, flow, alert and other events, log_type per row."
    example = '{"timestamp":"2024-05-02T09:14:03.518233+0000","event_type":"tls","src_ip":"10.1.2.3","src_port":50514,"dest_ip":"104.18.33.45","dest_port":443,"proto":"TCP","tls":{"sni":"chatgpt.com"}}'
    stateless = True

    @classmethod
    def validate(cls, text: pl.Series) -> pl.Series:
        return _ok(pl.DataFrame({"line": text}))

    @classmethod
    def mismatch_reason(cls) -> str:
        return "not a Suricata EVE event (JSON with event_type and timestamp)"

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        data = [ln for ln in lines if ln.strip()]
        if not data:
            return None
        # Lines of traffic events (with addresses) and stats records count; other JSON
        # (even with event_type and timestamp) does not, so no other JSON format is taken.
        hits = 0
        for ln in data:
            try:
                doc = json.loads(ln)
            except ValueError:
                continue
            if not (
                isinstance(doc, dict)
                and isinstance(doc.get("event_type"), str)
                and "timestamp" in doc
            ):
                continue
            if (
                "src_ip" in doc
                or "dest_ip" in doc
                or (doc["event_type"] == "stats" and isinstance(doc.get("stats"), dict))
            ):
                hits += 1
        if not hits:
            return None
        return Sniff(
            hits / len(data),
            f"{hits}/{len(data)} sample lines are EVE JSON (event_type, timestamp, src_ip/dest_ip or stats)",
        )

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        ok = _ok(batch)
        good = batch.filter(ok)
        line = pl.col("line")
        fields = good.select(
            pl.col("line_no"),
            *[line.str.json_path_match(path).alias(name) for name, path in _TOP.items()],
            *[line.str.json_path_match(f"$.{obj}").alias(f"_{obj}") for obj in _NESTED],
        ).with_columns(
            pl.col(f"_{obj}").str.json_path_match(path).alias(name)
            for obj, paths in _NESTED.items()
            for name, path in paths.items()
        )
        events = suricata_events(fields, self.context.timezone)
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
