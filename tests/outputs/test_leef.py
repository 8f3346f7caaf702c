"""The ``leef`` sink: golden output for the hostile fixtures, a small independent LEEF 2.0
reader that must get every value back exactly (Hypothesis, with tabs, pipes, backslashes,
``=``, line breaks, unicode and empty values), one record per line, backslashes left
alone where QRadar would show an escape, and shadowscan's own LEEF parser reading the
events back."""

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
from shadowscan.outputs.leef import EVENT_KEYS, FINDING_KEYS, LeefSink, escape_value
from shadowscan.parsers import ParseContext
from shadowscan.parsers.leef import LeefParser
from tests.outputs import fixtures
from tests.outputs.golden import GOLDEN, check_golden

# --- an independent reader ----------------------------------------------------------

_HEADER_UNESCAPES = {"\\": "\\", "|": "|", "n": "\n", "r": "\r"}
_VALUE_ESCAPE = re.compile(r"\\([\\tnr])")
_VALUE_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _unescape_header(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            assert i + 1 < len(text) and text[i + 1] in _HEADER_UNESCAPES, text
            out.append(_HEADER_UNESCAPES[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def unescape_value(text: str) -> str:
    """``\\\\``, ``\\t``, ``\\n``, ``\\r`` are escapes; any other backslash is itself."""
    return _VALUE_ESCAPE.sub(lambda m: _VALUE_UNESCAPES[m[1]], text)


def read_leef(line: str) -> tuple[list[str], list[tuple[str, str]]]:
    """``(header fields, [(key, value), ...])``: six header fields split on unescaped
    ``|`` (version, vendor, product, version, event id, delimiter), then the attributes
    split on the delimiter, each at its first ``=``."""
    assert "\n" not in line and "\r" not in line
    assert line.startswith("LEEF:")
    fields: list[str] = []
    start = i = len("LEEF:")
    while len(fields) < 6:
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == "|":
            fields.append(_unescape_header(line[start:i]))
            start = i + 1
        i += 1
    assert fields[0] == "2.0" and fields[5] == "x09"
    pairs = []
    for attribute in line[start:].split("\t"):
        key, sep, value = attribute.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key), attribute
        pairs.append((key, unescape_value(value)))
    return fields, pairs


def render(frame: pl.DataFrame, kind: str) -> str:
    out = io.StringIO()
    LeefSink().write(frame, out, kind=kind)
    return out.getvalue()


def records(frame: pl.DataFrame, kind: str) -> list[tuple[list[str], dict[str, str]]]:
    lines = render(frame, kind).split("\n")
    assert lines[-1] == "" and len(lines) == frame.height + 1, "one line per record"
    out = []
    for line in lines[:-1]:
        header, pairs = read_leef(line)
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys in {line}"
        out.append((header, dict(pairs)))
    return out


# --- golden files --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["findings", "events"])
def test_golden(kind: str) -> None:
    frame = fixtures.findings() if kind == "findings" else fixtures.events()
    check_golden(render(frame, kind), GOLDEN / "leef" / f"{kind}.leef")


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


def test_every_field_has_a_key() -> None:
    assert FINDING_KEYS.keys() == {f.name for f in finding_fields()}
    assert EVENT_KEYS.keys() == {f.name for f in event_fields()}


def test_rollups_are_refused_with_what_to_do() -> None:
    with pytest.raises(UsageError, match=r"not --group-by subnet rollups; drop --group-by"):
        render(pl.DataFrame({"subnet": ["10.0.0.0/24"]}), "subnet")


def test_nothing_for_no_rows_and_registered() -> None:
    assert render(fixtures.events().clear(), "events") == ""
    assert SINKS.get("leef") is LeefSink and ".leef" in LeefSink.extensions


def test_shadowscan_reads_its_own_events_back() -> None:
    lines = render(fixtures.events(), "events").splitlines()
    batch = pl.DataFrame({"line_no": pl.Series([1, 2, 3], dtype=pl.UInt64), "line": lines})
    parsed = LeefParser(ParseContext("t", "UTC", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))).parse(
        batch
    )
    assert parsed.rejected.is_empty()
    columns = ["ts", "src_ip", "user", "host", "url", "dst_port", "action", "bytes_out"]
    assert parsed.events.select(columns).rows() == fixtures.events().select(columns).rows()


# --- properties ----------------------------------------------------------------------

_PIECES = st.sampled_from(
    ["|", "\\", "=", "\n", "\r", "\t", " ", "\\t", "\\\\n", "t", "x=", "ü😀", "\u2028"]
)
#: Text mostly made of what breaks naive LEEF; any other character now and then.
HOSTILE_TEXT = st.lists(
    st.one_of(_PIECES, _PIECES, _PIECES, st.characters(codec="utf-8")), max_size=8
).map("".join)


@given(HOSTILE_TEXT)
def test_escaped_values_have_no_breaks_and_read_back(text: str) -> None:
    escaped = pl.select(escape_value(pl.lit(text))).item()
    assert not {"\t", "\n", "\r"} & set(escaped)
    assert unescape_value(escaped) == text


@given(user=HOSTILE_TEXT, policy=HOSTILE_TEXT, hosts=st.lists(HOSTILE_TEXT, min_size=1, max_size=3), department=HOSTILE_TEXT)  # fmt: skip
def test_hostile_finding_round_trips(
    user: str, policy: str, hosts: list[str], department: str
) -> None:
    frame = (
        fixtures.findings()
        .head(1)
        .with_columns(
            pl.lit(user).alias("user"),
            pl.lit(policy).alias("policy"),
            pl.lit(department).alias("department"),
            pl.Series("hosts", [hosts], dtype=pl.List(pl.String)),
        )
    )
    [(header, pairs)] = records(frame, "findings")
    assert header[4] == f"shadowscan:finding:{policy}"
    assert (pairs["usrName"], pairs["policy"], pairs["department"]) == (user, policy, department)
    assert (pairs["dstHost"], pairs["hosts"]) == (hosts[0], ",".join(hosts))


@given(agent=HOSTILE_TEXT, log_user=HOSTILE_TEXT, url=HOSTILE_TEXT)
def test_hostile_event_round_trips(agent: str, log_user: str, url: str) -> None:
    frame = (
        fixtures.events()
        .head(1)
        .with_columns(
            pl.lit(agent).alias("user_agent"),
            pl.lit(log_user).alias("log_user"),
            pl.lit(url).alias("url"),
        )
    )
    [(_, pairs)] = records(frame, "events")
    assert (pairs["userAgent"], pairs["accountName"], pairs["url"]) == (agent, log_user, url)
