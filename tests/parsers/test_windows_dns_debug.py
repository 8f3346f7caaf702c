"""Windows DNS Server debug log: packet lines, which ones are lookups or answers, name
decoding, locale dates, skipped header and detail dumps, sniffing and properties."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.windows_dns_debug import WindowsDnsDebugParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def packet(
    name: str = "(7)chatgpt(3)com(0)",
    when: str = "11/4/2024 8:00:00 AM",
    direction: str = "Rcv",
    response: bool = False,
    opcode: str = "Q",
    ip: str = "10.20.1.15",
    qtype: str = "A",
    rcode: str = "NOERROR",
    proto: str = "UDP",
) -> str:
    qr = "R" if response else " "
    flags = "8081   DR" if response else "0001   D "
    return (
        f"{when} 0E2C PACKET  000000C4E9E3B0E0 {proto} {direction} {ip:<15} b2e4 {qr} {opcode} "
        f"[{flags} {rcode:>8}] {qtype:<6} {name}"
    )


def parse(lines: list[str], tz: str = "UTC") -> tuple[list[dict[str, object]], pl.DataFrame, int]:
    batch = pl.DataFrame(
        {"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines},
        schema={"line_no": pl.UInt64, "line": pl.String},
    )
    out = WindowsDnsDebugParser(ParseContext("t", timezone=tz)).parse(batch)
    return out.events.to_dicts(), out.rejected, out.skipped


def test_query_received_is_the_lookup() -> None:
    (row,), rejected, _ = parse([packet()])
    assert rejected.height == 0
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)
    assert (row["src_ip"], row["host"], row["dns_qtype"], row["action"]) == (
        "10.20.1.15",
        "chatgpt.com",
        "A",
        "unknown",
    )
    assert (row["dns_rcode"], row["dns_answer_only"], row.get("dst_ip")) == (None, False, None)
    assert (row["windows_dns_debug_direction"], row["windows_dns_debug_protocol"]) == ("Rcv", "UDP")


def test_response_sent_is_an_answer_only_row() -> None:
    ok, nx, refused = parse(
        [
            packet(direction="Snd", response=True),
            packet(direction="Snd", response=True, rcode="NXDOMAIN", name="(6)claude(2)ai(0)"),
            packet(direction="Snd", response=True, rcode="REFUSED", qtype="AXFR", proto="TCP"),
        ]
    )[0]
    assert (ok["dns_answer_only"], ok["dns_rcode"], ok["action"]) == (True, "NOERROR", "allowed")
    assert (nx["host"], nx["dns_rcode"], nx["action"]) == ("claude.ai", "NXDOMAIN", "allowed")
    assert (refused["dns_rcode"], refused["action"], refused["dns_qtype"]) == (
        "REFUSED",
        "blocked",
        "AXFR",
    )
    assert ok["windows_dns_debug_direction"] == "Snd"


def test_server_side_packets_are_parsed_but_not_events() -> None:
    lines = [
        packet(direction="Snd", ip="192.0.2.53"),  # the server asks its forwarder
        packet(direction="Rcv", response=True, ip="192.0.2.53"),  # the forwarder answers
        packet(opcode="U", qtype="SOA", name="(4)corp(7)example(0)"),  # dynamic update
        packet(opcode="N", qtype="SOA", name="(4)corp(7)example(0)"),  # notify
        packet(direction="Snd", response=True, opcode="U", qtype="SOA"),
    ]
    events, rejected, skipped = parse(lines)
    assert (events, rejected.height, skipped) == ([], 0, 0)


def test_names() -> None:
    rows = parse(
        [
            packet("(3)API(6)OpenAI(3)com(0)"),
            packet(".ns1.Example.com."),
            packet("[C00C](4)chat(8)deepseek(3)com(0)"),
            packet("(0)", qtype="NS"),
            packet("(10)perplexity(2)ai(0)", qtype="65"),
            packet("(4)test(7)example(0)", qtype="9999"),
        ]
    )[0]
    assert [r["host"] for r in rows] == [
        "api.openai.com",
        "ns1.example.com",
        "chat.deepseek.com",
        None,
        "perplexity.ai",
        "test.example",
    ]
    assert [r["dns_qtype"] for r in rows][3:] == ["NS", "HTTPS", "TYPE9999"]


def test_locale_dates_and_time_zone() -> None:
    rows = parse(
        [
            packet(when="11/4/2024 8:00:00 PM"),
            packet(when="11/4/2024 12:30:44 AM"),
            packet(when="11/4/2024 12:30:44 PM"),
            packet(when="04/11/2024 20:00:00"),  # en-GB: day first without AM/PM
            packet(when="13/11/2024 08:00:00"),
            packet(when="11/13/2024 08:00:00"),  # only month-first is a date
            packet(when="04.11.2024 09:14:03"),
            packet(when="04.11.2024 09.14.03"),
            packet(when="2024-11-04 09:14:03"),
            packet(when="20241104 09:14:03"),
            packet(when="13/4/2024 8:00:00 AM"),  # AM/PM, but only day-first is a date
        ],
        tz="Europe/Berlin",
    )[0]
    utc = [r["ts"].replace(tzinfo=None) for r in rows]  # type: ignore[union-attr]
    assert utc == [
        dt.datetime(2024, 11, 4, 19, 0),
        dt.datetime(2024, 11, 3, 23, 30, 44),
        dt.datetime(2024, 11, 4, 11, 30, 44),
        dt.datetime(2024, 11, 4, 19, 0),
        dt.datetime(2024, 11, 13, 7, 0),
        dt.datetime(2024, 11, 13, 7, 0),
        dt.datetime(2024, 11, 4, 8, 14, 3),
        dt.datetime(2024, 11, 4, 8, 14, 3),
        dt.datetime(2024, 11, 4, 8, 14, 3),
        dt.datetime(2024, 11, 4, 8, 14, 3),
        dt.datetime(2024, 4, 13, 6, 0),
    ]


def test_older_layouts() -> None:
    """Two spaces before Rcv, no packet pointer column, IPv6 with a zone index."""
    old = (
        "4/15/2014 3:16:00 PM 0710 PACKET  0000000028FB94C0 UDP  Rcv 69.160.33.71    "
        "8857   Q [0001   D   NOERROR] A      .ns1.example.com."
    )
    bare = "4/15/2014 3:16:00 PM 0710 PACKET UDP Rcv fe80::1%12 8858   Q [0001   D   NOERROR] A      (6)claude(2)ai(0)"
    a, b = parse([old, bare])[0]
    assert (a["host"], a["src_ip"]) == ("ns1.example.com", "69.160.33.71")
    assert (b["host"], b["src_ip"]) == ("claude.ai", "fe80::1")


def test_header_details_and_notes_are_skipped_bad_lines_unparsed() -> None:
    lines = [
        "\ufeffDNS Server log file creation at 11/4/2024 8:00:00 AM",
        "Log file wrap at 11/4/2024 8:00:00 AM",
        "",
        "Message logging key (for packets - other items use a subset of these fields):",
        "\tField #  Information         Values",
        "\t                             blank = Query",
        packet(),
        "UDP question info at 000000C4E9E3B0E0",
        "  Socket = 512",
        "  Remote addr 10.20.1.15, port 51234",
        '    Name      "(7)chatgpt(3)com(0)"',
        "11/4/2024 8:00:20 AM 0E3C EVENT   The DNS server has started.",
        "11/4/2024 8:00:21 AM 0E3C Note: got GQCS failure on a dead socket context status=995",
        packet(name="(7)chatg"),  # truncated
        packet(when="13/13/2024 8:00:00 AM"),
        packet(when="11/4/2024 13:00:00 PM"),
        "Socket = 512",
        "garbage",
    ]
    events, rejected, skipped = parse(lines)
    assert [e["line_no"] for e in events] == [6]
    assert skipped == 12
    assert dict(zip(rejected["line_no"], rejected["reason"], strict=True)) == {
        13: "does not match the windows_dns_debug layout",
        14: "invalid date or time for the locale layouts",
        15: "invalid date or time for the locale layouts",
        16: "does not match the windows_dns_debug layout",
        17: "does not match the windows_dns_debug layout",
    }


def test_stateless_but_not_prefiltered() -> None:
    cls = PARSERS.get("windows_dns_debug")
    assert cls.is_stateless() and not cls.prefilterable


def test_sniff_positive_and_negative() -> None:
    header = [
        "DNS Server log file creation at 11/4/2024 8:00:00 AM",
        "",
        "Message logging key (for packets - other items use a subset of these fields):",
        "\tField #  Information         Values",
    ]
    assert detect_lines([*header, packet(), packet(direction="Snd", response=True)]).format == (
        "windows_dns_debug"
    )
    cls = PARSERS.get("windows_dns_debug")
    squid = "1730707200.000    412 10.20.1.15 TCP_TUNNEL/200 48211 CONNECT chatgpt.com:443 - HIER_DIRECT/104.18.32.47 -"
    assert (
        cls.sniff([squid, "Nov  4 08:00:00 dnsmasq[830]: query[A] chatgpt.com from 10.0.0.1"])
        is None
    )
    assert detect_lines([squid] * 3).format != "windows_dns_debug"


# --- properties ----------------------------------------------------------------------

labels = st.sampled_from(["chatgpt", "com", "claude", "ai", "api", "openai", "corp", "x-1"])


@st.composite
def packets(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    parts = draw(st.lists(labels, min_size=1, max_size=4))
    name = "".join(f"({len(p)}){p}" for p in parts) + "(0)"
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    h12 = hour % 12 or 12
    when = f"{month}/{day}/2024 {h12}:{minute:02d}:07 {'PM' if hour >= 12 else 'AM'}"
    direction = draw(st.sampled_from(["Rcv", "Snd"]))
    response = draw(st.booleans())
    qtype = draw(st.sampled_from(["A", "AAAA", "HTTPS", "28", "SRV"]))
    rcode = draw(st.sampled_from(["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"]))
    line = packet(name, when, direction, response, "Q", "10.9.8.7", qtype, rcode)
    event = (direction == "Rcv") != response
    expected: dict[str, object] = {
        "event": event,
        "ts": dt.datetime(2024, month, day, hour, minute, 7, tzinfo=dt.UTC),
        "host": ".".join(parts),
        "dns_qtype": {"28": "AAAA"}.get(qtype, qtype),
        "dns_answer_only": response,
        "dns_rcode": rcode if response else None,
    }
    return line, expected


def _mutate(line: str, cut: int) -> str:
    return line[: cut % (len(line) + 1)]


valid = packets().map(lambda t: t[0])
any_line = st.one_of(valid, st.builds(_mutate, valid, st.integers(0, 200)), NOISE)


@given(st.lists(any_line, max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("windows_dns_debug", lines)


@given(st.lists(any_line, min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("windows_dns_debug", lines)


@given(st.lists(any_line, max_size=30))
def test_validate_agrees_with_parse(lines: list[str]) -> None:
    """A line counts as parsed exactly when ``validate`` accepts it (or it is skipped)."""
    _, rejected, _ = parse(lines)
    text = pl.Series(lines, dtype=pl.String)
    skipped = text.str.contains(WindowsDnsDebugParser.skip_pattern or "^$")
    accepted = WindowsDnsDebugParser.validate(text)
    rejected_lines = set(rejected["line_no"].to_list())
    for i in range(len(lines)):
        if not skipped[i]:
            assert bool(accepted[i]) == (i not in rejected_lines), lines[i]


@given(packets())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    events = parse([line])[0]
    assert len(events) == int(bool(expected.pop("event")))
    for row in events:
        for key, value in expected.items():
            assert row[key] == value, key
