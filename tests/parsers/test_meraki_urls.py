"""Cisco Meraki ``urls`` events: fields, agent quoting, nanosecond times, sniffing (not
``flows``), and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.meraki_urls import MerakiUrlsParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

LINE = (
    "<134>1 1730707200.123456789 MX68_HQ urls src=10.20.1.15:52144 dst=104.18.32.47:443 "
    "mac=3C:22:FB:10:AA:01 agent='Mozilla/5.0 (Windows NT 10.0; Win64; x64)' "
    "request: POST https://chatgpt.com/backend-api/conversation?model=auto"
)


def parse_lines(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return MerakiUrlsParser(ParseContext("t")).parse(batch).events


def test_fields() -> None:
    row = parse_lines([LINE]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 123456, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (
        "10.20.1.15",
        52144,
        "104.18.32.47",
        443,
    )
    assert (row["host"], row["url"], row["method"], row["action"]) == (
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
        "POST",
        "unknown",
    )
    assert row["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    assert (row["meraki_urls_device"], row["meraki_urls_mac"]) == ("MX68_HQ", "3C:22:FB:10:AA:01")


def test_variants() -> None:
    rows = parse_lines(
        [
            "<134>1 1730707200.5 MX84 urls src=10.0.0.2:4000 dst=93.184.215.14:80 mac=00:11:22:33:44:55 "
            "request: UNKNOWN https://claude.ai/...",
            "1730707200 MX84 urls src=10.0.0.3:4001 dst=[2606:4700::6812:2c2f]:443 "
            "agent='' request: GET https://chat.openai.com/",
            "<134>1 1730707200.000000001 MX84 urls src=10.0.0.4:4002 dst=1.2.3.4:443 mac=00:11:22:33:44:55 "
            "agent='O'Reilly bot' request: get http://x.example/a",
        ]
    ).to_dicts()
    assert rows[0]["method"] is None
    assert rows[0]["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 500000, tzinfo=dt.UTC)
    assert rows[0]["user_agent"] is None
    assert rows[0]["dst_port"] == 80
    assert rows[1]["dst_ip"] == "2606:4700::6812:2c2f"
    assert rows[1]["user_agent"] is None
    assert rows[1]["meraki_urls_mac"] is None
    assert rows[2]["user_agent"] == "O'Reilly bot"
    assert rows[2]["method"] == "GET"


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([LINE] * 3).format == "meraki_urls"
    flows = [
        "<134>1 1730707201.000000000 MX68_HQ flows allow src=10.20.1.15 dst=104.18.32.47 "
        "mac=3C:22:FB:10:AA:01 protocol=tcp sport=52144 dport=443",
        "<134>1 1730707202.000000000 MX68_HQ flows src=10.20.1.15 dst=104.18.32.47 "
        "protocol=tcp sport=52144 dport=443 pattern: 1 all",
    ]
    assert PARSERS.get("meraki_urls").sniff(flows) is None
    assert PARSERS.get("meraki_urls").sniff(['{"a": 1}', "hello"]) is None


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "claude.ai", "intranet.local"])
agents = st.one_of(
    st.none(), st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
)


@st.composite
def meraki_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    host, agent = draw(hosts), draw(agents)
    secs, ns = draw(st.integers(10**9, 2 * 10**9)), draw(st.integers(0, 10**9 - 1))
    sport = draw(st.integers(1, 65535))
    agent_part = "" if agent is None else f"agent='{agent}' "
    line = (
        f"<134>1 {secs}.{ns:09d} MX84 urls src=10.1.2.3:{sport} dst=1.2.3.4:443 "
        f"mac=00:11:22:33:44:55 {agent_part}request: GET https://{host}/p"
    )
    expected = {
        "host": host,
        "src_port": sport,
        "ts": dt.datetime.fromtimestamp(secs, dt.UTC) + dt.timedelta(microseconds=ns // 1000),
    }
    return line, expected


valid = meraki_lines().map(lambda t: t[0])
#: Valid lines, the same cut short (near misses), and arbitrary text.
lines_mix = st.one_of(
    valid, st.tuples(valid, st.integers(0, 300)).map(lambda t: t[0][: t[1]]), NOISE
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("meraki_urls", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("meraki_urls", lines)


@given(meraki_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
