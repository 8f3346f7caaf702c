"""Helpers shared by the cloud and SaaS DNS log formats (``route53_resolver``,
``gcp_cloud_dns``, ``umbrella_dns``, ``zscaler_nss_dns``, ``cloudflare_gateway_dns``).

These services log one query and its outcome per record, but spell the query type, the
response code and the answers each their own way (``28``, ``28 (AAAA)``, ``AAAA record``;
``0``, ``NOERROR``; JSON arrays, RRs as zone-file text). The expressions here bring them
to the canonical ``dns_qtype`` / ``dns_rcode`` / ``dns_answers`` values, vectorised.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers._swg import no_value

#: DNS RR type numbers -> names (IANA), for formats that write numbers.
QTYPES: dict[str, str] = {
    "1": "A",
    "2": "NS",
    "5": "CNAME",
    "6": "SOA",
    "12": "PTR",
    "13": "HINFO",
    "15": "MX",
    "16": "TXT",
    "17": "RP",
    "18": "AFSDB",
    "24": "SIG",
    "25": "KEY",
    "28": "AAAA",
    "29": "LOC",
    "33": "SRV",
    "35": "NAPTR",
    "36": "KX",
    "37": "CERT",
    "39": "DNAME",
    "41": "OPT",
    "42": "APL",
    "43": "DS",
    "44": "SSHFP",
    "45": "IPSECKEY",
    "46": "RRSIG",
    "47": "NSEC",
    "48": "DNSKEY",
    "49": "DHCID",
    "50": "NSEC3",
    "51": "NSEC3PARAM",
    "52": "TLSA",
    "53": "SMIMEA",
    "55": "HIP",
    "59": "CDS",
    "60": "CDNSKEY",
    "61": "OPENPGPKEY",
    "62": "CSYNC",
    "63": "ZONEMD",
    "64": "SVCB",
    "65": "HTTPS",
    "99": "SPF",
    "108": "EUI48",
    "109": "EUI64",
    "249": "TKEY",
    "250": "TSIG",
    "251": "IXFR",
    "252": "AXFR",
    "255": "ANY",
    "256": "URI",
    "257": "CAA",
}

#: DNS response codes -> names (RFC 1035, 2136, 6891), for formats that write numbers.
RCODES: dict[str, str] = {
    "0": "NOERROR",
    "1": "FORMERR",
    "2": "SERVFAIL",
    "3": "NXDOMAIN",
    "4": "NOTIMP",
    "5": "REFUSED",
    "6": "YXDOMAIN",
    "7": "YXRRSET",
    "8": "NXRRSET",
    "9": "NOTAUTH",
    "10": "NOTZONE",
    "11": "DSOTYPENI",
    "16": "BADVERS",
    "17": "BADKEY",
    "18": "BADTIME",
    "19": "BADMODE",
    "20": "BADNAME",
    "21": "BADALG",
    "22": "BADTRUNC",
    "23": "BADCOOKIE",
}
RCODE_NAMES: frozenset[str] = frozenset(RCODES.values())

_EMPTY_LIST = pl.List(pl.String())


def qtype_expr(raw: pl.Expr) -> pl.Expr:
    """The query type name from ``A``, ``a``, ``28``, ``TYPE65``, ``28 (AAAA)``
    (Umbrella) or ``AAAA record`` (Zscaler); unknown numbers become ``TYPE<n>``."""
    s = no_value(raw).str.to_uppercase().str.replace(r"\s+RECORDS?$", "")
    num = s.str.extract(r"^(?:TYPE)?(\d{1,5})(?:\s*\(.*\))?$", 1)
    paren = s.str.extract(r"^\d{1,5}\s*\(\s*([^()\s]+)\s*\)$", 1)
    named = num.replace_strict(QTYPES, default=None, return_dtype=pl.String)
    return pl.coalesce(
        named,
        pl.when(paren.is_not_null() & (paren != "UNKNOWN")).then(paren),
        pl.when(num.is_not_null()).then(pl.concat_str([pl.lit("TYPE"), num])),
        pl.when(s != "").then(s),
    )


def rcode_expr(raw: pl.Expr) -> pl.Expr:
    """The response code name from ``NOERROR``/``NXDOMAIN`` or a number (``0``, ``3``)."""
    s = no_value(raw).str.to_uppercase()
    num = s.str.extract(r"^(\d{1,5})$", 1)
    named = num.replace_strict(RCODES, default=None, return_dtype=pl.String)
    return pl.coalesce(
        named,
        pl.when(num.is_not_null()).then(pl.concat_str([pl.lit("RCODE"), num])),
        pl.when(s != "").then(s),
    )


def answers_expr(items: pl.Expr) -> pl.Expr:
    """A list of answer strings, trimmed, names without their trailing dot, empty ones
    dropped; null when nothing is left."""
    cleaned = items.list.eval(pl.element().str.strip_chars().str.strip_chars_end(".")).list.eval(
        pl.element().filter(pl.element().is_not_null() & (pl.element() != ""))
    )
    return pl.when(cleaned.list.len() > 0).then(cleaned).otherwise(pl.lit(None, _EMPTY_LIST))


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


def dns_action(blocked: pl.Expr, allowed: pl.Expr) -> pl.Expr:
    """``blocked`` where ``blocked`` holds, else ``allowed`` where ``allowed`` holds (the
    query was answered), else ``unknown``; nulls count as false."""
    return (
        pl.when(blocked.fill_null(False))
        .then(pl.lit("blocked"))
        .when(allowed.fill_null(False))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
    )
