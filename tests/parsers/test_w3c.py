"""W3C extended / ELFF: header-driven fields (ProxySG, IIS, tab-separated exports), header
changes mid-file and across batches, rejections, timestamps, sniffing (never Zeek), and
property tests (every line counted, values round-trip, batch boundaries do not matter)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.base import ParsedBatch
from shadowscan.parsers.w3c import (
    BEFORE_HEADER,
    COUNT_MISMATCH,
    NO_TIME,
    UNBALANCED,
    W3cParser,
)
from tests.parsers.props import NOISE, check_accounting

PROXYSG = (
    "#Fields: date time time-taken c-ip cs-username cs-auth-group s-supplier-ip "
    "sc-filter-result cs-categories sc-status s-action cs-method cs-uri-scheme cs-host "
    "cs-uri-port cs-uri-path cs-uri-query cs(User-Agent) s-ip sc-bytes cs-bytes "
    "x-bluecoat-application-name"
)
IIS = (
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
    "cs(User-Agent) cs(Referer) cs-host sc-status sc-substatus sc-win32-status time-taken"
)


def run(lines: list[str], parser: W3cParser | None = None, start: int = 0) -> ParsedBatch:
    parser = parser or W3cParser(ParseContext("t"))
    batch = pl.DataFrame(
        {
            "line_no": pl.Series(range(start, start + len(lines)), dtype=pl.UInt64),
            "line": pl.Series(lines, dtype=pl.String),
        }
    )
    return parser.parse(batch)


def rows(lines: list[str]) -> list[dict[str, Any]]:
    return run(lines).events.to_dicts()


def reasons(result: ParsedBatch) -> dict[int, str]:
    return dict(
        zip(result.rejected["line_no"].to_list(), result.rejected["reason"].to_list(), strict=True)
    )


def test_proxysg_connect_and_intercepted_request() -> None:
    out = rows(
        [
            "#Software: SGOS 7.3.16.2",
            "#Version: 1.0",
            PROXYSG,
            '2024-11-04 08:00:01 412 10.20.1.15 "CN=Ana Lima,OU=Staff" - 104.18.32.47 OBSERVED '
            '"Artificial Intelligence" 200 TCP_TUNNELED CONNECT tcp ChatGPT.com 443 / - '
            '"Mozilla/5.0 (Windows NT 10.0; Win64; x64)" 10.20.0.2 48211 1840 ChatGPT',
            "2024-11-04 08:00:03 187 10.20.1.15 jdoe - - OBSERVED - 200 TCP_NC_MISS POST https "
            "api.openai.com 443 /v1/chat/completions ?key=secret - 10.20.0.2 2210 150342 none",
            "2024-11-04 08:01:12 95 10.20.1.22 - - - DENIED - 403 TCP_DENIED GET http "
            "claude.ai 8080 /new - - 10.20.0.2 1520 312 -",
        ]
    )
    connect, post, denied = out
    assert connect["ts"] == dt.datetime(2024, 11, 4, 8, 0, 1, tzinfo=dt.UTC)
    assert (connect["user"], connect["host"], connect["dst_ip"], connect["dst_port"]) == (
        "CN=Ana Lima,OU=Staff",
        "chatgpt.com",
        "104.18.32.47",
        443,
    )
    assert connect["url"] is None and connect["method"] == "CONNECT"
    assert (connect["bytes_out"], connect["bytes_in"], connect["action"]) == (
        1840,
        48211,
        "allowed",
    )
    assert connect["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    assert (connect["app"], connect["w3c_categories"], connect["w3c_time_taken"]) == (
        "ChatGPT",
        "Artificial Intelligence",
        412,
    )
    assert post["url"] == "https://api.openai.com/v1/chat/completions"  # no query string
    assert post["app"] is None  # ProxySG writes "none"
    assert post["dst_ip"] is None  # s-ip is the proxy itself, never the destination
    assert denied["action"] == "blocked" and denied["url"] == "http://claude.ai:8080/new"
    assert denied["user"] is None


def test_iis_server_log_uses_server_address_and_port() -> None:
    ua = "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)"
    out = rows(
        [
            IIS,
            f"2024-11-04 10:02:11 10.30.0.9 POST /v1/chat/completions - 443 CORP\\svc 10.20.1.30 {ua} - api.openai.com 200 0 0 1480",
            f"2024-11-04 10:02:12 10.30.0.9 GET /x.aspx a=1 80 - 10.20.1.31 {ua} - - 404 0 2 3",
        ]
    )
    assert out[0]["url"] == "https://api.openai.com/v1/chat/completions"
    assert (out[0]["dst_ip"], out[0]["dst_port"], out[0]["user"]) == ("10.30.0.9", 443, "CORP\\svc")
    assert out[0]["action"] == "unknown" and out[0]["user_agent"] == ua
    assert (out[1]["host"], out[1]["url"], out[1]["dst_port"], out[1]["status"]) == (
        None,
        None,
        80,
        404,
    )


def test_tab_separated_export_keeps_spaces_inside_values() -> None:
    header = "#Fields:\tdate\ttime\tc-ip\tcs-username\tcs-uri\tsc-status\tx-action\tcs(User-Agent)"
    line = "\t".join(
        [
            "2024-11-04",
            "11:21:37",
            "10.40.2.33",
            "EXAMPLE\\okoroma",
            "https://www.perplexity.ai/search?q=x",
            "403",
            "BLOCKED",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6)",
        ]
    )
    (row,) = rows([header, line])
    assert (row["host"], row["url"], row["action"], row["dst_port"]) == (
        "www.perplexity.ai",
        "https://www.perplexity.ai/search",
        "blocked",
        443,
    )
    assert row["user_agent"] == "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6)"


def test_field_names_are_case_insensitive_and_quotes_unescape() -> None:
    (row,) = rows(
        [
            "#Fields: Date Time C-IP CS-Host CS(User-Agent) SC-Status CS-Bytes SC-Bytes",
            '2024-11-04 08:00:00 10.0.0.1 Gemini.Google.com "say ""hi"" agent" 200 - 7',
        ]
    )
    assert (row["host"], row["user_agent"], row["bytes_out"], row["bytes_in"]) == (
        "gemini.google.com",
        'say "hi" agent',
        None,
        7,
    )


def test_header_change_mid_batch_and_across_batches() -> None:
    parser = W3cParser(ParseContext("t"))
    first = run(
        ["#Fields: date time c-ip cs-host", "2024-11-04 08:00:00 10.0.0.1 chatgpt.com"], parser
    )
    second = run(
        [
            "2024-11-04 08:00:01 10.0.0.2 claude.ai",
            "#Date: 2024-11-04 09:00:00",
            "#Fields: date time cs-host c-ip sc-status",
            "2024-11-04 09:00:00 gemini.google.com 10.0.0.3 204",
            "2024-11-04 09:00:01 10.0.0.4 claude.ai",
        ],
        parser,
        start=2,
    )
    assert first.events["host"].to_list() == ["chatgpt.com"]
    assert second.events.select("line_no", "host", "src_ip", "status").rows() == [
        (2, "claude.ai", "10.0.0.2", None),
        (5, "gemini.google.com", "10.0.0.3", 204),
    ]
    assert reasons(second) == {6: COUNT_MISMATCH}
    assert second.skipped == 2


def test_rejections_have_clear_reasons() -> None:
    result = run(
        [
            "2024-11-04 08:00:00 10.0.0.1 chatgpt.com",
            "#Fields: date time c-ip cs-host",
            "2024-13-45 08:00:00 10.0.0.1 chatgpt.com",
            '2024-11-04 08:00:00 10.0.0.1 "chatgpt.com',
            "2024-11-04 08:00:00 10.0.0.1 chatgpt.com extra",
            "",
            "2024-11-04 08:00:00 10.0.0.1 claude.ai",
        ]
    )
    assert reasons(result) == {0: BEFORE_HEADER, 2: NO_TIME, 3: UNBALANCED, 4: COUNT_MISMATCH}
    assert result.skipped == 2 and result.events["line_no"].to_list() == [6]
    unknown = run(["#Fields: foo bar", "a b", "#Fields:", "", "x"])
    assert reasons(unknown) == {1: NO_TIME, 4: COUNT_MISMATCH}


def test_other_timestamp_fields() -> None:
    out = rows(
        [
            "#Fields: x-timestamp c-ip cs-uri",
            "1730707200.5 10.0.0.1 https://claude.ai/",
            "2024-11-04T09:00:00+01:00 10.0.0.1 https://claude.ai/",
            "#Fields: gmttime c-ip cs-uri",
            '"[04/Nov/2024:08:00:02 +0000]" 10.0.0.1 tcp://claude.ai:443/',
        ]
    )
    assert [r["ts"] for r in out] == [
        dt.datetime(2024, 11, 4, 8, 0, 0, 500000, tzinfo=dt.UTC),
        dt.datetime(2024, 11, 4, 8, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 11, 4, 8, 0, 2, tzinfo=dt.UTC),
    ]
    assert out[2]["url"] is None and out[2]["dst_port"] == 443  # tcp:// is a tunnel


def test_bare_ipv6_host() -> None:
    (row,) = rows(
        ["#Fields: date time cs-host cs-uri-port", "2024-11-04 08:00:00 2001:db8::7 8443"]
    )
    assert (row["host"], row["dst_port"], row["url"]) == (
        "2001:db8::7",
        8443,
        "http://[2001:db8::7]:8443/",
    )


def test_sniff_positive_and_negative() -> None:
    w3c = PARSERS.get("w3c")
    proxysg = [
        "#Software: SGOS 7.3.16.2",
        "#Version: 1.0",
        PROXYSG,
        "2024-11-04 08:00:01 1 10.0.0.1 - - - OBSERVED - 200 TCP_TUNNELED CONNECT tcp chatgpt.com 443 / - - 10.0.0.2 1 2 none",
    ]
    assert detect_lines(proxysg).format == "w3c"
    assert detect_lines(["#Software: SGOS 6.7.5.3", "#Version: 1.0"]).format == "w3c"
    iis = ["#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0", IIS]
    assert detect_lines(iis).format == "w3c"
    zeek = [
        "#separator \\x09",
        "#set_separator\t,",
        "#path\thttp",
        "#fields\tts\tuid\tid.orig_h\thost\turi",
        "#types\ttime\tstring\taddr\tstring\tstring",
        "1730707200.000000\tCx\t10.0.0.1\tchatgpt.com\t/",
    ]
    assert w3c.sniff(zeek) is None
    squid = "1730707200.000 1 10.0.0.1 TCP_MISS/200 10 GET http://x/ - HIER_DIRECT/1.2.3.4 -"
    assert w3c.sniff([squid] * 3) is None
    assert w3c.sniff(['{"a": 1}', "hello world"]) is None


# --- properties ----------------------------------------------------------------------

NAMES = ["date", "time", "c-ip", "cs-username", "cs-host", "cs(User-Agent)", "sc-bytes", "x-note"]
values = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters='"#\x85'
    ),
    min_size=1,
    max_size=12,
)
spaced = st.lists(values, min_size=1, max_size=3).map(" ".join)


@st.composite
def w3c_lines(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A data line for ``#Fields: {NAMES}`` and the values it must parse to."""
    stamp = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=draw(st.integers(0, 10**8))
    )
    user, note = draw(spaced), draw(values)
    host = draw(st.sampled_from(["chatgpt.com", "claude.ai", "www.example.com", "-"]))
    ua = draw(spaced)
    size = draw(st.integers(0, 10**12))
    cells = [
        stamp.strftime("%Y-%m-%d"),
        stamp.strftime("%H:%M:%S"),
        "10.1.2.3",
        '"' + user + '"',
        host,
        '"' + ua + '"',
        str(size),
        note,
    ]
    tab = draw(st.booleans())
    line = "\t".join(c.strip('"') for c in cells) if tab else " ".join(cells)
    expected = {
        "ts": stamp,
        "user": None if user == "-" else user,
        "host": None if host == "-" else host,
        "user_agent": None if ua == "-" else ua,
        "bytes_in": size,
    }
    return line, expected


HEADER = "#Fields: " + " ".join(NAMES)
directives = st.sampled_from(
    ["#Version: 1.0", "#Date: 2024-11-04 08:00:00", HEADER, "", "#Fields: x-a x-b", "#Fields:"]
)


@given(st.lists(st.one_of(w3c_lines().map(lambda t: t[0]), NOISE, directives), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("w3c", lines)


@given(w3c_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, Any]]) -> None:
    line, expected = case
    (row,) = rows([HEADER, line])
    for key, value in expected.items():
        assert row[key] == value, key


@given(
    st.lists(st.one_of(w3c_lines().map(lambda t: t[0]), NOISE, directives), max_size=30),
    st.data(),
)
def test_batch_boundaries_do_not_matter(lines: list[str], data: st.DataObject) -> None:
    """The header state carries over between batches: any split gives the same result."""
    lines = [HEADER, *lines]
    whole = run(lines)
    cut = data.draw(st.integers(0, len(lines)))
    parser = W3cParser(ParseContext("t"))
    a, b = run(lines[:cut], parser), run(lines[cut:], parser, start=cut)
    assert a.skipped + b.skipped == whole.skipped
    joined = pl.concat([a.rejected, b.rejected])
    assert reasons(ParsedBatch(whole.events, joined)) == reasons(whole)
    assert pl.concat([a.events, b.events], how="diagonal_relaxed")["line_no"].to_list() == (
        whole.events["line_no"].to_list()
    )
