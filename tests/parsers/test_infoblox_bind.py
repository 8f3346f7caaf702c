"""Infoblox NIOS named syslog: response logging with answers, BIND lines, rewrites, CEF RPZ
hits, skipped informational lines, sniffing against ``bind``, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.infoblox_bind import InfobloxBindParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

FILE_TIME = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)
HEADER = "<30>Nov  4 09:00:00 ns1.corp.example named[4120]: "
RESPONSE = (
    HEADER
    + "04-Nov-2024 09:00:00.120 client 10.20.1.15#50313: UDP: query: files.oaiusercontent.com "
    "IN AAAA response: NOERROR + files.oaiusercontent.com. 300 IN CNAME Edge.Example.; "
    'edge.example. 60 IN TXT "a; b"; edge.example. 60 IN AAAA 2001:db8::1f;'
)
CEF = (
    HEADER + "CEF:0|Infoblox|NIOS|9.0.3|RPZ-QNAME|NXDOMAIN|7|app=DNS dst=10.20.0.53 "
    'src=10.20.2.41 spt=38211 view=_default qtype=A msg="rpz QNAME NXDOMAIN rewrite '
    'chat.deepseek.com [A] via chat.deepseek.com.rpz.corp.example" CAT=RPZ'
)


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = InfobloxBindParser(ParseContext("t", "UTC", FILE_TIME)).parse(batch)
    return out.events, out.rejected, out.skipped


def test_response_logging_answers() -> None:
    events, rejected, _ = parse([RESPONSE])
    assert rejected.is_empty()
    r = events.row(0, named=True)
    assert r["ts"] == dt.datetime(2024, 11, 4, 9, 0, 0, 120000, tzinfo=dt.UTC)
    assert (r["src_ip"], r["src_port"], r["host"], r["dns_qtype"]) == (
        "10.20.1.15",
        50313,
        "files.oaiusercontent.com",
        "AAAA",
    )
    # CNAME target normalised, TXT (with a quoted ';') left out, address kept, in order
    assert r["dns_answers"] == ["edge.example", "2001:db8::1f"]
    assert (r["dns_rcode"], r["action"], r["infoblox_bind_event"]) == (
        "NOERROR",
        "allowed",
        "response",
    )


def test_response_variants() -> None:
    events, rejected, _ = parse(
        [
            HEADER + "infoblox-responses: 04-Nov-2024 09:00:01.000 client 10.20.1.22#41877: TCP: "
            "query: claude.ai IN A response: REFUSED -",
            "<30>Nov  4 09:00:02 ns1.corp.example 10.20.0.53 named[4120]: 04-Nov-2024 09:00:02.000 "
            "client 10.20.1.23#41878: view 12: UDP: query: chatgpt.com IN A response: NOERROR +ED "
            "chatgpt.com. 60 IN A 0.0.0.0;",
            HEADER + "client 10.20.1.24#41879 UDP: query: gone.example IN A response: NXDOMAIN +ED",
            HEADER + "client 10.20.1.25#41880 UDP: query: slow.example IN A response: SERVFAIL +",
        ]
    )
    assert rejected.is_empty()
    assert events["action"].to_list() == ["blocked", "blocked", "allowed", "allowed"]
    assert events["dns_rcode"].to_list() == ["REFUSED", "NOERROR", "NXDOMAIN", "SERVFAIL"]
    assert events["infoblox_bind_view"].to_list() == [None, "12", None, None]
    assert events["dns_answers"].to_list() == [None, ["0.0.0.0"], None, None]


def test_rewrites_and_cef() -> None:
    events, rejected, _ = parse(
        [
            HEADER + "client @0x7ff 10.20.1.31#50460 (chat.mistral.ai): rewriting query name "
            "'chat.mistral.ai' to 'blocked.corp.example', type AAAA",
            CEF,
            CEF.replace("|NXDOMAIN|", "|PASSTHRU|").replace("QNAME NXDOMAIN", "QNAME PASSTHRU"),
        ]
    )
    assert rejected.is_empty()
    assert events["host"].to_list() == ["chat.mistral.ai", "chat.deepseek.com", "chat.deepseek.com"]
    assert events["action"].to_list() == ["blocked", "blocked", "allowed"]
    assert events["dns_qtype"].to_list() == ["AAAA", "A", "A"]
    assert events["dns_rcode"].to_list() == [None, "NXDOMAIN", None]
    cef = events.row(1, named=True)
    assert (cef["src_ip"], cef["src_port"], cef["dst_ip"]) == ("10.20.2.41", 38211, "10.20.0.53")


def test_bind_lines_and_skipped_messages() -> None:
    events, rejected, skipped = parse(
        [
            HEADER + "queries: client @0x7f 10.20.1.30#33001 (api.openai.com): query: "
            "api.openai.com IN A + (10.20.0.53)",
            HEADER + "query-errors: client @0x7f 10.20.1.30#33001 (api.openai.com): query failed "
            "(REFUSED) for api.openai.com/IN/A at query.c:10288",
            HEADER + "rpz: corp-rpz: reload start",
            HEADER + "zone corp.example/IN: notify from 10.20.0.54#41012: zone is up to date",
            HEADER + "transfer of 'corp.example/IN' from 10.20.0.54#53: Transfer status: success",
            HEADER
            + "client @0x7f 10.20.0.54#57027 (corp.example): transfer of 'corp.example/IN': AXFR ended",
            HEADER + "validating corp.example/NSEC: bad cache hit (corp.example/DNSKEY)",
            HEADER + "CEF:0|Infoblox|NIOS|9.0.3|DNS Tunneling|x|7|app=DNS src=10.0.0.1",
            HEADER + "client 10.20.1.15#50313: UDP: query: chatgpt.com IN A resp",
        ]
    )
    assert events["infoblox_bind_event"].to_list() == ["query", "query-failed"]
    assert events["action"].to_list() == ["unknown", "blocked"]
    assert skipped == 6
    assert rejected["line_no"].to_list() == [8]


def test_sniff() -> None:
    assert detect_lines([RESPONSE] * 3).format == "infoblox_bind"
    assert detect_lines([CEF, RESPONSE]).format == "infoblox_bind"
    bind_only = HEADER + "client 10.1.2.3#5 (x.example): query: x.example IN A + (10.0.0.1)"
    # plain BIND lines, even from an Infoblox appliance, are bind
    assert PARSERS.get("infoblox_bind").sniff([bind_only] * 3) is None
    assert detect_lines([bind_only] * 3).format == "bind"
    assert PARSERS.get("infoblox_bind").sniff(["hello", "world"]) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.9", st.integers(0, 255), st.integers(0, 255))
names = st.sampled_from(["chatgpt.com", "claude.ai", "api.openai.com", "intranet.local"])
rcodes = st.sampled_from(["NOERROR", "NXDOMAIN", "REFUSED", "SERVFAIL"])


@st.composite
def response_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ip, port, name, rcode = draw(ips), draw(st.integers(1, 65535)), draw(names), draw(rcodes)
    addrs = draw(st.lists(st.sampled_from(["104.18.32.47", "2001:db8::5", "0.0.0.0"]), max_size=3))
    answers = " ".join(f"{name}. 60 IN {'AAAA' if ':' in a else 'A'} {a};" for a in addrs)
    view = draw(st.sampled_from(["", "view 3: "]))
    line = (
        f"{HEADER}04-Nov-2024 09:00:00.120 client {ip}#{port}: {view}UDP: query: {name} IN A "
        f"response: {rcode} +ED {answers}"
    ).rstrip()
    sinkholed = bool(addrs) and all(a == "0.0.0.0" for a in addrs)
    action = "blocked" if rcode == "REFUSED" or sinkholed else "allowed"
    return line, {
        "src_ip": ip,
        "src_port": port,
        "host": name,
        "dns_rcode": rcode,
        "dns_answers": addrs or None,
        "action": action,
    }


valid = st.one_of(response_lines().map(lambda t: t[0]), st.just(CEF))
any_line = st.one_of(
    valid,
    st.builds(lambda s, n: s[: n % (len(s) + 1)], valid, st.integers(0, 300)),
    st.just(HEADER + "rpz: corp-rpz: reload start"),
    NOISE,
)


@given(st.lists(any_line, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("infoblox_bind", lines)


@given(st.lists(any_line, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("infoblox_bind", lines)


@given(response_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    events, rejected, _ = parse([line])
    assert rejected.is_empty()
    r = events.row(0, named=True)
    for key, value in expected.items():
        assert r[key] == value, key
