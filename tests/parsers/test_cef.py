"""ArcSight CEF: header and extension escapes, values with spaces, time formats, syslog
prefixes, sniffing, and property tests (never raises, every line counted, the prefiltered
fast path agrees with the full parse, rendered lines round-trip)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.cef import CefParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

FILE_TIME = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
HEAD = "CEF:0|Northwind|SWG|4.2|100|URL allowed|3|"


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = CefParser(ParseContext("t", tz, FILE_TIME)).parse(batch)
    return out.events, out.rejected, out.skipped


def row(line: str, tz: str = "UTC") -> dict[str, object]:
    events, rejected, _ = parse([line], tz)
    assert rejected.is_empty()
    return events.row(0, named=True)


def test_proxy_fields_and_spaces_in_values() -> None:
    r = row(
        HEAD + r"rt=1714634043518 src=10.1.2.3 spt=50514 suser=CORP\\jdoe dst=104.18.32.47 dpt=443 "
        r"dhost=Chatgpt.com request=https://chatgpt.com/backend-api/conversation?a\=1 requestMethod=post "
        r"app=HTTPS act=allowed out=5123 in=48211 requestClientApplication=Mozilla/5.0 (Windows NT 10.0; Win64) "
        r"shost=LT-01 cs1Label=Policy cs1=Default Web Access"
    )
    assert r["ts"] == dt.datetime(2024, 5, 2, 7, 14, 3, 518000, tzinfo=dt.UTC)
    assert (r["src_ip"], r["src_port"], r["user"], r["dst_ip"], r["dst_port"]) == (
        "10.1.2.3",
        50514,
        "CORP\\jdoe",
        "104.18.32.47",
        443,
    )
    assert (r["host"], r["url"], r["method"], r["action"]) == (
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
        "POST",
        "allowed",
    )
    assert (r["bytes_out"], r["bytes_in"], r["app"]) == (5123, 48211, "HTTPS")
    assert r["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64)"
    assert (r["cef_vendor"], r["cef_product"], r["cef_name"], r["cef_shost"]) == (
        "Northwind",
        "SWG",
        "URL allowed",
        "LT-01",
    )
    assert r["log_type"] == "proxy"


def test_escapes() -> None:
    line = (
        r"CEF:0|Vendor\|Pipe|Prod\\uct|1|sig|Name with \| pipe|5|"
        r"msg=a\=b c\\d\nline2 sproc=C:\\Program Files\\App\\app.exe act=Drop\=ped dhost=claude.ai"
    )
    r = row(line)
    assert (r["cef_vendor"], r["cef_product"], r["cef_name"]) == (
        "Vendor|Pipe",
        "Prod\\uct",
        "Name with | pipe",
    )
    assert r["process"] == "C:\\Program Files\\App\\app.exe"
    assert r["action"] == "blocked"  # "Drop=ped"
    assert r["host"] == "claude.ai"
    assert r["log_type"] == "firewall"  # no request, method or user agent


def test_ipv6_addresses_are_read_from_c6a2_and_c6a3() -> None:
    """``src``/``dst`` are IPv4 fields: CEF puts an IPv6 source or destination in
    ``c6a2``/``c6a3`` (so does shadowscan's ``cef`` sink), read when ``src``/``dst`` is
    missing."""
    v6 = row(
        HEAD + "c6a2Label=Source IPv6 Address c6a2=2001:db8:20::15 spt=40000 "
        "c6a3Label=Destination IPv6 Address c6a3=2606:4700::6812:1a30 dpt=443 dhost=claude.ai"
    )
    assert (v6["src_ip"], v6["src_port"], v6["dst_ip"], v6["dst_port"]) == (
        "2001:db8:20::15",
        40000,
        "2606:4700::6812:1a30",
        443,
    )
    both = row(HEAD + "c6a2=2001:db8::1 src=10.0.0.1 dst=104.18.32.47 c6a3=2001:db8::2")
    assert (both["src_ip"], both["dst_ip"]) == ("10.0.0.1", "104.18.32.47")
    empty = row(HEAD + "src= c6a2=2001:db8::1 dhost=claude.ai")
    assert (empty["src_ip"], empty["dst_ip"]) == ("2001:db8::1", None)


def test_relative_request_takes_dhost_and_connect_has_no_url() -> None:
    rel = row(HEAD + "dhost=claude.ai request=/api/organizations?x=1 dpt=443 act=blocked")
    assert (rel["host"], rel["url"], rel["dst_port"], rel["action"]) == (
        "claude.ai",
        "https://claude.ai/api/organizations",
        443,
        "blocked",
    )
    connect = row(HEAD + "request=api.openai.com:443 requestMethod=CONNECT act=TCP_TUNNEL")
    assert (connect["host"], connect["url"], connect["dst_port"], connect["action"]) == (
        "api.openai.com",
        None,
        443,
        "allowed",
    )
    domain = row(
        HEAD + "destinationDnsDomain=chat.mistral.ai duser=bob sproc=- deviceProcessName=chrome.exe"
    )
    assert (domain["host"], domain["user"], domain["process"]) == ("chat.mistral.ai", "bob", "-")


def test_time_formats() -> None:
    def ts(ext: str, prefix: str = "", tz: str = "UTC") -> object:
        return row(prefix + HEAD + ext, tz)["ts"]

    assert ts("rt=May 02 2024 09:14:10.220 CEST") == dt.datetime(
        2024, 5, 2, 7, 14, 10, 220000, tzinfo=dt.UTC
    )
    assert ts("rt=May 02 2024 09:14:10", tz="Europe/Berlin") == dt.datetime(
        2024, 5, 2, 7, 14, 10, tzinfo=dt.UTC
    )
    assert ts("rt=Dec 31 23:59:59") == dt.datetime(
        2023, 12, 31, 23, 59, 59, tzinfo=dt.UTC
    )  # no year: before the file
    assert ts("rt=1714634043") == dt.datetime(2024, 5, 2, 7, 14, 3, tzinfo=dt.UTC)  # seconds
    assert ts("end=May 02 2024 07:20:14 start=May 02 2024 07:18:40") == dt.datetime(
        2024, 5, 2, 7, 20, 14, tzinfo=dt.UTC
    )
    assert ts("src=10.0.0.1", "<134>May  2 07:14:03 swg01 ") == dt.datetime(
        2024, 5, 2, 7, 14, 3, tzinfo=dt.UTC
    )
    assert ts("src=10.0.0.1", "<14>1 2024-05-02T07:31:00.125Z WS-1 edr 41 NET - ") == dt.datetime(
        2024, 5, 2, 7, 31, 0, 125000, tzinfo=dt.UTC
    )
    assert ts("rt=garbage src=10.0.0.1") is None


def test_rejects_and_skips() -> None:
    lines = [
        HEAD + "src=10.0.0.1",
        "CEF:0|only|four|fields",
        "",
        "plain text",
        "LEEF:1.0|V|P|1|ID|src=10.0.0.1",
        "Jan  1 00:00:00 host CEF:1|V|P|1|ID|N|Low|",
    ]
    events, rejected, skipped = parse(lines)
    assert events["line_no"].to_list() == [0, 5]
    assert rejected["line_no"].to_list() == [1, 3, 4]
    assert skipped == 1


def test_sniff_positive_and_negative() -> None:
    line = "<134>May  2 07:14:03 swg01 " + HEAD + "src=10.0.0.1 dhost=chatgpt.com"
    assert detect_lines([line] * 5).format == "cef"
    assert detect_lines(["LEEF:1.0|V|P|1|ID|src=10.0.0.1"] * 3).format != "cef"
    assert PARSERS.get("cef").sniff(["hello world", '{"a": 1}']) is None


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(
    ["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai", "intranet.local"]
)
free_text = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=20
)


def escape_header(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


def escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("=", "\\=")


@st.composite
def cef_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ms = draw(st.integers(946684800000, 2_000_000_000_000))
    vendor = draw(free_text.filter(lambda s: s.strip() != "" and s == s.strip()))
    host, size = draw(hosts), draw(st.integers(0, 10**12))
    user = draw(free_text.filter(lambda s: s.strip() != "" and s == s.strip()))
    prefix = draw(
        st.sampled_from(["", "<134>May  2 07:14:03 swg01 ", "2024-05-02T07:14:03Z 10.0.0.5 "])
    )
    line = (
        f"{prefix}CEF:0|{escape_header(vendor)}|SWG|1.0|100|Name|3|rt={ms} suser={escape_value(user)} "
        f"dhost={host} in={size} act=allowed"
    )
    expected = {
        "ts": dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms),
        "cef_vendor": vendor,
        "user": user,
        "host": host,
        "bytes_in": size,
        "action": "allowed",
    }
    return line, expected


@given(st.lists(st.one_of(cef_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("cef", lines)


@given(st.lists(st.one_of(cef_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("cef", lines)


@given(cef_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    r = row(line)
    for key, value in expected.items():
        assert r[key] == value, key
