"""Zeek http.log (JSON lines): fields, key spellings, timestamps, Splunk exports,
recognition (not SIP/SMTP/ssl/socks/dns records), sniffing and properties."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers._zeek import json_objects
from shadowscan.parsers.common import json_valid
from shadowscan.parsers.zeek_http_json import ZeekHttpJsonParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def rec(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "ts": 1730707200.5,
        "uid": "CAbCdEfGhIjKlMnOp1",
        "id.orig_h": "10.30.0.8",
        "id.orig_p": 50000,
        "id.resp_h": "198.51.100.7",
        "id.resp_p": 80,
        "trans_depth": 1,
        "request_body_len": 0,
        "response_body_len": 0,
        "tags": [],
    }
    base.update(values)
    return base


def line(**values: object) -> str:
    return json.dumps(rec(**values), separators=(",", ":"))


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame(
        {
            "line_no": pl.Series(range(len(lines)), dtype=pl.UInt64),
            "line": pl.Series(lines, dtype=pl.String),
        }
    )
    out = ZeekHttpJsonParser(ParseContext("t")).parse(batch)
    assert out.events.height + out.rejected.height + out.skipped == len(lines)
    return out.events, out.rejected, out.skipped


def test_fields() -> None:
    events, _, _ = parse(
        [
            line(
                method="POST",
                host="api.openai.com",
                uri="/v1/chat/completions?x=1",
                user_agent="OpenAI/Python 1.54.3",
                request_body_len=18244,
                response_body_len=96310,
                status_code=200,
                username="jdoe",
                resp_mime_types=["application/json"],
            ),
            line(ts=1730707201.25, trans_depth=2),  # only lengths: still an event
        ]
    )
    full, bare = events.to_dicts()
    assert full["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 500000, tzinfo=dt.UTC)
    assert (full["host"], full["url"], full["method"], full["status"], full["action"]) == (
        "api.openai.com",
        "http://api.openai.com/v1/chat/completions",
        "POST",
        200,
        "allowed",
    )
    assert (full["bytes_out"], full["bytes_in"], full["user"], full["user_agent"]) == (
        18244,
        96310,
        "jdoe",
        "OpenAI/Python 1.54.3",
    )
    assert (full["src_ip"], full["src_port"], full["dst_ip"], full["dst_port"]) == (
        "10.30.0.8",
        50000,
        "198.51.100.7",
        80,
    )
    assert full["zeek_uid"] == "CAbCdEfGhIjKlMnOp1"
    assert (bare["host"], bare["url"], bare["method"], bare["action"]) == (
        None,
        None,
        None,
        "unknown",
    )


def test_timestamps_and_key_spellings() -> None:
    nested = rec(method="GET", host="claude.ai", uri="/")
    for k in ("id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"):
        del nested[k]
    nested["id"] = {"orig_h": "10.30.0.9", "orig_p": 40000, "resp_h": "160.79.104.10", "resp_p": 80}
    underscore = {k.replace(".", "_"): v for k, v in rec(method="GET", host="x.example").items()}
    events, rejected, _ = parse(
        [
            line(ts="2024-11-04T08:00:00.123456Z", method="GET", host="chatgpt.com"),
            line(ts=1730707200123, method="GET", host="chatgpt.com"),  # JSON::TS_MILLIS
            json.dumps(nested),
            json.dumps(underscore),
        ]
    )
    assert rejected.height == 0
    rows = events.to_dicts()
    assert rows[0]["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 123456, tzinfo=dt.UTC)
    assert rows[1]["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 123000, tzinfo=dt.UTC)
    assert (rows[2]["src_ip"], rows[2]["src_port"], rows[2]["dst_ip"], rows[2]["host"]) == (
        "10.30.0.9",
        40000,
        "160.79.104.10",
        "claude.ai",
    )
    assert (rows[3]["src_ip"], rows[3]["dst_port"]) == ("10.30.0.8", 80)


def test_splunk_export_is_unwrapped() -> None:
    inner = line(method="GET", host="gemini.google.com", uri="/app", status_code=200)
    wrapped = json.dumps(
        {"preview": False, "offset": 0, "result": {"_raw": inner, "host": "sensor-01"}}
    )
    not_zeek = json.dumps({"preview": False, "result": {"_raw": "Nov  4 08:00:00 host app: x"}})
    events, rejected, _ = parse([wrapped, not_zeek])
    assert events["host"].to_list() == ["gemini.google.com"]
    assert events["url"].to_list() == ["http://gemini.google.com/app"]
    assert rejected["reason"].to_list() == ["not a Zeek http.log JSON record"]


def test_escapes_and_empty_values() -> None:
    events, _, _ = parse(
        [
            line(
                method="GET", host="chatgpt.com", uri="/caf\\xc3\\xa9", username="", user_agent=""
            ),
        ]
    )
    row = events.row(0, named=True)
    assert row["url"] == "http://chatgpt.com/café"
    assert (row["user"], row["user_agent"]) == (None, None)


def test_odd_value_shapes_are_read_key_by_key() -> None:
    """An object where text is expected makes the one-pass decode fail: the batch is then
    read key by key, and every record still parses."""
    events, rejected, _ = parse(
        [
            line(method="GET", host="chatgpt.com", uri="/", username={"first": "j"}),
            line(method="GET", host="claude.ai", uri="/", tags="not-a-list", status_code="200"),
        ]
    )
    assert rejected.height == 0
    assert events["host"].to_list() == ["chatgpt.com", "claude.ai"]
    assert events["user"].to_list() == ['{"first":"j"}', None]
    assert events["status"].to_list() == [None, 200]


def test_other_records_are_not_http() -> None:
    sip = line(
        method="INVITE", uri="sip:bob@example.com", call_id="a84b4c76e66710", request_path=[]
    )
    smtp = json.dumps(
        {
            k: v
            for k, v in rec(helo="mail.example", mailfrom="a@b.example").items()
            if "len" not in k
        }
    )
    ssl = json.dumps(
        {"ts": 1.0, "uid": "C1", "id.orig_h": "10.0.0.1", "server_name": "chatgpt.com"}
    )
    other_path = line(_path="sip", method="GET", host="chatgpt.com")
    split_path = line(_path="http_eth0", method="GET", host="chatgpt.com")
    events, rejected, skipped = parse(
        [sip, smtp, ssl, other_path, split_path, "", "[1, 2]", '{"ts": 1', "GET / HTTP/1.1"]
    )
    assert events.height == 1 and skipped == 1
    assert rejected["line_no"].to_list() == [0, 1, 2, 3, 6, 7, 8]


def test_sniff_positive_and_negative() -> None:
    lines = [line(method="GET", host="chatgpt.com", uri="/")] * 3
    assert detect_lines(lines).format == "zeek_http_json"
    cls = PARSERS.get("zeek_http_json")
    ssl = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","version":"TLSv13","server_name":"chatgpt.com","established":true}'
    socks = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","version":5,"request.name":"claude.ai","request_p":443}'
    dns = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","trans_id":1,"query":"chatgpt.com","qtype_name":"A"}'
    for other in (ssl, socks, dns):
        assert cls.sniff([other] * 3) is None
    assert cls.sniff(["#separator \\x09", "#path\thttp"]) is None


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "api.openai.com", "claude.ai", "www.example.com"])


@st.composite
def http_json_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999999)) / 1e6
    host = draw(hosts)
    status = draw(st.one_of(st.none(), st.integers(100, 599)))
    req, resp = draw(st.integers(0, 10**12)), draw(st.integers(0, 10**12))
    user = draw(st.one_of(st.none(), st.sampled_from(["jdoe", "a@b.example"])))
    values: dict[str, object] = {
        "ts": ts,
        "method": draw(st.sampled_from(["GET", "POST", "PUT"])),
        "host": host,
        "uri": "/p",
        "request_body_len": req,
        "response_body_len": resp,
    }
    if status is not None:
        values["status_code"] = status
    if user is not None:
        values["username"] = user
    expected = {"host": host, "status": status, "bytes_out": req, "bytes_in": resp, "user": user}
    return line(**values), expected


@given(st.lists(st.one_of(http_json_lines().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("zeek_http_json", lines)


@given(st.lists(st.one_of(http_json_lines().map(lambda t: t[0]), NOISE), min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("zeek_http_json", lines)


@given(http_json_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse([text])[0].row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key


@st.composite
def damaged_json(draw: st.DrawFn) -> str:
    """A record with a few characters inserted, deleted or cut off."""
    text = draw(http_json_lines())[0]
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "cut"]))
        if op == "insert":
            piece = draw(st.sampled_from([*'{}[]":,\\ 0e.-tn', "\\ud800", "\\u00e9", "1e400"]))
            text = text[:i] + piece + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 1 :]
        else:
            text = text[:i]
    return text


@given(
    st.lists(st.one_of(damaged_json(), http_json_lines().map(lambda t: t[0]), NOISE), max_size=30)
)
def test_batch_json_check_agrees_with_json_valid_line_by_line(lines: list[str]) -> None:
    batch = json_objects(pl.Series(lines, dtype=pl.String)).to_list()
    single = [
        bool(json_valid(pl.Series([ln], dtype=pl.String)).fill_null(False)[0]) for ln in lines
    ]
    assert batch == single


@given(
    st.lists(
        st.one_of(damaged_json(), http_json_lines().map(lambda t: t[0])), min_size=1, max_size=30
    )
)
def test_prefiltered_path_agrees_on_damaged_records(lines: list[str]) -> None:
    check_fast_path_agrees("zeek_http_json", lines)
