"""The ``cef`` sink: golden output for the hostile fixtures, a small independent CEF reader
that must get every value back exactly (Hypothesis, with pipes, backslashes, ``=``, line
breaks, unicode and empty values), one record per line, and shadowscan's own CEF parser
reading the events back."""

from __future__ import annotations

import datetime as dt
import io
import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.errors import UsageError
from shadowscan.outputs import SINKS
from shadowscan.outputs._siem import event_fields, finding_fields
from shadowscan.outputs.cef import EVENT_KEYS, FINDING_KEYS, LABELLED_KEYS, CefSink
from shadowscan.parsers import ParseContext
from shadowscan.parsers.cef import CefParser
from tests.outputs import fixtures
from tests.outputs.golden import GOLDEN, check_golden

#: Standard keys the sink may use (ArcSight extension dictionary); anything else must be
#: a ``shadowscan``-prefixed user-defined extension.
DICTIONARY = {
    "act", "app", "c6a2", "c6a2Label", "c6a3", "c6a3Label", "cat", "cnt", "cn1", "cn1Label",
    "cn2", "cn2Label", "cn3", "cn3Label", "cs1", "cs1Label", "cs2", "cs2Label", "cs3",
    "cs3Label", "cs4", "cs4Label", "cs5", "cs5Label", "cs6", "cs6Label",
    "destinationServiceName", "dhost", "dpt", "dst", "end", "in", "msg", "out", "outcome",
    "reason", "request", "requestClientApplication", "requestMethod", "rt", "shost", "spt",
    "sproc", "src", "start", "suser",
}  # fmt: skip


# --- an independent reader ----------------------------------------------------------

_HEADER_UNESCAPES = {"\\": "\\", "|": "|", "n": "\n", "r": "\r"}
_VALUE_UNESCAPES = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}
_KEY_CHAR = re.compile(r"[A-Za-z0-9_.]")


def _unescape(text: str, table: dict[str, str]) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            assert i + 1 < len(text) and text[i + 1] in table, f"bad escape in {text!r}"
            out.append(table[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def read_cef(line: str) -> tuple[list[str], list[tuple[str, str]]]:
    """``(header fields, [(key, value), ...])`` of one CEF record, by the spec: the header
    is seven fields split on unescaped ``|``; in the extension every unescaped ``=`` ends a
    key (the run of key characters before it, after a space); a value runs to the space
    before the next key, and the last value loses its trailing spaces."""
    assert "\n" not in line and "\r" not in line
    assert line.startswith("CEF:")
    fields: list[str] = []
    start = i = len("CEF:")
    while len(fields) < 7:
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == "|":
            fields.append(_unescape(line[start:i], _HEADER_UNESCAPES))
            start = i + 1
        i += 1
    ext = line[start:]
    separators = []
    i = 0
    while i < len(ext):
        if ext[i] == "\\":
            i += 2
            continue
        if ext[i] == "=":
            separators.append(i)
        i += 1
    keys = []
    for sep in separators:
        begin = sep
        while begin > 0 and _KEY_CHAR.match(ext[begin - 1]):
            begin -= 1
        assert begin < sep and (begin == 0 or ext[begin - 1] == " "), ext
        keys.append((begin, sep))
    pairs = []
    for n, (begin, sep) in enumerate(keys):
        end = keys[n + 1][0] - 1 if n + 1 < len(keys) else len(ext)
        value = ext[sep + 1 : end]
        if n + 1 == len(keys):
            value = value.rstrip(" ")
        pairs.append((ext[begin:sep], _unescape(value, _VALUE_UNESCAPES)))
    return fields, pairs


def render(frame: pl.DataFrame, kind: str) -> str:
    out = io.StringIO()
    CefSink().write(frame, out, kind=kind)
    return out.getvalue()


def records(frame: pl.DataFrame, kind: str) -> list[tuple[list[str], dict[str, str]]]:
    text = render(frame, kind)
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == frame.height + 1, "one line per record"
    out = []
    for line in lines[:-1]:
        header, pairs = read_cef(line)
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys in {line}"
        out.append((header, dict(pairs)))
    return out


# --- golden files --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["findings", "events"])
def test_golden(kind: str) -> None:
    frame = fixtures.findings() if kind == "findings" else fixtures.events()
    check_golden(render(frame, kind), GOLDEN / "cef" / f"{kind}.cef")


# --- findings and events -------------------------------------------------------------


def test_findings_carry_their_fields() -> None:
    (h1, r1), (h2, r2), (h3, r3) = records(fixtures.findings(), "findings")
    assert h1 == [
        "0",
        "shadowscan",
        "shadowscan",
        h1[3],
        "shadowscan:finding:unsanctioned",
        "Unsanctioned AI service use",
        "8",
    ]
    assert (h2[4], h2[6], h3[4], h3[6]) == (
        "shadowscan:finding:unreviewed",
        "5",
        "shadowscan:finding:sanctioned",
        "1",
    )
    assert r1["suser"] == "jdoe" and r1["src"] == "10.20.1.15" and r1["shost"] == "lt-0142"
    assert (r1["rt"], r1["start"], r1["end"]) == ("1795262400000", "1795078800000", "1795262400000")
    assert (r1["cs1Label"], r1["cs1"], r1["cs3Label"], r1["cs3"]) == (
        "Service ID",
        "openai-chatgpt",
        "Policy",
        "unsanctioned",
    )
    assert (r1["cn1Label"], r1["cn1"], r1["cnt"], r1["out"], r1["in"]) == (
        "Risk Score",
        "72",
        "34",
        "2358474",
        "4039379",
    )
    assert r1["act"] == "partially blocked" and r1["outcome"] == "success"
    assert r1["reason"] == ",".join(fixtures.findings()["risk_factors"][0])
    assert r1["msg"].startswith("jdoe used ChatGPT (unsanctioned, risk 72): requests 28")
    # The hostile host comes back exactly; the ambiguous address names its claimants.
    assert r2["dhost"] == fixtures.HOSTILE and r2["shadowscanHosts"] == fixtures.HOSTILE
    assert "suser" not in r2 and r2["shadowscanCandidates"] == "bwong,jdoe"
    assert "out" not in r2 and r2["msg"].startswith("10.1.0.8 (bwong or jdoe?) used Perplexity")
    # IPv6 goes where CEF wants it.
    assert "src" not in r3 and (r3["c6a2Label"], r3["c6a2"]) == (
        "Source IPv6 Address",
        "2001:db8:20::15",
    )
    assert r3["act"] == "blocked" and r3["outcome"] == "failure"


def test_events_carry_their_fields() -> None:
    (h1, r1), (h2, r2), (h3, r3) = records(fixtures.events(), "events")
    assert (h1[4], h1[5], h1[6]) == ("shadowscan:event:proxy", "AI service web request", "3")
    assert (h2[4], h2[5], h3[4], h3[5]) == (
        "shadowscan:event:dns",
        "AI service DNS lookup",
        "shadowscan:event:firewall",
        "AI service connection",
    )
    assert (r1["src"], r1["spt"], r1["dst"], r1["dpt"]) == (
        "10.20.1.15",
        "51234",
        "104.18.32.47",
        "443",
    )
    assert (r1["suser"], r1["shadowscanLogUser"]) == ("jdoe", "CORP\\jdoe")
    assert r1["request"] == "https://chatgpt.com/backend-api/conversation"
    assert r1["requestMethod"] == "POST" and r1["requestClientApplication"] == fixtures.HOSTILE
    assert (r1["out"], r1["in"], r1["act"], r1["rt"]) == (
        "2100000",
        "5120",
        "allowed",
        "1795078800000",
    )
    assert (r1["shadowscanSourceFile"], r1["shadowscanLineNo"]) == ("logs/access.log", "12")
    assert r2["shadowscanDnsAnswers"] == "104.18.26.48" and r2["dhost"] == "www.perplexity.ai"
    assert (r3["c6a2"], r3["dst"], r3["app"], r3["act"], r3["outcome"]) == (
        "2001:db8:20::15",
        "160.79.104.10",
        "anthropic-base",
        "blocked",
        "failure",
    )


@pytest.mark.parametrize("kind", ["findings", "events"])
def test_keys_are_standard_or_prefixed_and_labelled(kind: str) -> None:
    frame = fixtures.findings() if kind == "findings" else fixtures.events()
    for _, pairs in records(frame, kind):
        for key in pairs:
            assert key in DICTIONARY or key.startswith("shadowscan"), key
        for key in pairs.keys() & LABELLED_KEYS:
            assert pairs[f"{key}Label"], key


def test_every_field_has_a_key() -> None:
    assert FINDING_KEYS.keys() == {f.name for f in finding_fields()}
    assert EVENT_KEYS.keys() == {f.name for f in event_fields()}


def test_rollups_are_refused_with_what_to_do() -> None:
    with pytest.raises(UsageError, match=r"drop --group-by, or use --output-format ndjson"):
        render(pl.DataFrame({"department": ["x"]}), "department")


def test_nothing_for_no_rows_and_registered() -> None:
    assert render(fixtures.findings().clear(), "findings") == ""
    assert SINKS.get("cef") is CefSink and ".cef" in CefSink.extensions


def test_shadowscan_reads_its_own_events_back() -> None:
    """What the sink writes, the ``cef`` parser reads (IPv6 sources excepted: CEF keeps
    them in ``c6a2``, which the parser does not read)."""
    lines = render(fixtures.events(), "events").splitlines()
    batch = pl.DataFrame({"line_no": pl.Series([1, 2, 3], dtype=pl.UInt64), "line": lines})
    parsed = CefParser(ParseContext("t", "UTC", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))).parse(
        batch
    )
    assert parsed.rejected.is_empty()
    got = parsed.events.select(
        "ts", "src_ip", "user", "host", "url", "method", "action", "bytes_out", "user_agent"
    ).rows()
    want = fixtures.events().select(
        "ts", "src_ip", "user", "host", "url", "method", "action", "bytes_out", "user_agent"
    )
    assert got[:2] == want.head(2).rows()
    assert got[2][0] == want["ts"][2] and got[2][6:8] == ("blocked", 0)


# --- properties ----------------------------------------------------------------------

#: Text mostly made of what breaks naive CEF (delimiters, escapes and what looks like
#: them, line breaks, spaces, non-ASCII), any other character now and then; often empty.
_PIECES = st.sampled_from(["|", "\\", "=", "\n", "\r", "\t", " ", "\\n", "x=", "ü😀", "\u2028"])
HOSTILE_TEXT = st.lists(
    st.one_of(_PIECES, _PIECES, _PIECES, st.characters(codec="utf-8")), max_size=8
).map("".join)


def test_hostile_header_values_round_trip() -> None:
    frame = fixtures.findings().head(1).with_columns(pl.lit(fixtures.HOSTILE).alias("policy"))
    [(header, pairs)] = records(frame, "findings")
    assert header[4] == f"shadowscan:finding:{fixtures.HOSTILE}"
    assert header[5] == f"A{fixtures.HOSTILE[1:]} AI service use"
    assert pairs["cs3"] == fixtures.HOSTILE


@given(user=HOSTILE_TEXT, service=HOSTILE_TEXT, policy=HOSTILE_TEXT, hosts=st.lists(HOSTILE_TEXT, min_size=1, max_size=3), site=HOSTILE_TEXT, rule=HOSTILE_TEXT)  # fmt: skip
def test_hostile_finding_round_trips(
    user: str, service: str, policy: str, hosts: list[str], site: str, rule: str
) -> None:
    frame = (
        fixtures.findings()
        .head(1)
        .with_columns(
            pl.lit(user).alias("user"),
            pl.lit(service).alias("service"),
            pl.lit(service).alias("vendor"),
            pl.lit(policy).alias("policy"),
            pl.lit(site).alias("site"),
            pl.lit(rule).alias("policy_rule"),
            pl.Series("hosts", [hosts], dtype=pl.List(pl.String)),
        )
    )
    [(header, pairs)] = records(frame, "findings")
    assert header[4] == f"shadowscan:finding:{policy}"
    assert (pairs["suser"], pairs["destinationServiceName"], pairs["cs2"]) == (
        user,
        service,
        service,
    )
    assert (pairs["cs3"], pairs["cs4"], pairs["shadowscanSite"]) == (policy, rule, site)
    assert (pairs["dhost"], pairs["shadowscanHosts"]) == (hosts[0], ",".join(hosts))
    assert pairs["cnt"] == "34"


@given(agent=HOSTILE_TEXT, log_user=HOSTILE_TEXT, url=HOSTILE_TEXT, source=HOSTILE_TEXT)
def test_hostile_event_round_trips(agent: str, log_user: str, url: str, source: str) -> None:
    frame = (
        fixtures.events()
        .head(1)
        .with_columns(
            pl.lit(agent).alias("user_agent"),
            pl.lit(log_user).alias("log_user"),
            pl.lit(url).alias("url"),
            pl.lit(source).alias("source_file"),
            pl.lit(source).alias("log_type"),
        )
    )
    [(header, pairs)] = records(frame, "events")
    assert header[4] == f"shadowscan:event:{source}"
    assert (pairs["requestClientApplication"], pairs["shadowscanLogUser"]) == (agent, log_user)
    assert (pairs["request"], pairs["shadowscanSourceFile"]) == (url, source)
    assert pairs["shadowscanLineNo"] == "12"
