"""Zeek conn.log (JSON lines): fields, absent (unset) values, key spellings, recognition
(not ssl, http, dns or socks records, and theirs not conn), sniffing and properties."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.zeek_conn_json import ZeekConnJsonParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def line(**values: object) -> str:
    base: dict[str, object] = {
        "ts": 1730707262.008115,
        "uid": "CMsGcXPYkUO1c0DIzO",
        "id.orig_h": "10.20.1.15",
        "id.orig_p": 52232,
        "id.resp_h": "160.79.104.10",
        "id.resp_p": 443,
        "proto": "tcp",
        "service": "ssl",
        "duration": 31.402116,
        "orig_bytes": 18544,
        "resp_bytes": 3987,
        "conn_state": "SF",
        "missed_bytes": 0,
        "history": "ShADadFf",
        "orig_pkts": 38,
        "orig_ip_bytes": 20532,
        "resp_pkts": 31,
        "resp_ip_bytes": 5611,
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
    out = ZeekConnJsonParser(ParseContext("t")).parse(batch)
    assert out.events.height + out.rejected.height + out.skipped == len(lines)
    return out.events, out.rejected, out.skipped


def test_fields() -> None:
    nested = json.dumps(
        {
            "ts": "2024-11-04T08:01:02.008115Z",
            "uid": "CnEsTeD0000000001",
            "id": {
                "orig_h": "10.20.1.16",
                "orig_p": 5000,
                "resp_h": "160.79.104.11",
                "resp_p": 443,
            },
            "proto": "tcp",
            "conn_state": "REJ",
        }
    )
    events, rejected, _ = parse(
        [
            line(),
            line(service=None, duration=None, orig_bytes=None, resp_bytes=None, conn_state="S0"),
            nested,
        ]
    )
    assert rejected.height == 0
    ok, bare, nest = events.to_dicts()
    assert ok["ts"] == dt.datetime(2024, 11, 4, 8, 1, 2, 8115, tzinfo=dt.UTC)
    assert (ok["src_ip"], ok["src_port"], ok["dst_ip"], ok["dst_port"]) == (
        "10.20.1.15",
        52232,
        "160.79.104.10",
        443,
    )
    assert (ok["bytes_out"], ok["bytes_in"], ok["app"], ok["action"]) == (
        18544,
        3987,
        "ssl",
        "allowed",
    )
    assert (ok["zeek_conn_orig_ip_bytes"], ok["zeek_conn_resp_ip_bytes"]) == (20532, 5611)
    assert (ok["zeek_uid"], ok["zeek_conn_state"], ok["zeek_conn_duration"]) == (
        "CMsGcXPYkUO1c0DIzO",
        "SF",
        31.402116,
    )
    assert (bare["app"], bare["bytes_out"], bare["bytes_in"], bare["action"]) == (
        None,
        None,
        None,
        "unknown",
    )
    assert bare["zeek_conn_duration"] is None
    assert (nest["ts"], nest["src_ip"], nest["dst_port"], nest["action"]) == (
        ok["ts"],
        "10.20.1.16",
        443,
        "blocked",
    )


SSL = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","server_name":"chatgpt.com","established":true}'
HTTP = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_depth":1,"method":"GET","host":"chatgpt.com"}'
SOCKS = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","version":5,"request.name":"claude.ai"}'
DNS = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_id":1,"query":"chatgpt.com"}'


def test_other_records_are_not_conn() -> None:
    events, rejected, _ = parse([SSL, HTTP, SOCKS, DNS, "{}", "x", line()])
    assert events.height == 1
    assert rejected["line_no"].to_list() == [0, 1, 2, 3, 4, 5]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line()] * 3).format == "zeek_conn_json"
    cls = PARSERS.get("zeek_conn_json")
    for other in (SSL, HTTP, SOCKS, DNS):
        assert cls.sniff([other] * 3) is None
    # and the other Zeek JSON parsers leave conn records alone
    for name in ("zeek_http_json", "zeek_ssl_json", "zeek_dns_json", "zeek_socks_json"):
        assert PARSERS.get(name).sniff([line()] * 3) is None, name


# --- properties ----------------------------------------------------------------------


@st.composite
def conn_json_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999999)) / 1e6
    port = draw(st.integers(0, 65535))
    out_b = draw(st.one_of(st.none(), st.integers(0, 10**12)))
    in_b = draw(st.one_of(st.none(), st.integers(0, 10**12)))
    service = draw(st.sampled_from(["ssl", "http", "dns", None]))
    state = draw(st.sampled_from(["SF", "S0", "REJ", "OTH", "S1"]))
    expected = {
        "dst_port": port,
        "bytes_out": out_b,
        "bytes_in": in_b,
        "app": service,
        "action": {"SF": "allowed", "S1": "allowed", "REJ": "blocked"}.get(state, "unknown"),
    }
    text = line(
        ts=ts,
        service=service,
        orig_bytes=out_b,
        resp_bytes=in_b,
        conn_state=state,
        **{"id.resp_p": port},
    )
    return text, expected


@given(st.lists(st.one_of(conn_json_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("zeek_conn_json", lines)


@given(st.lists(st.one_of(conn_json_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("zeek_conn_json", lines)


@given(conn_json_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse([text])[0].row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
