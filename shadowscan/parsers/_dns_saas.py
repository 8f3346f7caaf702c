"""Helpers shared by the cloud and SaaS DNS log formats (``route53_resolver``,
``gcp_cloud_dns``, ``umbrella_dns``, ``zscaler_nss_dns``, ``cloudflare_gateway_dns``).

These services log one query and its outcome per record, but spell the query type, the
response code and the answers each their own way (``28``, ``28 (AAAA)``, ``AAAA record``;
``0``, ``NOERROR``; JSON arrays, RRs as zone-file text). The expressions here bring them
to the canonical ``dns_qtype`` / ``dns_rcode`` / ``dns_answers`` values, vectorised. The
code tables and the outcome rule (:func:`._dns_codes.outcome_action`) are in
:mod:`._dns_codes`.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers._dns_codes import nonempty_list, qtype_lookup, rcode_lookup
from shadowscan.parsers._swg import no_value

_EMPTY_LIST = pl.List(pl.String())


def saas_qtype_expr(raw: pl.Expr) -> pl.Expr:
    """The query type name from ``A``, ``a``, ``28``, ``TYPE65``, ``28 (AAAA)``
    (Umbrella) or ``AAAA record`` (Zscaler); unknown numbers become ``TYPE<n>``; the
    gateway placeholders (``-``, ``None``, ``N/A``...) are null."""
    s = no_value(raw).str.to_uppercase().str.replace(r"\s+RECORDS?$", "")
    num = s.str.extract(r"^(?:TYPE)?(\d{1,5})(?:\s*\(.*\))?$", 1)
    paren = s.str.extract(r"^\d{1,5}\s*\(\s*([^()\s]+)\s*\)$", 1)
    return qtype_lookup(
        num,
        pl.when(s != "").then(s),
        pl.when(paren.is_not_null() & (paren != "UNKNOWN")).then(paren),
    )


def saas_rcode_expr(raw: pl.Expr) -> pl.Expr:
    """The response code name from ``NOERROR``/``NXDOMAIN`` or a number (``0``, ``3``);
    unknown numbers become ``RCODE<n>``; the gateway placeholders are null."""
    s = no_value(raw).str.to_uppercase()
    num = s.str.extract(r"^(\d{1,5})$", 1)
    return rcode_lookup(num, pl.when(s != "").then(s))


def answers_expr(items: pl.Expr) -> pl.Expr:
    """A list of answer strings, trimmed, names without their trailing dot, empty ones
    dropped (case kept); null when nothing is left."""
    return nonempty_list(items, pl.element().str.strip_chars().str.strip_chars_end("."))


_JSON_STRING = r'"((?:[^"\\]|\\.)*)"'


def json_string_array(text: pl.Expr) -> pl.Expr:
    """``["a","b"]`` (JSON text, as ``json_path_match`` returns arrays) -> list of strings;
    anything that is not an array gives an empty list."""
    items = text.str.extract_all(_JSON_STRING).list.eval(
        pl.element().str.slice(1, pl.element().str.len_chars() - 2).str.replace_all(r"\\(.)", "$1")
    )
    return (
        pl.when(text.str.strip_chars().str.starts_with("["))
        .then(items)
        .otherwise(pl.lit([], _EMPTY_LIST))
    )
