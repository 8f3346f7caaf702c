"""BIND 9: query log, security/query-errors/RPZ/rate-limit lines, envelopes (standalone,
categories, syslog), skipped vs unparsed lines, sniffing, the ``not_prefixed`` helper,
and property tests."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers._dnslog import DIGIT, lit, not_prefixed
from shadowscan.parsers.bind import BindParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

FILE_TIME = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)
QUERY = (
    "04-Nov-2024 09:00:00.120 queries: info: client @0x7f3a2c01e8a0 10.20.1.15#50312 "
    "(chatgpt.com): query: chatgpt.com IN A +E(0)K (10.20.0.53)"
)


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = BindParser(ParseContext("t", tz, FILE_TIME)).parse(batch)
    return out.events, out.rejected, out.skipped


def row(line: str, tz: str = "UTC") -> dict[str, object]:
    events, rejected, _ = parse([line], tz)
    assert rejected.is_empty(), line
    return events.row(0, named=True)


def test_query_log_fields() -> None:
    r = row(QUERY)
    assert r["ts"] == dt.datetime(2024, 11, 4, 9, 0, 0, 120000, tzinfo=dt.UTC)
    assert (r["src_ip"], r["src_port"], r["dst_ip"]) == ("10.20.1.15", 50312, "10.20.0.53")
    assert (r["host"], r["dns_qtype"], r["dns_rcode"], r["action"]) == (
        "chatgpt.com",
        "A",
        None,
        "unknown",
    )
    assert (r["bind_event"], r["bind_flags"], r["bind_view"]) == ("query", "+E(0)K", None)


def test_envelope_variants() -> None:
    body = "client 10.20.1.15#50312 (Claude.AI.): query: Claude.AI. IN TYPE65 - (10.20.0.53)"
    lines = [
        body,  # print-time no
        f"04-Nov-2024 09:00:00.120 {body}",
        f"04-Nov-2024 09:00:00.120 info: {body}",
        f"queries: debug 3: {body}",
        f"2024-11-04T09:00:00.120Z queries: info: {body}",
        f"<30>Nov  4 10:00:00 ns1 named[1201]: {body}",
        f"2024-11-04T10:00:00+01:00 ns1 named[1201]: queries: {body}",
    ]
    events, rejected, _ = parse(lines, tz="Europe/Berlin")
    assert rejected.is_empty()
    assert events["host"].to_list() == ["claude.ai"] * len(lines)
    assert events["dns_qtype"].to_list() == ["HTTPS"] * len(lines)
    nine_utc = dt.datetime(2024, 11, 4, 9, 0, tzinfo=dt.UTC)
    assert events["ts"].to_list() == [
        None,  # no time at all
        nine_utc + dt.timedelta(microseconds=120000) - dt.timedelta(hours=1),  # local time
        nine_utc + dt.timedelta(microseconds=120000) - dt.timedelta(hours=1),
        None,
        nine_utc + dt.timedelta(microseconds=120000),  # iso8601-utc
        nine_utc,  # syslog time in --timezone
        nine_utc,
    ]


def test_older_and_extended_query_forms() -> None:
    events, rejected, _ = parse(
        [
            "client 10.1.2.3#1053: view internal: query: api.openai.com IN AAAA +",
            "client 10.1.2.3#1054: query: api.openai.com IN A",
            "client fe80::1%eth0#1055 (x.example): query: x.example IN A +E(0) (::1) [ECS 10.1.2.0/24/0]",
        ]
    )
    assert rejected.is_empty()
    assert events["bind_view"].to_list() == ["internal", None, None]
    assert events["dst_ip"].to_list() == [None, None, "::1"]
    assert events["src_ip"].to_list() == ["10.1.2.3", "10.1.2.3", "fe80::1%eth0"]


def test_security_and_error_lines() -> None:
    c = "client @0x7f 198.51.100.23#3311 (corp.example): "
    events, rejected, _ = parse(
        [
            c + "query (cache) 'corp.example/ANY/IN' denied (allow-query-cache did not match)",
            c + "query 'corp.example/A/IN' approved",
            c + "zone transfer 'corp.example/AXFR/IN' denied",
            c + "bad zone transfer request: 'corp.example/IN': non-authoritative zone (NOTAUTH)",
            c + "query failed (REFUSED) for corp.example/IN/TXT at query.c:10288",
            c + "query failed (SERVFAIL) for corp.example/IN/A at query.c:10288",
            c + "query failed (timed out) for corp.example/IN/A at query.c:10288",
            c + "rate limit slip response to 198.51.100.0/24 for corp.example IN ANY  (00800db4)",
            c + "would rate limit drop NXDOMAIN response to 198.51.100.0/24 for corp.example (1)",
        ]
    )
    assert rejected.is_empty()
    assert events["bind_event"].to_list() == [
        "query-denied",
        "query-approved",
        "xfer-denied",
        "xfer-refused",
        "query-failed",
        "query-failed",
        "query-failed",
        "rate-limit",
        "rate-limit",
    ]
    assert events["action"].to_list() == [
        "blocked",
        "allowed",
        "blocked",
        "blocked",
        "blocked",
        "allowed",
        "unknown",
        "blocked",
        "unknown",
    ]
    assert events["dns_qtype"].to_list() == ["ANY", "A", "AXFR", None, "TXT", "A", "A", "ANY", None]
    assert events["dns_rcode"].to_list() == [
        None,
        None,
        None,
        "NOTAUTH",
        "REFUSED",
        "SERVFAIL",
        None,
        None,
        None,
    ]
    assert set(events["host"].to_list()) == {"corp.example"}


def test_rpz_policies() -> None:
    c = "client @0x7f 10.20.2.41#38211 (chat.deepseek.com): "
    events, _, _ = parse(
        [
            c + "rpz QNAME NXDOMAIN rewrite chat.deepseek.com/A/IN via chat.deepseek.com.rpz",
            c + "rpz QNAME Local-Data rewrite chat.deepseek.com/AAAA/IN via chat.deepseek.com.rpz",
            c + "rpz QNAME PASSTHRU rewrite chat.deepseek.com/A/IN via chat.deepseek.com.allow",
            c + "disabled rpz QNAME NXDOMAIN rewrite chat.deepseek.com/A/IN via x.rpz",
            c + "rpz IP NODATA rewrite chat.deepseek.com via 32.1.0.0.127.rpz-ip.rpz",
        ]
    )
    assert events["action"].to_list() == ["blocked", "blocked", "allowed", "allowed", "blocked"]
    assert events["dns_rcode"].to_list() == ["NXDOMAIN", None, None, None, None]
    assert events["dns_qtype"].to_list() == ["A", "AAAA", "A", "A", None]


def test_other_messages_are_skipped_but_broken_lookups_are_not() -> None:
    _, rejected, skipped = parse(
        [
            "04-Nov-2024 09:00:00.000 general: info: zone corp.example/IN: loaded serial 7",
            "<30>Nov  4 09:00:00 ns1 named[1201]: resolver priming query complete",
            "<30>Nov  4 09:00:00 ns1 named[1201]: client @0x7f 10.0.0.2#53: received notify for zone 'x'",
            "04-Nov-2024 09:00:00.000 xfer-out: info: client @0x7f 10.0.0.2#5 (x): transfer of 'x/IN': AXFR started",
            "client @0x7f 10.0.0.2#5 (x): view ext: update 'x/IN' denied",
            "",
            # broken lookups and foreign lines
            "04-Nov-2024 09:00:00.000 queries: info: client @0x7f 10.0.0.2#5 (x): query: x IN",
            "04-Nov-2024 09:00:00.000 queries: info: client @0x7f 10.0.0.2#5 (x): view ext: query x",
            "client 10.0.0.2#5: UDP: query: x IN A response: NOERROR +",  # Infoblox's
            "1730707200.000 1 10.0.0.1 TCP_MISS/200 10 GET http://x/ - HIER_NONE/- -",
        ]
    )
    assert skipped == 6
    assert rejected["line_no"].to_list() == [6, 7, 8, 9]


def test_sniff() -> None:
    assert detect_lines([QUERY] * 5).format == "bind"
    assert detect_lines(["<30>Nov  4 09:00:00 ns1 named[1201]: " + QUERY[25:]] * 3).format == "bind"
    assert PARSERS.get("bind").sniff(["Nov  4 09:00:00 host sshd[1]: Accepted password"]) is None
    assert detect_lines(["hello world", '{"a": 1}']).format is None
    # Infoblox response logging belongs to infoblox_bind, even with BIND lines around it
    infoblox = (
        "<30>Nov  4 09:00:00 ns1 named[4120]: 04-Nov-2024 09:00:00.120 client 10.20.1.15#50312: "
        "UDP: query: chatgpt.com IN A response: NOERROR +ED chatgpt.com. 60 IN A 104.18.32.47;"
    )
    assert detect_lines([infoblox, QUERY]).format == "infoblox_bind"


def test_not_prefixed_helper() -> None:
    rx = re.compile("^" + not_prefixed([lit("client "), lit("cat: "), [DIGIT, DIGIT]]))
    for text, expected in [
        ("client 1.2.3.4", False),
        ("clients", True),
        ("cli", True),
        ("", True),
        ("cat: x", False),
        ("cat:x", True),
        ("12-Nov", False),
        ("1a", True),
        ("zone", True),
    ]:
        assert bool(rx.search(text)) is expected, text


@given(st.text(st.sampled_from("ab: 1"), max_size=8))
def test_not_prefixed_matches_startswith(text: str) -> None:
    prefixes = ["ab", "a: ", "b1", ": "]
    rx = "^" + not_prefixed([lit(p) for p in prefixes])
    want = not any(text.startswith(p) for p in prefixes)
    assert bool(re.search(rx, text)) is want
    assert pl.Series([text]).str.contains(rx)[0] is want


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.7", st.integers(0, 255), st.integers(0, 255))
names = st.sampled_from(["chatgpt.com", "claude.ai", "api.openai.com", "intranet.local", "."])
qtypes = st.sampled_from(["A", "AAAA", "HTTPS", "TYPE65", "TXT", "ANY"])
envelopes = st.sampled_from(
    [
        "",
        "04-Nov-2024 09:00:00.120 ",
        "04-Nov-2024 09:00:00.120 queries: info: ",
        "<30>Nov  4 09:00:00 ns1 named[1201]: ",
        "Nov  4 09:00:00 ns1 named[1201]: 04-Nov-2024 09:00:00.120 security: ",
    ]
)


@st.composite
def bind_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    env, ip, port = draw(envelopes), draw(ips), draw(st.integers(1, 65535))
    name, qtype = draw(names), draw(qtypes)
    client = f"client @0x7f3a{draw(st.integers(0, 999))} {ip}#{port} ({name}): "
    kind = draw(st.integers(0, 2))
    if kind == 0:
        body = f"query: {name} IN {qtype} +E(0)K (10.20.0.53)"
        action = "unknown"
    elif kind == 1:
        body = f"query (cache) '{name}/{qtype}/IN' denied"
        action = "blocked"
    else:
        body = f"rpz QNAME NXDOMAIN rewrite {name}/{qtype}/IN via {name}.rpz"
        action = "blocked"
    host = None if name == "." else name
    qt = "HTTPS" if qtype == "TYPE65" else qtype
    return env + client + body, {
        "src_ip": ip,
        "src_port": port,
        "host": host,
        "dns_qtype": qt,
        "action": action,
    }


def _mutate(line: str, cut: int) -> str:
    return line[: cut % (len(line) + 1)]


valid = bind_lines().map(lambda t: t[0])
skips = st.sampled_from(
    [
        "04-Nov-2024 09:00:00.000 general: info: zone corp.example/IN: loaded serial 7",
        "<30>Nov  4 09:00:00 ns1 named[1201]: client @0x1 10.0.0.2#53: received notify for zone 'x'",
    ]
)
any_line = st.one_of(valid, st.builds(_mutate, valid, st.integers(0, 300)), skips, NOISE)


@given(st.lists(any_line, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("bind", lines)


@given(st.lists(any_line, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("bind", lines)


@given(bind_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    r = row(line)
    for key, value in expected.items():
        assert r[key] == value, key
