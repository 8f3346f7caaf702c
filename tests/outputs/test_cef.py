"""The ``cef`` sink: a small independent CEF reader that must get every value back exactly,
the checks every SIEM sink passes (``tests/outputs/siem_helpers.py``: golden output for the
hostile fixtures, hostile values of every field round-tripping, one record per line,
shadowscan's own CEF parser reading the events back), and what CEF's keys and header
mean."""

from __future__ import annotations

import re

import polars as pl
import pytest

from shadowscan.outputs.cef import LABELLED_KEYS, CefSink
from shadowscan.parsers.cef import CefParser
from tests.outputs import fixtures
from tests.outputs.siem_helpers import (
    KINDS,
    LineSinkChecks,
    Record,
    frame_of,
    line_records,
    read_header,
    text_of,
    unescape,
    with_values,
)

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

_VALUE_UNESCAPES = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}
_KEY_CHAR = re.compile(r"[A-Za-z0-9_.]")


def read_cef(line: str) -> tuple[list[str], list[tuple[str, str]]]:
    """``(header fields, [(key, value), ...])`` of one CEF record, by the spec: the header
    is seven fields split on unescaped ``|``; in the extension every unescaped ``=`` ends a
    key (the run of key characters before it, after a space); a value runs to the space
    before the next key, and the last value loses its trailing spaces."""
    fields, ext = read_header(line, "CEF:", 7)
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
        pairs.append((ext[begin:sep], unescape(value, _VALUE_UNESCAPES)))
    return fields, pairs


def records(frame: pl.DataFrame, kind: str) -> list[Record]:
    return line_records(text_of("cef", frame, kind), read_cef, frame.height)


class TestCefSink(LineSinkChecks):
    """What every key-value SIEM sink does, read with :func:`read_cef`."""

    sink = CefSink
    read = staticmethod(read_cef)
    parser = CefParser
    read_back = (
        "ts", "src_ip", "src_port", "user", "host", "dst_ip", "dst_port", "url", "method",
        "action", "bytes_out", "bytes_in", "user_agent", "app", "process",
    )  # fmt: skip


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


@pytest.mark.parametrize("kind", KINDS)
def test_keys_are_standard_or_prefixed_and_labelled(kind: str) -> None:
    for _, pairs in records(frame_of(kind), kind):
        for key in pairs:
            assert key in DICTIONARY or key.startswith("shadowscan"), key
        for key in pairs.keys() & LABELLED_KEYS:
            assert pairs[f"{key}Label"], key


def test_hostile_header_values_round_trip() -> None:
    [(header, pairs)] = records(
        with_values(fixtures.findings(), {"policy": fixtures.HOSTILE}), "findings"
    )
    assert header[4] == f"shadowscan:finding:{fixtures.HOSTILE}"
    assert header[5] == f"A{fixtures.HOSTILE[1:]} AI service use"
    assert pairs["cs3"] == fixtures.HOSTILE
