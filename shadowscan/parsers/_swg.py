"""Helpers shared by the secure web gateway formats (``zscaler_nss_web``,
``netskope_transaction``, ``cloudflare_gateway_http``, ``menlo_web``).

These products log JSON lines whose keys say which product wrote them. Each parser
defines one *validity* expression (is this line an event of this product?) that both
``parse`` and the fast-path ``validate`` use, so the two agree by construction, and a
sniffer that counts the sampled lines that are valid *and* carry the product's own keys.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from shadowscan.hosts import host_expr, url_parts
from shadowscan.parsers.base import ParsedBatch, Parser, Sniff, not_matching, split_skipped
from shadowscan.parsers.common import json_fields

#: Values these products write for "no value".
PLACEHOLDERS = ("-", "", "None", "NA", "N/A", "NotChecked", "NotAvailable", "null")


def no_value(expr: pl.Expr, placeholders: Sequence[str] = PLACEHOLDERS) -> pl.Expr:
    """Null for the placeholders a gateway writes when a field has no value."""
    s = expr.str.strip_chars()
    return pl.when(s.is_in(list(placeholders)) | s.is_null()).then(None).otherwise(s)


def int_value(expr: pl.Expr, dtype: pl.DataType | None = None) -> pl.Expr:
    """A number from text (``"2971"``, ``"2971.0"``); placeholders and junk become null."""
    num = no_value(expr).cast(pl.Float64, strict=False)
    return num.round(0).cast(dtype or pl.Int64(), strict=False)


_BLOCKED = r"^(?:block|deny|denied|drop|reject)"
_ALLOWED = r"^(?:allow|isolat|noisolat|bypass|permit|pass|scan|noscan|do_?not_?inspect)"


def action_expr(raw: pl.Expr) -> pl.Expr:
    """``allowed`` / ``blocked`` / ``unknown`` from the product's action word.

    ``Blocked``/``block``/``deny`` -> blocked; ``Allowed``/``allow``/``bypass``,
    ``isolate`` (the page was served, rendered in a remote browser) and Gateway's
    ``noisolate``/``scan``/``noscan``/``do_not_inspect`` (let through) -> allowed; anything
    else (``NotChecked``, ``useralert``, ``override``, missing) -> unknown.
    """
    a = raw.str.strip_chars().str.to_lowercase()
    return (
        pl.when(a.str.contains(_BLOCKED))
        .then(pl.lit("blocked"))
        .when(a.str.contains(_ALLOWED))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
    )


_JSON_STRING = r'"((?:[^"\\]|\\.)*)"'


def list_text(expr: pl.Expr) -> pl.Expr:
    """A value that is a string on some lines and a JSON array of strings on others
    (``json_path_match`` gives arrays back as JSON text) -> ``"a, b"``; an empty array or
    a placeholder -> null."""
    s = expr.str.strip_chars()
    is_array = s.str.starts_with("[")
    items = s.str.extract_all(_JSON_STRING).list.eval(
        pl.element().str.slice(1, pl.element().str.len_chars() - 2).str.replace_all(r"\\(.)", "$1")
    )
    joined = items.list.join(", ")
    return no_value(pl.when(is_array).then(joined).otherwise(s))


def url_host(raw: pl.Expr) -> pl.Expr:
    """Normalised host of a URL, ``host:port`` or bare host column."""
    return host_expr(url_parts(raw).struct.field("host"))


def validity(text: pl.Series, keys: Mapping[str, str], ok: pl.Expr) -> pl.Series:
    """Evaluate ``ok`` (an expression over the ``json_fields`` columns named in ``keys``)
    for each line of ``text``; nulls count as False.

    No separate ``json_valid`` pass is needed: ``json_path_match`` gives null for anything
    that is not well-formed JSON, so a key found at the root means "a JSON object"."""
    return (
        text.to_frame("line")
        .lazy()
        .with_columns(json_fields(pl.col("line"), keys))
        .select(ok.fill_null(False).alias("ok"))
        .collect()
        .to_series()
        .alias(text.name)
    )


def sniff_share(
    name: str,
    lines: list[str],
    valid: pl.Series,
    marker: str,
    what: str,
) -> Sniff | None:
    """Score = share of the non-blank sample lines that are valid events and contain
    ``marker`` (a regex for the keys only this product writes)."""
    data = [i for i, ln in enumerate(lines) if ln.strip()]
    if not data:
        return None
    rx = re.compile(marker)
    flags = valid.to_list()
    hits = sum(1 for i in data if flags[i] and rx.search(lines[i]))
    if not hits:
        return None
    return Sniff(hits / len(data), f"{hits}/{len(data)} sample lines are {what} ({name})")


class JsonGatewayParser(Parser):
    """A gateway that writes one JSON object per line. Subclasses declare which keys they
    read (``fields``), which of them decide that a line is an event (``check`` and
    :meth:`is_event`), the keys only this product writes (``marker``, for sniffing), and
    turn the raw columns into events (:meth:`events`)."""

    stateless = True
    fields: ClassVar[Mapping[str, str]]
    check: ClassVar[Mapping[str, str]]
    marker: ClassVar[str]
    product: ClassVar[str]

    @staticmethod
    @abstractmethod
    def is_event() -> pl.Expr:
        """Over the ``check`` columns: true for a line that is an event."""

    @abstractmethod
    def events(self, raw: pl.DataFrame) -> pl.DataFrame:
        """Canonical events from the valid lines with their ``fields`` columns."""

    def extra_fields(self) -> list[pl.Expr]:
        """More raw columns than ``fields`` gives (JSONPath a plain key cannot express)."""
        return []

    @classmethod
    def validate(cls, text: pl.Series) -> pl.Series:
        return validity(text, cls.check, cls.is_event())

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        valid = cls.validate(pl.Series("line", lines, dtype=pl.String))
        return sniff_share(cls.name, lines, valid, cls.marker, cls.product)

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        ok = self.validate(batch["line"])
        raw = batch.filter(ok).with_columns(
            *json_fields(pl.col("line"), self.fields), *self.extra_fields()
        )
        return ParsedBatch(
            self.events(raw), not_matching(batch, ok, self.mismatch_reason()), skipped
        )
