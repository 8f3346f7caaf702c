"""Blue Coat ProxySG Squid-compatible export: fields, sniffing against ``squid``, and
property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.hosts import normalise_hosts
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.bluecoat_squid import BluecoatSquidParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

LINE = (
    "1730880011.450 1622 10.50.1.40 TCP_NC_MISS/200 3987 POST "
    "https://api.openai.com:443/v1/chat/completions?key=x CN=Jane DOE,OU=fin,O=example "
    "DIRECT/api.openai.com application/json Artificial_Intelligence "
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0"
)
ANON = (
    "1730880080.002 2 10.50.3.16 TCP_DENIED/407 3309 GET http://www.example.com:80/ - DIRECT/- - "
    "uncategorized -"
)


def parse(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return BluecoatSquidParser(ParseContext("t")).parse(batch).events


def test_fields() -> None:
    row = parse([LINE]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 6, 8, 0, 11, 450000, tzinfo=dt.UTC)
    assert (row["src_ip"], row["user"]) == ("10.50.1.40", "CN=Jane DOE,OU=fin,O=example")
    assert (row["host"], row["dst_ip"], row["dst_port"]) == ("api.openai.com", None, 443)
    assert row["url"] == "https://api.openai.com/v1/chat/completions"
    assert (row["method"], row["status"], row["action"], row["bytes_in"], row["bytes_out"]) == (
        "POST",
        200,
        "allowed",
        3987,
        None,
    )
    assert row["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0"
    assert row["bluecoat_squid_category"] == "Artificial_Intelligence"
    assert (row["bluecoat_squid_result_code"], row["bluecoat_squid_hierarchy"]) == (
        "TCP_NC_MISS",
        "DIRECT",
    )
    assert row["bluecoat_squid_content_type"] == "application/json"


def test_quirks() -> None:
    base = "1730880000.000 5 10.0.0.1 {} 100 {} {} {} DIRECT/{} - Web_Category {}"
    rows = parse(
        [
            ANON,
            base.format(
                "TCP_TUNNELED/200", "CONNECT", "https://claude.ai:443/", "-", "160.79.104.10", "-"
            ),
            base.format(
                "TCP_ERR_MISS/503", "GET", "http:// docs.example.net/x", "-", "-", "curl/8"
            ),
            base.format(
                "TCP_NC_MISS/200",
                "GET",
                "http://bücher.example:80/",
                "CN=Jonas MÜLLER,O=x",
                "bücher.example",
                "A B",
            ),
            base.format(
                "TCP_NC_MISS/200", "GET", "http://x.example/", "CN=A%20B,O=x", "x.example", "A"
            ),
        ]
    ).to_dicts()
    assert (rows[0]["user"], rows[0]["action"], rows[0]["user_agent"]) == (None, "blocked", None)
    assert rows[0]["bluecoat_squid_content_type"] is None
    assert (rows[1]["host"], rows[1]["dst_ip"], rows[1]["dst_port"], rows[1]["url"]) == (
        "claude.ai",
        "160.79.104.10",
        443,
        None,
    )
    assert (rows[2]["host"], rows[2]["url"]) == ("docs.example.net", "http://docs.example.net/x")
    assert rows[3]["user"] == "CN=Jonas MÜLLER,O=x"
    assert rows[3]["user_agent"] == "A B"
    host = normalise_hosts(pl.DataFrame({"host": [rows[3]["host"]]}))["host"][0]
    assert host == "xn--bcher-kva.example"
    assert rows[4]["user"] == "CN=A%20B,O=x"  # kept as logged, not URL-decoded


def test_sniff_beats_squid_and_leaves_native_alone(squid_line: str) -> None:
    assert detect_lines([LINE] * 5).format == "bluecoat_squid"
    # Without DN users squid's native pattern (extra trailing fields allowed) matches too:
    # the tie goes to bluecoat_squid by priority.
    assert PARSERS.get("squid").sniff([ANON] * 3) is not None
    assert detect_lines([ANON] * 3).format == "bluecoat_squid"
    assert detect_lines([squid_line] * 5).format == "squid"
    assert PARSERS.get("bluecoat_squid").sniff([squid_line] * 5) is None
    assert detect_lines(['{"a": 1}', "hello world"]).format is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.1", st.integers(0, 255), st.integers(0, 255))
hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai"])
users = st.sampled_from(["-", "CN=Agent Smith,OU=fr,O=company", "CN=Li WEI,O=x", "jdoe"])
methods = st.sampled_from(["GET", "POST", "CONNECT"])
agents = st.sampled_from(["-", "curl/8.5.0", "Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 4.0)"])
categories = st.sampled_from(["uncategorized", "Artificial_Intelligence", "Online_Sales"])


@st.composite
def bluecoat_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999)) / 1000
    method, host, ip, user = draw(methods), draw(hosts), draw(ips), draw(users)
    status, size = draw(st.integers(100, 599)), draw(st.integers(0, 10**10))
    agent, category = draw(agents), draw(categories)
    url = f"https://{host}:443/" if method == "CONNECT" else f"http://{host}:80/p"
    line = (
        f"{ts:.3f} {draw(st.integers(0, 99999))} {ip} TCP_NC_MISS/{status} {size} {method} {url} "
        f"{user} DIRECT/{host} text/html {category} {agent}"
    )
    return line, {
        "host": host,
        "status": status,
        "bytes_in": size,
        "src_ip": ip,
        "method": method,
        "user": None if user == "-" else user,
        "user_agent": None if agent == "-" else agent,
        "bluecoat_squid_category": category,
    }


def _mutate(line: str, cut: int, drop: int) -> str:
    """Near misses: a truncated line, or one with a field dropped."""
    words = line.split(" ")
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    del words[drop % len(words)]
    return " ".join(words)


valid_lines = bluecoat_lines().map(lambda t: t[0])
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 400), st.integers(0, 60))
any_line = st.one_of(valid_lines, near_misses, NOISE)


@given(st.lists(any_line, max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("bluecoat_squid", lines)


@given(st.lists(any_line, min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("bluecoat_squid", lines)


@given(bluecoat_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
