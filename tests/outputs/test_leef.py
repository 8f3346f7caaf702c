"""The ``leef`` sink: a small independent LEEF 2.0 reader that must get every value back
exactly, the checks every SIEM sink passes (``tests/outputs/siem_helpers.py``: golden
output for the hostile fixtures, hostile values of every field round-tripping, with tabs,
pipes, backslashes, ``=`` and line breaks, one record per line, shadowscan's own LEEF
parser reading the events back), and backslashes left alone where QRadar would show an
escape."""

from __future__ import annotations

import re

import polars as pl
from hypothesis import given

from shadowscan.outputs.leef import LeefSink, escape_value
from shadowscan.parsers.leef import LeefParser
from tests.outputs import fixtures
from tests.outputs.siem_helpers import LineSinkChecks, Record, line_records, read_header, text_of
from tests.outputs.strategies import HOSTILE_TEXT

# --- an independent reader ----------------------------------------------------------

_VALUE_ESCAPE = re.compile(r"\\([\\tnr])")
_VALUE_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def unescape_value(text: str) -> str:
    """``\\\\``, ``\\t``, ``\\n``, ``\\r`` are escapes; any other backslash is itself."""
    return _VALUE_ESCAPE.sub(lambda m: _VALUE_UNESCAPES[m[1]], text)


def read_leef(line: str) -> tuple[list[str], list[tuple[str, str]]]:
    """``(header fields, [(key, value), ...])``: six header fields split on unescaped
    ``|`` (version, vendor, product, version, event id, delimiter), then the attributes
    split on the delimiter, each at its first ``=``."""
    fields, rest = read_header(line, "LEEF:", 6)
    assert fields[0] == "2.0" and fields[5] == "x09"
    pairs = []
    for attribute in rest.split("\t"):
        key, sep, value = attribute.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key), attribute
        pairs.append((key, unescape_value(value)))
    return fields, pairs


def records(frame: pl.DataFrame, kind: str) -> list[Record]:
    return line_records(text_of("leef", frame, kind), read_leef, frame.height)


class TestLeefSink(LineSinkChecks):
    """What every key-value SIEM sink does, read with :func:`read_leef`."""

    sink = LeefSink
    read = staticmethod(read_leef)
    parser = LeefParser
    read_back = (
        "ts", "src_ip", "src_port", "user", "host", "dst_ip", "dst_port", "url", "action",
        "bytes_out", "bytes_in",
    )  # fmt: skip


# --- findings and events -------------------------------------------------------------


def test_findings_carry_their_fields() -> None:
    (h1, r1), (h2, r2), (h3, r3) = records(fixtures.findings(), "findings")
    assert h1 == [
        "2.0",
        "shadowscan",
        "shadowscan",
        h1[3],
        "shadowscan:finding:unsanctioned",
        "x09",
    ]
    assert (h2[4], h3[4]) == ("shadowscan:finding:unreviewed", "shadowscan:finding:sanctioned")
    assert (r1["sev"], r2["sev"], r3["sev"]) == ("8", "5", "1")
    assert (r1["devTime"], r1["firstSeen"], r1["usrName"], r1["src"]) == (
        "1795262400000",
        "1795078800000",
        "jdoe",
        "10.20.1.15",
    )
    assert (r1["cat"], r1["policy"], r1["policyRule"], r1["department"]) == (
        "chat_assistant",
        "unsanctioned",
        "service:openai-chatgpt",
        "Engineering",
    )
    assert (r1["riskScore"], r1["srcBytes"], r1["dstBytes"], r1["largeUploads"]) == (
        "72",
        "2358474",
        "4039379",
        "1",
    )
    assert r1["riskFactors"] == ",".join(fixtures.findings()["risk_factors"][0])
    assert r2["hosts"] == fixtures.HOSTILE and r2["dstHost"] == fixtures.HOSTILE
    assert "usrName" not in r2 and r2["candidates"] == "bwong,jdoe"
    assert r3["src"] == "2001:db8:20::15" and r3["action"] == "blocked"


def test_events_carry_their_fields() -> None:
    (h1, r1), (h2, r2), (h3, r3) = records(fixtures.events(), "events")
    assert (h1[4], h2[4], h3[4]) == (
        "shadowscan:event:proxy",
        "shadowscan:event:dns",
        "shadowscan:event:firewall",
    )
    assert (r1["src"], r1["srcPort"], r1["dst"], r1["dstPort"]) == (
        "10.20.1.15",
        "51234",
        "104.18.32.47",
        "443",
    )
    assert (r1["usrName"], r1["accountName"], r1["url"]) == (
        "jdoe",
        "CORP\\jdoe",
        "https://chatgpt.com/backend-api/conversation",
    )
    assert r1["userAgent"] == fixtures.HOSTILE and r1["sev"] == "3"
    assert (r2["dnsQtype"], r2["dnsAnswers"], r2["dstHost"]) == (
        "A",
        "104.18.26.48",
        "www.perplexity.ai",
    )
    assert (r3["src"], r3["device"], r3["app"], r3["lineNo"]) == (
        "2001:db8:20::15",
        "lt-0999",
        "anthropic-base",
        "7",
    )


def test_backslashes_stay_readable() -> None:
    """QRadar shows values as written: an escape only where a backslash would be misread."""
    got = pl.select(
        escape_value(
            pl.lit(pl.Series(["CORP\\jdoe", "C:\\new", "a\\", "\\\\x", "x\ty\nz\r", "a\\\t"]))
        )
    ).to_series()
    assert got.to_list() == [
        "CORP\\jdoe",
        "C:\\\\new",
        "a\\",
        "\\\\\\x",
        "x\\ty\\nz\\r",
        "a\\\\\\t",
    ]


# --- properties ----------------------------------------------------------------------


@given(HOSTILE_TEXT)
def test_escaped_values_have_no_breaks_and_read_back(text: str) -> None:
    escaped = pl.select(escape_value(pl.lit(text))).item()
    assert not {"\t", "\n", "\r"} & set(escaped)
    assert unescape_value(escaped) == text
