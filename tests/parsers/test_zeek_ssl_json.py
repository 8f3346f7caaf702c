"""Zeek ssl.log (JSON lines): SNI as host, optional fields, recognition (not quic, http,
socks or dns records), sniffing and properties."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.zeek_ssl_json import ZeekSslJsonParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def line(**values: object) -> str:
    base: dict[str, object] = {
        "ts": 1730707260.51422,
        "uid": "CqA8xB3mW0zT5nP2aa",
        "id.orig_h": "10.30.0.8",
        "id.orig_p": 52230,
        "id.resp_h": "104.18.32.47",
        "id.resp_p": 443,
        "version": "TLSv13",
        "cipher": "TLS_AES_128_GCM_SHA256",
        "server_name": "chatgpt.com",
        "resumed": False,
        "established": True,
        "ssl_history": "CsiI",
    }
    base.update(values)
    return json.dumps({k: v for k, v in base.items() if v is not None}, separators=(",", ":"))


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame(
        {
            "line_no": pl.Series(range(len(lines)), dtype=pl.UInt64),
            "line": pl.Series(lines, dtype=pl.String),
        }
    )
    out = ZeekSslJsonParser(ParseContext("t")).parse(batch)
    assert out.events.height + out.rejected.height + out.skipped == len(lines)
    return out.events, out.rejected, out.skipped


def test_fields() -> None:
    events, rejected, _ = parse(
        [
            line(),
            line(server_name=None, established=False, version=None, cipher=None),
            line(ts="2024-11-04T08:01:00.514220Z", server_name="Claude.AI"),
        ]
    )
    assert rejected.height == 0
    ok, bare, iso = events.to_dicts()
    assert ok["ts"] == dt.datetime(2024, 11, 4, 8, 1, 0, 514220, tzinfo=dt.UTC)
    assert (ok["host"], ok["dst_ip"], ok["dst_port"], ok["action"], ok["zeek_uid"]) == (
        "chatgpt.com",
        "104.18.32.47",
        443,
        "allowed",
        "CqA8xB3mW0zT5nP2aa",
    )
    assert (ok["zeek_ssl_version"], ok["zeek_ssl_cipher"], ok["zeek_ssl_established"]) == (
        "TLSv13",
        "TLS_AES_128_GCM_SHA256",
        True,
    )
    assert (bare["host"], bare["dst_ip"], bare["action"], bare["zeek_ssl_version"]) == (
        None,
        "104.18.32.47",
        "unknown",
        None,
    )
    assert (iso["ts"], iso["host"]) == (ok["ts"], "claude.ai")


def test_other_records_are_not_ssl() -> None:
    quic = line(client_initial_dcid="8f1c2a9b", client_protocol="h3", established=None)
    conn = line(
        server_name=None,
        established=None,
        resumed=None,
        ssl_history=None,
        version=None,
        cipher=None,
        proto="tcp",
    )
    events, rejected, _ = parse([quic, conn, "{}", "x", line()])
    assert events.height == 1
    assert rejected["line_no"].to_list() == [0, 1, 2, 3]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line()] * 3).format == "zeek_ssl_json"
    cls = PARSERS.get("zeek_ssl_json")
    http = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_depth":1,"method":"GET","host":"chatgpt.com"}'
    socks = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","version":5,"request.name":"claude.ai"}'
    dns = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_id":1,"query":"chatgpt.com"}'
    for other in (http, socks, dns):
        assert cls.sniff([other] * 3) is None


# --- properties ----------------------------------------------------------------------


@st.composite
def ssl_json_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999999)) / 1e6
    sni = draw(st.sampled_from(["chatgpt.com", "claude.ai", None, "www.example.com"]))
    est = draw(st.booleans())
    port = draw(st.integers(1, 65535))
    expected = {
        "host": sni,
        "dst_port": port,
        "action": "allowed" if est else "unknown",
        "zeek_ssl_established": est,
    }
    return line(ts=ts, server_name=sni, established=est, **{"id.resp_p": port}), expected


@given(st.lists(st.one_of(ssl_json_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("zeek_ssl_json", lines)


@given(st.lists(st.one_of(ssl_json_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("zeek_ssl_json", lines)


@given(ssl_json_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse([text])[0].row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
