"""Sysmon Event ID 22 (``DNSEvent``: a process resolved a name), from the
``Microsoft-Windows-Sysmon/Operational`` log, as JSON lines or as event XML.

**JSON lines** (Winlogbeat/Elastic Agent, NXLog, evtx_dump, Wazuh; see
:mod:`shadowscan.parsers._winevent`)::

    {"@timestamp":"2024-11-04T08:00:00.135Z","winlog":{"event_id":22,"provider_name":"Microsoft-Windows-Sysmon","computer_name":"WS0142.corp.example","event_data":{"UtcTime":"2024-11-04 08:00:00.123","ProcessId":"7312","QueryName":"chatgpt.com","QueryStatus":"0","QueryResults":"type:  5 chatgpt.com.cdn.cloudflare.net;::ffff:104.18.32.47;","Image":"C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe","User":"CORP\\\\jdoe"}}}

**XML** as ``wevtutil qe Microsoft-Windows-Sysmon/Operational /f:xml`` or
``Get-WinEvent ... | % { $_.ToXml() }`` write it (one or more ``<Event>`` elements per
line), or pretty-printed over many lines (Event Viewer's XML view, ``xmllint --format``)::

    <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
      <System><Provider Name="Microsoft-Windows-Sysmon" .../><EventID>22</EventID>...</System>
      <EventData>
        <Data Name="UtcTime">2024-11-04 08:00:00.123</Data>
        <Data Name="QueryName">chatgpt.com</Data> ...
      </EventData>
    </Event>

Lines of an XML record are gathered up to ``</Event>`` (so the parser is stateful and
keeps an open record across batches). The record's first line carries the event
(``line_no``) and counts as parsed; its other lines are skipped. ``<?xml ...?>`` and
``<Events>`` wrapper lines are skipped; a record that never closes is unparsed
(``incomplete XML event``). ``record_end`` makes the engine cut its chunks after a line
that closes a record, so a record is never split between chunks.

**Mapping.** ``QueryName`` -> ``host``; ``Image`` -> ``process`` (null for ``<unknown
process>``); ``User`` -> ``user``; ``UtcTime`` (UTC) -> ``ts`` (else ``@timestamp`` /
``SystemTime``); ``src_ip`` is null (the host's own query). Each event is a lookup with
its answers (``dns_answer_only`` false). ``QueryResults``
(``type:  5 cname;::ffff:104.18.32.47;2606:4700::6812:202f;``) -> ``dns_answers`` in
order: CNAME targets (the ``type:  5`` marker dropped, the name kept) and addresses
(IPv4-mapped ``::ffff:a.b.c.d`` written as ``a.b.c.d``). ``QueryStatus`` (a Win32 status)
-> ``dns_rcode``: ``0`` NOERROR, ``9501`` (no records) NOERROR, ``9001``-``9010`` the DNS
rcodes (``9003`` NXDOMAIN, ``9005`` REFUSED...); local failures (``1460`` timeout, ...)
give null; the raw status is kept in ``sysmon_dns_query_status``. Sysmon logs no query
type (``dns_qtype`` null). ``action``: ``blocked`` for REFUSED or a sinkhole answer
(only ``0.0.0.0``/``::``), ``allowed`` when the status is a DNS answer, else ``unknown``.
``sysmon_dns_process_id`` and ``sysmon_dns_computer`` (the endpoint's name) are kept.

Other Sysmon events (process creation, network connections...) are skipped; records of
other providers are unparsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._dns_codes import answers_or_null, rcode_action, win32_status_rcode
from shadowscan.parsers._winevent import event_columns, nonempty, windows_time
from shadowscan.parsers.base import ParseContext, ParsedBatch, Parser, Sniff
from shadowscan.parsers.common import json_valid

#: A whole ``<Event ...>...</Event>`` on one line (not ``<Events>``/``<EventData>``).
_RECORD = r"<Event[\s>].*?</Event>"
_OPEN = r"<Event[\s>]"
_CLOSE = "</Event>"
#: Lines outside records that only hold the XML declaration or the ``<Events>`` wrapper.
_WRAPPER = r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:</?Events(?:\s[^>]*)?>\s*)*$"
_SYSMON = "Microsoft-Windows-Sysmon"
_DATA = {
    "qname": "QueryName",
    "status": "QueryStatus",
    "results": "QueryResults",
    "image": "Image",
    "user": "User",
    "utc": "UtcTime",
    "pid": "ProcessId",
}
_INCOMPLETE = "incomplete XML event (no </Event> before the end of the input)"
#: An open record longer than this is given up (it was already reported unparsed).
_MAX_CARRY = 1 << 20
_XML_ENTITIES = (["&lt;", "&gt;", "&quot;", "&apos;", "&amp;"], ["<", ">", '"', "'", "&"])


def _xml_value(text: pl.Expr, pattern: str) -> pl.Expr:
    return (
        text.str.extract(pattern, 1)
        .str.replace_many(*_XML_ENTITIES, leftmost=True)
        .str.strip_chars()
    )


def _data(name: str) -> str:
    return rf"""<Data\s+Name\s*=\s*['"]{name}['"]\s*>([^<]*)</Data>"""


def xml_columns(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` (``line_no``, ``text``: one ``<Event>`` element) with the columns
    :func:`~shadowscan.parsers._winevent.event_columns` gives for JSON, plus ``_provider``."""
    text = pl.col("text")
    time = _xml_value(text, r"""<TimeCreated\s+SystemTime\s*=\s*['"]([^'"]+)['"]""")
    return records.select(
        pl.col("line_no"),
        _xml_value(text, r"<EventID(?:\s[^>]*)?>\s*(\d+)\s*</EventID>")
        .cast(pl.Int64, strict=False)
        .alias("_event_id"),
        _xml_value(text, r"""<Provider\s+Name\s*=\s*['"]([^'"]+)['"]""").alias("_provider"),
        _xml_value(text, r"<Computer>([^<]*)</Computer>").alias("_computer"),
        *(_xml_value(text, _data(name)).alias(f"_{col}") for col, name in _DATA.items()),
        windows_time(time, "UTC").alias("_ts"),
    )


def answers_expr(results: pl.Expr) -> pl.Expr:
    """``type:  5 a.example;::ffff:1.2.3.4;2606::1;`` -> ``[a.example, 1.2.3.4, 2606::1]``."""
    items = (
        nonempty(results)
        .str.split(";")
        .list.eval(
            pl.element()
            .str.strip_chars()
            .str.replace(r"^type:\s*\d+\s*", "")
            .str.replace(r"^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$", "$1")
            .str.strip_chars_end(".")
        )
    )
    return answers_or_null(items)


def dns_events(rec: pl.DataFrame) -> pl.DataFrame:
    """Canonical events from Sysmon 22 columns (JSON or XML)."""
    rcode = win32_status_rcode(pl.col("_status"))
    answers = answers_expr(pl.col("_results"))
    image = nonempty(pl.col("_image"))
    return rec.select(
        pl.col("line_no"),
        pl.coalesce(windows_time(pl.col("_utc"), "UTC"), pl.col("_ts")).alias("ts"),
        nonempty(pl.col("_user")).alias("user"),
        host_expr(nonempty(pl.col("_qname"))).alias("host"),
        rcode_action(rcode, answers).alias("action"),
        answers.alias("dns_answers"),
        rcode.alias("dns_rcode"),
        pl.lit(False).alias("dns_answer_only"),
        pl.when(image != "<unknown process>").then(image).alias("process"),
        nonempty(pl.col("_status")).alias("sysmon_dns_query_status"),
        pl.col("_pid").cast(pl.Int64, strict=False).alias("sysmon_dns_process_id"),
        nonempty(pl.col("_computer")).alias("sysmon_dns_computer"),
    )


def classify(rec: pl.DataFrame, sysmon: pl.Expr) -> pl.DataFrame:
    """``rec`` plus ``_status``: ``event``, ``skip`` (another Sysmon event) or a reason."""
    is22 = (pl.col("_event_id") == 22).fill_null(False)
    has_name = nonempty(pl.col("_qname")).is_not_null()
    has_ts = pl.coalesce(windows_time(pl.col("_utc"), "UTC"), pl.col("_ts")).is_not_null()
    status = (
        pl.when(is22 & has_name & has_ts)
        .then(pl.lit("event"))
        .when(is22 & has_name)
        .then(pl.lit("no timestamp"))
        .when(is22 & sysmon)
        .then(pl.lit("Sysmon event 22 without QueryName"))
        .when(sysmon)
        .then(pl.lit("skip"))
        .otherwise(pl.lit("not a Sysmon event"))
    )
    return rec.with_columns(status.alias("_outcome"))


@dataclass
class _Open:
    """An XML record still open at the end of the previous batch."""

    fragments: list[str] = field(default_factory=list)
    size: int = 0


@PARSERS.register("sysmon_dns")
class SysmonDnsParser(Parser):
    record_end = b"</Event>"
    name = "sysmon_dns"
    log_type = "dns"
    summary = "Sysmon Event ID 22 (DNS query by process and user) as JSON lines (Winlogbeat, NXLog, evtx_dump, Wazuh) or event XML (one line or pretty-printed)."
    example = '{"@timestamp":"2024-11-04T08:00:00.135Z","winlog":{"event_id":22,"provider_name":"Microsoft-Windows-Sysmon","event_data":{"UtcTime":"2024-11-04 08:00:00.123","QueryName":"chatgpt.com","QueryStatus":"0","QueryResults":"type:  5 chatgpt.com.cdn.cloudflare.net;::ffff:104.18.32.47;","Image":"C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe","User":"CORP\\\\jdoe"}}}'
    line_pattern = None
    stateless = False
    priority = 5

    def __init__(self, context: ParseContext) -> None:
        super().__init__(context)
        #: The XML record open at the end of the last batch, if any.
        self.open: _Open | None = None

    @classmethod
    def mismatch_reason(cls) -> str:
        return "not a Sysmon event (JSON or XML)"

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        data = [ln for ln in lines if ln.strip()]
        if not data or not any(_SYSMON in ln or "QueryName" in ln for ln in data):
            return None
        batch = pl.DataFrame(
            {"line_no": pl.Series(range(len(data)), dtype=pl.UInt64), "line": data}
        )
        out = cls(ParseContext("<sniff>")).parse(batch)
        known = len(data) - out.rejected.height
        if known <= 0 or (out.events.is_empty() and not any(_SYSMON in ln for ln in data)):
            return None
        return Sniff(
            known / len(data),
            f"{known}/{len(data)} sample lines are Sysmon events ({out.events.height} DNS queries, event 22)",
        )

    # --- parsing -----------------------------------------------------------------------

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        carried = self.open
        line = pl.col("line")
        # XML inside a JSON record (Winlogbeat's ``event.original``) never opens or
        # closes a record
        xml_line = ~line.str.strip_chars_start().str.starts_with("{").fill_null(False)
        rest = line.str.replace_all(_RECORD, "")
        dangling_open = xml_line & rest.str.contains(_OPEN)
        dangling_close = xml_line & rest.str.contains(_CLOSE, literal=True)
        marker = (
            pl.when(dangling_open)
            .then(pl.lit(True))
            .when(dangling_close)
            .then(pl.lit(False))
            .otherwise(pl.lit(None, pl.Boolean))
        )
        lines = batch.with_row_index("_i").with_columns(
            dangling_open.alias("_opens"),
            dangling_close.alias("_closes"),
            marker.forward_fill().fill_null(carried is not None).alias("_inside_after"),
        )
        lines = lines.with_columns(
            pl.col("_inside_after").shift(1, fill_value=carried is not None).alias("_inside"),
            pl.col("_opens").cast(pl.Int64).cum_sum().alias("_gid_after"),
        ).with_columns(
            (pl.col("_gid_after") - pl.col("_opens").cast(pl.Int64)).alias("_gid_before"),
            (
                ~pl.col("_inside")
                & line.str.strip_chars_start().str.starts_with("{").fill_null(False)
            ).alias("_json"),
        )
        multi, carry_status = self._multi_line_records(lines, carried)
        single = lines.filter(~pl.col("_json")).select(
            pl.col("line_no"), line.str.extract_all(_RECORD).alias("text")
        )
        single = single.explode("text").filter(pl.col("text").is_not_null())
        xml = pl.concat([single, multi.select("line_no", "text")])
        xml_rec = classify(
            xml_columns(xml),
            pl.col("_provider").str.contains(_SYSMON, literal=True).fill_null(False),
        )
        json_rec = self._json_records(lines.filter(pl.col("_json")))
        records = pl.concat(
            [
                xml_rec.drop("_provider"),
                json_rec.drop("line", "_valid"),
                carry_status,
            ],
            how="diagonal_relaxed",
        )
        events = dns_events(records.filter(pl.col("_outcome") == "event")).sort(
            "line_no", maintain_order=True
        )
        return self._account(lines, records, events)

    def _multi_line_records(
        self, lines: pl.DataFrame, carried: _Open | None
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Records spanning lines (``line_no``, ``text``), and the outcome rows for records
        left open at the end of the batch. Updates ``self.open``."""
        line = pl.col("line")
        head = (
            pl.when(pl.col("_closes"))
            .then(line.str.extract(r"^(.*?</Event>)", 1))
            .when(pl.col("_opens"))
            .then(line.str.extract(r"^(.*?)<Event[\s>]", 1))
            .otherwise(line)
        )
        tail = line.str.extract(r"^.*(<Event[\s>].*)$", 1)
        heads = lines.filter(pl.col("_inside")).select(
            pl.col("_gid_before").alias("_gid"),
            (pl.col("_i").cast(pl.Int64) * 2).alias("_order"),
            pl.col("line_no"),
            head.alias("text"),
            pl.col("_closes").alias("_closed"),
            pl.lit(False).alias("_starts"),
        )
        tails = lines.filter(pl.col("_opens")).select(
            pl.col("_gid_after").alias("_gid"),
            (pl.col("_i").cast(pl.Int64) * 2 + 1).alias("_order"),
            pl.col("line_no"),
            tail.alias("text"),
            pl.lit(False).alias("_closed"),
            pl.lit(True).alias("_starts"),
        )
        frags = [heads, tails]
        if carried is not None:
            frags.append(
                pl.DataFrame(
                    {
                        "_gid": [0],
                        "_order": [-1],
                        "line_no": pl.Series([None], dtype=pl.UInt64),
                        "text": ["\n".join(carried.fragments)],
                        "_closed": [False],
                        "_starts": [False],
                    },
                    schema=heads.schema,
                )
            )
        groups = (
            pl.concat(frags)
            .sort("_order")
            .group_by("_gid", maintain_order=True)
            .agg(
                pl.col("text").str.join("\n"),
                pl.col("line_no").filter(pl.col("_starts")).first().alias("_start_line"),
                pl.col("line_no").drop_nulls().first().alias("_first_line"),
                pl.col("_closed").any(),
                pl.col("_starts").any(),
                pl.col("text").str.len_bytes().sum().alias("_size"),
            )
        )
        inside_at_end = bool(lines["_inside_after"][-1]) if lines.height else carried is not None
        last_gid = int(lines["_gid_after"][-1]) if lines.height else 0
        is_last_open = (pl.col("_gid") == last_gid) & pl.lit(inside_at_end)
        # A record carried in and closed here is attributed to this batch's first line.
        line_no = pl.coalesce(pl.col("_start_line"), pl.col("_first_line"))
        closed = groups.filter(pl.col("_closed")).select(line_no.alias("line_no"), "text")
        unclosed = groups.filter(~pl.col("_closed"))
        # Reported unparsed where the record starts; a record carried in and still open
        # was reported already.
        status = unclosed.filter(pl.col("_starts")).select(
            pl.col("_start_line").alias("line_no"),
            pl.when(is_last_open)
            .then(pl.lit(_INCOMPLETE))
            .otherwise(pl.lit("XML event not closed before the next <Event>"))
            .alias("_outcome"),
        )
        still_open = unclosed.filter(is_last_open)
        self.open = None
        if still_open.height:
            size = int(still_open["_size"][0]) + (carried.size if carried is not None else 0)
            if size <= _MAX_CARRY:
                self.open = _Open([str(still_open["text"][0])], size)
        return closed, status

    def _json_records(self, rows: pl.DataFrame) -> pl.DataFrame:
        frame = rows.select("line_no", "line")
        valid = json_valid(frame["line"])
        assert isinstance(valid, pl.Series)
        frame = frame.with_columns(valid.fill_null(False).alias("_valid"))
        good = event_columns(frame.filter(pl.col("_valid")), _DATA, self.context.timezone)
        sysmon = pl.col("line").str.contains(_SYSMON, literal=True) | (
            (pl.col("_event_id") == 22) & nonempty(pl.col("_qname")).is_not_null()
        )
        bad = frame.filter(~pl.col("_valid")).select(
            "line_no", pl.lit("invalid JSON").alias("_outcome")
        )
        return pl.concat([classify(good, sysmon.fill_null(False)), bad], how="diagonal_relaxed")

    def _account(
        self, lines: pl.DataFrame, records: pl.DataFrame, events: pl.DataFrame
    ) -> ParsedBatch:
        """One outcome per line: parsed when a record starting on it is a DNS event,
        unparsed when one is bad (and none is an event), else skipped."""
        outcome = pl.col("_outcome")
        per_line = records.group_by("line_no").agg(
            (outcome == "event").any().alias("_event"),
            outcome.filter((outcome != "event") & (outcome != "skip")).first().alias("_reason"),
        )
        joined = lines.join(per_line, on="line_no", how="left")
        noise = (
            ~pl.col("_inside")
            & ~pl.col("_json")
            & ~pl.col("line").str.contains(_WRAPPER)
            & ~pl.col("_opens")
            & pl.col("line").str.extract_all(_RECORD).list.len().eq(0)
        )
        reason = (
            pl.when(pl.col("_event").fill_null(False))
            .then(pl.lit(None, pl.String))
            .when(pl.col("_reason").is_not_null())
            .then(pl.col("_reason"))
            .when(noise)
            .then(pl.lit(self.mismatch_reason()))
        )
        classified = joined.select(
            "line_no", reason.alias("reason"), pl.col("_event").fill_null(False).alias("_event")
        )
        rejected = classified.filter(pl.col("reason").is_not_null()).select("line_no", "reason")
        skipped = classified.filter(pl.col("reason").is_null() & ~pl.col("_event")).height
        return ParsedBatch(events, rejected, skipped)
