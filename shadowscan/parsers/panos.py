"""Palo Alto Networks PAN-OS syslog (CSV): TRAFFIC and THREAT logs.

``Nov  4 09:00:12 PA-3220 1,2024/11/04 09:00:12,013201001234,TRAFFIC,end,2561,2024/11/04 09:00:12,10.20.1.15,104.18.32.47,...``

A syslog header comes first: BSD (``Mmm dd hh:mm:ss [host]``), RFC 3339 plus host (relays,
PAN-OS "IETF" format, with or without ``<PRI>1``), or none. The CSV record follows:
``FUTURE_USE, receive time, serial, TYPE, subtype, ...``. Fields may be double-quoted (URLs,
user agents, the app-characteristics list) and then contain commas; ``""`` is a quote.

Columns read (0-based; the layouts of PAN-OS 8.x to 11.x only append columns, so the
row is read by position and may be as short as the older 46-column TRAFFIC layout):

====  ==============================  ====  ==================================
 1    receive time                    24    source port
 3    type (TRAFFIC, THREAT)          25    destination port
 4    subtype                         30    action
 6    generated time (-> ``ts``)      TRAFFIC:
 7    source address                  31-33 bytes, bytes sent, bytes received
 8    destination address (pre-NAT)   37    URL category (``any``)
11    rule name                       THREAT:
12    source user                     31    URL/Filename (quoted)
14    application (App-ID)            32    threat name/id  33 category
22    session id                      46    user agent      63 HTTP method
====  ==============================  ====  ==================================

Mapping: the pre-NAT addresses and ports are ``src_*``/``dst_*`` (NAT columns are not
kept); ``app`` is the App-ID as logged (``openai-chatgpt``, ``claude-base``,
``web-browsing``); ``user`` the source user (empty is null). TRAFFIC ``start`` lines and
their ``end`` line are two events of one session: ``panos_phase`` is ``start``, or
``end`` for the record that closes the session (``end``, and the single ``drop``/``deny``
record of a refused one); bytes (``bytes sent`` -> ``bytes_out``, ``bytes received`` ->
``bytes_in``) are only put on ``end`` lines, since a start line's counters are partial.
THREAT lines have no byte counts and no phase; for the ``url`` subtype the URL column
(``chatgpt.com/backend-api/conversation``, no scheme) gives ``host`` and ``url`` (scheme
``https`` when the destination port is 443 or 8443, else ``http``), and the user agent
and HTTP method where logged. Other subtypes keep that column in ``panos_misc`` only.
``action``: ``allow``, ``alert``, ``continue``, ``override`` are allowed; deny, drop,
reset, block and sinkhole actions (and the ``drop``/``deny`` subtypes) are blocked.

Times carry no zone: they are read at the offset of an RFC 3339 syslog header when there
is one (as Elastic's integration does), else in ``--timezone``. Other PAN-OS log types
(SYSTEM, CONFIG, HIP-MATCH, GLOBALPROTECT, USERID, AUTH, DECRYPTION, ...) are skipped;
TRAFFIC/THREAT lines that are cut short are unparsed.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.hosts import host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers.base import ParsedBatch, Parser, dash_to_null, not_matching, to_int
from shadowscan.parsers.common import iso_ts
from shadowscan.schema import UTC_TS

_SLASH_TIME = r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}"
_ISO_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?"
_TIME = rf"(?:{_SLASH_TIME}|{_ISO_TIME})"
#: One CSV field: quoted (commas inside, ``""`` for a quote) or bare. Leading blanks only
#: match ``[ \t]*`` so that a failing line backtracks little (Python ``re`` sniffing).
_F = r'[ \t]*(?:"(?:[^"]|"")*"|[^, \t][^,]*|)'
_IP = r"[ \t]*[0-9A-Fa-f:.]+"
_PORT = r"[ \t]*\d{1,5}"
_NUM = r"[ \t]*\d+"
#: Anything before the record (syslog header): whitespace-separated tokens, no comma.
_HEAD = r"^\s*(?:[^,\s]+\s+)*"
_START = rf"[^,\s]*,{_TIME},[^,]*,"
#: Columns 5..30, the same for TRAFFIC and THREAT.
_COMMON = (
    rf"[A-Za-z][A-Za-z0-9_\-]*,{_F},{_TIME},{_IP},{_IP}"  # subtype .. dst
    + rf"(?:,{_F}){{15}}"  # NAT addresses .. repeat count (9-23)
    + rf",{_PORT},{_PORT}"  # source and destination port (24, 25)
    + rf"(?:,{_F}){{5}}"  # NAT ports, flags, protocol, action (26-30)
)
_TRAFFIC = rf"TRAFFIC,{_COMMON},{_NUM},{_NUM},{_NUM}"  # bytes, sent, received (31-33)
_THREAT = rf"THREAT,{_COMMON}(?:,{_F}){{3}}"  # URL/filename, threat, category (31-33)
#: A TRAFFIC or THREAT record with at least 34 columns (``parse`` accepts exactly these).
PATTERN = rf"{_HEAD}{_START}(?:{_TRAFFIC}|{_THREAT})(?:,|$)"

_OTHER_TYPES = (
    "SYSTEM",
    "CONFIG",
    "HIPMATCH",
    "HIP-MATCH",
    "GLOBALPROTECT",
    "USERID",
    "AUTH",
    "DECRYPTION",
    "TUNNEL",
    "GTP",
    "SCTP",
    "CORRELATION",
    "IPTAG",
    "AUDIT",
)
#: Blank lines and PAN-OS's other log types.
SKIP = rf"^\s*$|{_HEAD}[^,\s]*,{_TIME},[^,]*,(?:{'|'.join(_OTHER_TYPES)}),"

#: An RFC 3339 syslog header's offset: the zone the record's own times are read in.
_HEADER_OFFSET = (
    r"^(?:<\d{1,3}>)?(?:\d\s+)?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?"
    r"(?P<off>Z|[+-]\d{2}:?\d{2})\s"
)

_ALLOWED = ("allow", "alert", "continue", "override")
_BLOCKED = (
    "deny",
    "drop",
    "drop-icmp",
    "drop-all",
    "drop-all-packets",
    "reset-client",
    "reset-server",
    "reset-both",
    "block",
    "block-url",
    "block-ip",
    "block-continue",
    "block-override",
    "override-lockout",
    "random-drop",
    "sinkhole",
    "syncookie-sent",
)


#: Stands for a comma inside a quoted field while the record is split.
_COMMA = "\ue000"


def _split(line: pl.Expr) -> pl.Expr:
    """The record's columns (still quoted, commas inside quotes protected): the line is cut
    at its quotes, commas in the odd (quoted) pieces are protected, then it is split at
    commas. Much cheaper than a regex per field; ``""`` keeps the quote parity. The syslog
    header is dropped first (its quotes would upset the parity)."""
    pieces = line.str.replace(_HEAD, "").str.split('"')
    protected = pieces.list.eval(
        pl.when(pl.int_range(pl.len()) % 2 == 1)
        .then(pl.element().str.replace_all(",", _COMMA, literal=True))
        .otherwise(pl.element())
    ).list.join('"')
    return protected.str.split(",")


#: Columns read (see the table above). Those that may be quoted are unquoted; the others
#: (times, addresses, ports, numbers, keywords) are only stripped.
_PLAIN = (1, 3, 4, 6, 7, 8, 22, 24, 25, 30, 63)
_QUOTABLE = (11, 12, 14, 31, 32, 33, 37, 46)


def _unquote(v: pl.Expr) -> pl.Expr:
    """Commas restored, quotes removed and ``""`` unescaped (for a quoted value)."""
    v = v.str.replace_all(_COMMA, ",", literal=True).str.strip_chars(" \t")
    quoted = v.str.starts_with('"') & v.str.ends_with('"') & (v.str.len_chars() >= 2)
    return (
        pl.when(quoted)
        .then(v.str.slice(1, v.str.len_chars() - 2).str.replace_all('""', '"', literal=True))
        .otherwise(v)
    )


def _columns(f: pl.Expr) -> list[pl.Expr]:
    """``c<i>`` for each column read from the split record ``f`` (:func:`_split`): null
    when the row is shorter, empty or ``-``."""
    get = [f.list.get(i, null_on_oob=True) for i in (*_PLAIN, *_QUOTABLE)]
    cleaned = [g.str.strip_chars() for g in get[: len(_PLAIN)]]
    cleaned += [_unquote(g).str.strip_chars() for g in get[len(_PLAIN) :]]
    return [
        dash_to_null(v).alias(f"c{i}") for v, i in zip(cleaned, (*_PLAIN, *_QUOTABLE), strict=True)
    ]


def _offset_minutes(off: pl.Expr) -> pl.Expr:
    """``+02:00`` / ``-0530`` / ``Z`` -> minutes east of UTC (null stays null)."""
    parts = off.str.extract_groups(r"^(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})$")
    sign = pl.when(parts.struct.field("sign") == "-").then(-1).otherwise(1)
    numeric = sign * (
        parts.struct.field("h").cast(pl.Int32) * 60 + parts.struct.field("m").cast(pl.Int32)
    )
    return pl.when(off == "Z").then(pl.lit(0, pl.Int32)).otherwise(numeric.cast(pl.Int32))


def _time(text: pl.Expr, offset: pl.Expr, tz: str) -> pl.Expr:
    """A record time (``2024/11/04 09:00:12`` or ISO) -> UTC: at ``offset`` minutes when
    known, else in ``tz``; ISO times with their own zone keep it."""
    naive = text.str.to_datetime("%Y/%m/%d %H:%M:%S", time_unit="us", strict=False)
    fixed = (naive.dt.replace_time_zone("UTC") - pl.duration(minutes=offset)).cast(UTC_TS)
    local = (
        naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .cast(UTC_TS)
    )
    return (
        pl.when(text.str.contains(r"^\d{4}/"))
        .then(pl.when(offset.is_not_null()).then(fixed).otherwise(local))
        .otherwise(iso_ts(text, tz))
    )


@PARSERS.register("panos")
class PanosParser(Parser):
    name = "panos"
    log_type = "firewall"
    summary = "Palo Alto PAN-OS syslog CSV: TRAFFIC (start/end/drop/deny) and THREAT (url, vulnerability, ...) logs."
    example = (
        "Nov  4 09:00:12 PA-3220 1,2024/11/04 09:00:12,013201001234,TRAFFIC,end,2561,"
        "2024/11/04 09:00:12,10.20.1.15,104.18.32.47,198.51.100.7,104.18.32.47,allow-ai,"
        "corp\\jdoe,,openai-chatgpt,vsys1,trust,untrust,...,tcp,allow,53331,5120,48211,..."
    )
    line_pattern = PATTERN
    skip_pattern = SKIP

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        """Share of TRAFFIC/THREAT records and other PAN-OS records among the non-blank
        lines, provided some are TRAFFIC/THREAT records."""
        rx, skip = re.compile(PATTERN), re.compile(SKIP)
        data = [ln for ln in lines if ln.strip()]
        hits = sum(1 for ln in data if rx.search(ln))
        if not hits:
            return None
        known = sum(1 for ln in data if rx.search(ln) or skip.search(ln))
        return Sniff(
            known / len(data), f"{hits}/{len(data)} sample lines are PAN-OS TRAFFIC/THREAT records"
        )

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        ok = batch["line"].str.contains(PATTERN)
        skipped = ~ok & batch["line"].str.contains(SKIP)
        rejected = not_matching(batch, ok | skipped, self.mismatch_reason())
        tz = self.context.timezone
        c = pl.col
        f = (
            batch.filter(ok)
            .select(
                c("line_no"),
                _split(c("line")).alias("_f"),
                _offset_minutes(c("line").str.extract(_HEADER_OFFSET, 1)).alias("_off"),
            )
            .select(c("line_no"), c("_off"), *_columns(c("_f")))
            .with_columns(
                (c("c3") == "TRAFFIC").alias("_traffic"),
                c("c30").str.to_lowercase().alias("_action"),
                to_int(c("c25"), pl.Int32()).alias("dst_port"),
            )
        )
        f = f.with_columns(
            url_parts(pl.when(~c("_traffic") & (c("c4") == "url")).then(c("c31"))).alias("_u"),
            pl.when(c("_traffic"))
            .then(pl.when(c("c4") == "start").then(pl.lit("start")).otherwise(pl.lit("end")))
            .alias("panos_phase"),
        ).with_columns(host_expr(c("_u").struct.field("host")).alias("host"))
        closing = c("_traffic") & (c("panos_phase") == "end")
        blocked = c("_action").is_in(_BLOCKED) | (c("_traffic") & c("c4").is_in(["deny", "drop"]))
        scheme = (
            pl.when(c("dst_port").is_in([443, 8443]))
            .then(pl.lit("https"))
            .otherwise(pl.lit("http"))
        )
        threat = ~c("_traffic")
        events = f.select(
            c("line_no"),
            pl.coalesce(_time(c("c6"), c("_off"), tz), _time(c("c1"), c("_off"), tz)).alias("ts"),
            c("c7").alias("src_ip"),
            to_int(c("c24"), pl.Int32()).alias("src_port"),
            c("c12").alias("user"),
            c("host"),
            c("c8").alias("dst_ip"),
            c("dst_port"),
            url_expr(c("_u"), c("host"), scheme).alias("url"),
            pl.when(threat).then(c("c63").str.to_uppercase()).alias("method"),
            pl.when(blocked)
            .then(pl.lit("blocked"))
            .when(c("_action").is_in(_ALLOWED))
            .then(pl.lit("allowed"))
            .otherwise(pl.lit("unknown"))
            .alias("action"),
            pl.when(closing).then(to_int(c("c32"))).alias("bytes_out"),
            pl.when(closing).then(to_int(c("c33"))).alias("bytes_in"),
            pl.when(threat).then(c("c46")).alias("user_agent"),
            c("c14").alias("app"),
            c("c3").alias("panos_type"),
            c("c4").alias("panos_subtype"),
            c("panos_phase"),
            c("c11").alias("panos_rule"),
            c("c22").alias("panos_session_id"),
            pl.when(c("_traffic")).then(c("c37")).otherwise(c("c33")).alias("panos_category"),
            pl.when(threat).then(c("c32")).alias("panos_threat"),
            pl.when(threat).then(c("c31")).alias("panos_misc"),
        )
        return ParsedBatch(events, rejected, int(skipped.sum()))
