"""Sophos UTM httpproxy: fields, internal messages counted as skipped, actions, time zone,
sniffing, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.sophos_utm_http import SophosUtmHttpParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

HEADER = "2024:11:04-09:00:00 utm-gw01 httpproxy[5120]:"
INTERNAL = (
    f'{HEADER} id="0003" severity="info" sys="SecureWeb" sub="http" request="0x7f3c1a2b0300" '
    'function="ssl_raw_read" file="ssl.c" line="1012" message="SSL_ERROR_SYSCALL: ret=-1"'
)


def request(
    *,
    action: str = "pass",
    method: str = "POST",
    url: str = "https://chatgpt.com/backend-api/conversation?x=1",
    user: str = "jdoe",
    size: str = "1877",
    ua: str = "Mozilla/5.0 (X11; Linux x86_64)",
    header: str = HEADER,
) -> str:
    return (
        f'{header} id="0001" severity="info" sys="SecureWeb" sub="http" name="http access" '
        f'action="{action}" method="{method}" srcip="10.20.1.15" dstip="104.18.32.47" '
        f'user="{user}" group="Staff" ad_domain="CORP" statuscode="200" cached="0" '
        f'size="{size}" request="0x7f3c1a2b0100" url="{url}" referer="" error="" '
        f'ua="{ua}" exceptions="" category="9999" reputation="trusted" '
        'categoryname="Generative AI" application="chatgpt" app-id="1201"'
    )


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = SophosUtmHttpParser(ParseContext("t", tz)).parse(batch)
    return out.events, out.rejected, out.skipped


def test_fields() -> None:
    events, _, _ = parse([request()])
    row = events.row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 9, 0, tzinfo=dt.UTC)
    assert (row["src_ip"], row["dst_ip"], row["user"], row["sophos_utm_http_ad_domain"]) == (
        "10.20.1.15",
        "104.18.32.47",
        "jdoe",
        "CORP",
    )
    assert (row["host"], row["url"], row["dst_port"], row["method"]) == (
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
        443,
        "POST",
    )
    assert (row["status"], row["action"], row["bytes_in"]) == (200, "allowed", 1877)
    assert "bytes_out" not in row  # Sophos logs the response size only
    assert (row["user_agent"], row["app"], row["sophos_utm_http_category"]) == (
        "Mozilla/5.0 (X11; Linux x86_64)",
        "chatgpt",
        "Generative AI",
    )


def test_internal_messages_are_skipped_and_garbage_rejected() -> None:
    lines = [
        request(),
        INTERNAL,
        "",
        f'{HEADER} severity="info" broken srcip="10.0.0.1"',
        "Nov  4 09:00:00 other sshd[1]: hello",
    ]
    events, rejected, skipped = parse(lines)
    assert events["line_no"].to_list() == [0]
    assert skipped == 2
    assert rejected["line_no"].to_list() == [3, 4]


def test_actions_and_variants() -> None:
    proceeded = (
        f'{HEADER} id="0072" severity="info" sys="SecureWeb" sub="http" '
        'name="Contentfilter warned and proceeded" url="https://claude.ai/new" '
        'srcip="10.20.1.22" category="9999" categoryname="Generative AI"'
    )
    events, _, _ = parse(
        [
            request(action="block"),
            request(action="warn"),
            proceeded,
            request(header="<30>" + HEADER, user="", ua="", size="-"),
            request(action="other", ua='Tool (\\"beta\\")'),
        ]
    )
    rows = events.to_dicts()
    assert [r["action"] for r in rows] == ["blocked", "blocked", "allowed", "allowed", "unknown"]
    assert rows[2]["host"] == "claude.ai"
    assert rows[2]["method"] is None
    assert rows[3]["user"] is None
    assert rows[3]["user_agent"] is None
    assert rows[3]["bytes_in"] is None
    assert rows[4]["user_agent"] == 'Tool ("beta")'


def test_local_time_zone() -> None:
    events, _, _ = parse([request(header="2024:07:15-10:30:00 gw httpproxy[1]:")], "Europe/Berlin")
    assert events["ts"][0] == dt.datetime(2024, 7, 15, 8, 30, tzinfo=dt.UTC)


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([request(), INTERNAL, request()]).format == "sophos_utm_http"
    parser = PARSERS.get("sophos_utm_http")
    assert parser.sniff([INTERNAL, INTERNAL]) is None
    assert parser.sniff(['srcip="1.2.3.4" url="http://x/"', "hello"]) is None
    assert (
        parser.sniff(['date=2024-11-04 time=09:00:00 srcip=10.0.0.1 url="https://chatgpt.com/"'])
        is None
    )


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "claude.ai", "intranet.local"])


@st.composite
def sophos_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    host = draw(hosts)
    size = draw(st.integers(0, 10**9))
    action = draw(st.sampled_from(["pass", "block"]))
    line = request(action=action, url=f"https://{host}/p", size=str(size))
    return line, {
        "host": host,
        "bytes_in": size,
        "action": "allowed" if action == "pass" else "blocked",
    }


valid = sophos_lines().map(lambda t: t[0])
#: Requests, internal messages, both cut short (near misses), and arbitrary text.
lines_mix = st.one_of(
    valid,
    st.just(INTERNAL),
    st.tuples(st.one_of(valid, st.just(INTERNAL)), st.integers(0, 400)).map(lambda t: t[0][: t[1]]),
    NOISE,
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("sophos_utm_http", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("sophos_utm_http", lines)


@given(sophos_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse([line])[0].row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
