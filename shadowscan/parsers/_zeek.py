"""Zeek logs: a toolkit for the ASCII (TSV) writer and the JSON-lines writer.

Each Zeek log stream (``http``, ``ssl``, ``dns``, ``conn``, ...) is declared once as a
:class:`ZeekLog`: its ``#path``, a type map of the fields shadowscan reads (Zeek type
names, as in the ``#types`` header: ``time``, ``count``, ``port``, ``addr``, ``string``,
``bool``, ``interval``, ``set[string]``, ``vector[interval]``...), the keys that identify
its JSON records, and a function from typed records to canonical events. A format is then
a few lines: a :class:`ZeekTsvParser` or :class:`ZeekJsonParser` subclass naming its
``ZeekLog``; the TSV and JSON flavours of one log share the declaration and the mapping.

**TSV** (header-driven)::

    #separator \\x09
    #set_separator	,
    #empty_field	(empty)
    #unset_field	-
    #path	http
    #fields	ts	uid	id.orig_h	...
    #types	time	string	addr	...
    1730707200.123456	CxT1...	10.0.0.1	...
    #close	2024-11-04-09-00-00

The parser instance keeps the current header (separator, set separator, empty and unset
markers, ``#path``, ``#fields``); a ``#separator`` line starts a new header block and
resets it (concatenated logs). Every ``#`` line (also ``###`` btest banners, ``#open``,
``#close``) is skipped. Values equal to the unset marker are null, the empty marker is
an empty string (an empty list for containers), and ``\\xNN`` escapes (non-printable
bytes, the separators, a value that is literally ``-``) are decoded. A masked btest
timestamp (``XXXXXXXXXX.XXXXXX``) gives a null ``ts``, not a rejected line.

**JSON** (stateless): one object per line with dotted keys (``id.orig_h``); nested
(``{"id": {"orig_h": ...}}``) and underscore (``id_orig_h``, ``Log::default_scope_sep``)
spellings are read too. ``ts`` is epoch seconds (or milliseconds) or ISO 8601
(``JSON::TS_ISO8601``). A record wrapped by a Splunk search export
(``{"result": {"_raw": "<escaped Zeek JSON>"}}``) is unwrapped first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import ClassVar

import polars as pl

from shadowscan.parsers.base import (
    ParseContext,
    ParsedBatch,
    Parser,
    Sniff,
    not_matching,
    split_skipped,
)
from shadowscan.parsers.common import epoch_ts, iso_ts, json_path, json_valid
from shadowscan.schema import UTC_TS

# --- log declarations ----------------------------------------------------------------

#: Fields every connection-based Zeek log has.
CONN_ID_TYPES: dict[str, str] = {
    "ts": "time",
    "uid": "string",
    "id.orig_h": "addr",
    "id.orig_p": "port",
    "id.resp_h": "addr",
    "id.resp_p": "port",
}


@dataclass(frozen=True)
class ZeekLog:
    """One Zeek log stream: what its records hold and how they become events.

    ``types``: the fields the parsers read, with their Zeek types (other columns of the
    log are ignored; a declared field the log lacks is null). ``events``: typed records
    (``line_no`` plus one column per declared field, named as in Zeek) -> canonical events.
    JSON records are recognised by keys: all of ``required``, at least one of
    ``markers`` and none of ``excluded`` (keys of sibling logs that share the markers).
    A TSV block without ``#path`` is accepted when ``#fields`` has ``ts`` and a marker.
    """

    path: str
    types: Mapping[str, str]
    events: Callable[[pl.DataFrame], pl.DataFrame]
    required: tuple[str, ...] = ("ts", "uid", "id.orig_h")
    markers: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def path_matches(self, path: str) -> bool:
        """``http``, or a split stream such as ``http_eth0``."""
        return path == self.path or path.startswith(self.path + "_")


# --- values --------------------------------------------------------------------------

_SCALAR_DTYPES: dict[str, pl.DataType] = {
    "time": UTC_TS,
    "interval": pl.Float64(),
    "double": pl.Float64(),
    "count": pl.Int64(),
    "int": pl.Int64(),
    "port": pl.Int64(),
    "bool": pl.Boolean(),
}
_CONTAINER = re.compile(r"^(?:set|vector|table)\[(?P<inner>[^\]]*)\]$")
_ESCAPE_RUN = r"(?:\\x[0-9A-Fa-f]{2})+"
#: The btest-diff mask for timestamps (``XXXXXXXXXX.XXXXXX``).
MASKED_TS = r"^X+(?:\.X+)?$"


def container_inner(ztype: str) -> str | None:
    """``set[string]`` -> ``string``; None for scalar types."""
    m = _CONTAINER.match(ztype)
    return m.group("inner") if m else None


def zeek_dtype(ztype: str) -> pl.DataType:
    """The polars type a Zeek type becomes."""
    inner = container_inner(ztype)
    if inner is not None:
        return pl.List(_SCALAR_DTYPES.get(inner, pl.String()))
    return _SCALAR_DTYPES.get(ztype, pl.String())


def scalar_value(raw: pl.Expr, ztype: str) -> pl.Expr:
    """A scalar Zeek value from its text (TSV field or JSON value as text)."""
    if ztype == "time":
        # epoch seconds (TSV, default JSON), milliseconds (TS_MILLIS) or ISO 8601
        return pl.coalesce(epoch_ts(raw), iso_ts(raw))
    if ztype == "bool":
        return (
            pl.when(raw.is_in(["T", "true"]))
            .then(pl.lit(True))
            .when(raw.is_in(["F", "false"]))
            .then(pl.lit(False))
            .otherwise(pl.lit(None, pl.Boolean))
        )
    dtype = zeek_dtype(ztype)
    if dtype == pl.String():
        return raw
    return raw.str.strip_chars().cast(dtype, strict=False)


def _decode_run(run: str) -> str:
    data = bytes.fromhex(run.replace("\\x", ""))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def unescape(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Decode Zeek's ``\\xNN`` escapes in String and List(String) ``columns``.

    Runs of escapes are decoded together (a UTF-8 character is several bytes); the loop is
    over the few distinct runs, the replacement is vectorised.
    """
    out = []
    for name in columns:
        col = frame[name]
        flat = col.list.explode() if isinstance(col.dtype, pl.List) else col
        if flat.dtype != pl.String() or not flat.str.contains("\\x", literal=True).any():
            continue
        runs = flat.str.extract_all(_ESCAPE_RUN).list.explode().drop_nulls().unique().to_list()
        if not runs:
            continue
        runs.sort(key=len, reverse=True)  # leftmost-first: the whole run wins
        repl = [_decode_run(r) for r in runs]
        el = pl.element() if isinstance(col.dtype, pl.List) else pl.col(name)
        expr = el.str.replace_many(runs, repl, leftmost=True)
        out.append(pl.col(name).list.eval(expr) if isinstance(col.dtype, pl.List) else expr)
    return frame.with_columns(out) if out else frame


def _string_columns(log: ZeekLog) -> list[str]:
    return [
        name
        for name, ztype in log.types.items()
        if zeek_dtype(ztype) in (pl.String(), pl.List(pl.String()))
    ]


# --- TSV -------------------------------------------------------------------------------

_DIRECTIVES = frozenset(
    {"separator", "set_separator", "empty_field", "unset_field", "path", "fields", "types"}
)
#: Header lines that change how the following data lines are read.
DIRECTIVE_PATTERN = r"^#(?:separator|set_separator|empty_field|unset_field|path|fields|types)\b"
_HEX = re.compile(r"\\x([0-9A-Fa-f]{2})")


def decode_header_value(text: str) -> str:
    """``\\x09`` -> tab (header values are written with Zeek's escapes)."""
    return _HEX.sub(lambda m: chr(int(m.group(1), 16)), text)


@dataclass(frozen=True)
class TsvHeader:
    """The header state that applies to the data lines after it."""

    separator: str = "\t"
    set_separator: str = ","
    empty_field: str = "(empty)"
    unset_field: str = "-"
    path: str | None = None
    fields: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None

    def feed(self, line: str) -> TsvHeader:
        """The state after the header line ``line`` (unchanged for other ``#`` lines)."""
        m = re.match(r"#([a-z_]+)(.*)$", line, re.DOTALL)
        if not m or m.group(1) not in _DIRECTIVES:
            return self
        key, rest = m.group(1), m.group(2)
        if key == "separator":
            # ``#separator \x09``: a new header block begins; everything else resets.
            sep = decode_header_value(rest.strip(" "))
            return TsvHeader(separator=sep if sep and "\n" not in sep else "\t")
        if rest.startswith(self.separator):
            value = rest[len(self.separator) :]
        elif rest[:1] in (" ", "\t"):
            value = rest[1:]
        else:
            return self
        if key == "path":
            return replace(self, path=value.strip())
        if key == "fields":
            return replace(self, fields=tuple(value.split(self.separator)), types=None)
        if key == "types":
            return replace(self, types=tuple(value.split(self.separator)))
        decoded = decode_header_value(value)
        if key == "set_separator":
            return replace(self, set_separator=decoded or ",")
        if key == "empty_field":
            return replace(self, empty_field=decoded)
        return replace(self, unset_field=decoded)


_NO_REJECTS = pl.DataFrame(schema={"line_no": pl.UInt64, "reason": pl.String})


class ZeekTsvParser(Parser):
    """Base for Zeek ASCII logs: set ``log`` (and name, summary, example) in a subclass."""

    log: ClassVar[ZeekLog]
    line_pattern = None
    skip_pattern = r"^\s*$|^#"
    priority = 10

    def __init__(self, context: ParseContext) -> None:
        super().__init__(context)
        #: The header in force at the end of the batches seen so far.
        self.header = TsvHeader()

    @classmethod
    def _has_markers(cls, fields: tuple[str, ...]) -> bool:
        return "ts" in fields and any(m in fields for m in cls.log.markers)

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        header = TsvHeader()
        paths: list[str] = []
        for ln in lines:
            if ln.startswith("#"):
                header = header.feed(ln)
                if re.match(r"#path\b", ln) and header.path is not None:
                    paths.append(header.path)
        if paths:
            hits = sum(1 for p in paths if cls.log.path_matches(p))
            if not hits:
                return None
            return Sniff(hits / len(paths), f"Zeek TSV header #path {cls.log.path}")
        if header.fields is not None and cls._has_markers(header.fields):
            return Sniff(0.9, f"Zeek TSV #fields of a {cls.log.path}.log (no #path)")
        return None

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        line = batch["line"]
        meta = line.str.starts_with("#") | line.str.contains(r"^\s*$")
        directive = line.str.contains(DIRECTIVE_PATTERN)
        # The loop is over header lines only; data lines are handled per header block.
        headers = [self.header]
        for text in line.filter(directive).to_list():
            headers.append(headers[-1].feed(text))
        self.header = headers[-1]
        data = batch.with_columns(directive.cast(pl.UInt32).cum_sum().alias("_block")).filter(~meta)
        events = [self._no_events()]
        rejected = [_NO_REJECTS]
        for rows in data.partition_by("_block", maintain_order=True):
            ev, rej = self._parse_block(rows.drop("_block"), headers[int(rows["_block"][0])])
            events.append(ev)
            rejected.append(rej)
        return ParsedBatch(
            pl.concat(events, how="diagonal_relaxed"), pl.concat(rejected), int(meta.sum())
        )

    def _no_events(self) -> pl.DataFrame:
        empty = pl.DataFrame(schema={"line_no": pl.UInt64, "line": pl.String})
        return self.log.events(self._typed(empty, TsvHeader(fields=())).drop("_ts_ok"))

    def _block_problem(self, header: TsvHeader) -> str | None:
        if header.fields is None:
            return "no #fields header before this line"
        if header.path is not None and not self.log.path_matches(header.path):
            return f"#path {header.path[:40]} is not a Zeek {self.log.path}.log"
        if header.path is None and not self._has_markers(header.fields):
            return f"#fields do not describe a Zeek {self.log.path}.log"
        return None

    def _parse_block(
        self, rows: pl.DataFrame, header: TsvHeader
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Events and rejected lines of data ``rows`` read with ``header``."""
        problem = self._block_problem(header)
        if problem is not None or header.fields is None:
            return self._no_events(), rows.select("line_no", pl.lit(problem).alias("reason"))
        count_ok = rows["line"].str.count_matches(header.separator, literal=True) == (
            len(header.fields) - 1
        )
        rows_ok = rows.filter(count_ok)
        typed = self._typed(rows_ok, header)
        ts_ok = typed["_ts_ok"]
        rejected = pl.concat(
            [
                not_matching(rows, count_ok, "field count differs from #fields"),
                not_matching(rows_ok, ts_ok, "invalid ts"),
            ]
        )
        return self.log.events(typed.filter(ts_ok).drop("_ts_ok")), rejected

    def _typed(self, rows: pl.DataFrame, header: TsvHeader) -> pl.DataFrame:
        """``line_no``, one typed column per declared field, and ``_ts_ok``: false where
        ``ts`` is neither a time nor the btest mask (a corrupt line)."""
        index: dict[str, int] = {}
        for i, name in enumerate(header.fields or ()):
            index.setdefault(name, i)
        wanted = [name for name in self.log.types if name in index]
        # split once, pick the declared columns, then convert column by column
        parts = rows.select(pl.col("line_no"), pl.col("line").str.split(header.separator))
        raw = parts.select(
            pl.col("line_no"),
            *(
                pl.col("line").list.get(index[name], null_on_oob=True).alias(name)
                for name in wanted
            ),
        ).with_columns(
            pl.when(pl.col(name) != header.unset_field).then(pl.col(name)).alias(name)
            for name in wanted
        )
        exprs: list[pl.Expr] = [pl.col("line_no")]
        for name, ztype in self.log.types.items():
            dtype = zeek_dtype(ztype)
            col = pl.col(name)
            if name not in index:
                value = pl.lit(None, dtype)
            elif container_inner(ztype) is not None:
                value = (
                    pl.when(col == header.empty_field)
                    .then(pl.lit([], dtype=dtype))
                    .otherwise(col.str.split(header.set_separator).cast(dtype, strict=False))
                )
            elif dtype == pl.String():
                value = pl.when(col == header.empty_field).then(pl.lit("")).otherwise(col)
            else:
                value = scalar_value(pl.when(col != header.empty_field).then(col), ztype)
            exprs.append(value.cast(dtype).alias(name))
        ts_ok = pl.lit(True)
        if "ts" in wanted:
            ts = pl.col("ts")
            ts_ok = ts.str.contains(MASKED_TS) | scalar_value(ts, "time").is_not_null()
        exprs.append(ts_ok.fill_null(False).alias("_ts_ok"))
        return unescape(raw.select(exprs), _string_columns(self.log))


# --- JSON ------------------------------------------------------------------------------

#: Where wrappers put the original Zeek line (Splunk search export: ``result._raw``).
WRAPPERS: tuple[str, ...] = ("result/_raw",)


def unwrap(text: pl.Series, wrappers: tuple[str, ...] = WRAPPERS) -> pl.Series:
    """Replace wrapper records by the Zeek JSON line they carry as a string."""
    out = text
    for path in wrappers:
        key = path.rsplit("/", 1)[-1]
        if not text.str.contains(f'"{key}"', literal=True).any():
            continue
        inner = text.str.json_path_match(json_path(path))
        use = inner.str.strip_chars().str.starts_with("{").fill_null(False)
        out = inner.zip_with(use, out)
    return out


def key_alternatives(name: str) -> list[str]:
    """JSON key paths for a Zeek field: ``id.orig_h``, nested ``id``/``orig_h``, ``id_orig_h``."""
    if "." not in name:
        return [name]
    return [name, name.replace(".", "/"), name.replace(".", "_")]


def _key_pattern(name: str) -> str:
    """Regex for the key ``name`` in a JSON line, in any spelling of :func:`key_alternatives`.

    A quote inside a JSON string is escaped, so ``"name":`` only matches a key.
    """
    if "." not in name:
        return rf'"{re.escape(name)}"\s*:'
    outer, inner = name.split(".", 1)
    flat = rf'"(?:{re.escape(name)}|{re.escape(name.replace(".", "_"))})"\s*:'
    nested = rf'"{re.escape(outer)}"\s*:\s*\{{[^{{}}]*"{re.escape(inner)}"\s*:'
    return f"{flat}|{nested}"


def key_present(text: pl.Series, names: tuple[str, ...] | list[str]) -> pl.Series:
    """True where a record has at least one of the keys ``names``."""
    return text.str.contains("|".join(_key_pattern(n) for n in names)).fill_null(False)


#: What a failed ``json_decode`` raises (a Rust panic is not a PolarsError).
_DECODE_ERRORS = (pl.exceptions.PolarsError, pl.exceptions.PanicException)
#: Decoding into this (any JSON object fits) is much cheaper than a JSONPath match.
_PROBE = pl.Struct({"uid": pl.String})
#: Lone UTF-16 surrogate escapes: ``json_decode`` accepts them, ``json_valid`` does not.
_SURROGATE = r"\\u[dD][89a-fA-F]"


def json_objects(text: pl.Series) -> pl.Series:
    """:func:`~shadowscan.parsers.common.json_valid` for a batch, faster: a batch whose
    lines all decode is checked with one ``json_decode``; otherwise (or for lines with
    surrogate escapes) each line is checked with ``json_valid``. The result of a line
    never depends on the other lines of the batch."""
    starts = text.str.strip_chars_start().str.starts_with("{").fill_null(False)
    slow = starts & text.str.contains(_SURROGATE).fill_null(False)
    fast = starts & ~slow
    out = fast
    if fast.any():
        try:
            text.filter(fast).str.json_decode(_PROBE)
        except _DECODE_ERRORS:
            out = pl.Series([False] * text.len(), dtype=pl.Boolean)
            slow = starts
    if slow.any():
        valid = json_valid(text)
        assert isinstance(valid, pl.Series)
        out = out | (slow & valid.fill_null(False))
    return out


def is_record(text: pl.Series, log: ZeekLog) -> pl.Series:
    """True where ``text`` (already unwrapped) is a JSON record of ``log``."""
    ok = json_objects(text)
    for name in log.required:
        ok = ok & key_present(text, [name])
    if log.markers:
        ok = ok & key_present(text, log.markers)
    if log.excluded:
        ok = ok & ~key_present(text, log.excluded)
    path = text.str.extract(r'"_path"\s*:\s*"([^"\\]*)"', 1)
    if path.is_not_null().any():
        ok = ok & (path.is_null() | (path == log.path) | path.str.starts_with(log.path + "_"))
    return ok.fill_null(False)


def _spellings_used(text: pl.Series, name: str) -> list[str]:
    """The key spellings of ``name`` that occur in ``text`` (so that a batch written in
    one style is not searched for the others)."""
    paths = key_alternatives(name)
    if len(paths) == 1:
        return paths
    quoted = [f'"{name}"', f'"{name.split(".", 1)[0]}"', f'"{name.replace(".", "_")}"']
    used = [
        p for p, q in zip(paths, quoted, strict=True) if text.str.contains(q, literal=True).any()
    ]
    return used or paths[:1]


def _raw_dtype(ztype: str) -> pl.DataType:
    """What a value is decoded as before conversion: text, or a list of texts."""
    return pl.List(pl.String) if container_inner(ztype) is not None else pl.String()


def _decoded_raw(frame: pl.DataFrame, log: ZeekLog) -> pl.DataFrame:
    """One raw column per declared field with a single ``json_decode`` of the batch.

    Raises :class:`polars.exceptions.PolarsError` when a line has a value of another
    shape (an object where text was expected, ...); the caller then reads key by key.
    """
    text = frame["line"]
    top: dict[str, pl.DataType | dict[str, pl.DataType]] = {}
    picks: dict[str, list[pl.Expr]] = {}
    for name, ztype in log.types.items():
        dtype = _raw_dtype(ztype)
        picks[name] = []
        for path in _spellings_used(text, name):
            parts = path.split("/")
            if len(parts) == 1:
                if isinstance(top.get(path), dict):
                    raise pl.exceptions.ComputeError(f"{path} is both a value and a record")
                top[path] = dtype
                picks[name].append(pl.col("_j").struct.field(path))
            else:
                inner = top.setdefault(parts[0], {})
                if not isinstance(inner, dict):
                    raise pl.exceptions.ComputeError(f"{parts[0]} is both a value and a record")
                inner[parts[1]] = dtype
                picks[name].append(pl.col("_j").struct.field(parts[0]).struct.field(parts[1]))
    struct = pl.Struct({k: pl.Struct(v) if isinstance(v, dict) else v for k, v in top.items()})
    decoded = frame.select(pl.col("line_no"), pl.col("line").str.json_decode(struct).alias("_j"))
    return decoded.select(
        pl.col("line_no"),
        *(
            (exprs[0] if len(exprs) == 1 else pl.coalesce(exprs)).alias(name)
            for name, exprs in picks.items()
        ),
    )


def _path_matched_raw(frame: pl.DataFrame, log: ZeekLog) -> pl.DataFrame:
    """Like :func:`_decoded_raw`, key by key with JSONPath (any value shape; slower)."""
    text = frame["line"]
    exprs: list[pl.Expr] = [pl.col("line_no")]
    for name, ztype in log.types.items():
        found = [
            pl.col("line").str.json_path_match(json_path(p)) for p in _spellings_used(text, name)
        ]
        raw = found[0] if len(found) == 1 else pl.coalesce(found)
        if container_inner(ztype) is not None:
            flat_array = raw.str.contains(r"^\[[^\[\]{}]*\]$").fill_null(False)
            raw = pl.when(flat_array).then(raw).str.json_decode(pl.List(pl.String))
        exprs.append(raw.alias(name))
    return frame.select(exprs)


def json_records(frame: pl.DataFrame, log: ZeekLog) -> pl.DataFrame:
    """``line_no`` plus one typed column per declared field, from JSON ``line``s."""
    try:
        raw = _decoded_raw(frame, log)
    except _DECODE_ERRORS:
        raw = _path_matched_raw(frame, log)
    exprs: list[pl.Expr] = [pl.col("line_no")]
    for name, ztype in log.types.items():
        dtype = zeek_dtype(ztype)
        col = pl.col(name)
        value = (
            col.cast(dtype, strict=False)
            if container_inner(ztype) is not None
            else scalar_value(col, ztype)
        )
        exprs.append(value.cast(dtype).alias(name))
    return unescape(raw.select(exprs), _string_columns(log))


class ZeekJsonParser(Parser):
    """Base for Zeek JSON-lines logs: set ``log`` (and name, summary, example) in a subclass."""

    log: ClassVar[ZeekLog]
    stateless = True
    priority = 10

    @classmethod
    def mismatch_reason(cls) -> str:
        return f"not a Zeek {cls.log.path}.log JSON record"

    @classmethod
    def validate(cls, text: pl.Series) -> pl.Series:
        return is_record(unwrap(text), cls.log)

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        data = [ln for ln in lines if ln.strip()]
        if not data:
            return None
        hits = int(cls.validate(pl.Series(data, dtype=pl.String)).sum())
        if not hits:
            return None
        return Sniff(
            hits / len(data), f"{hits}/{len(data)} sample lines are Zeek {cls.log.path}.log JSON"
        )

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        text = unwrap(batch["line"])
        ok = is_record(text, self.log)
        records = json_records(
            pl.DataFrame({"line_no": batch["line_no"], "line": text}).filter(ok), self.log
        )
        return ParsedBatch(
            self.log.events(records), not_matching(batch, ok, self.mismatch_reason()), skipped
        )
