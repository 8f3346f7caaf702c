"""Check Point Log Exporter syslog: fields, escapes, time forms, actions, skipped
non-connection lines, sniffing, and property tests (never raises, every line counted,
fast path agrees, round trip)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.checkpoint import CheckpointParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

HEADER = "<134>1 2024-11-04T09:00:03Z gw-hq01 CheckPoint 18112 - "


def line(**pairs: str) -> str:
    return HEADER + "[" + "; ".join(f'{k}:"{v}"' for k, v in pairs.items()) + "]"


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = CheckpointParser(ParseContext("t")).parse(batch)
    return out.events, out.rejected, out.skipped


def row(text: str) -> dict[str, object]:
    events, rejected, _ = parse([text])
    assert rejected.is_empty(), text
    return events.row(0, named=True)


def test_connection_fields() -> None:
    r = row(
        line(
            action="Accept",
            time="1730710803",
            src="10.20.1.15",
            s_port="51234",
            dst="104.18.32.47",
            service="443",
            proto="6",
            appi_name="ChatGPT",
            resource="https://chatgpt.com/backend-api/conversation?model=x",
            user="CORP\\\\jdoe",
            rule_name="Allow GenAI",
            product="Application Control",
            client_outbound_bytes="48211",
            client_inbound_bytes="912345",
            bytes="960556",
        )
    )
    assert r["ts"] == dt.datetime(2024, 11, 4, 9, 0, 3, tzinfo=dt.UTC)
    assert (r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"]) == (
        "10.20.1.15",
        51234,
        "104.18.32.47",
        443,
    )
    assert (r["user"], r["app"], r["host"], r["url"]) == (
        "CORP\\jdoe",
        "ChatGPT",
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
    )
    assert (r["bytes_out"], r["bytes_in"], r["checkpoint_bytes_total"]) == (48211, 912345, 960556)
    assert (r["action"], r["checkpoint_rule"], r["checkpoint_proto"]) == (
        "allowed",
        "Allow GenAI",
        "6",
    )


def test_escapes_doubled_colons_and_time_forms() -> None:
    policy = r"product=VPN-1 \u0026 FireWall-1[db_tag={{1}};mgmt=m;policy_name=Standard\\]"
    base = (
        HEADER + '[action:"Decrypt"; time:"{t}"; __policy_id_tag:"' + policy + '"; '
        'methods::"ESP: AES-128 + SHA1"; rule_action:"Accept"; dst:"10.0.0.2"; '
        'product:"VPN-1 \\u0026 FireWall-1"; s_port:"49129"; service:"53"; src:"10.0.0.1"; '
        'src_user_name:"srcuser "; scheme::"IKE"]'
    )
    rows = parse(
        [
            base.format(t="1669999152000"),
            base.format(t="1669999152"),
            base.format(t="2022-12-02T16:39:12Z"),
        ]
    )[0].to_dicts()
    assert {r["ts"] for r in rows} == {dt.datetime(2022, 12, 2, 16, 39, 12, tzinfo=dt.UTC)}
    r = rows[0]
    assert (r["checkpoint_product"], r["user"], r["action"], r["checkpoint_action"]) == (
        "VPN-1 & FireWall-1",
        "srcuser",
        "allowed",  # "Decrypt" says nothing: rule_action decides
        "Decrypt",
    )


def test_actions_and_fallbacks() -> None:
    rows = parse(
        [
            line(action="Drop", src="10.0.0.1", dst="1.1.1.1"),
            line(action="Reject", src="10.0.0.1", dst="1.1.1.1"),
            line(action="Inform", src="10.0.0.1", dst="1.1.1.1"),
            line(
                action="Accept",
                src="10.0.0.1",
                dst_domain="Gemini.Google.com.",
                sent_bytes="5",
                received_bytes="7",
            ),
        ]
    )[0].to_dicts()
    assert [r["action"] for r in rows] == ["blocked", "blocked", "unknown", "allowed"]
    assert (rows[3]["host"], rows[3]["url"], rows[3]["bytes_out"], rows[3]["bytes_in"]) == (
        "gemini.google.com",
        None,
        5,
        7,
    )
    # no "time" key: the header's time
    assert rows[0]["ts"] == dt.datetime(2024, 11, 4, 9, 0, 3, tzinfo=dt.UTC)


def test_non_connections_skipped_broken_lines_unparsed() -> None:
    events, rejected, skipped = parse(
        [
            line(action="Install", operation="Install Policy", administrator="admin"),
            line(srcx="a", sr="b", s="c"),
            HEADER + '[action:"Accept"; src:"10.0.0.1; dst:"x"]',
            HEADER + 'action:"Accept"; src:"10.0.0.1"',
            "plain text",
            "",
        ]
    )
    assert events.is_empty()
    assert skipped == 3
    assert rejected["line_no"].to_list() == [2, 3, 4]


def test_sniff_positive_and_negative() -> None:
    good = line(action="Accept", src="10.0.0.1", dst="1.1.1.1", loguid="{0x1}")
    assert detect_lines([good] * 4).format == "checkpoint"
    parser = PARSERS.get("checkpoint")
    assert parser.sniff(['[a:"b"; src:"1.2.3.4"]', "hello"]) is None  # nothing names Check Point
    assert parser.sniff(['{"src": "1.2.3.4"}']) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.9", st.integers(0, 255), st.integers(0, 255))
apps = st.sampled_from(["ChatGPT", "Claude", "Google Gemini", "Dropbox"])
hosts = st.sampled_from(["chatgpt.com", "claude.ai", "www.example.com"])
actions = st.sampled_from([("Accept", "allowed"), ("Drop", "blocked"), ("Detect", "unknown")])


@st.composite
def cp_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, app, host = draw(ips), draw(apps), draw(hosts)
    word, action = draw(actions)
    out, into = draw(st.integers(0, 10**12)), draw(st.integers(0, 10**12))
    text = line(
        action=word,
        time=str(draw(st.integers(10**9, 2 * 10**9))),
        src=src,
        dst="192.0.2.1",
        service="443",
        appi_name=app,
        resource=f"https://{host}/x",
        client_outbound_bytes=str(out),
        client_inbound_bytes=str(into),
    )
    return text, {
        "src_ip": src,
        "app": app,
        "host": host,
        "action": action,
        "bytes_out": out,
        "bytes_in": into,
        "dst_port": 443,
    }


valid = cp_lines().map(lambda t: t[0])
skipped_line = st.just(line(action="Install", operation="Install Policy", loguid="{0x2}"))
lines_mix = st.one_of(
    valid,
    skipped_line,
    st.tuples(valid, st.integers(0, 300)).map(lambda t: t[0][: t[1]]),
    NOISE,
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("checkpoint", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("checkpoint", lines)


@given(cp_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    r = row(text)
    for key, value in expected.items():
        assert r.get(key) == value, key
