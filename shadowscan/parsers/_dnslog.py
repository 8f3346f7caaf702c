"""Pieces shared by the resolver text-log formats (``bind``, ``infoblox_bind``, ``unbound``,
``dnsmasq``, ``pihole``): how they write query types, response codes and answers, when a
query counts as answered (the code tables are in :mod:`._dns_codes`), address patterns,
and :func:`not_prefixed`, which builds the "any other message of this daemon" skip
patterns without look-ahead.

Resolver logs mix lookups with informational messages (start-up, zone loads, DHCP,
statistics). Those are counted as skipped, but a line that *starts like* a lookup and
does not parse (a truncated query line) must be counted as unparsed. Python ``re`` and
Rust ``regex`` both lack negative look-ahead, so "a message that does not start with
``query[`` or ``reply``..." is spelled out as a regex by :func:`not_prefixed`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import polars as pl

from shadowscan.parsers._dns_codes import (
    RCODE_NAMES,
    nonempty_list,
    outcome_action,
    qtype_lookup,
    refused_or_sinkholed,
)

_RCODE_NAMES = sorted(RCODE_NAMES)

IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
#: IPv6 (at least one colon), optionally with a zone id (``fe80::1%eth0``).
IPV6 = r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*(?:%[\w.\-]+)?"
IP = rf"(?:{IPV4}|{IPV6})"

#: A BSD syslog timestamp, an RFC 3339 one, or OpenWrt ``logread``'s ``Tue Jun 20 10:15:32 2023``.
SYSLOG_TS = r"[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}"
ISO_TS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
OPENWRT_TS = r"[A-Z][a-z]{2} [A-Z][a-z]{2}\s+\d{1,2} \d{2}:\d{2}:\d{2} \d{4}"


def resolver_qtype_expr(raw: pl.Expr) -> pl.Expr:
    """Query type name as resolvers log it: ``aaaa`` -> ``AAAA``, ``TYPE65``/``type=65``/``65``
    -> ``HTTPS``; unknown numbers become ``TYPE<n>`` (RFC 3597); empty is null (``-`` is
    kept, unlike :func:`._dns_codes.qtype_expr`)."""
    s = raw.str.strip_chars().str.to_uppercase()
    s = pl.when(s == "").then(None).otherwise(s)
    num = s.str.extract(r"^(?:TYPE=?)?(\d{1,5})$", 1)
    return qtype_lookup(num, s)


def rcode_name(raw: pl.Expr) -> pl.Expr:
    """The value when it is a response code name (:data:`._dns_codes.RCODE_NAMES`), else null."""
    s = raw.str.strip_chars().str.to_uppercase()
    return pl.when(s.is_in(_RCODE_NAMES)).then(s).otherwise(pl.lit(None, pl.String))


def resolver_answers_or_null(answers: pl.Expr) -> pl.Expr:
    """Answer list cleaned as resolvers' answers are compared: lower case, no trailing dot,
    empty items dropped; null when empty."""
    item = pl.element().str.strip_chars().str.strip_chars_end(".").str.to_lowercase()
    return nonempty_list(answers.cast(pl.List(pl.String())), item)


def single_address(value: pl.Expr) -> pl.Expr:
    """``[value]`` when ``value`` is an IPv4/IPv6 address, else null (a one-answer line)."""
    is_ip = value.str.contains(rf"^{IP}$")
    return (
        pl.when(is_ip)
        .then(pl.concat_list([value.str.to_lowercase()]))
        .otherwise(pl.lit(None, pl.List(pl.String())))
    )


def rcode_or_answers_action(
    rcode: pl.Expr, answers: pl.Expr, blocked: pl.Expr | None = None
) -> pl.Expr:
    """The action of the resolver logs: ``blocked`` for REFUSED, sinkholed answers and the
    format's own policy signal (``blocked``: denied, RPZ-rewritten, rate-limited...);
    ``allowed`` for any other line with a response code *or* an answer (unlike
    :func:`._dns_codes.rcode_action`, an answer alone counts); else ``unknown`` (a query
    whose outcome the line does not tell)."""
    return outcome_action(
        refused_or_sinkholed(rcode, answers, blocked),
        rcode.is_not_null() | answers.is_not_null(),
    )


# --- "does not start with" -----------------------------------------------------------

#: Character-class atoms for :func:`not_prefixed` (``DIGIT`` and ``HEX_LETTER`` are
#: disjoint, so prefixes may mix them).
DIGIT = "[0-9]"
HEX_LETTER = "[a-fA-F]"
_CLASS_SPECIAL = set("\\]^-[&~|")


def lit(text: str) -> list[str]:
    """The atoms of a literal prefix: one escaped character each."""
    return ["\\" + c if c in _CLASS_SPECIAL else c for c in text]


def _body(atom: str) -> str:
    """The class body of an atom: ``[0-9]`` -> ``0-9``; a literal stays as it is."""
    return atom[1:-1] if len(atom) > 2 and atom.startswith("[") else atom


_Trie = dict[str, "_Trie"]


def not_prefixed(prefixes: Iterable[Sequence[str]]) -> str:
    """A regex (no look-around) matching exactly the strings that start with none of
    ``prefixes``, each a sequence of atoms (:func:`lit`, :data:`DIGIT`, ...). Atoms at
    the same position of different prefixes must be equal or disjoint."""
    trie: _Trie = {}
    for prefix in prefixes:
        node = trie
        for atom in prefix:
            node = node.setdefault(atom, {})
        node[""] = {}  # end of a prefix

    def build(node: _Trie) -> str | None:
        if "" in node:
            return None  # a whole prefix matched: nothing here may follow
        atoms = sorted(node)
        parts = ["$", "[^" + "".join(_body(a) for a in atoms) + "]"]
        for atom in atoms:
            sub = build(node[atom])
            if sub is not None:
                cls = f"[{_body(atom)}]"
                parts.append(cls + sub)
        return "(?:" + "|".join(parts) + ")"

    rx = build(trie)
    if rx is None:
        raise ValueError("the empty prefix excludes everything")
    re.compile(rx)
    return rx


def words(*texts: str) -> list[list[str]]:
    """Literal prefixes for :func:`not_prefixed`."""
    return [lit(t) for t in texts]
