"""Squid native: fields, sniffing, and property tests (never raises, every line counted,
the prefiltered fast path agrees with the full parse, rendered lines round-trip)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.hosts import normalise_hosts
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.squid import SquidParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def parse_lines(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return SquidParser(ParseContext("t")).parse(batch).events


def test_fields(squid_line: str) -> None:
    row = parse_lines([squid_line]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)
    assert (row["src_ip"], row["user"], row["host"], row["dst_ip"], row["dst_port"]) == (
        "10.20.1.15",
        "CORP\\jdoe",
        "chatgpt.com",
        "104.18.32.47",
        443,
    )
    assert (row["method"], row["status"], row["action"], row["bytes_in"], row["url"]) == (
        "CONNECT",
        200,
        "allowed",
        48211,
        None,
    )


def test_url_forms() -> None:
    base = "1730707200.000 1 10.0.0.1 TCP_MISS/200 10 GET {} {} HIER_DIRECT/1.2.3.4 -"
    rows = parse_lines(
        [
            base.format("HTTPS://Chat.OpenAI.com:443/c/abc?token=secret#x", "jdoe@corp.example"),
            base.format("http://[2001:db8::1]:8080/x", "-"),
            base.format("http://xn--bcher-kva.example/", "-"),
            base.format("http://bücher.example/", "-"),
        ]
    ).to_dicts()
    assert rows[0]["host"] == "chat.openai.com"
    assert rows[0]["url"] == "https://chat.openai.com/c/abc"
    assert rows[0]["user"] == "jdoe@corp.example"
    assert rows[1]["host"] == "2001:db8::1"
    assert rows[1]["url"] == "http://[2001:db8::1]:8080/x"
    assert rows[1]["dst_port"] == 8080
    assert rows[2]["host"] == "xn--bcher-kva.example"
    assert rows[3]["host"] == "bücher.example"  # the engine IDNA-encodes distinct hosts afterwards:
    assert (
        normalise_hosts(pl.DataFrame({"host": [rows[3]["host"]]}))["host"][0]
        == "xn--bcher-kva.example"
    )


def test_denied_is_blocked() -> None:
    row = parse_lines(
        [
            "1730707200.000 1 10.0.0.1 TCP_DENIED/403 10 CONNECT chat.deepseek.com:443 - HIER_NONE/- text/html"
        ]
    ).row(0, named=True)
    assert row["action"] == "blocked"
    assert row["dst_ip"] is None


def test_sniff_positive_and_negative(squid_line: str) -> None:
    assert detect_lines([squid_line] * 5).format == "squid"
    assert detect_lines(['{"a": 1}', "hello world"]).format is None
    assert (
        PARSERS.get("squid").sniff(["#Fields: date time cs-host", "2024-01-01 00:00:00 x"]) is None
    )


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.1", st.integers(0, 255), st.integers(0, 255))
hosts = st.sampled_from(
    ["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai", "intranet.local"]
)
users = st.sampled_from(["-", "jdoe", "CORP%5Cjdoe", "a@b.example"])
methods = st.sampled_from(["GET", "POST", "CONNECT", "PUT"])


@st.composite
def squid_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999)) / 1000
    method, host = draw(methods), draw(hosts)
    status, size, ip, user = (
        draw(st.integers(100, 599)),
        draw(st.integers(0, 10**10)),
        draw(ips),
        draw(users),
    )
    url = f"{host}:443" if method == "CONNECT" else f"http://{host}/p"
    line = f"{ts:.3f} {draw(st.integers(0, 99999)):6d} {ip} TCP_MISS/{status} {size} {method} {url} {user} HIER_DIRECT/1.2.3.4 -"
    return line, {"host": host, "status": status, "bytes_in": size, "src_ip": ip, "method": method}


@given(st.lists(st.one_of(squid_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("squid", lines)


@given(st.lists(st.one_of(squid_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("squid", lines)


@given(squid_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
