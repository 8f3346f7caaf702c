"""Windows DNS Server debug log (``%SystemRoot%\\System32\\dns\\dns.log``, written when
"Log packets for debugging" is enabled), one line per packet::

    11/4/2024 8:00:00 AM 0E2C PACKET  000000C4E9E3B0E0 UDP Rcv 10.20.1.15      b2e4   Q [0001   D   NOERROR] A      (7)chatgpt(3)com(0)

Fields: date, time (local, the server's locale), thread id, ``PACKET``, internal packet
pointer, ``UDP``/``TCP``, ``Snd``/``Rcv``, remote IP, transaction id (hex), ``R`` for a
response (blank for a query), opcode (``Q`` query, ``N`` notify, ``U`` update, ``?``),
``[flags-hex flag-chars RCODE]``, question type, question name in DNS label notation
(``(7)chatgpt(3)com(0)``; old servers wrote ``.chatgpt.com.``; a name not ending in
``(0)`` or ``.`` is a truncated line). The name is decoded to a dotted name (compression
pointers such as ``[C00C]`` are dropped); the type is a name, or a number mapped to its
name.

**Which lines are events.** A recursive lookup appears up to four times (the client's
query received, the query sent to a forwarder, its answer received, the answer sent to
the client). Two of them are events, and only one is a lookup:

- a query **received** (``Rcv``, no ``R``, opcode ``Q``) is the lookup: ``src_ip`` is the
  client (or a DNS server forwarding to this one), ``action`` ``unknown`` and
  ``dns_rcode`` null (the query does not tell the outcome), ``dns_answer_only`` false.
  Zone-transfer requests (``AXFR``/``IXFR`` queries) are lookups too;
- a response **sent** (``Snd`` with ``R``, opcode ``Q``) is an answer-only event (``dns_answer_only``
  true, never counted as a lookup): ``src_ip`` is the client it answers, ``dns_rcode`` the
  code in brackets, ``action`` ``blocked`` for ``REFUSED`` and ``allowed`` otherwise. The
  answer's addresses are not on the line (``dns_answers`` null).

Queries this server sends to forwarders, their responses, notifies and dynamic updates
are parsed (counted) but not events. ``windows_dns_debug_direction`` keeps
``Rcv``/``Snd`` and ``windows_dns_debug_protocol`` ``UDP``/``TCP``; no port or server
address is on the line (``dst_ip`` null).

**Time.** The date follows the server's locale: ``M/D/YYYY h:mm:ss AM/PM`` (en-US),
``D/M/YYYY HH:MM:SS`` (slashes without AM/PM, en-GB/fr-FR), ``D.M.YYYY HH:MM:SS`` (de-DE;
``HH.MM.SS`` too), ``YYYY-MM-DD`` and ``YYYYMMDD``. A slash date is read month-first with
AM/PM and day-first without, unless the other reading is the only valid one (a first
number above 12 is a day). Times are local: ``--timezone`` (``self.context.timezone``).

**Skipped**: the file header (``DNS Server log file creation at``, ``Log file wrap at``,
``Message logging key`` and the indented key table), ``EVENT`` and ``Note:`` lines, and
the indented multi-line packet dumps of the "Details" option (``UDP question info at``,
``Socket =``, ``Message:`` ...). Each line stands alone (stateless), but the host is not
in the line as text, so the literal prefilter is off (``prefilterable = False``): every
line is parsed, in parallel chunks.
"""

from __future__ import annotations

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS
from shadowscan.parsers._dns_codes import qtype_expr, rcode_action, rcode_expr
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, split_skipped
from shadowscan.schema import UTC_TS

_DATE = r"\d{1,2}/\d{1,2}/\d{4}|\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{1,2}-\d{1,2}|\d{8}"
_TIME = r"\d{1,2}[:.]\d{2}[:.]\d{2}"
_AMPM = r"[AaPp]\.?[Mm]\.?"
_PREFIX = (
    rf"^(?P<date>{_DATE})\s+(?P<time>{_TIME})(?:\s*(?P<ampm>{_AMPM}))?\s+[0-9A-Fa-f]{{3,8}}\s+"
)

PATTERN = (
    _PREFIX + r"PACKET\s+"
    r"(?:[0-9A-Fa-f]{8,16}\s+)?"  # internal packet pointer
    r"(?P<proto>UDP|TCP)\s+(?P<dir>Snd|Rcv)\s+"
    r"(?P<ip>[0-9A-Fa-f:.]+(?:%[0-9A-Za-z]+)?)\s+"
    r"(?P<xid>[0-9A-Fa-f]{1,4})\s+(?:(?P<qr>R)\s+)?(?P<opcode>[QNU?])\s+"
    r"\[(?P<flags>[0-9A-Fa-f]{4})\s*[ATDR ]*?\s*(?P<rcode>[A-Z0-9]+)\]\s+"
    r"(?P<qtype>\S+)\s+(?P<qname>\S*(?:\(0\)|\.))\s*$"  # a whole name ends in "(0)" or "."
)

SKIP = (
    r"^\s*$|^\s"  # blank lines, the indented key table and detail dumps
    r"|^\ufeff?(?:DNS Server log file creation at|Log file wrap at|Message logging key)"
    r"|^(?:UDP|TCP) (?:question|response) info at "
    rf"|{_PREFIX}(?:EVENT|Note:)"
)


def decode_name(raw: pl.Expr) -> pl.Expr:
    """``(7)chatgpt(3)com(0)`` or ``.chatgpt.com.`` -> ``chatgpt.com`` (``(0)``, the root,
    gives null); ``[C00C]`` compression pointers are dropped."""
    dotted = (
        raw.str.replace_all(r"\[[0-9A-Fa-f]{4}\]", "")
        .str.replace_all(r"\(\d{1,3}\)", ".")
        .str.strip_chars(".")
    )
    return host_expr(dotted)


def _two(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.zfill(2)


def local_naive(f: pl.Expr) -> pl.Expr:
    """The naive local datetime from the ``date``/``time``/``ampm`` fields of
    :data:`PATTERN` (null when impossible, such as month 13 or 13:00 PM)."""
    date, ampm = f.struct.field("date"), f.struct.field("ampm").str.to_uppercase()
    nums = date.str.extract_all(r"\d+")
    a, b, c = (nums.list.get(i, null_on_oob=True).cast(pl.Int32, strict=False) for i in range(3))
    compact = date.str.contains(r"^\d{8}$")
    slash = date.str.contains("/", literal=True)
    # slash dates: month first with AM/PM (en-US), day first without (en-GB), unless only
    # the other reading is a valid date
    month_first = slash & (
        (ampm.is_not_null() & (a <= 12)) | (ampm.is_null() & (b > 12) & (a <= 12))
    )
    year = (
        pl.when(compact)
        .then(date.str.slice(0, 4).cast(pl.Int32, strict=False))
        .when(date.str.contains("-", literal=True))
        .then(a)
        .otherwise(c)
    )
    month = (
        pl.when(compact)
        .then(date.str.slice(4, 2).cast(pl.Int32, strict=False))
        .when(date.str.contains("-", literal=True))
        .then(b)
        .when(month_first)
        .then(a)
        .otherwise(b)
    )
    day = (
        pl.when(compact)
        .then(date.str.slice(6, 2).cast(pl.Int32, strict=False))
        .when(date.str.contains("-", literal=True))
        .then(c)
        .when(month_first)
        .then(b)
        .otherwise(a)
    )
    hms = f.struct.field("time").str.extract_all(r"\d+")
    hour, minute, second = (hms.list.get(i).cast(pl.Int32, strict=False) for i in range(3))
    pm = ampm.str.starts_with("P")
    hour24 = (
        pl.when(ampm.is_null())
        .then(hour)
        .when((hour < 1) | (hour > 12))
        .then(pl.lit(None, pl.Int32))
        .otherwise(hour % 12 + pl.when(pm).then(12).otherwise(0))
    )
    text = pl.format(
        "{}-{}-{} {}:{}:{}",
        year.cast(pl.String).str.zfill(4),
        _two(month),
        _two(day),
        _two(hour24),
        _two(minute),
        _two(second),
    )
    return text.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)


def _fields(text: pl.Series) -> pl.DataFrame:
    """The regex fields of each line (nulls where the line is not a packet) and ``_naive``."""
    frame = pl.DataFrame({"f": text.str.extract_groups(PATTERN)})
    return frame.with_columns(local_naive(pl.col("f")).alias("_naive")).unnest("f")


@PARSERS.register("windows_dns_debug")
class WindowsDnsDebugParser(Parser):
    name = "windows_dns_debug"
    log_type = "dns"
    summary = "Windows DNS Server debug log (dns.log, 'Log packets for debugging'): client queries as lookups, responses sent as answer-only rows, (n)label names decoded, locale dates."
    example = "11/4/2024 8:00:00 AM 0E2C PACKET  000000C4E9E3B0E0 UDP Rcv 10.20.1.15      b2e4   Q [0001   D   NOERROR] A      (7)chatgpt(3)com(0)"
    line_pattern = PATTERN
    skip_pattern = SKIP
    prefilterable = False

    @classmethod
    def validate(cls, text: pl.Series) -> pl.Series:
        return _fields(text)["_naive"].is_not_null()

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        fields = _fields(batch["line"]).with_columns(batch["line_no"])
        ok = fields["_naive"].is_not_null()
        standard = pl.col("opcode") == "Q"
        query = standard & (pl.col("dir") == "Rcv") & pl.col("qr").is_null()
        answer = standard & (pl.col("dir") == "Snd") & pl.col("qr").is_not_null()
        rows = fields.filter(ok).filter(query | answer)
        rcode = pl.when(answer).then(rcode_expr(pl.col("rcode")))
        ts = (
            pl.col("_naive")
            .dt.replace_time_zone(self.context.timezone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
            .cast(UTC_TS)
        )
        events = rows.select(
            pl.col("line_no"),
            ts.alias("ts"),
            pl.col("ip").str.replace(r"%.*$", "").alias("src_ip"),
            decode_name(pl.col("qname")).alias("host"),
            rcode_action(rcode, pl.lit(None, pl.List(pl.String))).alias("action"),
            qtype_expr(pl.col("qtype")).alias("dns_qtype"),
            rcode.alias("dns_rcode"),
            answer.alias("dns_answer_only"),
            pl.col("dir").alias("windows_dns_debug_direction"),
            pl.col("proto").alias("windows_dns_debug_protocol"),
        )
        rejected = pl.concat(
            [
                not_matching(batch, fields["qname"].is_not_null(), self.mismatch_reason()),
                not_matching(
                    batch,
                    fields["qname"].is_null() | ok,
                    "invalid date or time for the locale layouts",
                ),
            ]
        )
        return ParsedBatch(events, rejected, skipped)
