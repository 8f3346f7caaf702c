"""FortiGate (FortiOS) key=value logs: fields, quoting and escapes, times, session phases,
sniffing, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.fortigate import FortigateParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, int, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = FortigateParser(ParseContext("t", timezone=tz)).parse(batch)
    return out.events, out.skipped, out.rejected.height


def parse_lines(lines: list[str], tz: str = "UTC") -> pl.DataFrame:
    return parse(lines, tz)[0]


HEAD = (
    '<189>date=2024-11-04 time=09:00:12 devname="FGT-HQ-01" devid="FG100FTK22001234" '
    'eventtime=1730707212123456789 tz="+0100"'
)

TRAFFIC_END = (
    f'{HEAD} logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" '
    'srcip=10.20.1.15 srcport=52144 srcintf="port2" dstip=104.18.32.47 dstport=443 '
    'sessionid=81234 proto=6 action="close" policyid=12 policyname="allow-genai" user="jdoe" '
    'service="HTTPS" app="ChatGPT" appcat="GenAI" duration=149 sentbyte=5120 rcvdbyte=48211'
)

APP_CTRL = (
    f'{HEAD} logid="1059028704" type="utm" subtype="app-ctrl" level="information" vd="root" '
    'srcip=10.20.1.15 dstip=104.18.32.47 srcport=52150 dstport=443 service="HTTPS" '
    'policyid=12 sessionid=81236 user="jdoe" action="pass" appcat="GenAI" app="ChatGPT" '
    'hostname="ChatGPT.com" url="/backend-api/conversation?x=1" httpmethod="post" '
    'agent="Mozilla/5.0 (X11; Linux x86_64)" msg="GenAI: ChatGPT user=evil srcip=6.6.6.6"'
)


def test_traffic_fields() -> None:
    row = parse_lines([TRAFFIC_END]).row(0, named=True)
    # eventtime (ns) wins over date/time
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, 12, 123457, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (
        "10.20.1.15",
        52144,
        "104.18.32.47",
        443,
    )
    assert (row["user"], row["app"], row["action"]) == ("jdoe", "ChatGPT", "allowed")
    assert (row["bytes_out"], row["bytes_in"]) == (5120, 48211)
    assert (row["fortigate_type"], row["fortigate_subtype"], row["fortigate_phase"]) == (
        "traffic",
        "forward",
        "end",
    )
    assert (row["fortigate_rule"], row["fortigate_appcat"], row["fortigate_session_id"]) == (
        "allow-genai",
        "GenAI",
        "81234",
    )
    assert row["log_type"] == "firewall"


def test_app_control_host_url_and_no_pairs_from_quoted_values() -> None:
    row = parse_lines([APP_CTRL]).row(0, named=True)
    assert (row["host"], row["url"], row["method"]) == (
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
        "POST",
    )
    assert (row["user_agent"], row["action"]) == ("Mozilla/5.0 (X11; Linux x86_64)", "allowed")
    # the key=value text inside msg="..." supplies nothing
    assert (row["user"], row["src_ip"]) == ("jdoe", "10.20.1.15")
    assert (row["bytes_out"], row["fortigate_phase"]) == (None, None)


def test_session_phases_and_actions() -> None:
    base = (
        'date=2024-11-04 time=09:00:12 logid="{logid}" type="traffic" subtype="forward" '
        'srcip=10.0.0.1 dstip=10.0.0.2 dstport=443 action="{action}" sentbyte=10 rcvdbyte=20{extra}'
    )
    rows = parse_lines(
        [
            base.format(logid="0000000015", action="start", extra=""),
            base.format(logid="0000000020", action="accept", extra=" sentdelta=5 rcvddelta=5"),
            base.format(logid="0000000013", action="timeout", extra=""),
            base.format(logid="0000000013", action="deny", extra=""),
            base.format(logid="0000000013", action="close", extra=' utmaction="block"'),
            base.format(logid="0001000014", action="server-rst", extra=""),
        ]
    ).to_dicts()
    assert [r["fortigate_phase"] for r in rows] == ["start", "interim", "end", "end", "end", "end"]
    assert [r["bytes_out"] for r in rows] == [None, None, 10, 10, 10, 10]
    assert [r["action"] for r in rows] == [
        "allowed",
        "allowed",
        "allowed",
        "blocked",
        "blocked",
        "allowed",
    ]


def test_escapes_times_users_and_headers() -> None:
    rows = parse_lines(
        [
            # no eventtime: date+time at the tz offset; a FortiAnalyzer tz="UTC-5" is ignored
            'logver=64 tz="UTC-5" date=2024-11-04 time=04:00:12 tz="-0500" logid="0419016384" '
            'type="utm" subtype="ips" srcip=203.0.113.5 dstip=10.3.0.1 dstport=80 '
            'hostname="portal.example" url="/a?id=\\"1\\"" agent="x \\"y\\" \\\\z" action="dropped"',
            # no eventtime, no tz: --timezone
            "date=2024-11-04 time=10:00:12 logid=0000000013 type=traffic subtype=forward "
            'srcip=10.0.0.1 dstip=10.0.0.2 user="N/A" unauthuser="CORP\\\\asmith" action=close',
            # RFC 3339 relay header, VPN event: remote peer as src_ip, N/A user
            '2024-11-04T10:00:12+01:00 192.0.2.10 date=2024-11-04 time=10:00:12 logid="0101039426" '
            'type="event" subtype="vpn" action="ssl-login-fail" remip=198.51.100.200 user="N/A"',
            # BSD syslog header in front
            "Nov  4 10:00:12 fgt-hq date=2024-11-04 time=10:00:12 eventtime=1730710812 "
            'type="utm" subtype="webfilter" srcip=10.0.0.9 hostname="claude.ai" action="blocked"',
            # FortiOS csv syslog format
            'date=2024-11-04,time=10:00:12,eventtime=1730710812,type="utm",subtype="dns",'
            'srcip=10.0.0.1,dstip=10.1.0.53,qname="Claude.AI",qtype="aaaa",action="pass"',
        ],
        tz="Europe/Berlin",
    ).to_dicts()
    utc = dt.datetime(2024, 11, 4, 9, 0, 12, tzinfo=dt.UTC)
    assert [r["ts"] for r in rows[:2]] == [utc, utc]
    assert (rows[0]["user_agent"], rows[0]["url"], rows[0]["action"]) == (
        'x "y" \\z',
        "http://portal.example/a",
        "blocked",
    )
    assert rows[1]["user"] == "CORP\\asmith"
    assert (rows[2]["src_ip"], rows[2]["user"], rows[2]["action"]) == (
        "198.51.100.200",
        None,
        "unknown",
    )
    assert (rows[2]["bytes_out"], rows[2]["host"]) == (None, None)
    assert (rows[3]["ts"], rows[3]["host"], rows[3]["action"]) == (utc, "claude.ai", "blocked")
    assert (rows[4]["log_type"], rows[4]["host"], rows[4]["dns_qtype"]) == (
        "dns",
        "claude.ai",
        "AAAA",
    )
    assert rows[4]["ts"] == utc


def test_full_url_and_missing_hostname() -> None:
    rows = parse_lines(
        [
            'date=2024-11-04 time=09:00:00 type="utm" subtype="webfilter" srcip=10.0.0.1 '
            'dstport=443 url="https://chat.deepseek.com/a/chat" action="blocked"',
            'date=2024-11-04 time=09:00:00 type="utm" subtype="webfilter" srcip=10.0.0.1 '
            'url="/only/a/path" action="passthrough"',
        ]
    ).to_dicts()
    assert (rows[0]["host"], rows[0]["url"], rows[0]["action"]) == (
        "chat.deepseek.com",
        "https://chat.deepseek.com/a/chat",
        "blocked",
    )
    assert (rows[1]["host"], rows[1]["url"], rows[1]["action"]) == (None, None, "allowed")


def test_non_fortios_lines_are_unparsed() -> None:
    events, skipped, rejected = parse(
        [
            TRAFFIC_END,
            "",
            'type="traffic" subtype="forward" srcip=10.0.0.1',
            "date=2024-11-04 time=09:00:00 devname=x srcip=10.0.0.1",
            "eventdate=2024-11-04 time=09:00:00 type=traffic subtype=forward",
        ]
    )
    assert (events.height, skipped, rejected) == (1, 1, 3)


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([TRAFFIC_END, APP_CTRL] * 3).format == "fortigate"
    sniff = PARSERS.get("fortigate").sniff
    assert sniff(['srcip="10.0.0.1" action="pass" url="https://chatgpt.com/"']) is None
    assert (
        sniff(
            [
                "CEF:0|Fortinet|Fortigate|v6.0.3|00013|traffic:forward close|3|FTNTFGTlogid=0000000013 "
                "cat=traffic:forward FTNTFGTsubtype=forward src=10.1.100.11"
            ]
        )
        is None
    )
    assert sniff(["Nov  4 09:00:12 PA-3220 1,2024/11/04 09:00:12,0132,TRAFFIC,end,1"]) is None


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.1", st.integers(0, 255), st.integers(0, 255))
apps = st.sampled_from(["ChatGPT", "Claude", "HTTPS.BROWSER", "Google Gemini"])
hosts = st.sampled_from(["chatgpt.com", "claude.ai", "www.example.com", "intranet.local"])
#: Values with quotes, backslashes, blanks and non-ASCII text (no control characters: a
#: line break would end the line, and Python and polars disagree on whether \x1f is blank).
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30
)


def q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def traffic_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, app, msg = draw(ips), draw(apps), draw(texts)
    sport, sent, rcvd = (
        draw(st.integers(1, 65535)),
        draw(st.integers(0, 10**12)),
        draw(st.integers(0, 10**12)),
    )
    sep = draw(st.sampled_from([" ", ","]))
    pairs = [
        "date=2024-11-04",
        "time=09:00:12",
        f"eventtime={draw(st.integers(1_600_000_000, 1_900_000_000))}",
        'logid="0000000013"',
        'type="traffic"',
        'subtype="forward"',
        f"srcip={src}",
        f"srcport={sport}",
        "dstip=104.18.32.47",
        "dstport=443",
        'action="close"',
        f"msg={q(msg)}",
        f"app={q(app)}",
        f"sentbyte={sent}",
        f"rcvdbyte={rcvd}",
    ]
    prefix = draw(st.sampled_from(["", "<189>", "2024-11-04T09:00:12+01:00 192.0.2.10 "]))
    line = prefix + sep.join(pairs)
    return line, {"src_ip": src, "src_port": sport, "app": app, "bytes_out": sent, "bytes_in": rcvd}


@st.composite
def utm_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, host, agent = draw(ips), draw(hosts), draw(texts)
    line = (
        f'date=2024-11-04 time=09:00:12 logid="0317013312" type="utm" subtype="webfilter" '
        f'srcip={src} dstport=443 hostname="{host}" url="/x" agent={q(agent)} action="passthrough"'
    )
    return line, {
        "src_ip": src,
        "host": host,
        "url": f"https://{host}/x",
        "user_agent": agent.strip() or None,
    }


def _mutate(line: str, cut: int, drop: int) -> str:
    """Near misses: a truncated line, or one with a pair dropped."""
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    words = line.split(" ")
    del words[drop % len(words)]
    return " ".join(words)


valid_lines = st.one_of(traffic_lines().map(lambda t: t[0]), utm_lines().map(lambda t: t[0]))
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 400), st.integers(0, 40))
any_line = st.one_of(valid_lines, near_misses, NOISE)


@given(st.lists(any_line, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("fortigate", lines)


@given(st.lists(any_line, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("fortigate", lines)


@given(st.one_of(traffic_lines(), utm_lines()))
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
