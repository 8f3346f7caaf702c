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


EXTENDED = (
    "1730880011.450   1622 10.30.1.40 40122 TCP_MISS/200 3987 18544 512 402 3475 POST "
    "https://api.openai.com/v1/chat/completions 1.1 CORP%5Cjdoe HIER_DIRECT/162.159.140.245 443 "
    'application/json - - "https://ref.example/" "OpenAI/Python 1.54.3" "api.openai.com" "-" 1580 -'
)


def test_extended_layout() -> None:
    row = parse_lines([EXTENDED]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 6, 8, 0, 11, 450000, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["user"]) == ("10.30.1.40", 40122, "CORP\\jdoe")
    assert (row["host"], row["dst_ip"], row["dst_port"]) == (
        "api.openai.com",
        "162.159.140.245",
        443,
    )
    assert row["url"] == "https://api.openai.com/v1/chat/completions"
    # reply size -> bytes_in, request size -> bytes_out (not the header sizes)
    assert (row["bytes_in"], row["bytes_out"]) == (3987, 18544)
    assert row["user_agent"] == "OpenAI/Python 1.54.3"
    assert (row["squid_result_code"], row["squid_content_type"]) == ("TCP_MISS", "application/json")


def test_extended_layout_variants() -> None:
    connect_sni = (
        "1730880020.006    310 10.30.1.40 40130 TCP_TUNNEL/200 20833 2210 39 188 - CONNECT "
        'claude.ai:443 1.1 - HIER_DIRECT/160.79.104.10 443 - - - "-" "Mozilla/5.0 (X11; Linux x86_64) '
        'Firefox/132.0" "claude.ai:443" "-" "claude.ai" 35 -'
    )
    hit = (
        "1730880040.250      0 10.30.2.8 33020 TCP_MEM_HIT/200 1410 199 301 199 - GET "
        'http://www.example.com/logo.png 1.1 - HIER_NONE/- - image/png - - "-" "-" '
        '"www.example.com" "10.9.9.9" - -'
    )
    rows = parse_lines([connect_sni, hit]).to_dicts()
    assert (rows[0]["host"], rows[0]["dst_port"], rows[0]["url"]) == ("claude.ai", 443, None)
    assert rows[0]["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0"
    assert (rows[0]["bytes_in"], rows[0]["bytes_out"]) == (20833, 2210)
    # HIER_NONE: no server address or port; the URL gives the port, "-" UA is null
    assert (rows[1]["dst_ip"], rows[1]["dst_port"], rows[1]["user_agent"]) == (None, 80, None)
    assert rows[1]["user"] is None


def test_pfsense_tel_artefact_and_trailing_fields() -> None:
    rows = parse_lines(
        [
            "<166>Nov  6 08:00:12 gw01.branch.example (squid-1)[4120]: [1730880012.087 95]"
            "(tel:1730880012.087 95) 192.168.50.21 TCP_MISS/200 3311 GET http://www.example.com/ - "
            "HIER_DIRECT/93.184.215.14 text/html",
            "1730880012.087     95 192.168.50.21 TCP_MISS/200 3311 GET http://claude.ai/ - "
            'HIER_DIRECT/160.79.104.10 text/html "http://ref.example/" "curl/8.5.0" extra',
        ]
    ).to_dicts()
    assert rows[0]["ts"] == dt.datetime(2024, 11, 6, 8, 0, 12, 87000, tzinfo=dt.UTC)
    assert (rows[0]["squid_elapsed_ms"], rows[0]["src_ip"], rows[0]["host"]) == (
        95,
        "192.168.50.21",
        "www.example.com",
    )
    assert (rows[1]["host"], rows[1]["squid_content_type"], rows[1]["user_agent"]) == (
        "claude.ai",
        "text/html",
        None,
    )


def test_sniff_positive_and_negative(squid_line: str) -> None:
    assert detect_lines([squid_line] * 5).format == "squid"
    assert detect_lines([EXTENDED] * 3 + [squid_line] * 2).format == "squid"
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


agents = st.sampled_from(["-", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0"])


@st.composite
def extended_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999)) / 1000
    method, host, ip = draw(methods), draw(hosts), draw(ips)
    port, status = draw(st.integers(1024, 65535)), draw(st.integers(100, 599))
    reply, request = draw(st.integers(0, 10**10)), draw(st.integers(0, 10**8))
    agent = draw(agents)
    url = f"{host}:443" if method == "CONNECT" else f"http://{host}/p"
    sni = draw(st.sampled_from(["", f' "{host}"']))
    line = (
        f"{ts:.3f} {draw(st.integers(0, 99999)):6d} {ip} {port} TCP_MISS/{status} {reply} {request} "
        f'39 120 - {method} {url} 1.1 - HIER_DIRECT/1.2.3.4 443 - - - "-" "{agent}" "{host}" "-"'
        f"{sni} 37 -"
    )
    return line, {
        "host": host,
        "status": status,
        "bytes_in": reply,
        "bytes_out": request,
        "src_ip": ip,
        "src_port": port,
        "method": method,
        "dst_port": 443,
        "user_agent": None if agent == "-" else agent,
    }


def _mutate(line: str, cut: int, drop: int) -> str:
    """Near misses: a truncated line, or one with a field dropped."""
    words = line.split(" ")
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    del words[drop % len(words)]
    return " ".join(words)


valid_lines = st.one_of(squid_lines().map(lambda t: t[0]), extended_lines().map(lambda t: t[0]))
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 400), st.integers(0, 60))
any_line = st.one_of(valid_lines, near_misses, NOISE)


@given(st.lists(any_line, max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("squid", lines)


@given(st.lists(any_line, min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("squid", lines)


@given(st.one_of(squid_lines(), extended_lines()))
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
