"""What the tabular identity readers share: CSV records with the physical lines they span,
JSON objects found anywhere in a file, column names matched by alias, times in the
spellings exports use, and the line accounting of records that span lines.

A *row frame* is how readers hand rows to the vectorised part: one row per record, with
``_first``/``_last`` (the record's 1-based physical lines) and ``_fate``: null while the
row is still to be judged, else :data:`PARSED`, :data:`IGNORED` or a rejection reason.
:func:`account` turns the judged frame into the batch counts, so a record that spans
lines 5-7 counts lines 5, 6 and 7 the same way.
"""

from __future__ import annotations

import bisect
import csv
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from shadowscan.identity.base import (
    BINDING_SCHEMA,
    REJECTED_SCHEMA,
    IdentityBatch,
    IdentityContext,
    normalise_ip,
)
from shadowscan.parsers.common import epoch_ts, iso_ts, strptime_ts
from shadowscan.schema import UTC_TS

PARSED = "parsed"
IGNORED = "ignored"

#: Values that mean "nothing here" in exports.
BLANKS = ("", "-")

#: Row-frame columns every reader starts from.
ROW_SCHEMA: dict[str, pl.DataType] = {
    "_first": pl.UInt64(),
    "_last": pl.UInt64(),
    "_fate": pl.String(),
}


# --- names ---------------------------------------------------------------------------


def column_key(name: str) -> str:
    """How a header or JSON key is compared: lower case, letters and digits only, so
    ``Source_Network_Address``, ``Source Network Address`` and ``source-network-address``
    are one name."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def find_columns(
    header: Sequence[str], aliases: Mapping[str, Sequence[str]]
) -> dict[str, list[int]]:
    """For each role, the indexes of the header's columns that name it, best alias first
    (roles no column names are left out)."""
    keys = [column_key(h) for h in header]
    found: dict[str, list[int]] = {}
    for role, names in aliases.items():
        idx = [i for name in names for i, key in enumerate(keys) if key == name]
        if idx:
            found[role] = idx
    return found


def pick(values: Sequence[str], indexes: Sequence[int]) -> str | None:
    """The first of ``values[i]`` (``i`` in ``indexes``) that is not blank or ``-``."""
    for i in indexes:
        if i < len(values):
            value = values[i].strip()
            if value not in BLANKS:
                return value
    return None


def pick_key(obj: Mapping[str, Any], names: Sequence[str]) -> str | None:
    """Like :func:`pick` for a JSON object: the first key (compared with
    :func:`column_key`) among ``names`` with a scalar, non-blank value, as text."""
    by_key: dict[str, Any] = {}
    for key, value in obj.items():
        by_key.setdefault(column_key(key), value)
    for name in names:
        value = by_key.get(name)
        if value is None or isinstance(value, dict | list):
            continue
        if isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        else:
            text = str(value).strip()
        if text not in BLANKS:
            return text
    return None


# --- CSV -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One CSV record: its fields and the physical lines it spans. ``fields`` is empty
    for a blank or ``#`` comment line; ``error`` says why a record could not be split."""

    first: int
    last: int
    fields: list[str]
    error: str | None = None


def sniff_delimiter(line: str) -> str:
    """``,``, ``;`` (European Excel) or tab: whichever occurs most outside quotes in a
    header line; ``,`` on a tie."""
    bare = re.sub(r'"[^"]*"', "", line)
    counts = {d: bare.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


class _Feed:
    """Lines for :mod:`csv`, one at a time, so each record's line span is known."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.pos = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1] + "\n"


def csv_records(lines: Sequence[str], delimiter: str = ",") -> list[Record]:
    """Split ``lines`` into CSV records; quoted fields may hold delimiters and line
    breaks. Blank lines and lines starting with ``#`` (the ``#TYPE`` line of Windows
    PowerShell's ``Export-Csv``, comments) between records come back with no fields. A
    quote left open swallows the rest of the file: that record is an error."""
    feed = _Feed(lines)
    reader = csv.reader(feed, delimiter=delimiter)
    records: list[Record] = []
    while feed.pos < len(lines):
        start = feed.pos
        text = lines[start].strip()
        if not text or text.startswith("#"):
            feed.pos += 1
            records.append(Record(start + 1, start + 1, []))
            continue
        try:
            fields = next(reader)
        except csv.Error:
            records.append(Record(start + 1, max(feed.pos, start + 1), [], "unreadable CSV record"))
            continue
        except StopIteration:  # pragma: no cover - feed.pos < len(lines) guarantees a line
            break
        if feed.pos == len(lines) and _open_at_end(lines[start:], delimiter):
            records.append(Record(start + 1, feed.pos, [], "unterminated quote"))
            continue
        records.append(Record(start + 1, feed.pos, fields))
    return records


def _open_at_end(lines: Sequence[str], delimiter: str) -> bool:
    """Whether the last record of a file ends inside a quoted field (which the lenient
    reader accepts, having swallowed every line after the quote)."""
    try:
        for _ in csv.reader([ln + "\n" for ln in lines], delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


@dataclass
class Table:
    """A CSV file split into its header and data records."""

    header: list[str]
    header_record: Record | None
    rows: list[Record]
    #: Blank and comment lines, wherever they are.
    blank: list[Record]


def read_table(lines: Sequence[str]) -> Table:
    """The first record that is not blank or a comment is the header; its delimiter is
    the file's."""
    first = next((ln for ln in lines if ln.strip() and not ln.strip().startswith("#")), "")
    records = csv_records(lines, sniff_delimiter(first))
    blank = [r for r in records if not r.fields and r.error is None]
    data = [r for r in records if r.fields or r.error is not None]
    if not data or data[0].error is not None:
        return Table([], None, data, blank)
    header = [h.strip().lstrip("\ufeff") for h in data[0].fields]
    return Table(header, data[0], data[1:], blank)


def head_header(head: Sequence[str]) -> list[str]:
    """The header of a CSV file from its first lines (for sniffing)."""
    first = next((ln for ln in head if ln.strip() and not ln.strip().startswith("#")), "")
    try:
        return next(csv.reader([first], delimiter=sniff_delimiter(first)), [])
    except csv.Error:
        return []


def missing_roles(columns: Mapping[str, Sequence[int]], *required: Sequence[str]) -> str | None:
    """Why a header cannot be read: ``"header has no ip column"`` for the first group of
    roles (any one of which will do) that no column names; None when all are there."""
    for group in required:
        if not any(role in columns for role in group):
            names = " or ".join(role.replace("_", " ") for role in group)
            return f"header has no {names} column"
    return None


def row_frame(
    table: Table,
    columns: Mapping[str, Sequence[int]],
    roles: Sequence[str],
    problem: str | None = None,
    *,
    every: Sequence[str] = (),
) -> pl.DataFrame:
    """One row per data record with one string column per role (the first non-blank of
    its columns; null when none), and the blank, comment and header lines as ignored
    rows. Rows that cannot be read are rejected: a record the CSV reader cannot split
    (an unterminated quote, an oversized field), or more fields than the header has
    (an unquoted delimiter shifts every later column). Rows with fewer fields are read
    (trailing empty fields are often left out). With a header ``problem`` (see
    :func:`missing_roles`), the header is rejected for it and every row with it. Roles
    in ``every`` keep all their columns' non-blank values, one per line."""
    width = len(table.header)
    out: dict[str, list[Any]] = {"_first": [], "_last": [], "_fate": []}
    for role in roles:
        out[role] = []
    skipped = [(rec, IGNORED) for rec in table.blank]
    if table.header_record is not None:
        skipped.append((table.header_record, problem or IGNORED))
    for rec, skip_fate in skipped:
        out["_first"].append(rec.first)
        out["_last"].append(rec.last)
        out["_fate"].append(skip_fate)
        for role in roles:
            out[role].append(None)
    for rec in table.rows:
        fate: str | None = rec.error or problem
        if fate is None and any(f.strip() for f in rec.fields[width:]):
            fate = "more fields than the header"
        out["_first"].append(rec.first)
        out["_last"].append(rec.last)
        out["_fate"].append(fate)
        for role in roles:
            idx = columns.get(role, [])
            if fate is not None:
                value = None
            elif role in every:
                value = "\n".join(v for i in idx if (v := pick(rec.fields, [i]))) or None
            else:
                value = pick(rec.fields, idx)
            out[role].append(value)
    schema = ROW_SCHEMA | {role: pl.String() for role in roles}
    return pl.DataFrame(out, schema=schema)


# --- JSON ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JsonValue:
    """A JSON value found in a file and the physical lines it spans (``error`` set, and
    ``value`` None, for text that is not JSON)."""

    first: int
    last: int
    value: Any
    error: str | None = None


_DECODER = json.JSONDecoder()
#: What may stand between values: blanks, commas and the brackets of top-level arrays.
_BETWEEN = re.compile(r"[\s,\[\]]*")


def json_values(lines: Sequence[str]) -> list[JsonValue]:
    """Every JSON value in ``lines``, whether one object per line (JSON lines), objects
    spread over lines, or the elements of top-level arrays (``[`` and ``]`` may share a
    line with elements, as ``json.dump`` writes them). Text that does not decode is
    reported at its line, and reading goes on at the next line. Lines holding only
    brackets, commas or blanks yield nothing (:func:`account` counts them ignored)."""
    text = "\n".join(lines)
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    values: list[JsonValue] = []
    pos, end = 0, len(text)
    while True:
        gap = _BETWEEN.match(text, pos)
        pos = gap.end() if gap else pos
        if pos >= end:
            return values
        first = bisect.bisect_right(starts, pos)
        try:
            value, stop = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            values.append(JsonValue(first, first, None, "not JSON"))
            pos = starts[first] if first < len(starts) else end
            continue
        values.append(JsonValue(first, bisect.bisect_right(starts, stop - 1), value))
        pos = stop


# --- times and addresses ---------------------------------------------------------------

_SLASH_DATE = r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\b"


def day_first(values: pl.Series) -> bool:
    """Whether ``d/m/yyyy`` dates in ``values`` put the day first: true when some date
    only reads day-first (``13/11/2026``) and none only month-first. Exports write the
    dates of one locale, so a file has one order."""
    parts = values.drop_nulls().str.extract_groups(_SLASH_DATE)
    a = parts.struct.field("1").cast(pl.Int32, strict=False)
    b = parts.struct.field("2").cast(pl.Int32, strict=False)
    return bool((a > 12).any()) and not bool((b > 12).any())


def parse_time(expr: pl.Expr, tz: str, *, dayfirst: bool = False) -> pl.Expr:
    """A time as exports write it -> UTC: ISO 8601 (``T`` or space, seconds and fraction
    optional, ``Z`` or an offset, possibly after a space; naive in ``tz``), epoch seconds
    or milliseconds, or a locale date read in ``tz``: ``11/2/2026 8:00:00 AM`` or
    ``02/11/2026 08:00`` (``dayfirst`` says which of day and month comes first) or
    ``02.11.2026 08:00:00`` (always day first)."""
    s = (
        expr.cast(pl.String)
        .str.strip_chars()
        .str.replace(r"\s*(?:UTC|GMT)$", "Z")
        .str.replace(r"\s+(Z|[+-]\d{2}:?\d{2})$", "$1")
        .str.replace(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})(Z|[+-]\d{2}:?\d{2})?$", "$1:00$2")
    )
    clocks = ("%I:%M:%S %p", "%I:%M %p", "%H:%M:%S", "%H:%M")
    slash = "%d/%m/%Y" if dayfirst else "%m/%d/%Y"
    locale = [strptime_ts(s, f"{slash} {clock}", tz) for clock in clocks]
    locale += [strptime_ts(s, f"%d.%m.%Y {clock}", tz) for clock in clocks]
    epoch = pl.when(s.str.contains(r"^\d{9,13}(?:\.\d+)?$")).then(epoch_ts(s))
    iso = pl.when(s.str.contains(r"^\d{4}-\d{2}-\d{2}[T ]\d")).then(iso_ts(s, tz))
    return pl.coalesce(iso, epoch, *locale).cast(UTC_TS)


def valid_ip(ip: pl.Expr) -> pl.Expr:
    """Whether a (normalised) address looks like IPv4 or IPv6."""
    v4 = ip.str.contains(
        r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$"
    )
    v6 = ip.str.contains(r"^[0-9a-f:.]+$") & ip.str.contains(":") & (ip.str.len_chars() <= 45)
    return v4 | v6


def not_a_person(user: pl.Expr) -> pl.Expr:
    """Accounts that stand for no person: machine accounts (``WS0142$``,
    ``CORP\\WS0142$``, ``WS0142$@CORP.EXAMPLE``, and ``host/WS0142.corp.example`` as
    802.1X machine authentication names them), ``ANONYMOUS LOGON``, the service
    identities ``SYSTEM``, ``LOCAL SERVICE``, ``NETWORK SERVICE`` and the per-session
    ``DWM-n``/``UMFD-n`` accounts."""
    name = user.str.replace(r"^.*\\", "").str.replace(r"@.*$", "").str.strip_chars()
    return (
        name.str.ends_with("$")
        | user.str.to_lowercase().str.starts_with("host/")
        | name.str.to_uppercase().str.contains(
            r"^(?:ANONYMOUS LOGON|SYSTEM|LOCAL SERVICE|NETWORK SERVICE|(?:DWM|UMFD)-\d+)$"
        )
    )


# --- accounting ------------------------------------------------------------------------


def account(rows: pl.DataFrame, lines: int) -> tuple[int, int, pl.DataFrame]:
    """``(parsed, ignored, rejected)`` line counts of a judged row frame over a file of
    ``lines`` lines. Every physical line of a record shares the record's fate; a line
    several records touch (two JSON objects on one line) is parsed if one of them is,
    else rejected if one is; lines no record touches are ignored."""
    per_line = (
        rows.select(
            pl.int_ranges(pl.col("_first"), pl.col("_last") + 1, dtype=pl.UInt64).alias("line_no"),
            pl.col("_fate"),
        )
        .explode("line_no")
        .filter(pl.col("line_no").is_between(1, lines))
        .with_columns(
            pl.when(pl.col("_fate") == PARSED)
            .then(0)
            .when(pl.col("_fate") == IGNORED)
            .then(2)
            .otherwise(1)
            .alias("_rank")
        )
        .group_by("line_no")
        .agg(pl.col("_fate").sort_by(["_rank", "_fate"]).first(), pl.col("_rank").min())
    )
    parsed = per_line.filter(pl.col("_rank") == 0).height
    rejected = (
        per_line.filter(pl.col("_rank") == 1)
        .select("line_no", pl.col("_fate").alias("reason"))
        .sort("line_no")
    )
    ignored = lines - parsed - rejected.height
    return parsed, ignored, rejected.select([pl.col(c).cast(t) for c, t in REJECTED_SCHEMA.items()])


# --- sessions: ip, user, start, end ----------------------------------------------------

#: Role -> column or key names (as :func:`column_key` writes them) of generic session
#: exports.
SESSION_ALIASES: dict[str, tuple[str, ...]] = {
    "ip": ("ip", "ipaddress", "address", "srcip", "clientip"),
    "user": ("user", "username", "login", "account"),
    "start": ("start", "starttime", "from", "begin", "logintime"),
    "end": ("end", "endtime", "to", "until", "logouttime"),
}


def session_batch(
    rows: pl.DataFrame, lines: int, context: IdentityContext, source: str
) -> IdentityBatch:
    """Sessions from a row frame with ``ip``, ``user``, ``start``, ``end`` (text, null
    when absent). A session without an end lasts ``context.session_time``. Rejected:
    no address, user or start, an address or time that does not read, an end before the
    start. Ignored: loopback and unspecified addresses, machine and service accounts."""
    dayfirst = day_first(pl.concat([rows["start"], rows["end"]]))
    # Parsed values go to columns before they are tested (each use of an expression
    # would parse again).
    values = rows.with_columns(
        normalise_ip(pl.col("ip")).alias("_ip"),
        parse_time(pl.col("start"), context.timezone, dayfirst=dayfirst).alias("_start"),
        parse_time(pl.col("end"), context.timezone, dayfirst=dayfirst).alias("_end"),
    )
    ip, start, end = pl.col("_ip"), pl.col("_start"), pl.col("_end")
    fate = (
        pl.when(pl.col("_fate").is_not_null())
        .then(pl.col("_fate"))
        .when(pl.col("ip").is_null())
        .then(pl.lit("missing address"))
        .when(pl.col("user").is_null())
        .then(pl.lit("missing user"))
        .when(pl.col("start").is_null())
        .then(pl.lit("missing start"))
        .when(ip.is_null())
        .then(pl.lit(IGNORED))
        .when(~valid_ip(ip))
        .then(pl.lit("bad address"))
        .when(start.is_null())
        .then(pl.lit("bad start time"))
        .when(pl.col("end").is_not_null() & end.is_null())
        .then(pl.lit("bad end time"))
        .when(end < start)
        .then(pl.lit("end before start"))
        .when(not_a_person(pl.col("user")))
        .then(pl.lit(IGNORED))
        .otherwise(pl.lit(PARSED))
    )
    judged = values.with_columns(
        fate.alias("_fate"),
        pl.coalesce(end, start + pl.lit(context.session_time)).alias("_end"),
    )
    frame = (
        judged.filter(pl.col("_fate") == PARSED)
        .select(
            pl.col("_ip").alias("ip"),
            pl.col("_start").alias("start"),
            pl.col("_end").alias("end"),
            pl.col("user"),
            pl.lit(None, pl.String()).alias("mac"),
            pl.lit(None, pl.String()).alias("device"),
            pl.lit("session").alias("kind"),
            pl.lit(source).alias("source"),
            pl.lit(context.source_file).alias("source_file"),
            pl.col("_first").alias("line_no"),
        )
        .select([pl.col(c).cast(t) for c, t in BINDING_SCHEMA.items()])
        .sort(["ip", "start", "line_no"])
    )
    parsed, ignored, rejected = account(judged, lines)
    return IdentityBatch(frame, lines=lines, parsed=parsed, ignored=ignored, rejected=rejected)
