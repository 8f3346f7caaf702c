"""Zscaler NSS web feed: JSON, TSV and CSV shapes, fields, sniffing, and properties."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.zscaler_nss_web import ZscalerNssWebParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

ORDER = [
    "time",
    "login",
    "proto",
    "eurl",
    "action",
    "appname",
    "appclass",
    "reqsize",
    "respsize",
    "stime",
    "ctime",
    "urlclass",
    "urlsupercat",
    "urlcat",
    "malwarecat",
    "threatname",
    "riskscore",
    "dlpeng",
    "dlpdict",
    "location",
    "dept",
    "cip",
    "sip",
    "reqmethod",
    "respcode",
    "ua",
    "ereferer",
    "ruletype",
    "rulelabel",
    "contenttype",
    "unscannabletype",
    "deviceowner",
    "devicehostname",
]

BASE = dict.fromkeys(ORDER, "None") | {
    "time": "Mon Nov 04 08:00:00 2024",
    "login": "jdoe@corp.example",
    "proto": "HTTPS",
    "eurl": "chatgpt.com/backend-api/conversation?model=x",
    "action": "Allowed",
    "appname": "ChatGPT",
    "appclass": "AI & ML Applications",
    "reqsize": "5120",
    "respsize": "48211",
    "stime": "12",
    "ctime": "3",
    "riskscore": "0",
    "urlcat": "AI & ML Applications",
    "cip": "10.20.1.15",
    "sip": "104.18.32.47",
    "reqmethod": "POST",
    "respcode": "200",
    "ua": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "deviceowner": "jdoe",
    "devicehostname": "LT-JDOE-01",
}


def as_json(ev: Mapping[str, object]) -> str:
    return '{ "sourcetype" : "zscalernss-web", "event" :' + json.dumps(ev) + "}"


def as_tsv(ev: dict[str, str], extra: list[str] | None = None) -> str:
    return "\t".join([ev[k] for k in ORDER] + (extra or []))


def as_csv(ev: dict[str, str], extra: list[str] | None = None) -> str:
    vals = [ev[k] for k in ORDER] + (extra or [])
    return ",".join('"' + v.replace('"', '""') + '"' for v in vals)


def parse_lines(lines: list[str], tz: str = "UTC") -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return ZscalerNssWebParser(ParseContext("t", timezone=tz)).parse(batch).events


def test_fields_are_the_same_in_every_shape() -> None:
    rows = parse_lines([as_json(BASE), as_tsv(BASE), as_csv(BASE, ["N/A"])]).to_dicts()
    assert [r["line_no"] for r in rows] == [0, 1, 2]
    for row in rows:
        row.pop("line_no")
        assert row == {
            "ts": dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC),
            "src_ip": "10.20.1.15",
            "user": "jdoe@corp.example",
            "host": "chatgpt.com",
            "dst_ip": "104.18.32.47",
            "dst_port": 443,
            "url": "https://chatgpt.com/backend-api/conversation",
            "method": "POST",
            "status": 200,
            "action": "allowed",
            "bytes_out": 5120,
            "bytes_in": 48211,
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            "app": "ChatGPT",
            "zscaler_nss_web_urlcat": "AI & ML Applications",
            "zscaler_nss_web_appclass": "AI & ML Applications",
            "zscaler_nss_web_devicehostname": "LT-JDOE-01",
        }


def test_connect_placeholders_and_blocked() -> None:
    ev = BASE | {
        "proto": "HTTP_PROXY",
        "eurl": "API.OpenAI.com:443",
        "reqmethod": "CONNECT",
        "action": "Blocked",
        "login": "None",
        "ua": "None",
        "appname": "None",
        "devicehostname": "NA",
        "respcode": "0",
    }
    row = parse_lines([as_json(ev)]).row(0, named=True)
    assert (row["host"], row["dst_port"], row["url"], row["method"]) == (
        "api.openai.com",
        443,
        None,
        "CONNECT",
    )
    assert (row["action"], row["user"], row["user_agent"], row["app"]) == (
        "blocked",
        None,
        None,
        None,
    )
    assert row["zscaler_nss_web_devicehostname"] is None
    # CONNECT without a port still tunnels to 443; plain HTTP without a port is 80.
    rows = parse_lines(
        [as_tsv(ev | {"eurl": "claude.ai"}), as_tsv(BASE | {"proto": "HTTP", "eurl": "x.test/a"})]
    ).to_dicts()
    assert (rows[0]["dst_port"], rows[1]["dst_port"], rows[1]["url"]) == (
        443,
        80,
        "http://x.test/a",
    )
    assert parse_lines([as_json(BASE | {"action": "Caution"})])["action"][0] == "unknown"


def test_time_forms_and_timezone() -> None:
    lines = [
        as_json(BASE | {"time": "Thu Sep  6 22:55:48 2012"}),
        as_json(BASE | {"time": "Fri Sep 6 22:55:48 2012"}),  # wrong weekday: still read
        as_tsv(BASE | {"time": "Mon Jan 15 10:00:00 2024"}),
    ]
    ts = parse_lines(lines, tz="Europe/Paris")["ts"].to_list()
    assert ts == [
        dt.datetime(2012, 9, 6, 20, 55, 48, tzinfo=dt.UTC),
        dt.datetime(2012, 9, 6, 20, 55, 48, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 15, 9, 0, tzinfo=dt.UTC),
    ]


def test_rejects_other_feeds_and_broken_lines() -> None:
    lines = [
        '{"sourcetype":"zscalernss-dns","event":{"datetime":"Mon Nov 04 08:00:00 2024","dns_req":"chatgpt.com"}}',
        as_json(BASE)[:90],
        as_json(BASE | {"time": "2024-11-04 08:00:00"}),
        "\t".join([BASE[k] for k in ORDER][:20]),
        as_csv(BASE | {"time": "Oct 30 09:46:12 1"}),
        as_json(BASE),
    ]
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    result = ZscalerNssWebParser(ParseContext("t")).parse(batch)
    assert result.events["line_no"].to_list() == [5]
    assert result.rejected["line_no"].to_list() == [0, 1, 2, 3, 4]
    assert ZscalerNssWebParser.validate(pl.Series(lines)).to_list() == [False] * 5 + [True]


def test_json_values_may_change_type() -> None:
    ev: dict[str, object] = dict(BASE) | {"reqsize": 5120, "respcode": 200, "login": None}
    row = parse_lines([as_json(ev)]).row(0, named=True)
    assert (row["bytes_out"], row["status"], row["user"]) == (5120, 200, None)


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([as_json(BASE)] * 5).format == "zscaler_nss_web"
    assert detect_lines([as_tsv(BASE)] * 5).format == "zscaler_nss_web"
    assert detect_lines([as_csv(BASE, ["N/A"])] * 5).format == "zscaler_nss_web"
    sniff = PARSERS.get("zscaler_nss_web").sniff
    assert sniff(['{"sourcetype":"zscalernss-dns","event":{"dns_req":"a.example"}}'] * 3) is None
    assert sniff(['{"ts": 1.5, "host": "chatgpt.com"}', "hello world"]) is None
    # PAN-OS CSV behind a year-less syslog header is not an NSS time.
    assert sniff(["Oct 30 09:46:12 1," + ",".join(["x"] * 40)]) is None


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(
    ["chatgpt.com", "www.example.com", "api.openai.com:443", "claude.ai/new", "intranet.local"]
)
text = st.text(
    st.characters(codec="utf-8", blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=20
)


@st.composite
def nss_events(draw: st.DrawFn) -> tuple[dict[str, str], dt.datetime]:
    when = dt.datetime(2020, 1, 1) + dt.timedelta(seconds=draw(st.integers(0, 10**8)))
    ev = BASE | {
        "time": when.strftime("%a %b %d %H:%M:%S %Y"),
        "eurl": draw(hosts),
        "reqsize": str(draw(st.integers(0, 10**9))),
        "respsize": str(draw(st.integers(0, 10**9))),
        "respcode": str(draw(st.integers(100, 599))),
        "action": draw(st.sampled_from(["Allowed", "Blocked"])),
        "reqmethod": draw(st.sampled_from(["GET", "POST", "CONNECT"])),
    }
    return ev, when.replace(tzinfo=dt.UTC)


@st.composite
def nss_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ev, when = draw(nss_events())
    shape = draw(st.sampled_from(["json", "tsv", "csv"]))
    if shape == "json":
        ev = ev | {"login": draw(text), "ua": draw(text)}
        line = as_json(ev)
    else:
        line = as_tsv(ev) if shape == "tsv" else as_csv(ev, ["N/A"])
    expected: dict[str, object] = {
        "ts": when,
        "bytes_out": int(ev["reqsize"]),
        "bytes_in": int(ev["respsize"]),
        "status": int(ev["respcode"]),
        "action": ev["action"].lower(),
        "method": ev["reqmethod"],
    }
    return line, expected


@given(st.lists(st.one_of(nss_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("zscaler_nss_web", lines)


@given(st.lists(st.one_of(nss_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("zscaler_nss_web", lines)


@given(nss_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
