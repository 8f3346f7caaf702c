"""Pi-hole: dnsmasq lines plus blocking verdicts, sniffing against dnsmasq, and property
tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.pihole import PiholeParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

FILE_TIME = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)
H = "Nov  4 09:00:00 dnsmasq[2211]: "


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = PiholeParser(ParseContext("t", "UTC", FILE_TIME)).parse(batch)
    return out.events, out.rejected, out.skipped


def test_verdicts_are_blocked_answers() -> None:
    events, rejected, _ = parse(
        [
            H + "101 10.40.1.15/50312 query[A] chatgpt.com from 10.40.1.15",
            H + "101 10.40.1.15/50312 gravity blocked chatgpt.com is 0.0.0.0",
            H + "regex blacklisted chat.deepseek.com is NXDOMAIN",
            H + "regex denied claude.ai is ::",
            H + "exactly blacklisted perplexity.ai is NODATA",
            H + "exactly denied api.openai.com is 0.0.0.0",
            H + "blacklisted gemini.google.com is 0.0.0.0",
            H + "special domain mask.icloud.com is NXDOMAIN",
            H + "gravity blocked (ads list) tracker.example is 0.0.0.0",
            H + "Pi-hole hostname pi.hole is 10.40.1.2",
            H + "/etc/pihole/custom.list nas.home.arpa is 10.40.1.5",
        ]
    )
    assert rejected.is_empty()
    q, *answers = events.to_dicts()
    assert q["ts"] == dt.datetime(2024, 11, 4, 9, 0, tzinfo=dt.UTC)
    assert (q["src_ip"], q["src_port"], q["host"], q["pihole_kind"]) == (
        "10.40.1.15",
        50312,
        "chatgpt.com",
        "query",
    )
    assert [a["action"] for a in answers] == ["blocked"] * 8 + ["allowed"] * 2
    assert all(a["dns_answer_only"] for a in answers)
    assert answers[0]["src_ip"] == "10.40.1.15"
    assert [a["pihole_kind"] for a in answers] == [
        "gravity blocked",
        "regex blacklisted",
        "regex denied",
        "exactly blacklisted",
        "exactly denied",
        "blacklisted",
        "special domain",
        "gravity blocked",
        "pi-hole hostname",
        "hosts",
    ]
    assert answers[7]["host"] == "tracker.example"
    assert [a["dns_rcode"] for a in answers[:4]] == ["NOERROR", "NXDOMAIN", "NOERROR", "NOERROR"]


def test_skipped_and_unparsed() -> None:
    _, rejected, skipped = parse(
        [
            H + "reading /etc/resolv.conf",
            H + "5 10.40.1.15/5 forwarded chatgpt.com to 192.0.2.53",
            H + "5 10.40.1.15/5 validation chatgpt.com is INSECURE",
            H + "gravity blocked claude.ai",
            H + "exactly blacklisted",
        ]
    )
    assert skipped == 3
    assert rejected["line_no"].to_list() == [3, 4]


def test_sniff() -> None:
    pihole = [H + "query[A] chatgpt.com from 10.40.1.15", H + "gravity blocked chatgpt.com is ::"]
    assert detect_lines(pihole).format == "pihole"
    assert detect_lines([H + "/etc/pihole/local.list pi.hole is 10.40.1.2"]).format == "pihole"
    # without a Pi-hole verdict the same shape is plain dnsmasq
    assert PARSERS.get("pihole").sniff(pihole[:1]) is None
    assert detect_lines(pihole[:1]).format == "dnsmasq"


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.8", st.integers(0, 255), st.integers(0, 255))
names = st.sampled_from(["chatgpt.com", "claude.ai", "api.openai.com", "tracker.example"])
verdicts = st.sampled_from(
    ["gravity blocked", "regex blacklisted", "exactly denied", "special domain", "reply"]
)


@st.composite
def pihole_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ip, name, verdict = draw(ips), draw(names), draw(verdicts)
    value = draw(st.sampled_from(["0.0.0.0", "NXDOMAIN", "NODATA", "::"]))
    extra = draw(st.sampled_from(["", f"9 {ip}/4000 "]))
    return f"{H}{extra}{verdict} {name} is {value}", {
        "host": name,
        "src_ip": ip if extra else None,
        "dns_answer_only": True,
        "action": "allowed"
        if verdict == "reply" and value in ("NXDOMAIN", "NODATA")
        else "blocked",
    }


valid = st.one_of(
    pihole_lines().map(lambda t: t[0]),
    st.builds(lambda ip: f"{H}query[A] chatgpt.com from {ip}", ips),
)
any_line = st.one_of(
    valid,
    st.builds(lambda s, n: s[: n % (len(s) + 1)], valid, st.integers(0, 200)),
    st.just(H + "forwarded chatgpt.com to 192.0.2.53"),
    NOISE,
)


@given(st.lists(any_line, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("pihole", lines)


@given(st.lists(any_line, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("pihole", lines)


@given(pihole_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    events, rejected, _ = parse([line])
    assert rejected.is_empty()
    r = events.row(0, named=True)
    for key, value in expected.items():
        assert r[key] == value, key
