"""Squid common/combined logformats: fields, sniffing, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.squid_common import SquidCommonParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

COMMON = '10.0.0.1 - CORP%5Cjdoe [04/Nov/2024:09:00:00 +0100] "CONNECT chatgpt.com:443 HTTP/1.1" 200 4821 TCP_TUNNEL:HIER_DIRECT'
COMBINED = (
    '10.0.0.2 - - [04/Nov/2024:03:00:00 -0500] "POST https://API.OpenAI.com/v1/chat/completions?k=s HTTP/1.1" '
    '200 912 "https://ref.example/" "OpenAI/Python 1.54.3 \\"beta\\"" TCP_MISS:HIER_DIRECT'
)


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = SquidCommonParser(ParseContext("t")).parse(batch)
    return out.events, out.rejected


def test_common_fields() -> None:
    events, rejected = parse([COMMON])
    row = events.row(0, named=True)
    assert rejected.is_empty()
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)  # offset applied
    assert (row["src_ip"], row["user"], row["host"], row["dst_port"], row["url"]) == (
        "10.0.0.1",
        "CORP\\jdoe",
        "chatgpt.com",
        443,
        None,
    )
    assert (row["method"], row["status"], row["action"], row["bytes_in"], row["bytes_out"]) == (
        "CONNECT",
        200,
        "allowed",
        4821,
        None,
    )
    assert (row["squid_common_result_code"], row["squid_common_hierarchy"]) == (
        "TCP_TUNNEL",
        "HIER_DIRECT",
    )
    assert row["user_agent"] is None


def test_combined_fields() -> None:
    row = parse([COMBINED])[0].row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)
    assert row["user"] is None
    assert (row["host"], row["url"], row["dst_port"]) == (
        "api.openai.com",
        "https://api.openai.com/v1/chat/completions",
        443,
    )
    assert row["user_agent"] == 'OpenAI/Python 1.54.3 "beta"'


def test_url_forms_and_actions() -> None:
    base = '10.0.0.3 - - [04/Nov/2024:08:00:00 +0000] "{} {} HTTP/1.1" {} 10 {}'
    events, rejected = parse(
        [
            base.format("GET", "/index.html", 200, "TCP_MISS:HIER_DIRECT"),
            base.format("CONNECT", "claude.ai:443", 403, "TCP_DENIED:HIER_NONE"),
            base.format("GET", "http://[2001:db8::1]:8080/x", 200, "TCP_MISS:HIER_DIRECT"),
            base.format("NONE", "error:invalid-request", 400, "NONE_NONE:HIER_NONE"),
        ]
    )
    rows = events.to_dicts()
    assert rejected.is_empty()
    assert (rows[0]["host"], rows[0]["url"]) == (None, None)  # accelerator path only
    assert (rows[1]["host"], rows[1]["action"]) == ("claude.ai", "blocked")
    assert (rows[2]["host"], rows[2]["dst_port"]) == ("2001:db8::1", 8080)
    assert rows[3]["action"] == "unknown"


def test_rejects_plain_clf_and_impossible_dates() -> None:
    plain = '10.0.0.1 - - [04/Nov/2024:08:00:00 +0000] "GET /x HTTP/1.1" 200 10'
    impossible = COMMON.replace("04/Nov", "31/Feb").replace("/2024", "/2023")
    events, rejected = parse([plain, impossible, COMMON])
    assert events["line_no"].to_list() == [2]
    assert rejected["line_no"].to_list() == [0, 1]
    assert SquidCommonParser.validate(pl.Series([plain, impossible, COMMON])).to_list() == [
        False,
        False,
        True,
    ]


def test_sniff_positive_and_negative(squid_line: str) -> None:
    assert detect_lines([COMMON, COMBINED] * 3).format == "squid_common"
    assert detect_lines([squid_line] * 5).format == "squid"
    apache = '10.0.0.1 - - [04/Nov/2024:08:00:00 +0000] "GET / HTTP/1.1" 200 10 "-" "curl/8"'
    assert PARSERS.get("squid_common").sniff([apache] * 3) is None
    assert PARSERS.get("squid_common").sniff([squid_line]) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.1", st.integers(0, 255), st.integers(0, 255))
hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai"])
users = st.sampled_from(["-", "jdoe", "a@b.example"])
methods = st.sampled_from(["GET", "POST", "CONNECT"])
agents = st.sampled_from(["-", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0"])


@st.composite
def common_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    when = dt.datetime(2000, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=draw(st.integers(0, 10**9))
    )
    offset = draw(st.sampled_from([0, 60, -300, 330]))
    local = when.astimezone(dt.timezone(dt.timedelta(minutes=offset)))
    method, host, ip, user = draw(methods), draw(hosts), draw(ips), draw(users)
    status, size = draw(st.integers(100, 599)), draw(st.integers(0, 10**10))
    url = f"{host}:443" if method == "CONNECT" else f"http://{host}/p"
    agent = draw(st.one_of(st.none(), agents))
    combined = "" if agent is None else f'"-" "{agent}" '
    line = (
        f'{ip} - {user} [{local.strftime("%d/%b/%Y:%H:%M:%S %z")}] "{method} {url} HTTP/1.1" '
        f"{status} {size} {combined}TCP_MISS:HIER_DIRECT"
    )
    return line, {
        "ts": when,
        "host": host,
        "status": status,
        "bytes_in": size,
        "src_ip": ip,
        "method": method,
        "user": None if user == "-" else user,
        "user_agent": None if agent in (None, "-") else agent,
    }


def _mutate(line: str, cut: int, drop: int) -> str:
    """Near misses: a truncated line, or one with a field dropped."""
    words = line.split(" ")
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    del words[drop % len(words)]
    return " ".join(words)


valid_lines = common_lines().map(lambda t: t[0])
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 400), st.integers(0, 60))
any_line = st.one_of(valid_lines, near_misses, NOISE)


@given(st.lists(any_line, max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("squid_common", lines)


@given(st.lists(any_line, min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("squid_common", lines)


@given(common_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse([line])[0].row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
