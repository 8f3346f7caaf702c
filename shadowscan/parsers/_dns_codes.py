"""DNS code tables and outcome rules shared by the endpoint and sensor DNS formats
(``windows_dns_debug``, ``windows_dns_analytical``, ``sysmon_dns``, ``zeek_dns``,
``zeek_dns_json``).

Formats write query types as names (``AAAA``) or numbers (``28``) and response codes as
names or numbers; Sysmon writes Win32 status codes (``9003`` = ``DNS_ERROR_RCODE_NAME_ERROR``).
The expressions here bring them to the canonical ``dns_qtype`` / ``dns_rcode`` values and
decide ``action`` the same way for all of them, vectorised.
"""

from __future__ import annotations

import polars as pl

#: DNS RR type numbers -> names (IANA registry).
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

#: Win32 ``DnsQuery`` status codes (Sysmon ``QueryStatus``) that carry a DNS response code:
#: ``DNS_ERROR_RCODE_*`` is 9000 + rcode; ``DNS_INFO_NO_RECORDS`` (9501) is an answer
#: without records of the type (NOERROR/NODATA). Other statuses (timeouts ``1460``,
#: ``ERROR_INVALID_PARAMETER`` ``87``, ...) are local failures with no response code.
WIN32_DNS_STATUS: dict[str, str] = {
    "0": "NOERROR",
    "9501": "NOERROR",
    **{str(9000 + int(k)): v for k, v in RCODES.items() if 0 < int(k) <= 10},
}

_NUMBER = r"^\d{1,5}$"
#: Answers that mean "sinkholed" rather than resolved.
SINKHOLES = ["0.0.0.0", "::", "::ffff:0.0.0.0"]


def _text(raw: pl.Expr) -> pl.Expr:
    s = raw.cast(pl.String).str.strip_chars()
    return pl.when(s.is_in(["", "-"])).then(None).otherwise(s)


def qtype_expr(raw: pl.Expr) -> pl.Expr:
    """The query type name from a name (``aaaa`` -> ``AAAA``) or a number (``28`` ->
    ``AAAA``; unknown numbers become ``TYPE<n>`` as in RFC 3597)."""
    s = _text(raw).str.to_uppercase()
    num = s.str.extract(r"^(?:TYPE)?(\d{1,5})$", 1)
    return pl.coalesce(
        num.replace_strict(QTYPES, default=None, return_dtype=pl.String),
        pl.when(num.is_not_null()).then(pl.concat_str([pl.lit("TYPE"), num])),
        s,
    )


def rcode_expr(raw: pl.Expr) -> pl.Expr:
    """The response code name from a name (``NXDOMAIN``) or a number (``3``); unknown
    numbers become ``RCODE<n>``."""
    s = _text(raw).str.to_uppercase()
    num = s.str.extract(_NUMBER, 0)
    return pl.coalesce(
        num.replace_strict(RCODES, default=None, return_dtype=pl.String),
        pl.when(num.is_not_null()).then(pl.concat_str([pl.lit("RCODE"), num])),
        s,
    )


def win32_status_rcode(raw: pl.Expr) -> pl.Expr:
    """The response code name a Win32 DNS status implies (``9003`` -> ``NXDOMAIN``), or
    null for statuses that are not DNS answers (timeouts, invalid names...)."""
    return _text(raw).replace_strict(WIN32_DNS_STATUS, default=None, return_dtype=pl.String)


def answers_or_null(answers: pl.Expr) -> pl.Expr:
    """A list of answers with empty items dropped; null when nothing is left."""
    dtype = pl.List(pl.String())
    cleaned = answers.cast(dtype).list.eval(
        pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != "")
    )
    return pl.when(cleaned.list.len() > 0).then(cleaned).otherwise(pl.lit(None, dtype))


def sinkholed(answers: pl.Expr) -> pl.Expr:
    """True where every answer is an unspecified address (``0.0.0.0``, ``::``): the
    resolver sinkholed the name instead of resolving it."""
    dtype = pl.List(pl.String())
    items = answers.cast(dtype)
    return (
        (items.list.len() > 0) & items.list.eval(pl.element().is_in(SINKHOLES)).list.all()
    ).fill_null(False)


def dns_action(rcode: pl.Expr, answers: pl.Expr, blocked: pl.Expr | None = None) -> pl.Expr:
    """``blocked`` for REFUSED, sinkholed answers (or ``blocked``, a format's own policy
    signal); ``allowed`` for any other answered query (a response code is known); else
    ``unknown`` (a query whose outcome the line does not tell)."""
    is_blocked = (rcode == "REFUSED").fill_null(False) | sinkholed(answers)
    if blocked is not None:
        is_blocked = is_blocked | blocked.fill_null(False)
    return (
        pl.when(is_blocked)
        .then(pl.lit("blocked"))
        .when(rcode.is_not_null())
        .then(pl.lit("allowed"))
        .otherwise(pl.lit("unknown"))
    )
