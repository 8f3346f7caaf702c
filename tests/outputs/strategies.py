"""Hypothesis strategies for the sink tests: hostile text for the line formats (CEF, LEEF),
and whole finding and matched-event rows, with the frames they make, for the record
formats (OCSF, ECS)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import strategies as st

from shadowscan.engine import empty_matches
from shadowscan.schema import FINDING_SCHEMA, conform

# --- hostile text ----------------------------------------------------------------------

#: What breaks naive CEF or LEEF: delimiters, escapes and what looks like them (``\\n``
#: written out, a backslash before ``t``), line breaks, tabs, spaces, non-ASCII.
_PIECES = st.sampled_from(
    ["|", "\\", "=", "\n", "\r", "\t", " ", "\\n", "\\t", "\\\\n", "t", "x=", "ü😀", "\u2028"]
)
#: Text mostly made of ``_PIECES``, any other character now and then; often empty.
HOSTILE_TEXT = st.lists(
    st.one_of(_PIECES, _PIECES, _PIECES, st.characters(codec="utf-8")), max_size=8
).map("".join)


def hostile_values(schema: dict[str, pl.DataType]) -> st.SearchStrategy[dict[str, Any]]:
    """Hostile text for every string column of ``schema``, hostile lists for every list of
    strings."""
    return st.fixed_dictionaries(
        {name: HOSTILE_TEXT for name, dtype in schema.items() if dtype == pl.String}
        | {
            name: st.lists(HOSTILE_TEXT, max_size=3)
            for name, dtype in schema.items()
            if dtype == pl.List(pl.String)
        }
    )


# --- whole rows ------------------------------------------------------------------------

_TEXT = st.text(max_size=12)
_IP = st.ip_addresses().map(str)
_TIME = st.datetimes(
    min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2090, 1, 1), timezones=st.just(dt.UTC)
)
_COUNT = st.integers(min_value=0, max_value=10**9)


@st.composite
def finding_rows(draw: st.DrawFn) -> dict[str, Any]:
    first = draw(st.none() | _TIME)
    span = draw(st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=90)))
    return {
        "user": draw(st.none() | _TEXT | st.just("CORP\\jdoe") | st.just("jdoe@corp.example")),
        "department": draw(st.none() | _TEXT),
        "attribution": draw(
            st.sampled_from(["log_user", "ip_session", "ambiguous", "unattributed"])
        ),
        "src_ips": draw(st.lists(_IP | _TEXT, max_size=3)),
        "candidates": draw(st.lists(_TEXT, max_size=3)),
        "devices": draw(st.lists(_TEXT, max_size=2)),
        "site": draw(st.none() | _TEXT),
        "subnet": draw(st.none() | _TEXT | st.just("10.1.0.0/24")),
        "service_id": draw(st.text(min_size=1, max_size=12)),
        "service": draw(st.none() | _TEXT),
        "vendor": draw(st.none() | _TEXT),
        "category": draw(st.none() | _TEXT),
        "policy": draw(st.sampled_from(["sanctioned", "tolerated", "unsanctioned", "unreviewed"])),
        "severity": draw(st.sampled_from(["info", "low", "medium", "high", "critical", "odd"])),
        "risk_score": draw(st.integers(min_value=0, max_value=100)),
        "first_seen": first,
        "last_seen": None if first is None else first + span,
        "active_days": draw(st.integers(min_value=1, max_value=90)),
        "requests": draw(_COUNT),
        "queries": draw(_COUNT),
        "blocked": draw(_COUNT),
        "bytes_out": draw(st.none() | _COUNT),
        "bytes_in": draw(st.none() | _COUNT),
        "large_uploads": draw(_COUNT),
        "log_types": draw(
            st.lists(st.sampled_from(["dns", "firewall", "flow", "proxy"]), unique=True)
        ),
        "hosts": draw(st.lists(_TEXT, max_size=3)),
        "confidence": draw(st.sampled_from(["low", "medium", "high", "?"])),
        "match_rules": draw(st.lists(_TEXT, max_size=3)),
        "models": draw(st.lists(_TEXT, max_size=2)),
        "policy_rule": draw(st.none() | _TEXT),
        "risk_factors": draw(st.lists(_TEXT, max_size=3)),
    }


_METHODS = st.sampled_from(["GET", "POST", "CONNECT", "patch", "PROPFIND", ""])
_RCODES = st.sampled_from(["NOERROR", "NXDOMAIN", "SERVFAIL", "BADCOOKIE", "WEIRD"])


@st.composite
def event_rows(draw: st.DrawFn) -> dict[str, Any]:
    host = draw(st.none() | _TEXT | st.just("chatgpt.com"))
    return {
        "ts": draw(st.none() | _TIME),
        "log_format": draw(st.sampled_from(["squid", "bind", "panos", "zeek_conn"])),
        "log_type": draw(st.sampled_from(["proxy", "dns", "firewall", "flow", None])),
        "source_file": draw(_TEXT),
        "line_no": draw(st.integers(min_value=1, max_value=10**6)),
        "src_ip": draw(st.none() | _IP | _TEXT),
        "src_port": draw(st.none() | st.integers(min_value=-1, max_value=70_000)),
        "user": draw(st.none() | _TEXT | st.just("jdoe")),
        "log_user": draw(st.none() | st.just("CORP\\jdoe") | _TEXT),
        "host": host,
        "dst_ip": draw(st.none() | _IP | _TEXT),
        "dst_port": draw(st.none() | st.integers(min_value=0, max_value=65_535)),
        "url": draw(
            st.none()
            | _TEXT
            | st.builds(
                lambda h, p: f"https://{h}:{p}/x", st.just(host or "h"), st.integers(0, 99_999)
            )
        ),
        "method": draw(st.none() | _METHODS),
        "status": draw(st.none() | st.integers(min_value=0, max_value=999)),
        "action": draw(st.sampled_from(["allowed", "blocked", "unknown", None])),
        "bytes_out": draw(st.none() | _COUNT),
        "bytes_in": draw(st.none() | _COUNT),
        "user_agent": draw(st.none() | _TEXT),
        "app": draw(st.none() | _TEXT),
        "dns_qtype": draw(st.none() | st.sampled_from(["A", "AAAA", "HTTPS"])),
        "dns_answers": draw(st.none() | st.lists(_IP | _TEXT, max_size=3)),
        "dns_rcode": draw(st.none() | _RCODES),
        "process": draw(st.none() | _TEXT | st.just("C:\\Program Files\\App\\app.exe")),
        "dns_answer_only": draw(st.none() | st.booleans()),
        "service_id": draw(st.text(min_size=1, max_size=12)),
        "service": draw(st.none() | _TEXT),
        "vendor": draw(st.none() | _TEXT),
        "category": draw(st.none() | _TEXT),
        "match_rule": draw(
            st.sampled_from(["domain:chatgpt.com", "ip:160.79.104.0/23", "app:x", ""])
        ),
        "confidence": draw(st.sampled_from(["low", "medium", "high"])),
        "model": draw(st.none() | _TEXT),
        "repeat": draw(st.booleans()),
        "department": draw(st.none() | _TEXT),
        "attribution": draw(st.sampled_from(["log_user", "ambiguous", "unattributed"])),
        "candidates": draw(st.lists(_TEXT, max_size=2)),
        "device": draw(st.none() | _TEXT),
    }


def findings_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows, schema=FINDING_SCHEMA), FINDING_SCHEMA)


def events_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = dict(empty_matches().schema)
    return conform(pl.DataFrame(rows, schema=schema), schema)
