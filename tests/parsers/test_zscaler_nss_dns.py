"""Zscaler NSS DNS feed: fields, actions, missing responses, sniffing (not the web feed),
and property tests."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.zscaler_nss_dns import ZscalerNssDnsParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

EVENT: dict[str, str] = {
    "cloudname": "zscalertwo.net",
    "datetime": "Mon Nov 04 08:00:00 2024",
    "user": "jane.doe@corp.example",
    "login": "jdoe@corp.example",
    "clt_sip": "10.20.1.15",
    "srv_dip": "185.46.212.88",
    "srv_dport": "53",
    "dns_req": "chatgpt.com",
    "dns_reqtype": "A record",
    "dns_resp": "104.18.32.47",
    "error": "None",
    "reqaction": "REQ_ALLOW",
    "resaction": "RES_ALLOW",
    "dnsapp": "ChatGPT",
    "category": "AI & ML Applications",
    "devicehostname": "LT-JDOE-01",
}


def line(version: str | None = None, sourcetype: str = "zscalernss-dns", **event: Any) -> str:
    rec: dict[str, Any] = {"sourcetype": sourcetype, "event": EVENT | event}
    if version:
        rec = {"version": version, **rec}
    return json.dumps(rec, separators=(",", ":"))


def parse_lines(lines: list[str], tz: str = "UTC") -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return ZscalerNssDnsParser(ParseContext("t", timezone=tz)).parse(batch).events


def test_fields() -> None:
    row = parse_lines([line()]).row(0, named=True)
    assert row == {
        "line_no": 0,
        "ts": dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC),
        "src_ip": "10.20.1.15",
        "user": "jdoe@corp.example",
        "host": "chatgpt.com",
        "dst_ip": "185.46.212.88",
        "dst_port": 53,
        "action": "allowed",
        "app": "ChatGPT",
        "dns_qtype": "A",
        "dns_answers": ["104.18.32.47"],
        "dns_rcode": None,
        "zscaler_nss_dns_category": "AI & ML Applications",
        "zscaler_nss_dns_devicehostname": "LT-JDOE-01",
    }


def test_variants() -> None:
    no_resp = json.loads(line(version="v3", reqaction="REQ_BLOCK", resaction="None"))
    del no_resp["event"]["dns_resp"]
    rows = parse_lines(
        [
            json.dumps(no_resp),
            line(resaction="RES_BLOCK", dns_reqtype="AAAA record", dns_req="Claude.AI."),
            line(reqaction="Redirect Request", resaction="None", dns_resp="cname.example.net."),
            line(login="None", dnsapp="None", dns_reqtype="65", error="NXDOMAIN", dns_resp="None"),
            line(datetime="Thu Sep  6 22:55:48 2012", dns_reqtype="HTTPS Record"),
        ]
    ).to_dicts()
    assert (rows[0]["action"], rows[0]["dns_answers"]) == ("blocked", None)
    assert (rows[1]["action"], rows[1]["host"], rows[1]["dns_qtype"]) == (
        "blocked",
        "claude.ai",
        "AAAA",
    )
    assert (rows[2]["action"], rows[2]["dns_answers"]) == ("unknown", ["cname.example.net"])
    assert (rows[3]["user"], rows[3]["app"]) == ("jane.doe@corp.example", None)
    assert (rows[3]["dns_qtype"], rows[3]["dns_rcode"], rows[3]["dns_answers"]) == (
        "HTTPS",
        "NXDOMAIN",
        None,
    )
    assert (rows[4]["ts"], rows[4]["dns_qtype"]) == (
        dt.datetime(2012, 9, 6, 22, 55, 48, tzinfo=dt.UTC),
        "HTTPS",
    )


def test_timezone() -> None:
    row = parse_lines([line()], tz="Europe/Paris").row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 7, 0, tzinfo=dt.UTC)


def test_rejects_other_lines() -> None:
    lines = [
        line(sourcetype="zscalernss-web"),
        line(datetime="sometime"),
        line()[:90],
        '"Mon Nov 04 08:00:00 2024","jdoe@corp.example","chatgpt.com","A record"',
        line(),
    ]
    assert ZscalerNssDnsParser.validate(pl.Series(lines)).to_list() == [False] * 4 + [True]
    assert parse_lines(lines)["line_no"].to_list() == [4]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line(), line(version="v3")] * 2).format == "zscaler_nss_dns"
    web = (
        '{ "sourcetype" : "zscalernss-web", "event" :{"time":"Mon Nov 04 08:00:00 2024",'
        '"login":"jdoe@corp.example","eurl":"chatgpt.com/","action":"Allowed","cip":"10.0.0.1"}}'
    )
    assert PARSERS.get("zscaler_nss_dns").sniff([web] * 3) is None
    assert PARSERS.get("zscaler_nss_web").sniff([line()] * 3) is None
    assert detect_lines([web] * 3).format == "zscaler_nss_web"


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai"])
stamps = st.datetimes(dt.datetime(2001, 1, 1), dt.datetime(2035, 1, 1)).map(
    lambda d: d.replace(microsecond=0)
)
qtypes = st.sampled_from([("A record", "A"), ("AAAA record", "AAAA"), ("HTTPS record", "HTTPS")])


@st.composite
def nss_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    when = draw(stamps)
    host = draw(hosts)
    qtype, name = draw(qtypes)
    action = draw(st.sampled_from(["REQ_ALLOW", "REQ_BLOCK"]))
    text = line(
        version=draw(st.sampled_from([None, "v3"])),
        datetime=when.strftime("%a %b %d %H:%M:%S %Y"),
        dns_req=host,
        dns_reqtype=qtype,
        login=draw(st.text(max_size=15)),
        reqaction=action,
    )
    expected: dict[str, object] = {
        "ts": when.replace(tzinfo=dt.UTC),
        "host": host,
        "dns_qtype": name,
        "action": "blocked" if action == "REQ_BLOCK" else "allowed",
    }
    return text, expected


valid = nss_lines().map(lambda t: t[0])
lines_mix = st.one_of(
    valid, st.tuples(valid, st.integers(0, 500)).map(lambda t: t[0][: t[1]]), NOISE
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("zscaler_nss_dns", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("zscaler_nss_dns", lines)


@given(nss_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse_lines([text]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
