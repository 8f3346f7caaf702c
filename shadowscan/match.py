"""Signature matching on *distinct* values, joined back to the events.

A proxy log has millions of lines but only thousands of distinct hosts, so each distinct
host is matched once (a walk over its suffixes, most specific first), and the result is
joined back. A host matches a signature domain only when it *is* that domain or a
subdomain of it: never by substring, so ``notchatgpt.com`` and ``chatgpt.com.evil.example``
do not match ``chatgpt.com``.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from shadowscan.schema import MATCH_SCHEMA
from shadowscan.signatures import Catalogue, Service


@dataclass(frozen=True)
class Rule:
    """One way a service can be recognised; ``text`` explains a match (``domain:chatgpt.com``)."""

    service_id: str
    text: str
    confidence: str


def _glob_to_regex(glob: str, label: bool) -> str:
    """``*`` is one DNS label in a host pattern, anything in a path pattern."""
    star = "[a-z0-9-]+" if label else ".*"
    return "".join(star if ch == "*" else re.escape(ch) for ch in glob)


@dataclass
class _UrlRule:
    host_exact: str | None
    host_suffix: str | None
    host_regex: re.Pattern[str] | None
    path: re.Pattern[str]
    rule: Rule

    def host_matches(self, host: str) -> bool:
        if self.host_exact is not None:
            return host == self.host_exact
        if self.host_suffix is not None:
            return host.endswith("." + self.host_suffix)
        return bool(self.host_regex and self.host_regex.fullmatch(host))


class Matcher:
    """Compiled form of a catalogue."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.services: dict[str, Service] = {s.id: s for s in catalogue.active()}
        self._domain: dict[str, Rule] = {}  # domain and its subdomains
        self._subdomain: dict[str, Rule] = {}  # "*.x": subdomains only
        self._wild: list[tuple[re.Pattern[str], Rule]] = []
        self._url: list[_UrlRule] = []
        self._app: dict[str, Rule] = {}
        for svc in self.services.values():
            for d in svc.domains:
                rule = Rule(svc.id, f"domain:{d}", svc.confidence)
                if d.startswith("*.") and "*" not in d[2:]:
                    self._subdomain.setdefault(d[2:], rule)
                elif "*" in d:
                    self._wild.append((re.compile(_glob_to_regex(d, label=True)), rule))
                else:
                    self._domain.setdefault(d, rule)
            for p in svc.url_patterns:
                host, _, path = p.partition("/")
                rule = Rule(svc.id, f"url:{p}", "high")
                path_rx = re.compile(_glob_to_regex("/" + path, label=False))
                if host.startswith("*.") and "*" not in host[2:]:
                    self._url.append(_UrlRule(None, host[2:], None, path_rx, rule))
                elif "*" in host:
                    self._url.append(
                        _UrlRule(None, None, re.compile(_glob_to_regex(host, True)), path_rx, rule)
                    )
                else:
                    self._url.append(_UrlRule(host, None, None, path_rx, rule))
            for a in svc.app_ids:
                self._app.setdefault(a.lower(), Rule(svc.id, f"app:{a}", "high"))
        self._host_cache: dict[str, Rule | None] = {}
        self._lock = threading.Lock()
        self._prefilter: Prefilter | None = None

    # --- single values ------------------------------------------------------------------

    def match_host(self, host: str) -> Rule | None:
        """The most specific domain rule for ``host`` (already normalised), or None."""
        cached = self._host_cache.get(host, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        found = self._match_host(host)
        with self._lock:
            self._host_cache[host] = found
        return found

    def _match_host(self, host: str) -> Rule | None:
        labels = host.split(".")
        for i in range(len(labels)):
            suffix = ".".join(labels[i:])
            rule = self._domain.get(suffix)
            if rule is None and i > 0:
                rule = self._subdomain.get(suffix)
            if rule is not None:
                return rule
        for rx, rule in self._wild:
            if rx.fullmatch(host):
                return rule
        return None

    def match_url(self, host: str, path: str) -> Rule | None:
        for u in self._url:
            if u.host_matches(host) and u.path.fullmatch(path or "/"):
                return u.rule
        return None

    def url_hosts_possible(self, host: str) -> bool:
        return any(u.host_matches(host) for u in self._url)

    def match_value(self, value: str) -> Rule | None:
        """Match a host, a URL, or ``app:NAME`` (used by signature examples and ``test``)."""
        from shadowscan.hosts import idna_host

        if value.startswith("app:"):
            return self._app.get(value[4:].lower())
        m = re.match(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?([^/:?#]+)(?::\d+)?(/[^?#]*)?", value)
        if not m:
            return None
        host = idna_host(m.group(1).lower().rstrip("."))
        path = m.group(2)
        if path and self._url:
            by_url = self.match_url(host, path)
            if by_url is not None:
                return by_url
        return self.match_host(host)

    # --- frames -------------------------------------------------------------------------

    def match_frame(self, events: pl.DataFrame) -> pl.DataFrame:
        """Matched events only, with the match columns added."""
        if events.is_empty():
            return events.with_columns(
                [pl.lit(None, dtype=t).alias(n) for n, t in MATCH_SCHEMA.items()]
            ).clear()
        idx = events.with_row_index("_row")
        parts = []
        hosts = idx.select(pl.col("host").drop_nulls().unique()).to_series().to_list()
        host_rows = [
            (h, r.service_id, r.text, r.confidence)
            for h in hosts
            if (r := self.match_host(h)) is not None
        ]
        if self._url:
            url_hosts = [h for h in hosts if self.url_hosts_possible(h)]
            if url_hosts:
                cand = idx.filter(pl.col("host").is_in(url_hosts)).select(
                    "_row",
                    "host",
                    pl.col("url")
                    .str.extract(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/]+(/[^?#]*)?", 1)
                    .fill_null("/")
                    .alias("_path"),
                )
                pairs = cand.select("host", "_path").unique()
                url_map = [
                    (h, p, r.service_id, r.text, r.confidence)
                    for h, p in pairs.iter_rows()
                    if (r := self.match_url(h, p)) is not None
                ]
                if url_map:
                    m = pl.DataFrame(
                        url_map,
                        schema=["host", "_path", "service_id", "match_rule", "confidence"],
                        orient="row",
                    )
                    parts.append(
                        cand.join(m, on=["host", "_path"]).select(
                            "_row", "service_id", "match_rule", "confidence"
                        )
                    )
        if host_rows:
            m = pl.DataFrame(
                host_rows, schema=["host", "service_id", "match_rule", "confidence"], orient="row"
            )
            parts.append(
                idx.join(m, on="host").select("_row", "service_id", "match_rule", "confidence")
            )
        if self._app and "app" in idx.columns:
            apps = idx.select(pl.col("app").drop_nulls().unique()).to_series().to_list()
            app_rows = [
                (a, r.service_id, r.text, r.confidence)
                for a in apps
                if (r := self._app.get(a.lower())) is not None
            ]
            if app_rows:
                m = pl.DataFrame(
                    app_rows, schema=["app", "service_id", "match_rule", "confidence"], orient="row"
                )
                parts.append(
                    idx.join(m, on="app").select("_row", "service_id", "match_rule", "confidence")
                )
        if not parts:
            return self.match_frame(events.clear())
        # One match per event: url rules were added first, so keep the first per row.
        matches = pl.concat(parts).unique(subset="_row", keep="first", maintain_order=True)
        meta = pl.DataFrame(
            [(s.id, s.name, s.vendor, s.category) for s in self.services.values()],
            schema=["service_id", "service", "vendor", "category"],
            orient="row",
        )
        out = (
            idx.join(matches, on="_row")
            .join(meta, on="service_id", how="left")
            .sort("_row")
            .drop("_row")
        )
        front = list(events.columns)
        return out.select([*front, *MATCH_SCHEMA]).with_columns(
            [pl.col(n).cast(t) for n, t in MATCH_SCHEMA.items()]
        )

    # --- prefilter ----------------------------------------------------------------------

    def prefilter(self) -> Prefilter:
        """The compiled prefilter for this catalogue (compiled once, then shared)."""
        with self._lock:
            if self._prefilter is None:
                self._prefilter = Prefilter(self.prefilter_literals())
            return self._prefilter

    def prefilter_literals(self) -> list[str]:
        """Literal strings at least one of which appears in any line that can match."""
        lits: set[str] = set()

        def longest_piece(pattern: str) -> str:
            return max(pattern.replace("*.", "*").split("*"), key=len).strip(".")

        for svc in self.services.values():
            for d in svc.domains:
                lits.add(longest_piece(d))
            for p in svc.url_patterns:
                lits.add(longest_piece(p.partition("/")[0]))
            lits.update(a for a in svc.app_ids)
        extra = set()
        for lit in lits:
            if "xn--" in lit:
                with contextlib.suppress(UnicodeError):
                    extra.add(lit.encode("ascii").decode("idna"))
        return sorted(x for x in lits | extra if len(x) >= 3)


_MISSING = object()


class Prefilter:
    """Picks the lines of a chunk that contain any signature literal (case-insensitive).

    Uses Hyperscan (SIMD, many patterns in one pass) where installed, else polars'
    Aho-Corasick ``contains_any`` on the lines.
    """

    def __init__(self, literals: Iterable[str]) -> None:
        self.literals = sorted(set(literals))
        self._db = None
        self._local = threading.local()
        hyperscan: Any
        try:
            import hyperscan
        except ImportError:  # pragma: no cover - depends on the platform
            hyperscan = None
        if hyperscan is not None and self.literals:
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            exprs = [re.escape(lit).encode() for lit in self.literals]
            db.compile(
                expressions=exprs,
                ids=list(range(len(exprs))),
                elements=len(exprs),
                flags=[hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH * 0] * len(exprs),
            )
            self._db = db
            self._hs = hyperscan

    @property
    def engine(self) -> str:
        return "hyperscan" if self._db is not None else "polars"

    def candidates(
        self, chunk: bytes | bytearray, ends: np.ndarray, lines: pl.Series
    ) -> np.ndarray:
        """Indices (into the chunk's lines) of the lines that contain a literal."""
        if not self.literals:
            return np.empty(0, dtype=np.int64)
        if self._db is None:
            mask = lines.str.contains_any(self.literals, ascii_case_insensitive=True)
            return np.flatnonzero(mask.to_numpy())
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hs.Scratch(self._db)
        hits: list[int] = []
        append = hits.append

        def on_match(_id: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            append(end)

        self._db.scan(chunk, match_event_handler=on_match, scratch=scratch)
        if not hits:
            return np.empty(0, dtype=np.int64)
        # A hit ending at offset e lies on the line whose end offset is the first >= e-1.
        return np.unique(np.searchsorted(ends, np.asarray(hits, dtype=np.int64) - 1))
