"""Juniper SRX RT_FLOW / APPTRACK: structured and unstructured forms, NAT, app choice,
where bytes go, typographic quotes and trailing garbage, skipped Junos messages,
sniffing, and property tests (never raises, every line counted, fast path agrees, round
trip)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.juniper_srx import JuniperSrxParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

FILE_TIME = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)


def structured(event: str, ts: str = "2024-11-04T09:02:09.015Z", **pairs: str) -> str:
    sd = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in pairs.items())
    return f"<14>1 {ts} srx01 RT_FLOW - {event} [junos@2636.1.1.1.2.129 {sd}]"


FLOW = {
    "source_address": "10.20.1.15",
    "source_port": "51234",
    "destination_address": "104.18.32.47",
    "destination_port": "443",
    "nat_source_address": "198.51.100.7",
    "nat_source_port": "40001",
    "nat_destination_address": "104.18.32.47",
    "nat_destination_port": "443",
    "protocol_id": "6",
    "policy_name": "trust-to-untrust",
    "username": "jdoe",
}
COUNTS = {"bytes_from_client": "48211", "bytes_from_server": "912345"}


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = JuniperSrxParser(ParseContext("t", "UTC", FILE_TIME)).parse(batch)
    return out.events, out.rejected, out.skipped


def row(text: str) -> dict[str, object]:
    events, rejected, _ = parse([text])
    assert rejected.is_empty(), text
    return events.row(0, named=True)


def test_structured_close() -> None:
    r = row(
        structured(
            "RT_FLOW_SESSION_CLOSE",
            reason="TCP FIN",
            application="HTTP",
            nested_application="CHATGPT",
            hostname="ChatGPT.com",
            **FLOW,
            **COUNTS,
        )
    )
    assert r["ts"] == dt.datetime(2024, 11, 4, 9, 2, 9, 15000, tzinfo=dt.UTC)
    assert (r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], r["user"]) == (
        "10.20.1.15",
        51234,
        "104.18.32.47",
        443,
        "jdoe",
    )
    assert (r["bytes_out"], r["bytes_in"], r["app"], r["host"]) == (
        48211,
        912345,
        "CHATGPT",
        "chatgpt.com",
    )
    assert (r["juniper_srx_phase"], r["juniper_srx_reason"], r["juniper_srx_rule"]) == (
        "end",
        "TCP FIN",
        "trust-to-untrust",
    )
    assert (r["juniper_srx_nat_src_ip"], r["juniper_srx_orig_dst_ip"]) == ("198.51.100.7", None)
    assert r["action"] == "allowed"


def test_bytes_only_on_rt_flow_close_and_app_choice() -> None:
    rows = parse(
        [
            structured(
                "RT_FLOW_SESSION_CREATE", application="HTTP", nested_application="UNKNOWN", **FLOW
            ),
            structured(
                "APPTRACK_SESSION_VOL_UPDATE",
                application="HTTP",
                nested_application="none",
                **FLOW,
                **COUNTS,
            ),
            structured(
                "APPTRACK_SESSION_CLOSE_LS",
                application="UNKNOWN",
                nested_application="UNKNOWN",
                **FLOW,
                **COUNTS,
            ),
            structured(
                "RT_FLOW_SESSION_DENY",
                application="HTTP",
                nested_application="CLAUDE",
                source_address="10.0.0.9",
                destination_address="160.79.104.10",
                reason="Denied by policy",
            ),
        ]
    )[0].to_dicts()
    assert [r["juniper_srx_phase"] for r in rows] == ["start", "update", "end", "deny"]
    assert [r.get("bytes_out") for r in rows] == [None, None, None, None]
    assert [r["juniper_srx_apptrack_bytes_out"] for r in rows] == [None, 48211, 48211, None]
    assert [r["app"] for r in rows] == ["HTTP", "HTTP", None, "CLAUDE"]
    assert [r["action"] for r in rows] == ["allowed", "allowed", "allowed", "blocked"]
    assert rows[3]["user"] is None


def test_destination_nat_uses_the_real_destination() -> None:
    r = row(
        structured(
            "RT_FLOW_SESSION_CLOSE",
            **{
                **FLOW,
                "destination_address": "198.51.100.80",
                "destination_port": "8443",
                "nat_destination_address": "172.16.10.5",
                "nat_destination_port": "443",
                "nat_source_address": "10.20.1.15",
                "username": "N/A",
            },
            **COUNTS,
        )
    )
    assert (r["dst_ip"], r["dst_port"], r["juniper_srx_orig_dst_ip"]) == (
        "172.16.10.5",
        443,
        "198.51.100.80",
    )
    assert (r["juniper_srx_nat_src_ip"], r["user"]) == (None, None)


def test_typographic_quotes_trailing_garbage_and_local_time() -> None:
    text = structured(
        "APPTRACK_SESSION_ROUTE_UPDATE", ts="2024-11-04T10:02:09+01:00", **FLOW
    ).replace("]", " destination-interface-name=”st0.0” profile-name=”pf1”]1002")
    r = row(text)
    assert r["ts"] == dt.datetime(2024, 11, 4, 9, 2, 9, tzinfo=dt.UTC)
    assert (r["src_ip"], r["juniper_srx_phase"]) == ("10.20.1.15", "update")


def test_unstructured_forms() -> None:
    h = "<14>Nov  4 09:01:09 srx-br02 RT_FLOW: "
    rows = parse(
        [
            h
            + "RT_FLOW_SESSION_CLOSE: session closed TCP CLIENT RST: 10.30.0.8/40514->104.18.33.47/443 0x0 "
            "junos-https 198.51.100.9/40514->104.18.33.47/443 0x0 source rule snat-br N/A N/A 6 "
            "br-to-internet trust untrust 90211 22(4210) 25(61877) 68 HTTP CHATGPT akumar(N/A) ge-0/0/2.0 Yes",
            h
            + "RT_FLOW_SESSION_CREATE: session created 10.30.0.8/40514->104.18.33.47/443 junos-https "
            "198.51.100.9/40514->104.18.33.47/443 snat-br None 6 br-to-internet trust untrust 90211 "
            "N/A(N/A) ge-0/0/2.0 UNKNOWN UNKNOWN UNKNOWN",
            h
            + "RT_FLOW_SESSION_DENY: session denied 10.30.0.9/40600->160.79.104.11/443 0x0 junos-https "
            "6(0) block-ai trust untrust HTTP CLAUDE N/A(N/A) ge-0/0/2.0 No Denied by policy 90230",
            "May  8 02:52:02 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed idle Timeout: "
            "10.254.1.48/35639->192.0.2.188/5228 None 203.0.113.123/40488->192.0.2.188/5228 r1 None 17 "
            "pol-1 trust untrust 80888035 46(4109) 42(4812) 13512",
            h
            + "APPTRACK_SESSION_CLOSE: AppTrack session closed TCP FIN: 10.30.0.8/40514->104.18.33.47/443 "
            "junos-https HTTP CHATGPT 198.51.100.9/40514->104.18.33.47/443 snat-br N/A 6 br-to-internet "
            "trust untrust 90211 22(4210) 25(61877) 68 akumar N/A Yes",
        ]
    )[0].to_dicts()
    close, create, deny, old, apptrack = rows
    assert (close["src_ip"], close["dst_ip"], close["dst_port"], close["user"]) == (
        "10.30.0.8",
        "104.18.33.47",
        443,
        "akumar",
    )
    # packets(bytes): the bytes are inside the parentheses
    assert (close["bytes_out"], close["bytes_in"], close["app"]) == (4210, 61877, "CHATGPT")
    assert (close["juniper_srx_reason"], close["juniper_srx_nat_src_ip"]) == (
        "TCP CLIENT RST",
        "198.51.100.9",
    )
    assert (create["juniper_srx_phase"], create["app"], create["juniper_srx_rule"]) == (
        "start",
        None,
        "br-to-internet",
    )
    assert (deny["action"], deny["app"], deny["juniper_srx_proto"]) == ("blocked", "CLAUDE", "6")
    assert (old["bytes_out"], old["bytes_in"], old["juniper_srx_rule"]) == (4109, 4812, "pol-1")
    assert old["ts"] == dt.datetime(2024, 5, 8, 2, 52, 2, tzinfo=dt.UTC)
    assert (apptrack.get("bytes_out"), apptrack["juniper_srx_apptrack_bytes_in"]) == (None, 61877)


def test_other_messages_skipped_broken_sessions_unparsed() -> None:
    events, rejected, skipped = parse(
        [
            '<14>1 2024-11-04T09:06:00Z srx01 RT_SCREEN - RT_SCREEN_TCP [junos@2636.1.1.1.2.129 source-address="1.1.1.1"]',
            "Nov  4 09:02:00 srx01 mgd[4410]: UI_COMMIT: User 'admin' requested 'commit' operation",
            structured("RT_FLOW_SESSION_CLOSE", reason="x"),
            "Nov  4 09:02:05 srx01 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: garbage",
            "Nov  4 09:02:05 srx01 RT_FLOW_SESSION_CLOSE: session closed TCP FIN: garbage",
            "not junos",
            "",
        ]
    )
    assert events.is_empty()
    assert skipped == 3
    assert rejected["line_no"].to_list() == [2, 3, 4, 5]


def test_sniff_positive_and_negative() -> None:
    good = structured("RT_FLOW_SESSION_CLOSE", **FLOW, **COUNTS)
    other = "Nov  4 09:02:00 srx01 mgd[4410]: UI_COMMIT: User 'admin' requested 'commit'"
    assert detect_lines([good, other, good]).format == "juniper_srx"
    parser = PARSERS.get("juniper_srx")
    assert parser.sniff([other, other]) is None
    assert parser.sniff(["source-address=1.2.3.4", "hello"]) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.3", st.integers(0, 255), st.integers(0, 255))
apps = st.sampled_from(["CHATGPT", "CLAUDE", "GOOGLE-GEMINI", "SSL"])


@st.composite
def srx_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, app = draw(ips), draw(apps)
    sport = draw(st.integers(1024, 65535))
    out, into = draw(st.integers(0, 10**12)), draw(st.integers(0, 10**12))
    if draw(st.booleans()):
        text = structured(
            "RT_FLOW_SESSION_CLOSE",
            **{**FLOW, "source_address": src, "source_port": str(sport)},
            bytes_from_client=str(out),
            bytes_from_server=str(into),
            application="HTTP",
            nested_application=app,
        )
    else:
        text = (
            f"Nov  4 09:01:09 srx01 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: "
            f"{src}/{sport}->104.18.32.47/443 0x0 junos-https 198.51.100.7/{sport}->104.18.32.47/443 "
            f"0x0 N/A N/A N/A N/A 6 pol trust untrust 77 3({out}) 4({into}) 9 HTTP {app} jdoe(N/A) ge-0/0/1.0 No"
        )
    return text, {
        "src_ip": src,
        "src_port": sport,
        "dst_ip": "104.18.32.47",
        "bytes_out": out,
        "bytes_in": into,
        "app": app,
        "user": "jdoe",
    }


valid = srx_lines().map(lambda t: t[0])
skipped_line = st.just(
    "Nov  4 09:02:00 srx01 mgd[4410]: UI_COMMIT: User 'admin' requested 'commit'"
)
lines_mix = st.one_of(
    valid,
    skipped_line,
    st.tuples(valid, st.integers(0, 400)).map(lambda t: t[0][: t[1]]),
    NOISE,
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("juniper_srx", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("juniper_srx", lines)


@given(srx_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    r = row(text)
    for key, value in expected.items():
        assert r.get(key) == value, key
