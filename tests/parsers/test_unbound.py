"""Unbound: query, reply and local-action lines in syslog and log-file envelopes, skipped
messages, sniffing, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.unbound import UnboundParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

FILE_TIME = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)
HEADER = "<30>Nov  4 09:00:01 unbound[4120]: [4120:0] "


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = UnboundParser(ParseContext("t", tz, FILE_TIME)).parse(batch)
    return out.events, out.rejected, out.skipped


def test_query_and_reply_fields() -> None:
    events, rejected, _ = parse(
        [
            HEADER + "info: 10.20.1.15 ChatGPT.com. A IN",
            HEADER + "info: 10.20.1.15 chatgpt.com. TYPE65 IN NOERROR 0.021450 1 73",
            HEADER + "info: 2001:db8::15 claude.ai. AAAA IN REFUSED 0.000000 0 31",
        ],
        tz="Europe/Berlin",
    )
    assert rejected.is_empty()
    q, rep, refused = events.to_dicts()
    assert q["ts"] == dt.datetime(2024, 11, 4, 8, 0, 1, tzinfo=dt.UTC)
    assert (q["src_ip"], q["host"], q["dns_qtype"], q["dns_rcode"], q["action"]) == (
        "10.20.1.15",
        "chatgpt.com",
        "A",
        None,
        "unknown",
    )
    assert (rep["dns_qtype"], rep["dns_rcode"], rep["action"], rep["unbound_reply_size"]) == (
        "HTTPS",
        "NOERROR",
        "allowed",
        73,
    )
    assert rep["unbound_cached"] is True
    assert (refused["src_ip"], refused["action"], refused["unbound_cached"]) == (
        "2001:db8::15",
        "blocked",
        False,
    )


def test_local_actions_and_rpz() -> None:
    events, rejected, _ = parse(
        [
            HEADER
            + "info: chat.deepseek.com. always_nxdomain 10.20.2.41@38211 chat.deepseek.com. A IN",
            HEADER + "info: rpz: applied [ai-block] perplexity.ai. rpz-nxdomain 10.20.2.41@38212 "
            "perplexity.ai. A IN",
            HEADER + "info: corp.example. transparent 10.20.3.8@40001 wiki.corp.example. A IN",
            HEADER
            + "info: rpz: applied [allow] claude.ai. rpz-passthru 10.20.3.8@40002 claude.ai. A IN",
        ]
    )
    assert rejected.is_empty()
    assert events["action"].to_list() == ["blocked", "blocked", "allowed", "allowed"]
    assert events["unbound_action"].to_list() == [
        "always_nxdomain",
        "rpz-nxdomain",
        "transparent",
        "rpz-passthru",
    ]
    assert events["src_port"].to_list() == [38211, 38212, 40001, 40002]


def test_envelopes() -> None:
    body = "info: 10.30.1.40 api.openai.com. A IN"
    events, rejected, _ = parse(
        [
            f"[1730710800] unbound[3301:0] {body}",
            f"Nov  4 09:00:00 unbound[3301:0] {body}",
            f"Nov  4 09:00:00 resolver1 unbound: [3301:0] {body}",
            f"2024-11-04T09:00:00.000+00:00 fw unbound[3301]: [3301:0] {body}",
        ]
    )
    assert rejected.is_empty()
    assert events["ts"].to_list() == [dt.datetime(2024, 11, 4, 9, 0, tzinfo=dt.UTC)] * 4


def test_other_messages_skipped_broken_queries_unparsed() -> None:
    _, rejected, skipped = parse(
        [
            HEADER + "info: start of service (unbound 1.20.0).",
            HEADER + "notice: init module 0: validator",
            HEADER + "info: server stats for thread 0: 9 queries, 2 answers from cache",
            HEADER + "info:    0.000000    0.000001 1",
            HEADER + "info: generate keytag query _ta-4f66. NULL IN",
            HEADER + "info: 10.20.1.15 chatgpt.com. A",
            HEADER + "info: fe80::1 chatgpt.com.",
            "something else",
        ]
    )
    assert skipped == 5
    assert rejected["line_no"].to_list() == [5, 6, 7]


def test_sniff() -> None:
    line = HEADER + "info: 10.20.1.15 chatgpt.com. A IN"
    assert detect_lines([line, HEADER + "info: start of service (unbound 1.20.0)."]).format == (
        "unbound"
    )
    assert PARSERS.get("unbound").sniff([HEADER + "notice: init module 0: validator"]) is None
    assert detect_lines(["Nov  4 09:00:01 dnsmasq[1]: query[A] x from 10.0.0.1"]).format != (
        "unbound"
    )


# --- properties ----------------------------------------------------------------------

ips = st.one_of(
    st.builds(lambda a, b: f"10.{a}.{b}.3", st.integers(0, 255), st.integers(0, 255)),
    st.sampled_from(["2001:db8::7", "fe80::1"]),
)
names = st.sampled_from(["chatgpt.com", "claude.ai", "api.openai.com", "intranet.local"])
qtypes = st.sampled_from(["A", "AAAA", "HTTPS", "TYPE65", "TXT"])


@st.composite
def unbound_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ip, name, qtype = draw(ips), draw(names), draw(qtypes)
    head = draw(
        st.sampled_from([HEADER, "[1730710800] unbound[3301:0] ", "Nov  4 09:00:00 h unbound: "])
    )
    reply = draw(st.sampled_from(["", " NOERROR 0.000100 0 64", " REFUSED 0.000000 1 31"]))
    action = "unknown" if not reply else ("blocked" if "REFUSED" in reply else "allowed")
    return f"{head}info: {ip} {name}. {qtype} IN{reply}", {
        "src_ip": ip,
        "host": name,
        "dns_qtype": "HTTPS" if qtype == "TYPE65" else qtype,
        "action": action,
    }


valid = unbound_lines().map(lambda t: t[0])
any_line = st.one_of(
    valid,
    st.builds(lambda s, n: s[: n % (len(s) + 1)], valid, st.integers(0, 200)),
    st.just(HEADER + "info: start of service (unbound 1.20.0)."),
    NOISE,
)


@given(st.lists(any_line, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("unbound", lines)


@given(st.lists(any_line, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("unbound", lines)


@given(unbound_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    events, rejected, _ = parse([line])
    assert rejected.is_empty()
    r = events.row(0, named=True)
    for key, value in expected.items():
        assert r[key] == value, key
