"""QRadar LEEF 1.0/2.0: delimiters (tab, a character, hex), devTime with and without
devTimeFormat, syslog prefixes, sniffing, and property tests (never raises, every line
counted, the prefiltered fast path agrees with the full parse, rendered lines round-trip)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers._siem import java_time_format
from shadowscan.parsers.leef import LeefParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

FILE_TIME = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = LeefParser(ParseContext("t", tz, FILE_TIME)).parse(batch)
    return out.events, out.rejected, out.skipped


def row(line: str, tz: str = "UTC") -> dict[str, object]:
    events, rejected, _ = parse([line], tz)
    assert rejected.is_empty()
    return events.row(0, named=True)


def test_leef1_tab_separated_fields() -> None:
    pairs = [
        "devTime=May 02 2024 09:14:03.518 CEST",
        "devTimeFormat=MMM dd yyyy HH:mm:ss.SSS zzz",
        "src=10.1.2.3",
        "srcPort=50514",
        "dst=104.18.32.47",
        "dstPort=443",
        "usrName=CORP\\jdoe",
        "url=https://ChatGPT.com/backend-api/conversation?model=gpt-4o",
        "proto=TCP",
        "action=allowed",
        "srcBytes=5123",
        "dstBytes=48211",
        "userAgent=Mozilla/5.0 (Windows NT 10.0; Win64)",
        "reason=category = AI; rule 14",
    ]
    r = row("<134>May  2 07:14:03 swg01 LEEF:1.0|Northwind|SWG|4.2|URL_ALLOWED|" + "\t".join(pairs))
    assert r["ts"] == dt.datetime(2024, 5, 2, 7, 14, 3, 518000, tzinfo=dt.UTC)
    assert (r["src_ip"], r["src_port"], r["user"], r["dst_ip"], r["dst_port"]) == (
        "10.1.2.3",
        50514,
        "CORP\\jdoe",
        "104.18.32.47",
        443,
    )
    assert (r["host"], r["url"], r["action"], r["bytes_out"], r["bytes_in"]) == (
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
        "allowed",
        5123,
        48211,
    )
    assert (r["user_agent"], r["leef_proto"], r["leef_vendor"], r["leef_event_id"]) == (
        "Mozilla/5.0 (Windows NT 10.0; Win64)",
        "TCP",
        "Northwind",
        "URL_ALLOWED",
    )
    assert r["log_type"] == "proxy"


def test_leef2_delimiters() -> None:
    caret = row(
        "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^srcPort=81^dstPort=21^action=deny"
    )
    hex_tab = row(
        "LEEF:2.0|V|P|1|ID|x09|src=10.0.1.9\tdstHost=api.openai.com\tdevTime=1714634411000"
    )
    hex_pipe = row("LEEF:2.0|V|P|1|ID|0x7C|src=10.0.1.10|usrName=a b|dstPort=443")
    empty = row("LEEF:2.0|V|P|1|ID||src=10.0.1.11\tidentHostName=claude.ai")
    no_field = row("LEEF:2.0|V|P|1|ID|src=10.0.1.12\tpolicy=Block GenAI")
    assert (
        caret["src_ip"],
        caret["dst_ip"],
        caret["src_port"],
        caret["dst_port"],
        caret["action"],
    ) == (
        "10.0.1.8",
        "10.0.0.5",
        81,
        21,
        "blocked",
    )
    assert (caret["log_type"], caret["host"]) == ("firewall", None)
    assert (hex_tab["host"], hex_tab["ts"]) == (
        "api.openai.com",
        dt.datetime(2024, 5, 2, 7, 20, 11, tzinfo=dt.UTC),
    )
    assert (hex_pipe["user"], hex_pipe["dst_port"]) == ("a b", 443)
    assert (empty["src_ip"], empty["host"]) == ("10.0.1.11", "claude.ai")
    assert (no_field["src_ip"], no_field["action"]) == ("10.0.1.12", "blocked")


def test_attributes_without_tabs_split_before_keys() -> None:
    r = row(
        "LEEF:1.0|V|P|1|ID|src=10.50.1.1  usrName=Jane Doe  url=gemini.google.com/app  action=permit"
    )
    assert (r["src_ip"], r["user"], r["host"], r["url"], r["action"]) == (
        "10.50.1.1",
        "Jane Doe",
        "gemini.google.com",
        "http://gemini.google.com/app",
        "allowed",
    )


def test_time_formats() -> None:
    def ts(attrs: str, prefix: str = "", tz: str = "UTC") -> object:
        return row(prefix + "LEEF:1.0|V|P|1|ID|" + attrs, tz)["ts"]

    assert ts(
        "devTime=2024-05-02T09:14:03.120+0200\tdevTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ"
    ) == dt.datetime(2024, 5, 2, 7, 14, 3, 120000, tzinfo=dt.UTC)
    assert ts(
        "devTime=02/05/2024 09:14:03\tdevTimeFormat=dd/MM/yyyy HH:mm:ss", tz="Europe/Berlin"
    ) == dt.datetime(2024, 5, 2, 7, 14, 3, tzinfo=dt.UTC)
    assert ts("devTime=May 02 2024 09:14:03") == dt.datetime(2024, 5, 2, 9, 14, 3, tzinfo=dt.UTC)
    assert ts("devTime=1714634043518") == dt.datetime(2024, 5, 2, 7, 14, 3, 518000, tzinfo=dt.UTC)
    # an unusable format falls back to the common ones
    assert ts("devTime=1714634043518\tdevTimeFormat=epoch") == dt.datetime(
        2024, 5, 2, 7, 14, 3, 518000, tzinfo=dt.UTC
    )
    assert ts("src=10.0.0.1", "<13>May  2 07:14:03 10.0.0.9 ") == dt.datetime(
        2024, 5, 2, 7, 14, 3, tzinfo=dt.UTC
    )
    assert ts("devTime=garbage") is None


def test_java_time_format() -> None:
    assert java_time_format("MMM dd yyyy HH:mm:ss") == ("%b %d %Y %H:%M:%S", False)
    assert java_time_format("MMM dd yyyy HH:mm:ss.SSS zzz") == ("%b %d %Y %H:%M:%S%.f", True)
    assert java_time_format("yyyy-MM-dd'T'HH:mm:ss.SSSXXX") == ("%Y-%m-%dT%H:%M:%S%.f%:z", False)
    assert java_time_format("dd/MMM/yyyy:HH:mm:ss Z") == ("%d/%b/%Y:%H:%M:%S %z", False)
    assert java_time_format("EEE MMM d HH:mm:ss z yyyy") is None  # zone name in the middle
    assert java_time_format("epoch") is None


def test_rejects_and_skips() -> None:
    lines = [
        "LEEF:1.0|V|P|1|ID|src=10.0.0.1",
        "LEEF:1.0|V|P|ID",
        "",
        "CEF:0|V|P|1|ID|N|3|src=10.0.0.1",
        "Jan  1 00:00:00 host LEEF:2.0|V|P|1|ID|",
    ]
    events, rejected, skipped = parse(lines)
    assert events["line_no"].to_list() == [0, 4]
    assert rejected["line_no"].to_list() == [1, 3]
    assert skipped == 1


def test_sniff_positive_and_negative() -> None:
    line = "<13>May  2 07:14:03 10.0.0.9 LEEF:1.0|Northwind|SWG|4.2|URL_ALLOWED|src=10.0.0.1\turl=https://claude.ai/"
    assert detect_lines([line] * 4).format == "leef"
    assert detect_lines(["CEF:0|V|P|1|ID|N|3|src=10.0.0.1"] * 3).format != "leef"
    assert PARSERS.get("leef").sniff(["hello world", '{"a": 1}']) is None


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(
    ["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai", "intranet.local"]
)
words = st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=12)


@st.composite
def leef_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ms = draw(st.integers(946684800000, 2_000_000_000_000))
    host, out, user = draw(hosts), draw(st.integers(0, 10**12)), draw(words)
    version, delimiter = draw(
        st.sampled_from([("1.0", "\t"), ("2.0", "^"), ("2.0", "x09"), ("2.0", "0x7C"), ("2.0", "")])
    )
    sep = {"x09": "\t", "0x7C": "|", "": "\t"}.get(delimiter, delimiter)
    head = f"LEEF:{version}|Vendor|Product|1.0|Event|" + (
        f"{delimiter}|" if version == "2.0" else ""
    )
    prefix = draw(st.sampled_from(["", "<13>May  2 07:14:03 10.0.0.9 "]))
    attrs = sep.join(
        [f"devTime={ms}", f"usrName={user}", f"url=https://{host}/x", f"srcBytes={out}"]
    )
    expected = {
        "ts": dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms),
        "user": user,
        "host": host,
        "url": f"https://{host}/x",
        "bytes_out": out,
    }
    return prefix + head + attrs, expected


@given(st.lists(st.one_of(leef_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("leef", lines)


@given(st.lists(st.one_of(leef_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("leef", lines)


@given(leef_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    r = row(line)
    for key, value in expected.items():
        assert r[key] == value, key
