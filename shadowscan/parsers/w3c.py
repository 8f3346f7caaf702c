"""W3C extended / ELFF logs, driven by their ``#Fields:`` header line.

``#Fields: date time time-taken c-ip cs-username ... cs-host cs-uri-port cs-uri-path ...``
``2024-11-04 08:00:01 412 10.20.1.15 jdoe ... chatgpt.com 443 / ...``

Covers Blue Coat / Symantec ProxySG ELFF (``#Software: SGOS``), IIS-style W3C logs
(``cs-uri-stem``, ``s-port``, ``cs(User-Agent)``), McAfee / Skyhigh Web Gateway W3C exports
and generic ones. ``FIELD_MAP`` below says which W3C field feeds which canonical column
(names compare case-insensitively; when several fields feed the same column, the first in
``FIELD_MAP`` order that has a value wins).

- Header-driven: the parser keeps the current field list; a ``#Fields:`` line may appear
  again mid-file (log rotation, IIS restarts) and applies to the lines after it. Other
  directives (``#Software``, ``#Version``, ``#Date``, ``#Start-Date``, ``#Remark``) and blank
  lines are skipped. A data line before any ``#Fields:`` header, or whose field count
  differs from the header's, is unparsed with that reason.
- Values are separated by spaces (ProxySG, IIS) or tabs (some exports; a line is read as
  tab-separated when that gives the header's field count). Values may be double-quoted
  with spaces inside (``"Mozilla/5.0 (Windows NT 10.0)"``, ``""`` is a quote); ``-`` is null.
- ``date`` + ``time`` are **UTC**, as the W3C extended format defines them (IIS and
  ProxySG write UTC whatever the server's zone), so ``--timezone`` does not apply. Without
  them, ``x-timestamp`` / ``timestamp`` (epoch or ISO 8601) or ``gmttime``
  (``[04/Nov/2024:08:00:01 +0000]``) is used; a line with no usable time is unparsed.
- The URL is ``cs-uri`` when it is absolute, otherwise built from ``cs-uri-scheme``,
  ``cs-host``, ``cs-uri-port`` and ``cs-uri-path``/``cs-uri-stem``; the query string is never
  kept. ``CONNECT`` (ProxySG scheme ``tcp``/``ssl``) has no URL, only host and port.
- In a proxy log ``s-ip`` is the proxy itself, so it is ignored; in a *server* log (no
  action, scheme, category or remote-server field: IIS) ``s-ip``/``s-port`` are the
  destination, and ``s-port`` 443 means https.
- ``action``: ``blocked`` when any action field (``s-action``, ``x-action``,
  ``sc-filter-result``, ...) says DENIED/BLOCKED/DENY/REJECT/DROP, ``allowed`` when one
  has another value, ``unknown`` when the log has none. ``cs-bytes`` (client to server) is
  ``bytes_out``, ``sc-bytes`` is ``bytes_in``.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers.base import ParseContext, ParsedBatch, Parser, dash_to_null, to_int
from shadowscan.parsers.common import epoch_ts, iso_ts, strptime_ts

#: W3C / ELFF field name (lower case) -> the role it plays. Order is priority within a role.
FIELD_MAP: dict[str, str] = {
    # time (UTC)
    "date": "date",
    "time": "time",
    "x-timestamp-unix": "stamp",
    "request_timestamp_epoch": "stamp",
    "x-timestamp": "stamp",
    "timestamp": "stamp",
    "gmttime": "stamp",
    "localtime": "stamp",
    "request_timestamp": "stamp",
    # client
    "c-ip": "src_ip",
    "client_ip": "src_ip",
    "source_ip": "src_ip",
    "c-port": "src_port",
    "cs-username": "user",
    "cs-userdn": "user",
    "x-username": "user",
    "cs-user": "user",
    "username": "user",
    "cs(user-agent)": "user_agent",
    "cs-user-agent": "user_agent",
    "user_agent": "user_agent",
    # destination
    "cs-host": "host",
    "cs(host)": "host",
    "r-host": "host",
    "r-dns": "host",
    "requested_host": "host",
    "x-cs-sni": "host",
    "cs-uri": "url",
    "cs-url": "url",
    "x-cs-url": "url",
    "url": "url",
    "cs-uri-scheme": "scheme",
    "uri_scheme": "scheme",
    "cs-uri-port": "dst_port",
    "r-port": "dst_port",
    "destination_port": "dst_port",
    "cs-uri-path": "path",
    "cs-uri-stem": "path",
    "requested_path": "path",
    "cs-uri-query": "query",  # recognised, never kept (URLs drop the query)
    "r-ip": "dst_ip",
    "r-supplier-ip": "dst_ip",
    "s-supplier-ip": "dst_ip",
    "destination_ip": "dst_ip",
    "s-ip": "server_ip",  # the destination only in server (IIS) logs
    "s-port": "server_port",
    # request / response
    "cs-method": "method",
    "http_action": "method",
    "sc-status": "status",
    "http_status_code": "status",
    "rs-status": "status",
    "s-action": "action",
    "x-action": "action",
    "sc-filter-result": "action",
    "x-policy-action": "action",
    "result": "action",
    "cs-bytes": "bytes_out",
    "client_to_server_bytes": "bytes_out",
    "sc-bytes": "bytes_in",
    "server_to_client_bytes": "bytes_in",
    "x-bluecoat-application-name": "app",
    "x-cs-app": "app",
    "x-app-name": "app",
    "cs-categories": "categories",
    "cs-category": "categories",
    "sc-filter-category": "categories",
    "x-category": "categories",
    "x-categories": "categories",
    "category": "categories",
    "time-taken": "time_taken",
    "x-elapsed-time": "time_taken",
}
_ORDER = {name: i for i, name in enumerate(FIELD_MAP)}
#: Roles only a proxy / gateway logs; without any of them the log is a web server's.
_PROXY_ROLES = {"action", "scheme", "dst_ip", "dst_port", "categories", "url"}

#: One value: a double-quoted string (``""`` escapes a quote) or a run of non-blanks.
TOKEN = r'"(?:[^"]|"")*"|[^ \t]+'
_FIELDS_LINE = r"^#[Ff][Ii][Ee][Ll][Dd][Ss]:"
_BLOCKED = r"(?i)DENIED|DENY|BLOCK|REJECT|DROP"

BEFORE_HEADER = "data line before any #Fields header"
COUNT_MISMATCH = "field count does not match the #Fields header"
NO_TIME = "no valid date/time"
UNBALANCED = "unbalanced quote"

_TOKEN_RX = re.compile(TOKEN)
_FIELDS_RX = re.compile(_FIELDS_LINE)


def header_names(line: str) -> list[str]:
    """The field names of a ``#Fields:`` line."""
    return line.split(":", 1)[1].split()


def tokens(line: str, count: int) -> list[str]:
    """Python twin of the vectorised split (for sniffing): tabs when that fits, else blanks."""
    by_tab = line.split("\t")
    return by_tab if len(by_tab) == count else _TOKEN_RX.findall(line)


def split_values(part: pl.DataFrame, count: int) -> pl.DataFrame:
    """``line_no``, the values of each line (``_t``, still quoted) and ``_q`` (the line has a
    quote). Tab-separated when that gives ``count`` values; plain single-space splitting
    when the line has no quote nor run of blanks and that fits; the quote-aware ``TOKEN``
    regex otherwise (blanks between values may then be several spaces)."""
    line = pl.col("line")
    has_tab = part["line"].str.contains("\t", literal=True)
    quoted = line.str.contains('"', literal=True)
    simple = ~quoted & ~line.str.contains("  ", literal=True) & ~line.str.ends_with(" ")
    simple = simple & ~line.str.starts_with(" ")
    quick = pl.concat(
        [
            part.filter(has_tab).select("line_no", "line", line.str.split("\t").alias("_t")),
            part.filter(~has_tab).select(
                "line_no", "line", pl.when(simple).then(line.str.split(" ")).alias("_t")
            ),
        ]
    )
    fits = (quick["_t"].list.len() == count).fill_null(False)
    slow = quick.filter(~fits).with_columns(line.str.extract_all(TOKEN).alias("_t"))
    return pl.concat([quick.filter(fits), slow]).select("line_no", "_t", quoted.alias("_q"))


def _unquote(expr: pl.Expr) -> pl.Expr:
    quoted = expr.str.starts_with('"') & expr.str.ends_with('"') & (expr.str.len_chars() >= 2)
    inner = expr.str.slice(1, expr.str.len_chars() - 2).str.replace_all('""', '"', literal=True)
    return pl.when(quoted).then(inner).otherwise(expr)


def _roles(names: list[str]) -> dict[str, list[int]]:
    """Role -> positions in the header, in ``FIELD_MAP`` priority order."""
    found: dict[str, list[tuple[int, int]]] = {}
    for pos, name in enumerate(names):
        key = name.lower()
        if key in FIELD_MAP:
            found.setdefault(FIELD_MAP[key], []).append((_ORDER[key], pos))
    return {role: [pos for _, pos in sorted(v)] for role, v in found.items()}


def _timestamp(date: pl.Expr, time: pl.Expr, stamp: pl.Expr) -> pl.Expr:
    from_date = iso_ts(
        pl.when(date.is_not_null()).then(date + pl.lit(" ") + time.fill_null("00:00:00"))
    )
    numeric = stamp.str.contains(r"^\d+(?:\.\d+)?$")
    from_stamp = (
        pl.when(numeric)
        .then(epoch_ts(stamp))
        .otherwise(
            pl.coalesce(
                iso_ts(stamp),
                strptime_ts(stamp.str.strip_chars("[]"), "%d/%b/%Y:%H:%M:%S %z"),
            )
        )
    )
    return pl.coalesce(from_date, from_stamp)


def _events(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Canonical columns from the split values (list column ``_t``) of one header's lines."""
    roles = _roles(names)
    roles.pop("query", None)
    server_log = not (_PROXY_ROLES & roles.keys())
    used = sorted({p for positions in roles.values() for p in positions})
    frame = frame.select(
        pl.col("line_no"),
        *(pl.col("_t").list.get(p, null_on_oob=True).alias(f"_v{p}") for p in used),
    )
    # Unquote only the columns that have quoted values (most have none): a cheap check first.
    quoted: dict[str, bool] = (
        frame.select(pl.col(f"_v{p}").str.starts_with('"').any().alias(f"_v{p}") for p in used).row(
            0, named=True
        )
        if used
        else {}
    )
    frame = frame.with_columns(
        dash_to_null(_unquote(pl.col(c)) if quoted[c] else pl.col(c)).alias(c) for c in quoted
    )

    def value(pos: int) -> pl.Expr:
        return pl.col(f"_v{pos}")

    def role(name: str) -> pl.Expr:
        exprs = [value(p) for p in roles.get(name, [])]
        if not exprs:
            return pl.lit(None, pl.String)
        return exprs[0] if len(exprs) == 1 else pl.coalesce(exprs)

    actions = [value(p) for p in roles.get("action", [])]
    if actions:
        blocked = pl.any_horizontal([a.str.contains(_BLOCKED).fill_null(False) for a in actions])
        present = pl.any_horizontal([a.is_not_null() for a in actions])
        action = (
            pl.when(blocked)
            .then(pl.lit("blocked"))
            .when(present)
            .then(pl.lit("allowed"))
            .otherwise(pl.lit("unknown"))
        )
    else:
        action = pl.lit("unknown")

    full = role("url")
    absolute = pl.when(full.str.contains(r"^[A-Za-z][A-Za-z0-9+.\-]*://")).then(full)
    path_only = pl.when(full.str.starts_with("/")).then(full.str.extract(r"^([^?#]*)", 1))
    server_port = role("server_port") if server_log else pl.lit(None, pl.String)
    host = role("host")
    # A bare IPv6 literal (``2001:db8::7``) would read as host ``2001`` and port ``db8``.
    bare_v6 = (host.str.count_matches(":", literal=True) >= 2) & ~host.str.starts_with("[")
    host = pl.when(bare_v6).then(pl.format("[{}]", host)).otherwise(host)
    frame = frame.with_columns(
        url_parts(absolute).alias("_f"),
        url_parts(host).alias("_h"),
        role("method").str.to_uppercase().alias("_method"),
    )
    f, h = pl.col("_f").struct, pl.col("_h").struct
    frame = frame.with_columns(
        host_expr(pl.coalesce(h.field("host"), f.field("host"))).alias("host"),
        pl.coalesce(role("scheme"), f.field("scheme")).str.to_lowercase().alias("_scheme"),
        pl.coalesce(role("dst_port"), h.field("port"), f.field("port"), server_port).alias("_port"),
        pl.coalesce(role("path"), f.field("path"), path_only).alias("_path"),
    )
    scheme, port = pl.col("_scheme"), pl.col("_port")
    connect = (pl.col("_method") == "CONNECT") | scheme.is_in(["tcp", "ssl"])
    connect = connect.fill_null(False)
    parts = pl.struct(scheme.alias("scheme"), port.alias("port"), pl.col("_path").alias("path"))
    return frame.select(
        pl.col("line_no"),
        _timestamp(role("date"), role("time"), role("stamp")).alias("ts"),
        role("src_ip").alias("src_ip"),
        to_int(role("src_port"), pl.Int32()).alias("src_port"),
        role("user").alias("user"),
        pl.col("host"),
        (pl.coalesce(role("dst_ip"), role("server_ip")) if server_log else role("dst_ip")).alias(
            "dst_ip"
        ),
        to_int(port, pl.Int32()).fill_null(default_port(scheme, connect)).alias("dst_port"),
        pl.when(connect).then(None).otherwise(url_expr(parts, pl.col("host"))).alias("url"),
        pl.col("_method").alias("method"),
        to_int(role("status"), pl.Int32()).alias("status"),
        action.alias("action"),
        to_int(role("bytes_out")).alias("bytes_out"),
        to_int(role("bytes_in")).alias("bytes_in"),
        role("user_agent").alias("user_agent"),
        pl.when(role("app").str.to_lowercase() == "none")
        .then(None)
        .otherwise(role("app"))
        .alias("app"),
        (pl.coalesce(actions) if actions else pl.lit(None, pl.String)).alias("w3c_action"),
        role("categories").alias("w3c_categories"),
        to_int(role("time_taken")).alias("w3c_time_taken"),
    )


def _rejected(frame: pl.DataFrame, reason: str) -> pl.DataFrame:
    return frame.select(pl.col("line_no"), pl.lit(reason).alias("reason"))


@PARSERS.register("w3c")
class W3cParser(Parser):
    name = "w3c"
    log_type = "proxy"
    summary = "W3C extended / ELFF logs (ProxySG, IIS, Skyhigh/McAfee Web Gateway) read through their #Fields: header."
    example = '2024-11-04 08:00:01 412 10.20.1.15 jdoe - OBSERVED "Artificial Intelligence" 200 TCP_TUNNELED CONNECT tcp chatgpt.com 443 / - "Mozilla/5.0 (Windows NT 10.0)" 10.20.0.2 48211 1840'
    line_pattern = None
    stateless = False
    priority = 2

    def __init__(self, context: ParseContext) -> None:
        super().__init__(context)
        #: The current ``#Fields:`` names; None until the first header.
        self.fields: list[str] | None = None

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        if any(ln.startswith(("#separator", "#set_separator", "#empty_field")) for ln in lines):
            return None  # Zeek TSV (``#fields`` lower case, tab-separated, no colon)
        fields: list[str] | None = None
        data = fits = 0
        for ln in lines:
            if _FIELDS_RX.match(ln):
                fields = header_names(ln)
            elif ln.strip() and not ln.startswith("#"):
                data += 1
                fits += fields is not None and len(tokens(ln, len(fields))) == len(fields)
        if fields is None:
            software = any(re.match(r"#Software:\s*SGOS", ln) for ln in lines)
            version = any(re.match(r"#Version:\s*1\.0\s*$", ln) for ln in lines)
            dated = any(re.match(r"#(?:Start-)?Date:\s*\d{4}-\d{2}-\d{2}", ln) for ln in lines)
            if software or (version and dated):
                return Sniff(0.65, "W3C directives (#Software/#Version/#Date), no #Fields yet")
            return None
        known = sum(1 for n in fields if n.lower() in FIELD_MAP)
        base = 0.7 if known >= 2 else 0.5
        share = fits / data if data else 1.0
        return Sniff(
            base + (1 - base) * share,
            f"#Fields: header ({len(fields)} fields, {known} known); "
            f"{fits}/{data} data lines fit it",
        )

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        if batch.is_empty():
            return ParsedBatch(pl.DataFrame(schema={"line_no": pl.UInt64}))
        line = batch["line"]
        directive = line.str.starts_with("#")
        blank = line.str.contains(r"^\s*$")
        header = line.str.contains(_FIELDS_LINE)
        skipped = int((directive | blank).sum())
        headers = [self.fields, *(header_names(t) for t in line.filter(header).to_list())]
        self.fields = headers[-1]
        data = batch.with_columns(header.cast(pl.UInt32).cum_sum().alias("_seg")).filter(
            ~(directive | blank)
        )
        segments: dict[tuple[str, ...] | None, list[int]] = {}
        for i, names in enumerate(headers):
            segments.setdefault(None if names is None else tuple(names), []).append(i)
        events: list[pl.DataFrame] = []
        rejected: list[pl.DataFrame] = []
        for names_t, seg_ids in segments.items():
            part = data.filter(pl.col("_seg").is_in(seg_ids))
            if part.is_empty():
                continue
            if names_t is None:
                rejected.append(_rejected(part, BEFORE_HEADER))
                continue
            split = split_values(part, len(names_t))
            fits = (split["_t"].list.len() == len(names_t)).fill_null(False)
            rejected.append(_rejected(split.filter(~fits), COUNT_MISMATCH))
            split = split.filter(fits)
            e = pl.element()
            open_quote = e.str.starts_with('"') & ~(e.str.ends_with('"') & (e.str.len_chars() > 1))
            torn = split["_q"] & split["_t"].list.eval(open_quote).list.any().fill_null(False)
            rejected.append(_rejected(split.filter(torn), UNBALANCED))
            ev = _events(split.filter(~torn), list(names_t))
            timed = ev["ts"].is_not_null()
            rejected.append(_rejected(ev.filter(~timed), NO_TIME))
            events.append(ev.filter(timed))
        out = (
            pl.concat(events).sort("line_no")
            if events
            else pl.DataFrame(schema={"line_no": pl.UInt64})
        )
        rej = (
            pl.concat(rejected).sort("line_no")
            if rejected
            else pl.DataFrame(schema={"line_no": pl.UInt64, "reason": pl.String})
        )
        return ParsedBatch(out, rej, skipped)
