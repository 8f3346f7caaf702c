"""DNS code tables and outcome rules shared by every DNS log format, and the helpers of
the endpoint and sensor formats (``windows_dns_debug``, ``windows_dns_analytical``,
``sysmon_dns``, ``zeek_dns``, ``zeek_dns_json``).

The tables (:data:`QTYPES`, :data:`RCODES`, :data:`RCODE_NAMES`, :data:`SINKHOLES`) and the
building blocks (:func:`qtype_lookup`, :func:`rcode_lookup`, :func:`nonempty_list`,
:func:`sinkholed`, :func:`refused_or_sinkholed`, :func:`outcome_action`) also serve the
resolver text logs (:mod:`._dnslog`) and the cloud and SaaS formats (:mod:`._dns_saas`),
which keep only what is their own: how they spell values, and when a query counts as
answered.

Formats write query types as names (``AAAA``) or numbers (``28``) and response codes as
names or numbers; Sysmon writes Win32 status codes (``9003`` = ``DNS_ERROR_RCODE_NAME_ERROR``).
The expressions here bring them to the canonical ``dns_qtype`` / ``dns_rcode`` values and
decide ``action``, vectorised.
"""

from __future__ import annotations

import polars as pl

#: DNS RR type numbers -> names (IANA registry). Formats write unknown types as
#: ``TYPE65`` (RFC 3597; BIND, Unbound), ``type=65`` (older dnsmasq) or just ``65``.
QTYPES: dict[str, str] = {
    "1": "A",
    "2": "NS",
    "3": "MD",
    "4": "MF",
    "5": "CNAME",
    "6": "SOA",
    "7": "MB",
    "8": "MG",
    "9": "MR",
    "10": "NULL",
    "11": "WKS",
    "12": "PTR",
    "13": "HINFO",
    "14": "MINFO",
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
    "65281": "WINS",
    "65282": "WINSR",
}

#: DNS response codes -> names (RFC 1035, 2136, 6891, 8490).
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

#: Response code names, for formats that write names (and for telling them from other text).
RCODE_NAMES: frozenset[str] = frozenset(RCODES.values())

#: Win32 ``DnsQuery`` status codes (Sysmon ``QueryStatus``) that carry a DNS response code:
#: ``DNS_ERROR_RCODE_*`` is 9000 + rcode; ``DNS_INFO_NO_RECORDS`` (9501) is an answer
#: without records of the type (NOERROR/NODATA). Other statuses (timeouts ``1460``,
#: ``ERROR_INVALID_PARAMETER`` ``87``, ...) are local failures with no response code.
WIN32_DNS_STATUS: dict[str, str] = {
    "0": "NOERROR",
    "9501": "NOERROR",
    **{str(9000 + int(k)): v for k, v in RCODES.items() if 0 < int(k) <= 10},
}

#: Answers that mean "sinkholed" (a blocklist answer) rather than resolved.
SINKHOLES = ("0.0.0.0", "::", "::ffff:0.0.0.0")

_NUMBER = r"^\d{1,5}$"
_STRING_LIST = pl.List(pl.String())


# --- building blocks for every DNS format ----------------------------------------------


def qtype_lookup(num: pl.Expr, name: pl.Expr, *printed: pl.Expr) -> pl.Expr:
    """The query type name: the :data:`QTYPES` name of the number ``num``, else the first
    of ``printed`` that is not null (a name the format wrote beside the number), else
    ``TYPE<num>`` (RFC 3597) for a number the table lacks, else ``name`` (the value as
    written, when it is no number)."""
    return pl.coalesce(
        num.replace_strict(QTYPES, default=None, return_dtype=pl.String),
        *printed,
        pl.when(num.is_not_null()).then(pl.concat_str([pl.lit("TYPE"), num])),
        name,
    )


def rcode_lookup(num: pl.Expr, name: pl.Expr) -> pl.Expr:
    """The response code name: the :data:`RCODES` name of the number ``num``, else
    ``RCODE<num>`` for a number the table lacks, else ``name`` (the value as written, when
    it is no number)."""
    return pl.coalesce(
        num.replace_strict(RCODES, default=None, return_dtype=pl.String),
        pl.when(num.is_not_null()).then(pl.concat_str([pl.lit("RCODE"), num])),
        name,
    )


def nonempty_list(items: pl.Expr, item: pl.Expr) -> pl.Expr:
    """``items`` (a list of strings) with each element rewritten by ``item`` (an
    expression of ``pl.element()``) and the null and empty results dropped; null when
    nothing is left."""
    cleaned = items.list.eval(item.filter(item != ""))
    return pl.when(cleaned.list.len() > 0).then(cleaned).otherwise(pl.lit(None, _STRING_LIST))


def sinkholed(answers: pl.Expr) -> pl.Expr:
    """True where every answer is an unspecified address (``0.0.0.0``, ``::``): the
    resolver sinkholed the name instead of resolving it."""
    items = answers.cast(_STRING_LIST)
    return (
        (items.list.len() > 0) & items.list.eval(pl.element().is_in(SINKHOLES)).list.all()
    ).fill_null(False)


def refused_or_sinkholed(
    rcode: pl.Expr, answers: pl.Expr, blocked: pl.Expr | None = None
) -> pl.Expr:
    """True for a REFUSED response code, sinkholed answers (:func:`sinkholed`) or where
    ``blocked`` (a format's own policy signal) holds; never null."""
    is_blocked = (rcode == "REFUSED").fill_null(False) | sinkholed(answers)
    if blocked is not None:
        is_blocked = is_blocked | blocked.fill_null(False)
    return is_blocked


def outcome_action(blocked: pl.Expr, allowed: pl.Expr) -> pl.Expr:
    """``blocked`` where ``blocked`` holds, else ``allowed`` where ``allowed`` holds (the
    query was answered), else ``unknown``; nulls count as false. The formats decide what
    ``blocked`` and ``allowed`` mean (the cloud and SaaS ones pass their own policy and
    response fields; see also :func:`rcode_action`)."""
    return (
        pl.when(blocked.fill_null(False))
        .then(pl.lit("blocked"))
        .when(allowed.fill_null(False))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
    )


# --- the endpoint and sensor formats ---------------------------------------------------


def _text(raw: pl.Expr) -> pl.Expr:
    s = raw.cast(pl.String).str.strip_chars()
    return pl.when(s.is_in(["", "-"])).then(None).otherwise(s)


def qtype_expr(raw: pl.Expr) -> pl.Expr:
    """The query type name from a name (``aaaa`` -> ``AAAA``) or a number (``28`` or
    ``TYPE28`` -> ``AAAA``; unknown numbers become ``TYPE<n>`` as in RFC 3597); empty and
    ``-`` are null. The resolver logs' variant is :func:`._dnslog.resolver_qtype_expr`,
    the cloud and SaaS one :func:`._dns_saas.saas_qtype_expr`."""
    s = _text(raw).str.to_uppercase()
    num = s.str.extract(r"^(?:TYPE)?(\d{1,5})$", 1)
    return qtype_lookup(num, s)


def rcode_expr(raw: pl.Expr) -> pl.Expr:
    """The response code name from a name (``NXDOMAIN``) or a number (``3``); unknown
    numbers become ``RCODE<n>``; empty and ``-`` are null. The cloud and SaaS variant is
    :func:`._dns_saas.saas_rcode_expr`."""
    s = _text(raw).str.to_uppercase()
    num = s.str.extract(_NUMBER, 0)
    return rcode_lookup(num, s)


def win32_status_rcode(raw: pl.Expr) -> pl.Expr:
    """The response code name a Win32 DNS status implies (``9003`` -> ``NXDOMAIN``), or
    null for statuses that are not DNS answers (timeouts, invalid names...)."""
    return _text(raw).replace_strict(WIN32_DNS_STATUS, default=None, return_dtype=pl.String)


def answers_or_null(answers: pl.Expr) -> pl.Expr:
    """A list of answers with items trimmed and empty ones dropped (case and trailing dots
    kept); null when nothing is left."""
    return nonempty_list(answers.cast(_STRING_LIST), pl.element().str.strip_chars())


def rcode_action(rcode: pl.Expr, answers: pl.Expr, blocked: pl.Expr | None = None) -> pl.Expr:
    """The action of the endpoint and sensor formats: ``blocked`` for REFUSED, sinkholed
    answers (or ``blocked``, a format's own policy signal); ``allowed`` for any other
    query whose response code is known; else ``unknown`` (a query whose outcome the line
    does not tell). Answers without a response code do not make a query ``allowed``; the
    resolver logs count them (:func:`._dnslog.rcode_or_answers_action`)."""
    return outcome_action(refused_or_sinkholed(rcode, answers, blocked), rcode.is_not_null())
