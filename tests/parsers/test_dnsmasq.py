"""dnsmasq: query lines as lookups, answer lines as answer-only rows, the extra format,
OpenWrt logread, skipped forwarded/DHCP/start-up lines, sniffing against Pi-hole, and
property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.dnsmasq import DnsmasqParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

FILE_TIME = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
H = "Nov  4 09:00:01 dnsmasq[812]: "


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, pl.DataFrame, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = DnsmasqParser(ParseContext("t", tz, FILE_TIME)).parse(batch)
    return out.events, out.rejected, out.skipped


def test_query_and_answers() -> None:
    events, rejected, skipped = parse(
        [
            H + "query[A] ChatGPT.com from 10.20.1.15",
            H + "forwarded chatgpt.com to 192.0.2.53",
            H + "reply chatgpt.com is <CNAME>",
            H + "reply chatgpt.com.cdn.example is 104.18.32.47",
            H + "cached chatgpt.com is NODATA-IPv6",
            H + "reply gone.example is NXDOMAIN",
            H + "reply upstream.example is SERVFAIL",
        ],
        tz="Europe/Berlin",
    )
    assert rejected.is_empty()
    assert skipped == 1  # forwarded
    q = events.row(0, named=True)
    # a November line in a file written in January is from the previous year
    assert q["ts"] == dt.datetime(2024, 11, 4, 8, 0, 1, tzinfo=dt.UTC)
    assert (q["src_ip"], q["host"], q["dns_qtype"], q["action"], q["dns_answer_only"]) == (
        "10.20.1.15",
        "chatgpt.com",
        "A",
        "unknown",
        False,
    )
    answers = events.slice(1)
    assert answers["dnsmasq_kind"].to_list() == ["reply", "reply", "cached", "reply", "reply"]
    assert answers["dns_answer_only"].to_list() == [True] * 5
    assert answers["src_ip"].to_list() == [None] * 5
    assert answers["dns_answers"].to_list() == [None, ["104.18.32.47"], None, None, None]
    assert answers["dns_rcode"].to_list() == [
        "NOERROR",
        "NOERROR",
        "NOERROR",
        "NXDOMAIN",
        "SERVFAIL",
    ]
    assert answers["action"].to_list() == ["allowed"] * 5


def test_blocklist_answers() -> None:
    events, _, _ = parse(
        [
            H + "config chat.deepseek.com is NXDOMAIN",
            H + "config perplexity.ai is 0.0.0.0",
            H + "/etc/hosts.block claude.ai is ::",
            H + "config printer.lan is 10.20.1.9",
            H + "reply refused.example is REFUSED",
            H + "query[type=65] gemini.google.com from 10.20.1.31",
            H + "query[SVCB] _dns.resolver.arpa from 10.20.1.31",
        ]
    )
    assert events["action"].to_list() == [
        "blocked",
        "blocked",
        "blocked",
        "allowed",
        "blocked",
        "unknown",
        "unknown",
    ]
    assert events["dnsmasq_kind"].to_list() == [
        "config",
        "config",
        "hosts",
        "config",
        "reply",
        "query",
        "query",
    ]
    assert events["dns_qtype"].to_list()[5:] == ["HTTPS", "SVCB"]


def test_extra_format_and_openwrt() -> None:
    events, rejected, skipped = parse(
        [
            "Mon Nov  4 09:00:00 2024 daemon.info dnsmasq[1530]: 41 10.30.1.40/40122 query[A] "
            "api.openai.com from 10.30.1.40",
            "Mon Nov  4 09:00:00 2024 daemon.info dnsmasq[1530]: 41 10.30.1.40/40122 forwarded "
            "api.openai.com to 192.0.2.53",
            "Mon Nov  4 09:00:00 2024 daemon.info dnsmasq[1530]: 41 10.30.1.40/40122 reply "
            "api.openai.com is 162.159.140.245",
            "<30>2024-11-04T09:00:02+00:00 gw dnsmasq[1530]: 43 dnssec-query[DS] example to 192.0.2.53",
            "<30>2024-11-04T09:00:02+00:00 gw dnsmasq[1530]: 44 fd00::41/51001 cached x.example is fd00::9",
        ]
    )
    assert rejected.is_empty()
    assert skipped == 2
    assert events["src_ip"].to_list() == ["10.30.1.40", "10.30.1.40", "fd00::41"]
    assert events["src_port"].to_list() == [40122, 40122, 51001]
    assert events["ts"].to_list()[0] == dt.datetime(2024, 11, 4, 9, 0, tzinfo=dt.UTC)
    assert events["dns_answers"].to_list()[1:] == [["162.159.140.245"], ["fd00::9"]]


def test_skipped_and_unparsed() -> None:
    _, rejected, skipped = parse(
        [
            H + "started, version 2.90 cachesize 150",
            H + "using nameserver 192.0.2.53#53",
            H + "read /etc/hosts - 7 names",
            "Nov  4 09:00:01 dnsmasq-dhcp[812]: DHCPACK(wlan0) 10.20.1.15 02:11:22:33:44:55 laptop",
            "Nov  4 09:00:01 dnsmasq-dhcp[812]: no address range available for DHCP request via wlan0",
            H + "query[A] chatgpt.com fro",
            H + "reply chatgpt.com",
            H + "12 10.0.0.1/5 query[A]",
            "Nov  4 09:00:01 sshd[9]: Accepted publickey for root",
        ]
    )
    assert skipped == 5
    assert rejected["line_no"].to_list() == [5, 6, 7, 8]


def test_sniff() -> None:
    lines = [H + "query[A] chatgpt.com from 10.20.1.15", H + "reply chatgpt.com is 104.18.32.47"]
    assert detect_lines(lines).format == "dnsmasq"
    # a head with only start-up and DHCP lines is still dnsmasq
    assert detect_lines([H + "started, version 2.90 cachesize 150"] * 3).format == "dnsmasq"
    # Pi-hole verdicts make it a Pi-hole log
    assert detect_lines([*lines, H + "gravity blocked claude.ai is 0.0.0.0"]).format == "pihole"
    assert PARSERS.get("dnsmasq").sniff(["Nov  4 09:00:01 sshd[9]: Accepted"]) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.5", st.integers(0, 255), st.integers(0, 255))
names = st.sampled_from(["chatgpt.com", "claude.ai", "api.openai.com", "printer.lan"])


@st.composite
def dnsmasq_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ip, name = draw(ips), draw(names)
    extra = draw(st.sampled_from(["", f"7 {ip}/5353 "]))
    head = draw(
        st.sampled_from(
            [
                H,
                "<30>Nov  4 09:00:01 router dnsmasq[812]: ",
                "Mon Nov  4 09:00:00 2024 daemon.info dnsmasq[1]: ",
            ]
        )
    )
    if draw(st.booleans()):
        qtype = draw(st.sampled_from(["A", "AAAA", "HTTPS", "type=65"]))
        return f"{head}{extra}query[{qtype}] {name} from {ip}", {
            "src_ip": ip,
            "host": name,
            "dns_qtype": "HTTPS" if qtype == "type=65" else qtype,
            "dns_answer_only": False,
            "action": "unknown",
        }
    value = draw(st.sampled_from(["104.18.32.47", "<CNAME>", "NXDOMAIN", "0.0.0.0", "2001:db8::1"]))
    kind = draw(st.sampled_from(["reply", "cached", "config"]))
    blocked = value == "0.0.0.0" or (kind == "config" and value == "NXDOMAIN")
    return f"{head}{extra}{kind} {name} is {value}", {
        "src_ip": ip if extra else None,
        "host": name,
        "dns_answer_only": True,
        "action": "blocked" if blocked else "allowed",
        "dnsmasq_kind": kind,
    }


valid = dnsmasq_lines().map(lambda t: t[0])
any_line = st.one_of(
    valid,
    st.builds(lambda s, n: s[: n % (len(s) + 1)], valid, st.integers(0, 200)),
    st.sampled_from([H + "forwarded chatgpt.com to 192.0.2.53", H + "started, version 2.90"]),
    NOISE,
)


@given(st.lists(any_line, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("dnsmasq", lines)


@given(st.lists(any_line, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("dnsmasq", lines)


@given(dnsmasq_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    events, rejected, _ = parse([line])
    assert rejected.is_empty()
    r = events.row(0, named=True)
    for key, value in expected.items():
        assert r[key] == value, key
