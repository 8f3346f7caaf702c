"""Signature matching on *distinct* values, joined back to the events.

A proxy log has millions of lines but only thousands of distinct hosts, so each distinct
host is matched once (a walk over its suffixes, most specific first), and the result is
joined back. A host matches a signature domain only when it *is* that domain or a
subdomain of it: never by substring, so ``notchatgpt.com`` and ``chatgpt.com.evil.example``
do not match ``chatgpt.com``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ipaddress
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
        self._ua: list[tuple[str, Rule]] = []
        self._ip: list[_IpRange] = []
        self._model_paths: dict[str, str] = {}
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
            for ua in svc.user_agents:
                self._ua.append((ua.lower(), Rule(svc.id, f"ua:{ua}", "medium")))
            for cidr in svc.ip_ranges:
                net = ipaddress.ip_network(cidr)
                self._ip.append(_IpRange(net, Rule(svc.id, f"ip:{cidr}", svc.ip_confidence)))
            if svc.model_path:
                self._model_paths[svc.id] = _model_regex(svc.model_path)
        self._ip.sort(key=lambda r: -r.network.prefixlen)
        self._host_cache: dict[str, Rule | None] = {}
        self._lock = threading.Lock()
        self._prefilter: Prefilter | None = None
        #: Addresses AI hosts resolved to in this network (from DNS answers), per client.
        self._learned: pl.DataFrame | None = None

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

    def match_user_agent(self, agent: str) -> Rule | None:
        low = agent.lower()
        for needle, rule in self._ua:
            if needle in low:
                return rule
        return None

    def match_ip(self, address: str) -> Rule | None:
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return None
        for rng in self._ip:
            if ip.version == rng.network.version and ip in rng.network:
                return rng.rule
        return None

    def url_hosts_possible(self, host: str) -> bool:
        return any(u.host_matches(host) for u in self._url)

    def match_value(self, value: str) -> Rule | None:
        """Match a host, a URL, or ``app:NAME`` (used by signature examples and ``test``)."""
        from shadowscan.hosts import idna_host

        if value.startswith("app:"):
            return self._app.get(value[4:].lower())
        if value.startswith("ua:"):
            return self.match_user_agent(value[3:])
        if value.startswith("ip:"):
            return self.match_ip(value[3:])
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
        """Matched events only, with the match columns added.

        Each kind of evidence is matched on its distinct values and joined back; when an
        event matches several ways, the most specific wins: URL pattern, then domain, then
        App-ID, then User-Agent, then IP range.
        """
        if events.is_empty():
            return events.with_columns(
                [pl.lit(None, dtype=t).alias(n) for n, t in MATCH_SCHEMA.items()]
            ).clear()
        idx = events.with_row_index("_row")
        hosts = idx.select(pl.col("host").drop_nulls().unique()).to_series().to_list()
        parts = [
            self._by_url(idx, hosts),
            self._by_values(idx, "host", hosts, self.match_host),
            self._by_values(idx, "app", None, lambda a: self._app.get(a.lower())),
            self._by_values(idx, "user_agent", None, self.match_user_agent) if self._ua else None,
            self._by_learned(idx) if self._learned is not None else None,
            self._by_ip(idx) if self._ip else None,
        ]
        found = [p for p in parts if p is not None and p.height]
        if not found:
            return self.match_frame(events.clear())
        matches = pl.concat(found).unique(subset="_row", keep="first", maintain_order=True)
        meta = self.service_names()
        out = (
            idx.join(matches, on="_row")
            .join(meta, on="service_id", how="left")
            .sort("_row")
            .drop("_row")
        )
        out = self._models(out).with_columns(pl.lit(False).alias("repeat"))
        if "log_type" in out.columns:
            # A DNS lookup shows intent, not use: DNS-only evidence is at most medium.
            out = out.with_columns(
                pl.when((pl.col("log_type") == "dns") & (pl.col("confidence") == "high"))
                .then(pl.lit("medium"))
                .otherwise(pl.col("confidence"))
                .alias("confidence")
            )
        return out.select([*events.columns, *MATCH_SCHEMA]).with_columns(
            [pl.col(n).cast(t) for n, t in MATCH_SCHEMA.items()]
        )

    @functools.cached_property
    def _service_names(self) -> pl.DataFrame:
        return pl.DataFrame(
            [(s.id, s.name, s.vendor, s.category) for s in self.services.values()],
            schema=["service_id", "service", "vendor", "category"],
            orient="row",
        )

    def service_names(self) -> pl.DataFrame:
        """``service_id``, ``service``, ``vendor``, ``category`` of every service (built
        once: every batch of every file joins its matches to it)."""
        return self._service_names

    _RULE_COLUMNS = ("service_id", "match_rule", "confidence")

    def _rules_frame(self, keys: list[tuple[Any, ...]], names: list[str]) -> pl.DataFrame:
        return pl.DataFrame(keys, schema=[*names, *self._RULE_COLUMNS], orient="row")

    def _by_values(
        self, idx: pl.DataFrame, column: str, values: list[str] | None, match: Any
    ) -> pl.DataFrame | None:
        if column not in idx.columns:
            return None
        if values is None:
            values = idx.select(pl.col(column).drop_nulls().unique()).to_series().to_list()
        rows = [
            (v, r.service_id, r.text, r.confidence) for v in values if (r := match(v)) is not None
        ]
        if not rows:
            return None
        return idx.join(self._rules_frame(rows, [column]), on=column).select(
            "_row", *self._RULE_COLUMNS
        )

    def _by_url(self, idx: pl.DataFrame, hosts: list[str]) -> pl.DataFrame | None:
        if not self._url:
            return None
        url_hosts = [h for h in hosts if self.url_hosts_possible(h)]
        if not url_hosts:
            return None
        cand = idx.filter(pl.col("host").is_in(url_hosts)).select(
            "_row", "host", _path_expr().alias("_path")
        )
        pairs = cand.select("host", "_path").unique()
        rows = [
            (h, p, r.service_id, r.text, r.confidence)
            for h, p in pairs.iter_rows()
            if (r := self.match_url(h, p)) is not None
        ]
        if not rows:
            return None
        return cand.join(self._rules_frame(rows, ["host", "_path"]), on=["host", "_path"]).select(
            "_row", *self._RULE_COLUMNS
        )

    def _by_ip(self, idx: pl.DataFrame) -> pl.DataFrame | None:
        if "dst_ip" not in idx.columns:
            return None
        ips = idx.select(pl.col("dst_ip").drop_nulls().unique())
        if ips.is_empty():
            return None
        v4 = ips.with_columns(_ipv4_int(pl.col("dst_ip")).alias("_n")).filter(
            pl.col("_n").is_not_null()
        )
        hits: list[pl.DataFrame] = []
        for rng in self._ip:  # most specific first
            if rng.network.version == 4:
                lo, hi = int(rng.network.network_address), int(rng.network.broadcast_address)
                sel = v4.filter(pl.col("_n").is_between(lo, hi)).select("dst_ip")
            else:
                v6 = [ip for ip in ips["dst_ip"].to_list() if ":" in ip and _in_v6(ip, rng.network)]
                sel = pl.DataFrame({"dst_ip": v6}, schema={"dst_ip": pl.String})
            if sel.height:
                r = rng.rule
                hits.append(
                    sel.with_columns(
                        pl.lit(r.service_id).alias("service_id"),
                        pl.lit(r.text).alias("match_rule"),
                        pl.lit(r.confidence).alias("confidence"),
                    )
                )
        if not hits:
            return None
        table = pl.concat(hits).unique(subset="dst_ip", keep="first", maintain_order=True)
        return idx.join(table, on="dst_ip").select("_row", *self._RULE_COLUMNS)

    # --- DNS-learned addresses ---------------------------------------------------------

    def learn(self, answers: pl.DataFrame) -> None:
        """Remember ``answers`` (``client, address, service_id, host, ts``) from DNS events, so
        later connections to those addresses can be attributed (see :meth:`_by_learned`)."""
        if answers.is_empty():
            return
        with self._lock:
            both = [answers] if self._learned is None else [self._learned, answers]
            self._learned = pl.concat(both, how="vertical_relaxed").unique()
            self._prefilter = None  # the new addresses must reach the line prefilter

    def _by_learned(self, idx: pl.DataFrame) -> pl.DataFrame | None:
        """A connection with no name (firewall, flow) to an address that an AI host resolved
        to for the same client (or, for answers logged without a client, for anyone) within
        ``LEARNED_WINDOW`` before it."""
        learned = self._learned
        if learned is None or "dst_ip" not in idx.columns:
            return None
        cand = idx.filter(
            pl.col("host").is_null() & pl.col("dst_ip").is_in(learned["address"].implode())
        ).select("_row", "src_ip", "dst_ip", "ts")
        if cand.is_empty():
            return None
        joined = cand.join(learned, left_on="dst_ip", right_on="address").filter(
            (pl.col("client").is_null() | (pl.col("client") == pl.col("src_ip")))
            & (pl.col("ts_right") <= pl.col("ts"))
            & (pl.col("ts") - pl.col("ts_right") <= LEARNED_WINDOW)
        )
        if joined.is_empty():
            return None
        best = joined.sort(["_row", "ts_right"], descending=[False, True]).unique(
            subset="_row", keep="first", maintain_order=True
        )
        return best.select(
            "_row",
            "service_id",
            pl.format("dns-answer:{}", "host").alias("match_rule"),
            pl.lit("medium").alias("confidence"),
        )

    def _models(self, out: pl.DataFrame) -> pl.DataFrame:
        """The model an API call names in its path, for services that declare ``model_path``."""
        if not self._model_paths or "url" not in out.columns:
            return out.with_columns(pl.lit(None, pl.String).alias("model"))
        path = _path_expr()
        model = pl.lit(None, pl.String)
        for sid, rx in self._model_paths.items():
            model = (
                pl.when(pl.col("service_id") == sid).then(path.str.extract(rx, 1)).otherwise(model)
            )
        return out.with_columns(model.alias("model"))

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
            lits.update(svc.user_agents)
            for cidr in svc.ip_ranges:
                lits.update(_ip_literals(ipaddress.ip_network(cidr)))
        if self._learned is not None:
            lits.update(self._learned["address"].unique().to_list())
        extra = set()
        for lit in lits:
            if "xn--" in lit:
                with contextlib.suppress(UnicodeError):
                    extra.add(lit.encode("ascii").decode("idna"))
        return sorted(x for x in lits | extra if len(x) >= 3)


_MISSING = object()

#: How long after a DNS answer a connection to one of its addresses is attributed to the
#: queried AI host: clients cache answers and keep connections open for a while.
LEARNED_WINDOW = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class _IpRange:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    rule: Rule


def _path_expr() -> pl.Expr:
    """The path of the ``url`` column (``/`` when there is none)."""
    return (
        pl.col("url").str.extract(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/]+(/[^?#]*)?", 1).fill_null("/")
    )


def _model_regex(pattern: str) -> str:
    """``model_path`` with its ``model`` group as the first group (for ``str.extract``)."""
    return re.sub(r"\(\?P<(?!model>)[A-Za-z_]\w*>", "(?:", pattern)


def _ipv4_int(col: pl.Expr) -> pl.Expr:
    """Dotted IPv4 text -> integer (null for anything else), vectorised."""
    g = col.str.extract_groups(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
    octets = [g.struct.field(str(i)).cast(pl.Int64, strict=False) for i in range(1, 5)]
    valid = pl.all_horizontal([(o >= 0) & (o <= 255) for o in octets])
    value = octets[0] * 16777216 + octets[1] * 65536 + octets[2] * 256 + octets[3]
    return pl.when(valid).then(value).otherwise(None)


def _in_v6(address: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")) in network
    except ValueError:
        return False


def _ip_literals(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    """Text prefixes every address of ``network`` starts with (for the line prefilter)."""
    if network.version == 6:
        first = network.network_address.exploded.split(":")
        keep = max(1, network.prefixlen // 16)
        return [":".join(h.lstrip("0") or "0" for h in first[:keep]) + ":"]
    octets = 3 if network.prefixlen >= 16 else 2 if network.prefixlen >= 8 else 1
    prefixes = {
        ".".join(str(ip).split(".")[:octets]) + "." for ip in _sample_addresses(network, octets)
    }
    return sorted(prefixes)


def _sample_addresses(network: ipaddress.IPv4Network, octets: int) -> list[ipaddress.IPv4Address]:
    step = 256 ** (4 - octets)
    start = int(network.network_address)
    return [
        ipaddress.IPv4Address(a) for a in range(start, int(network.broadcast_address) + 1, step)
    ]


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
