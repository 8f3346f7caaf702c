"""PAN-OS syslog CSV: TRAFFIC and THREAT fields, layouts of different lengths, quoted
fields with commas, syslog headers and their zone, sniffing, and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.panos import PanosParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def parse(lines: list[str], tz: str = "UTC") -> tuple[pl.DataFrame, int, int]:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = PanosParser(ParseContext("t", timezone=tz)).parse(batch)
    return out.events, out.skipped, out.rejected.height


def parse_lines(lines: list[str], tz: str = "UTC") -> pl.DataFrame:
    return parse(lines, tz)[0]


def quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if ("," in value or '"' in value) else value


def record(
    kind: str = "TRAFFIC",
    *,
    subtype: str = "end",
    gen: str = "2024/11/04 09:00:12",
    src: str = "10.20.1.15",
    dst: str = "104.18.32.47",
    user: str = "corp\\jdoe",
    app: str = "openai-chatgpt",
    sport: int = 52144,
    dport: int = 443,
    action: str = "allow",
    sent: int = 5120,
    received: int = 48211,
    misc: str = "",
    user_agent: str = "",
    method: str = "",
    width: int = 97,
    header: str = "Nov  4 09:00:12 PA-3220 ",
) -> str:
    """One PAN-OS record with the columns the parser reads at their documented positions."""
    c = [""] * width
    fields = {
        0: "1",
        1: gen,
        2: "013201001234",
        3: kind,
        4: subtype,
        5: "2561",
        6: gen,
        7: src,
        8: dst,
        9: "198.51.100.7",
        10: "0.0.0.0",
        11: "allow-genai",
        12: user,
        14: app,
        15: "vsys1",
        16: "trust",
        17: "untrust",
        22: "81234",
        23: "1",
        24: str(sport),
        25: str(dport),
        26: "31544",
        27: "0",
        28: "0x400053",
        29: "tcp",
        30: action,
    }
    if kind == "TRAFFIC":
        fields |= {31: str(sent + received), 32: str(sent), 33: str(received), 34: "12"}
        fields |= {35: gen, 36: "3", 37: "artificial-intelligence", 41: "10.0.0.0-10.255.255.255"}
    else:
        misc_col = '"' + misc.replace('"', '""') + '"' if misc else ""
        fields |= {31: misc_col, 32: "(9999)", 33: "artificial-intelligence", 34: "informational"}
        fields |= {35: "client-to-server", 46: quote(user_agent), 63: method}
    for i, v in fields.items():
        if i < width:
            c[i] = v
    return header + ",".join(c)


# --- fields ------------------------------------------------------------------------------


def test_traffic_end_fields() -> None:
    row = parse_lines([record()]).row(0, named=True)
    assert row["ts"] == dt.datetime(2024, 11, 4, 9, 0, 12, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (
        "10.20.1.15",
        52144,
        "104.18.32.47",
        443,
    )
    assert (row["user"], row["app"], row["action"]) == ("corp\\jdoe", "openai-chatgpt", "allowed")
    # bytes sent by the client -> bytes_out, received -> bytes_in
    assert (row["bytes_out"], row["bytes_in"]) == (5120, 48211)
    assert (row["panos_type"], row["panos_subtype"], row["panos_phase"]) == (
        "TRAFFIC",
        "end",
        "end",
    )
    assert (row["panos_rule"], row["panos_category"], row["panos_session_id"]) == (
        "allow-genai",
        "artificial-intelligence",
        "81234",
    )
    assert row["host"] is None and row["url"] is None


def test_start_line_has_no_bytes_and_deny_drop_are_blocked() -> None:
    rows = parse_lines(
        [
            record(subtype="start", sent=620, received=0),
            record(subtype="deny", action="deny", app="google-gemini", sent=78, received=0),
            record(subtype="drop", action="drop", user="", app="not-applicable"),
            record(subtype="end", action="reset-both"),
        ]
    ).to_dicts()
    assert (rows[0]["panos_phase"], rows[0]["bytes_out"], rows[0]["bytes_in"]) == (
        "start",
        None,
        None,
    )
    assert (rows[1]["panos_phase"], rows[1]["action"], rows[1]["bytes_out"]) == (
        "end",
        "blocked",
        78,
    )
    assert (rows[2]["action"], rows[2]["user"]) == ("blocked", None)
    assert rows[3]["action"] == "blocked"


def test_legacy_46_column_traffic_without_host_in_header() -> None:
    line = record(width=46, header="Oct 30 09:46:12 ", user="crusher", app="web-browsing", dport=80)
    assert len(line.split(",")) == 46
    row = parse_lines([line]).row(0, named=True)
    assert (row["user"], row["app"], row["dst_port"], row["bytes_in"]) == (
        "crusher",
        "web-browsing",
        80,
        48211,
    )


def test_threat_url_with_quoted_commas() -> None:
    line = record(
        "THREAT",
        subtype="url",
        action="alert",
        misc="chatgpt.com/backend-api/conversation?a=1,2",
        user_agent='Mozilla/5.0 (X11; Linux x86_64) "quoted", with commas',
        method="post",
        width=110,
        header='Nov  4 09:00:12 odd"relay ',  # a stray quote in the header changes nothing
    )
    row = parse_lines([line]).row(0, named=True)
    assert (row["host"], row["url"]) == (
        "chatgpt.com",
        "https://chatgpt.com/backend-api/conversation",
    )
    assert (row["method"], row["action"], row["panos_category"]) == (
        "POST",
        "allowed",
        "artificial-intelligence",
    )
    assert row["user_agent"] == 'Mozilla/5.0 (X11; Linux x86_64) "quoted", with commas'
    assert (row["bytes_out"], row["bytes_in"], row["panos_phase"]) == (None, None, None)
    assert row["panos_misc"] == "chatgpt.com/backend-api/conversation?a=1,2"


def test_threat_url_schemes_and_blocks() -> None:
    rows = parse_lines(
        [
            record("THREAT", subtype="url", action="block-url", misc="gemini.google.com/app"),
            record(
                "THREAT", subtype="url", action="alert", misc="WWW.Example.com:8080/x", dport=8080
            ),
            record("THREAT", subtype="url", action="block-continue", misc="[2001:db8::1]/a"),
            record("THREAT", subtype="url", action="continue", misc="claude.ai/", dport=80),
        ]
    ).to_dicts()
    assert (rows[0]["host"], rows[0]["url"], rows[0]["action"]) == (
        "gemini.google.com",
        "https://gemini.google.com/app",
        "blocked",
    )
    assert (rows[1]["host"], rows[1]["url"]) == ("www.example.com", "http://www.example.com:8080/x")
    assert (rows[2]["host"], rows[2]["action"]) == ("2001:db8::1", "blocked")
    assert (rows[3]["url"], rows[3]["action"]) == ("http://claude.ai/", "allowed")


def test_other_threat_subtypes_keep_the_column_but_no_host() -> None:
    rows = parse_lines(
        [
            record("THREAT", subtype="vulnerability", action="reset-both", misc=""),
            record("THREAT", subtype="file", action="alert", misc='report, "final".pdf', width=74),
        ]
    ).to_dicts()
    assert (rows[0]["host"], rows[0]["panos_misc"], rows[0]["action"]) == (None, None, "blocked")
    assert (rows[1]["host"], rows[1]["panos_misc"]) == (None, 'report, "final".pdf')


def test_times_header_offset_and_timezone() -> None:
    iso = record(header="2024-11-04T10:00:12+01:00 pa.corp.example ", gen="2024/11/04 10:00:12")
    rfc5424 = record(
        header="<14>1 2024-11-04T04:00:12-05:00 pa - - - - ", gen="2024/11/04 04:00:12"
    )
    bsd = record(gen="2024/11/04 10:00:12")
    body_iso = record(header="", gen="2024-11-04T09:00:12.000000Z")
    utc = dt.datetime(2024, 11, 4, 9, 0, 12, tzinfo=dt.UTC)
    rows = parse_lines([iso, rfc5424, bsd, body_iso], tz="Europe/Berlin").to_dicts()
    assert [r["ts"] for r in rows] == [utc, utc, utc, utc]


def test_other_log_types_are_skipped_and_short_records_unparsed() -> None:
    system = "Nov  4 09:05:30 PA-3220 1,2024/11/04 09:05:30,0132,SYSTEM,general,0,2024/11/04 09:05:30,,general"
    truncated = ",".join(record().split(",")[:30])
    events, skipped, rejected = parse(
        [system, "", record(), truncated, "1,2024/11/04 09:00:00,x,TRAFFIC"]
    )
    assert (events.height, skipped, rejected) == (1, 2, 2)


def test_sniff_positive_and_negative() -> None:
    lines = [record(), record("THREAT", subtype="url", misc="claude.ai/", width=110)]
    assert detect_lines(lines * 3).format == "panos"
    sniff = PARSERS.get("panos").sniff
    assert sniff([record(width=46, header="")]) is not None
    assert (
        sniff(["Sep 28 10:38:09 pfSense filterlog: 53,,,1000000301,em0,match,block,in,4"]) is None
    )
    assert sniff(['date=2024-11-04 time=09:00:00 type="traffic" subtype="forward"']) is None
    assert (
        sniff(
            [
                "1730707200.000 412 10.20.1.15 TCP_TUNNEL/200 48211 CONNECT chatgpt.com:443 - HIER_DIRECT/104.18.32.47 -"
            ]
        )
        is None
    )


# --- properties ----------------------------------------------------------------------

ips = st.builds(lambda a, b: f"10.{a}.{b}.1", st.integers(0, 255), st.integers(0, 255))
apps = st.sampled_from(["openai-chatgpt", "claude-base", "claude-upload", "web-browsing", "ssl"])
urls = st.sampled_from(
    ["chatgpt.com/", "claude.ai/api/x", "www.example.com/a,b", "intranet.local/"]
)
users = st.sampled_from(["", "corp\\jdoe", "a@b.example", 'odd "user", x'])
widths = st.sampled_from([46, 60, 97, 120])


@st.composite
def traffic_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, app, user = draw(ips), draw(apps), draw(users)
    sport, dport = draw(st.integers(1, 65535)), draw(st.integers(1, 65535))
    sent, received = draw(st.integers(0, 10**12)), draw(st.integers(0, 10**12))
    subtype = draw(st.sampled_from(["start", "end", "deny", "drop"]))
    line = record(
        subtype=subtype,
        src=src,
        user=quote(user),
        app=app,
        sport=sport,
        dport=dport,
        sent=sent,
        received=received,
        width=draw(widths),
        header=draw(st.sampled_from(["", "Nov  4 09:00:12 PA-3220 ", "<14>Nov  4 09:00:12 pa "])),
    )
    closing = subtype != "start"
    return line, {
        "src_ip": src,
        "src_port": sport,
        "dst_port": dport,
        "app": app,
        "user": user or None,
        "bytes_out": sent if closing else None,
        "bytes_in": received if closing else None,
        "panos_phase": "end" if closing else "start",
    }


@st.composite
def threat_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, app, url = draw(ips), draw(apps), draw(urls)
    line = record(
        "THREAT",
        subtype="url",
        src=src,
        app=app,
        action=draw(st.sampled_from(["alert", "block-url"])),
        misc=url,
        width=draw(st.sampled_from([34, 74, 110])),
        header=draw(st.sampled_from(["", "2024-11-04T10:00:12+01:00 pa.corp.example "])),
    )
    return line, {"src_ip": src, "app": app, "host": url.split("/")[0], "panos_misc": url}


def _mutate(line: str, cut: int, drop: int) -> str:
    """Near misses: a truncated line, or one with a column dropped."""
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    cols = line.split(",")
    del cols[drop % len(cols)]
    return ",".join(cols)


valid_lines = st.one_of(traffic_lines().map(lambda t: t[0]), threat_lines().map(lambda t: t[0]))
near_misses = st.builds(_mutate, valid_lines, st.integers(0, 1200), st.integers(0, 200))
any_line = st.one_of(valid_lines, near_misses, NOISE)


@given(st.lists(any_line, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("panos", lines)


@given(st.lists(any_line, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("panos", lines)


@given(st.one_of(traffic_lines(), threat_lines()))
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
