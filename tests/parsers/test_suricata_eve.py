"""Suricata EVE JSON: fields per event type, DNS v1/v2/v3 answers, per-row log_type,
sniffing, and property tests (never raises, every line counted, the prefiltered fast path
agrees with the full parse, rendered lines round-trip)."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.suricata_eve import SuricataEveParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = SuricataEveParser(ParseContext("t")).parse(batch)
    return out.events, out.rejected, out.skipped


def row(doc: dict[str, object]) -> dict[str, object]:
    events, rejected, _ = parse([json.dumps(doc)])
    assert rejected.is_empty()
    return events.row(0, named=True)


BASE = {"flow_id": 1, "src_ip": "10.1.2.3", "src_port": 50514, "dest_ip": "104.18.32.47"}


def test_http_path_becomes_url_with_hostname_and_port() -> None:
    r = row(
        {
            **BASE,
            "timestamp": "2024-01-01T10:00:00.123456+0000",
            "event_type": "http",
            "dest_port": 8080,
            "http": {
                "hostname": "Chat.OpenAI.com",
                "http_port": 8080,
                "url": "/c/abc?token=secret",
                "http_method": "post",
                "status": 200,
                "http_user_agent": "curl/8.5.0",
                "length": 1234,
            },
        }
    )
    assert r["ts"] == dt.datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
    assert (r["host"], r["url"], r["method"], r["status"]) == (
        "chat.openai.com",
        "http://chat.openai.com:8080/c/abc",
        "POST",
        200,
    )
    assert (r["user_agent"], r["bytes_in"], r["bytes_out"]) == ("curl/8.5.0", 1234, None)
    assert (r["log_type"], r["suricata_eve_event_type"], r["dst_port"]) == ("proxy", "http", 8080)


def test_proxied_absolute_url_and_connect() -> None:
    absolute = row(
        {
            **BASE,
            "timestamp": "2024-01-01T10:00:00-0400",
            "event_type": "http",
            "http": {"hostname": "huggingface.co", "url": "http://huggingface.co/api/models?x=1"},
        }
    )
    assert absolute["url"] == "http://huggingface.co/api/models"
    assert absolute["ts"] == dt.datetime(2024, 1, 1, 14, 0, tzinfo=dt.UTC)
    connect = row(
        {
            **BASE,
            "timestamp": "2024-01-01T10:00:00Z",
            "event_type": "http",
            "http": {
                "hostname": "api.openai.com",
                "url": "api.openai.com:443",
                "http_method": "CONNECT",
            },
        }
    )
    assert (connect["host"], connect["url"]) == ("api.openai.com", None)


def test_tls_and_quic_sni() -> None:
    tls = row(
        {
            **BASE,
            "timestamp": "2024-01-01T10:00:00+0000",
            "event_type": "tls",
            "tls": {"sni": "Claude.AI."},
        }
    )
    quic = row(
        {
            **BASE,
            "timestamp": "2024-01-01T10:00:00+0000",
            "event_type": "quic",
            "quic": {"sni": "gemini.google.com"},
        }
    )
    assert (tls["host"], tls["log_type"]) == ("claude.ai", "proxy")
    assert (quic["host"], quic["log_type"]) == ("gemini.google.com", "proxy")


def test_dns_versions() -> None:
    ts = "2024-01-01T10:00:00.000000+0000"
    v1 = row(
        {
            **BASE,
            "timestamp": ts,
            "event_type": "dns",
            "dns": {
                "type": "answer",
                "rrname": "chatgpt.com",
                "rrtype": "A",
                "rcode": "NOERROR",
                "rdata": "104.18.32.47",
            },
        }
    )
    v1_query = row(
        {
            **BASE,
            "timestamp": ts,
            "event_type": "dns",
            "dns": {"type": "query", "rrname": "chatgpt.com", "rrtype": "AAAA"},
        }
    )
    v2 = row(
        {
            **BASE,
            "timestamp": ts,
            "event_type": "dns",
            "dns": {
                "version": 2,
                "type": "answer",
                "rrname": "copilot.microsoft.com",
                "rrtype": "A",
                "rcode": "NOERROR",
                "answers": [
                    {
                        "rrname": "copilot.microsoft.com",
                        "rrtype": "CNAME",
                        "rdata": "x.edgekey.net",
                    },
                    {"rrname": "x.edgekey.net", "rrtype": "A", "rdata": "23.212.249.170"},
                    {"rrname": "x", "rrtype": "TXT", "rdata": "v=spf1 -all"},
                    {"rrname": "x", "rrtype": "SOA", "soa": {"mname": "ns1"}},
                ],
            },
        }
    )
    grouped_only = row(
        {
            **BASE,
            "timestamp": ts,
            "event_type": "dns",
            "dns": {
                "type": "answer",
                "rrname": "claude.ai",
                "rcode": "NOERROR",
                "grouped": {"A": ["160.79.104.10"], "AAAA": ["2607:6bc0::10"]},
            },
        }
    )
    v3 = row(
        {
            **BASE,
            "timestamp": ts,
            "event_type": "dns",
            "dns": {
                "version": 3,
                "type": "response",
                "rcode": "NXDOMAIN",
                "queries": [{"rrname": "Chat.Deepseek.com.", "rrtype": "HTTPS"}],
            },
        }
    )
    v3_request = row(
        {
            **BASE,
            "timestamp": ts,
            "event_type": "dns",
            "dns": {
                "version": 3,
                "type": "request",
                "rcode": "NOERROR",
                "queries": [{"rrname": "claude.ai", "rrtype": "A"}],
            },
        }
    )
    assert (v1["host"], v1["dns_qtype"], v1["dns_answers"], v1["status"], v1["log_type"]) == (
        "chatgpt.com",
        "A",
        ["104.18.32.47"],
        0,
        "dns",
    )
    assert (v1_query["dns_qtype"], v1_query["dns_answers"], v1_query["status"]) == (
        "AAAA",
        None,
        None,
    )
    assert v2["dns_answers"] == ["x.edgekey.net", "23.212.249.170"]
    assert grouped_only["dns_answers"] == ["160.79.104.10", "2607:6bc0::10"]
    assert (v3["host"], v3["dns_qtype"], v3["status"], v3["dns_answers"]) == (
        "chat.deepseek.com",
        "HTTPS",
        3,
        None,
    )
    assert (v3_request["host"], v3_request["status"]) == ("claude.ai", None)


def test_flow_alert_and_other_event_types() -> None:
    ts = "2024-01-01T10:00:00+0000"
    flow = row(
        {
            **BASE,
            "timestamp": ts,
            "event_type": "flow",
            "app_proto": "tls",
            "flow": {"bytes_toserver": 100, "bytes_toclient": 2000, "action": "pass"},
        }
    )
    alert_dns = row(
        {
            **BASE,
            "timestamp": ts,
            "event_type": "alert",
            "alert": {"action": "allowed"},
            "dns": {"query": [{"rrname": "chat.deepseek.com", "rrtype": "A"}]},
        }
    )
    assert (alert_dns["host"], alert_dns["action"]) == ("chat.deepseek.com", "allowed")
    alert = row(
        {
            **BASE,
            "timestamp": ts,
            "event_type": "alert",
            "alert": {"action": "blocked", "signature": "LOCAL GenAI"},
            "tls": {"sni": "claude.ai"},
        }
    )
    stats = row({"timestamp": ts, "event_type": "stats", "stats": {"uptime": 1}})
    netflow = row({**BASE, "timestamp": ts, "event_type": "netflow", "netflow": {"bytes": 61200}})
    assert (flow["bytes_out"], flow["bytes_in"], flow["app"], flow["action"], flow["log_type"]) == (
        100,
        2000,
        "tls",
        "allowed",
        "flow",
    )
    assert (alert["action"], alert["suricata_eve_alert"], alert["host"], alert["log_type"]) == (
        "blocked",
        "LOCAL GenAI",
        "claude.ai",
        "flow",
    )
    assert (stats["suricata_eve_event_type"], stats["src_ip"], stats["log_type"]) == (
        "stats",
        None,
        "flow",
    )
    assert netflow["bytes_out"] == 61200


def test_rejects_and_skips() -> None:
    good = json.dumps({**BASE, "timestamp": "2024-01-01T10:00:00+0000", "event_type": "tls"})
    lines = [
        good,
        "",
        good[:40],
        "[1, 2]",
        json.dumps({"timestamp": "2024-01-01T10:00:00+0000", "src_ip": "10.1.2.3"}),
        json.dumps({"timestamp": "yesterday", "event_type": "tls"}),
        json.dumps({"timestamp": "2024-01-01T10:00:00+0000", "event_type": None}),
    ]
    events, rejected, skipped = parse(lines)
    assert events["line_no"].to_list() == [0]
    assert rejected["line_no"].to_list() == [2, 3, 4, 5, 6]
    assert skipped == 1
    # validate() agrees with parse on every line
    assert SuricataEveParser.validate(pl.Series(lines)).to_list() == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]


def test_sniff_positive_and_negative() -> None:
    tls = json.dumps({**BASE, "timestamp": "2024-01-01T10:00:00+0000", "event_type": "tls"})
    stats = json.dumps(
        {"timestamp": "2024-01-01T10:00:00+0000", "event_type": "stats", "stats": {}}
    )
    assert detect_lines([tls, stats, tls]).format == "suricata_eve"
    sniff = PARSERS.get("suricata_eve").sniff
    assert detect_lines([stats, stats]).format == "suricata_eve"  # a head of big stats records
    assert (
        sniff(['{"timestamp": "2024-01-01T10:00:00Z", "event_type": "login", "user": "x"}']) is None
    )
    assert (
        sniff(['{"ts": 1700000000.1, "id.orig_h": "10.0.0.1", "host": "x"}']) is None
    )  # Zeek JSON
    assert (
        sniff(["1730707200.000 1 10.0.0.1 TCP_MISS/200 10 GET http://x/ - HIER_DIRECT/1.2.3.4 -"])
        is None
    )


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.7", st.integers(0, 255), st.integers(0, 255))
hosts = st.sampled_from(
    ["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai", "intranet.local"]
)


@st.composite
def eve_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    epoch = draw(st.integers(946684800, 2_000_000_000))
    offset = draw(st.sampled_from(["+0000", "-0400", "+0530"]))
    sign = 1 if offset[0] == "+" else -1
    delta = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:])) * sign
    tz = dt.timezone(delta)
    when = dt.datetime.fromtimestamp(epoch, dt.UTC)
    stamp = when.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S.000000") + offset
    kind = draw(st.sampled_from(["tls", "http", "dns", "flow"]))
    host, ip, port = draw(hosts), draw(ips), draw(st.integers(1, 65535))
    doc: dict[str, object] = {
        "timestamp": stamp,
        "event_type": kind,
        "src_ip": ip,
        "src_port": port,
        "dest_ip": "192.0.2.1",
        "dest_port": 443,
    }
    expected: dict[str, object] = {
        "ts": when,
        "src_ip": ip,
        "src_port": port,
        "suricata_eve_event_type": kind,
    }
    if kind == "tls":
        doc["tls"] = {"sni": host}
        expected |= {"host": host, "log_type": "proxy"}
    elif kind == "http":
        doc["http"] = {"hostname": host, "url": "/p", "status": 200}
        expected |= {"host": host, "url": f"http://{host}/p", "status": 200}
    elif kind == "dns":
        doc["dns"] = {"type": "query", "rrname": host, "rrtype": "A"}
        expected |= {"host": host, "dns_qtype": "A", "log_type": "dns"}
    else:
        n = draw(st.integers(0, 10**12))
        doc["flow"] = {"bytes_toserver": n, "bytes_toclient": 0}
        expected |= {"bytes_out": n, "log_type": "flow"}
    return json.dumps(doc, separators=(",", ":")), expected


@given(st.lists(st.one_of(eve_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("suricata_eve", lines)


@given(st.lists(st.one_of(eve_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("suricata_eve", lines)


@given(eve_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    r = parse([line])[0].row(0, named=True)
    for key, value in expected.items():
        assert r[key] == value, key
