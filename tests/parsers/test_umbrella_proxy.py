"""Cisco Umbrella proxy (web) logs: fields, ragged rows, sniffing (not the Umbrella DNS
log), and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.umbrella_proxy import UmbrellaProxyParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def parse_lines(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return UmbrellaProxyParser(ParseContext("t")).parse(batch).events


def render(cols: list[str], sep: str = ",") -> str:
    return sep.join('"' + c.replace('"', '""') + '"' for c in cols)


def umbrella_row(
    *,
    ts: str = "2024-11-04 08:00:00",
    identity: str = "jdoe@corp.example",
    internal: str = "10.20.1.15",
    url: str = "https://chatgpt.com/",
    verdict: str = "ALLOWED",
    method: str = "GET",
    width: int = 35,
) -> list[str]:
    cols = [
        ts,
        identity,
        internal,
        "198.51.100.7",
        "104.18.32.47",
        "text/html",
        verdict,
        url,
        "",
        "Mozilla/5.0 (X11; Linux x86_64)",
        "200",
        "1022",
        "48211",
        "47001",
        "",
        "Generative AI,Application",
        "",
        "",
        "",
        "",
        "",
        "AD Users",
        "",
        identity,
        "AD Users",
        method,
    ]
    cols += [""] * max(0, width - len(cols))
    return cols[:width]


def test_fields() -> None:
    line = render(umbrella_row(identity='Doe, Jane "JD" (jane.doe@corp.example)', method="POST"))
    row = parse_lines([line]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)
    assert row["user"] == 'Doe, Jane "JD" (jane.doe@corp.example)'
    assert (row["src_ip"], row["dst_ip"], row["umbrella_proxy_external_ip"]) == (
        "10.20.1.15",
        "104.18.32.47",
        "198.51.100.7",
    )
    assert (row["host"], row["url"], row["dst_port"], row["method"]) == (
        "chatgpt.com",
        "https://chatgpt.com/",
        443,
        "POST",
    )
    assert (row["status"], row["action"], row["bytes_out"], row["bytes_in"]) == (
        200,
        "allowed",
        1022,
        48211,
    )
    assert row["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64)"
    assert row["umbrella_proxy_categories"] == "Generative AI,Application"
    assert row["umbrella_proxy_identity_type"] == "AD Users"


def test_ragged_rows_blanks_and_verdicts() -> None:
    short = umbrella_row(width=13, verdict="BLOCKED", url="http://Claude.AI:8080/api?x=1")
    wide = umbrella_row(width=49, internal="", url="https://api.openai.com/v1/models")
    rows = parse_lines(
        [
            render(short),
            render(wide, sep=", "),
            render(umbrella_row(verdict="WARNED", width=32)),
        ]
    ).to_dicts()
    assert rows[0]["action"] == "blocked"
    assert rows[0]["host"] == "claude.ai"
    assert rows[0]["url"] == "http://claude.ai:8080/api"
    assert rows[0]["dst_port"] == 8080
    assert rows[0]["method"] is None  # 13 columns: no method column
    assert rows[0]["umbrella_proxy_categories"] is None
    assert rows[1]["src_ip"] is None  # empty internal IP
    assert rows[1]["host"] == "api.openai.com"
    assert rows[1]["method"] == "GET"
    assert rows[2]["action"] == "unknown"


def test_rejects_broken_rows() -> None:
    batch_lines = [
        render(umbrella_row()),
        render(umbrella_row(width=12)),  # too short
        render(umbrella_row(ts="04/11/2024 08:00:00")),
        render(umbrella_row(verdict="Allowed")),
        render(umbrella_row())[:-1],  # unterminated quote
        "",
    ]
    batch = pl.DataFrame(
        {"line_no": pl.Series(range(len(batch_lines)), dtype=pl.UInt64), "line": batch_lines}
    )
    out = UmbrellaProxyParser(ParseContext("t")).parse(batch)
    assert out.events["line_no"].to_list() == [0]
    assert out.rejected["line_no"].to_list() == [1, 2, 3, 4]
    assert out.skipped == 1


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([render(umbrella_row())] * 5).format == "umbrella_proxy"
    dns_rows = [
        '"2024-11-04 08:00:00","jdoe","jdoe,LAPTOP-7Q2K","10.20.1.15","198.51.100.7","Allowed",'
        '"1 (A)","NOERROR","chatgpt.com.","Generative AI","AD Users","AD Users,Roaming Computers",""',
        '"2024-11-04 08:00:01","Doe, Jane (jane.doe@corp.example)", "Doe, Jane (jane.doe@corp.example),WS1", '
        '"10.20.1.16","198.51.100.7","Blocked","28 (AAAA)", "NOERROR","claude.ai.", "Generative AI"',
    ]
    assert PARSERS.get("umbrella_proxy").sniff(dns_rows) is None
    assert detect_lines(dns_rows).format != "umbrella_proxy"
    assert PARSERS.get("umbrella_proxy").sniff(['{"a": 1}', "hello, world"]) is None


# --- properties ----------------------------------------------------------------------

cells = st.text(st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x24F), max_size=12)
hosts = st.sampled_from(
    ["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai", "x.local"]
)


@st.composite
def umbrella_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    host = draw(hosts)
    identity = draw(cells)
    width = draw(st.integers(13, 50))
    verdict = draw(st.sampled_from(["ALLOWED", "BLOCKED"]))
    cols = umbrella_row(identity=identity, url=f"https://{host}/p", verdict=verdict, width=width)
    sep = draw(st.sampled_from([",", ", "]))
    expected = {
        "host": host,
        "user": None if identity.strip() in ("", "-") else identity.strip(),
        "action": verdict.lower(),
        "bytes_in": 48211,
    }
    return render(cols, sep), expected


valid = umbrella_lines().map(lambda t: t[0])
#: Valid lines, the same cut short (near misses), and arbitrary text.
lines_mix = st.one_of(
    valid, st.tuples(valid, st.integers(0, 300)).map(lambda t: t[0][: t[1]]), NOISE
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("umbrella_proxy", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("umbrella_proxy", lines)


@given(umbrella_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
