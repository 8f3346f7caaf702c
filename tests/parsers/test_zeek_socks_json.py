"""Zeek socks.log (JSON lines): requested name or address as host, proxy and bound
addresses, reply status as action, dotted and nested keys, sniffing and properties."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.zeek_socks_json import ZeekSocksJsonParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def line(**values: object) -> str:
    base: dict[str, object] = {
        "ts": 1730707320.20511,
        "uid": "CsK2nB7xQ4vT1mZ8aa",
        "id.orig_h": "10.30.4.31",
        "id.orig_p": 50321,
        "id.resp_h": "10.30.0.5",
        "id.resp_p": 1080,
        "version": 5,
        "user": "asmith",
        "status": "succeeded",
        "request.name": "claude.ai",
        "request_p": 443,
        "bound.host": "10.30.0.5",
        "bound_p": 50321,
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
    out = ZeekSocksJsonParser(ParseContext("t")).parse(batch)
    assert out.events.height + out.rejected.height + out.skipped == len(lines)
    return out.events, out.rejected, out.skipped


def test_fields() -> None:
    nested = json.loads(line())
    del nested["request.name"], nested["bound.host"]
    nested["request"] = {"name": "Chat.DeepSeek.com"}
    nested["bound"] = {"host": "10.30.0.5"}
    events, rejected, _ = parse(
        [
            line(),
            line(**{"request.name": None, "request.host": "104.18.32.47"}, user=None),
            line(status="connection not allowed by ruleset", **{"bound.host": "0.0.0.0"}),
            line(status="Host unreachable", version=4, **{"bound.host": None, "bound_p": None}),
            json.dumps(nested),
        ]
    )
    assert rejected.height == 0
    name, addr, refused, failed, nest = events.to_dicts()
    assert name["ts"] == dt.datetime(2024, 11, 4, 8, 2, 0, 205110, tzinfo=dt.UTC)
    assert (name["host"], name["dst_ip"], name["dst_port"], name["user"], name["action"]) == (
        "claude.ai",
        None,
        443,
        "asmith",
        "allowed",
    )
    assert (name["src_ip"], name["src_port"], name["zeek_uid"]) == (
        "10.30.4.31",
        50321,
        "CsK2nB7xQ4vT1mZ8aa",
    )
    assert (name["zeek_socks_proxy_ip"], name["zeek_socks_proxy_port"]) == ("10.30.0.5", 1080)
    assert (name["zeek_socks_bound_host"], name["zeek_socks_bound_port"]) == ("10.30.0.5", 50321)
    assert (name["zeek_socks_status"], name["zeek_socks_version"]) == ("succeeded", 5)
    assert (addr["host"], addr["dst_ip"], addr["user"]) == ("104.18.32.47", "104.18.32.47", None)
    assert refused["action"] == "blocked"
    assert (failed["action"], failed["zeek_socks_version"], failed["zeek_socks_bound_host"]) == (
        "unknown",
        4,
        None,
    )
    assert (nest["host"], nest["zeek_socks_bound_host"]) == ("chat.deepseek.com", "10.30.0.5")


def test_other_records_are_not_socks() -> None:
    ssl = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","version":"TLSv13","server_name":"chatgpt.com","established":true}'
    no_version = line(version=None)
    no_request = line(
        **{"request.name": None, "request_p": None, "bound.host": None, "bound_p": None}
    )
    events, rejected, skipped = parse([ssl, no_version, no_request, "", line()])
    assert events.height == 1 and skipped == 1
    assert rejected["line_no"].to_list() == [0, 1, 2]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line()] * 2).format == "zeek_socks_json"
    cls = PARSERS.get("zeek_socks_json")
    http = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_depth":1,"method":"GET","host":"chatgpt.com"}'
    dns = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_id":1,"query":"chatgpt.com"}'
    for other in (http, dns, '{"a": 1}'):
        assert cls.sniff([other] * 3) is None


# --- properties ----------------------------------------------------------------------


@st.composite
def socks_json_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999999)) / 1e6
    name = draw(st.sampled_from(["chatgpt.com", "claude.ai", None, "www.example.com"]))
    addr = "203.0.113.5" if name is None else None
    status = draw(st.sampled_from(["succeeded", "connection not allowed by ruleset", "x"]))
    port = draw(st.integers(1, 65535))
    user = draw(st.sampled_from(["bob", None]))
    values = {"request.name": name, "request.host": addr, "request_p": port}
    expected = {
        "host": name or addr,
        "dst_ip": addr,
        "dst_port": port,
        "user": user,
        "action": {"succeeded": "allowed", "x": "unknown"}.get(status, "blocked"),
    }
    return line(ts=ts, status=status, user=user, **values), expected


@given(st.lists(st.one_of(socks_json_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("zeek_socks_json", lines)


@given(st.lists(st.one_of(socks_json_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("zeek_socks_json", lines)


@given(socks_json_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse([text])[0].row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
