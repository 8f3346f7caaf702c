"""Windows DNS Server analytical events (``Microsoft-Windows-DNSServer/Analytical``,
event IDs 256-290) exported as JSON lines by Winlogbeat/Elastic Agent (ETW input), NXLog
or evtx_dump::

    {"@timestamp":"2024-11-04T08:00:00.120Z","event":{"code":"256"},"winlog":{"computer_name":"DC01.corp.example","event_data":{"QNAME":"chatgpt.com.","QTYPE":"1","Source":"10.20.1.15","Port":"52114","InterfaceIP":"10.20.0.53","TCP":"0","XID":"4411",...}}}
    {"EventTime":"2024-11-04 09:00:00","Hostname":"DC01.corp.example","EventID":256,"QNAME":"chatgpt.com.","QTYPE":"1","Source":"10.20.1.15",...}

The event id is ``winlog.event_id``, ``event.code`` (ETW input), ``EventID`` (NXLog) or
``Event.System.EventID``; the values are under ``winlog.event_data`` or top-level (see
:mod:`shadowscan.parsers._winevent`). Time: ``@timestamp``/``TimeCreated`` (UTC or with
an offset), else NXLog's ``EventTime`` in ``--timezone``; a record without either has a
null ``ts``.

**Which records are events.** The server logs a lookup as ``QUERY_RECEIVED`` (256)
and its outcome as ``RESPONSE_SUCCESS`` (257), ``RESPONSE_FAILURE`` (258) or
``IGNORED_QUERY`` (259), plus recursion events (260-262) when it asks a forwarder.

- 256 is the lookup (``dns_answer_only`` false): ``Source``/``Port`` ->
  ``src_ip``/``src_port`` (the client), ``action`` ``unknown``, ``dns_rcode`` null. Zone
  transfer requests received (``IXFR_REQ_RECV`` 266, ``AXFR_REQ_RECV`` 270) are lookups
  too (``dns_qtype`` ``IXFR``/``AXFR`` when ``QTYPE`` is absent).
- 257, 258 and 259 are answer-only events (``dns_answer_only`` true, never counted as
  lookups) for the same client (``Destination``, or ``Source`` for 259): ``RCODE`` ->
  ``dns_rcode`` (257/258); ``action`` ``blocked`` for ``REFUSED``, for a failure or an
  ignored query with a DNS policy named in ``PolicyName``, ``allowed`` for other answers,
  ``unknown`` for 259 without a policy. The answer's addresses are only in the hex
  ``PacketData`` (not decoded: ``dns_answers`` null).

Recursion, dynamic-update, zone-transfer response and notify events are parsed (counted)
but not events. Mapping: ``QNAME`` (trailing dot) -> ``host``; ``QTYPE`` (a number) ->
``dns_qtype`` by name; ``InterfaceIP`` -> ``dst_ip`` (null for ``0.0.0.0``);
``windows_dns_analytical_event_id`` keeps the id, ``windows_dns_analytical_policy`` the
policy, ``windows_dns_analytical_protocol`` ``UDP``/``TCP`` and
``windows_dns_analytical_server`` the DNS server's name.

A line is this format when it is a JSON object with an event id of 256-290 and a
``QNAME`` key or the ``Microsoft-Windows-DNSServer`` provider name (audit events, 513+,
are not).
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._dns_codes import qtype_expr, rcode_action, rcode_expr
from shadowscan.parsers._winevent import event_columns, nonempty
from shadowscan.parsers.base import ParsedBatch, Parser, Sniff, not_matching, split_skipped
from shadowscan.parsers.common import json_valid

_ANALYTICAL_ID = r"(?:25[6-9]|2[6-8][0-9]|290)"
_ID_KEY = (
    r'"(?:EventID|EventId|event_id|eventID|code|#text)"\s*:\s*"?' + _ANALYTICAL_ID + r'"?\s*[,}]'
)
_MARKER = r'"QNAME"\s*:|Microsoft-Windows-DNSServer'
#: Event ids that are requests from a client: QUERY_RECEIVED, IXFR_REQ_RECV, AXFR_REQ_RECV.
_REQUESTS = {256: None, 266: "IXFR", 270: "AXFR"}
#: RESPONSE_SUCCESS, RESPONSE_FAILURE, IGNORED_QUERY: the outcome of a client's query.
_ANSWERS = (257, 258, 259)
_DATA = {
    "qname": "QNAME",
    "qtype": "QTYPE",
    "source": "Source",
    "destination": "Destination",
    "port": "Port",
    "interface": "InterfaceIP",
    "tcp": "TCP",
    "rcode": "RCODE",
    "policy": "PolicyName",
}


def is_record(text: pl.Series) -> pl.Series:
    valid = json_valid(text)
    assert isinstance(valid, pl.Series)
    return (
        valid.fill_null(False)
        & text.str.contains(_ID_KEY).fill_null(False)
        & text.str.contains(_MARKER).fill_null(False)
    )


@PARSERS.register("windows_dns_analytical")
class WindowsDnsAnalyticalParser(Parser):
    name = "windows_dns_analytical"
    log_type = "dns"
    summary = "Windows DNS Server analytical events (ETW/Analytical channel) as JSON lines from Winlogbeat, NXLog or evtx_dump: QUERY_RECEIVED as lookups, responses as answer-only rows."
    example = '{"@timestamp":"2024-11-04T08:00:00.120Z","event":{"code":"256","provider":"Microsoft-Windows-DNSServer"},"winlog":{"computer_name":"DC01.corp.example","event_data":{"QNAME":"chatgpt.com.","QTYPE":"1","Source":"10.20.1.15","Port":"52114","InterfaceIP":"10.20.0.53","TCP":"0","XID":"4411","RD":"1"}}}'
    stateless = True
    priority = 5

    @classmethod
    def mismatch_reason(cls) -> str:
        return "not a Windows DNS Server analytical event (JSON)"

    @classmethod
    def validate(cls, text: pl.Series) -> pl.Series:
        return is_record(text)

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        data = [ln for ln in lines if ln.strip()]
        if not data:
            return None
        hits = int(is_record(pl.Series(data, dtype=pl.String)).sum())
        if not hits:
            return None
        return Sniff(
            hits / len(data),
            f"{hits}/{len(data)} sample lines are DNS Server analytical events (QNAME, event id 256-290)",
        )

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        ok = is_record(batch["line"])
        records = event_columns(batch.filter(ok), _DATA, self.context.timezone)
        eid = pl.col("_event_id")
        rows = records.filter(eid.is_in([*_REQUESTS, *_ANSWERS]))
        answer = eid.is_in(list(_ANSWERS))
        interface = nonempty(pl.col("_interface"))
        port = pl.col("_port").cast(pl.Int32, strict=False)
        transfer = eid.replace_strict(_REQUESTS, default=None, return_dtype=pl.String)
        rcode = pl.when(eid.is_in([257, 258])).then(rcode_expr(pl.col("_rcode")))
        policy = nonempty(pl.col("_policy"))
        client = (
            pl.when(eid.is_in([257, 258])).then(pl.col("_destination")).otherwise(pl.col("_source"))
        )
        action = (
            pl.when(answer)
            .then(
                rcode_action(
                    rcode,
                    pl.lit(None, pl.List(pl.String)),
                    eid.is_in([258, 259]) & policy.is_not_null(),
                )
            )
            .otherwise(pl.lit("unknown"))
        )
        events = rows.select(
            pl.col("line_no"),
            pl.col("_ts").alias("ts"),
            nonempty(client).alias("src_ip"),
            pl.when(port > 0).then(port).alias("src_port"),
            host_expr(nonempty(pl.col("_qname"))).alias("host"),
            pl.when(~interface.is_in(["0.0.0.0", "::"])).then(interface).alias("dst_ip"),
            action.alias("action"),
            pl.coalesce(qtype_expr(pl.col("_qtype")), transfer).alias("dns_qtype"),
            rcode.alias("dns_rcode"),
            answer.alias("dns_answer_only"),
            eid.alias("windows_dns_analytical_event_id"),
            policy.alias("windows_dns_analytical_policy"),
            pl.col("_tcp")
            .replace_strict({"0": "UDP", "1": "TCP", "false": "UDP", "true": "TCP"}, default=None)
            .alias("windows_dns_analytical_protocol"),
            nonempty(pl.col("_computer")).alias("windows_dns_analytical_server"),
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
