"""Windows DNS Server analytical events as JSON lines: shipper shapes (Winlogbeat/ETW,
NXLog, evtx_dump), lookups vs answer-only rows, recognition, sniffing and properties."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.windows_dns_analytical import WindowsDnsAnalyticalParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees

QUERY = {
    "TCP": "0",
    "InterfaceIP": "10.20.0.53",
    "Source": "10.20.1.15",
    "RD": "1",
    "QNAME": "chatgpt.com.",
    "QTYPE": "1",
    "XID": "4411",
    "Port": "52114",
    "Flags": "256",
}


def beat(code: int, ts: str = "2024-11-04T08:00:00.120Z", **data: object) -> str:
    """Elastic Agent ETW input: the id in ``event.code``, values in ``winlog.event_data``."""
    values = {**QUERY, **data}
    return json.dumps(
        {
            "@timestamp": ts,
            "event": {"code": str(code), "provider": "Microsoft-Windows-DNSServer"},
            "winlog": {
                "computer_name": "DC01.corp.example",
                "event_data": {k: v for k, v in values.items() if v is not None},
            },
        }
    )


def nxlog(eid: int, local: str = "2024-11-04 09:00:00", **data: object) -> str:
    values = {**QUERY, **data}
    return json.dumps(
        {
            "EventTime": local,
            "Hostname": "DC02.corp.example",
            "EventID": eid,
            "SourceName": "Microsoft-Windows-DNSServer",
            **{k: v for k, v in values.items() if v is not None},
        }
    )


def parse(lines: list[str], tz: str = "UTC") -> tuple[list[dict[str, object]], pl.DataFrame, int]:
    batch = pl.DataFrame(
        {"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines},
        schema={"line_no": pl.UInt64, "line": pl.String},
    )
    out = WindowsDnsAnalyticalParser(ParseContext("t", timezone=tz)).parse(batch)
    assert out.events.height + out.rejected.height + out.skipped <= len(lines)
    return out.events.to_dicts(), out.rejected, out.skipped


def test_query_received_is_the_lookup() -> None:
    (row,), rejected, _ = parse([beat(256)])
    assert rejected.height == 0
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 120000, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["host"], row["dst_ip"]) == (
        "10.20.1.15",
        52114,
        "chatgpt.com",
        "10.20.0.53",
    )
    assert (row["dns_qtype"], row["action"], row["dns_rcode"], row["dns_answer_only"]) == (
        "A",
        "unknown",
        None,
        False,
    )
    assert (
        row["windows_dns_analytical_event_id"],
        row["windows_dns_analytical_protocol"],
        row["windows_dns_analytical_server"],
    ) == (256, "UDP", "DC01.corp.example")


def test_outcomes_are_answer_only_rows() -> None:
    def answer(code: int, **data: object) -> str:
        return beat(code, Source=None, Destination="10.20.1.15", **data)

    ok, refused, policy, servfail, ignored, dropped = parse(
        [
            answer(257, RCODE="0", QTYPE="65", PolicyName="NULL"),
            answer(258, RCODE="5", PolicyName="NULL"),
            answer(258, RCODE="3", PolicyName="BlockGenAI"),
            answer(258, RCODE="2", PolicyName="NULL"),
            beat(259, Reason="System", PolicyName="NULL"),
            beat(259, Reason="PolicyIgnore", PolicyName="DropGemini"),
        ]
    )[0]
    assert (ok["src_ip"], ok["dns_qtype"], ok["dns_rcode"], ok["action"]) == (
        "10.20.1.15",
        "HTTPS",
        "NOERROR",
        "allowed",
    )
    assert all(r["dns_answer_only"] for r in (ok, refused, policy, servfail, ignored, dropped))
    assert (refused["dns_rcode"], refused["action"]) == ("REFUSED", "blocked")
    assert (policy["action"], policy["windows_dns_analytical_policy"]) == ("blocked", "BlockGenAI")
    assert (servfail["dns_rcode"], servfail["action"]) == ("SERVFAIL", "allowed")
    assert (ignored["src_ip"], ignored["dns_rcode"], ignored["action"]) == (
        "10.20.1.15",
        None,
        "unknown",
    )
    assert (ignored["windows_dns_analytical_policy"], dropped["action"]) == (None, "blocked")


def test_other_analytical_events_are_parsed_not_events() -> None:
    events, rejected, skipped = parse(
        [
            beat(260, Destination="192.0.2.53"),  # recursion to a forwarder
            beat(261, Source="192.0.2.53"),
            beat(263, QNAME="ws0341.corp.example."),  # dynamic update
            beat(264),
        ]
    )
    assert (events, rejected.height, skipped) == ([], 0, 0)


def test_zone_transfer_requests_are_lookups() -> None:
    axfr, ixfr = parse(
        [
            beat(270, QNAME="corp.example.", QTYPE=None, TCP="1", Port=None),
            beat(266, QNAME="corp.example.", QTYPE=None),
        ]
    )[0]
    assert (axfr["dns_qtype"], axfr["host"], axfr["src_port"], axfr["dns_answer_only"]) == (
        "AXFR",
        "corp.example",
        None,
        False,
    )
    assert (axfr["windows_dns_analytical_protocol"], ixfr["dns_qtype"]) == ("TCP", "IXFR")


def test_shipper_shapes_and_times() -> None:
    evtx = json.dumps(
        {
            "Event": {
                "System": {
                    "Provider": {"#attributes": {"Name": "Microsoft-Windows-DNSServer"}},
                    "EventID": 256,
                    "TimeCreated": {"#attributes": {"SystemTime": "2024-11-04T08:00:00.1234567Z"}},
                    "Computer": "DC03",
                },
                "EventData": {**QUERY, "QNAME": "claude.ai.", "QTYPE": "28"},
            }
        }
    )
    beat_id = json.dumps(
        {
            "@timestamp": "2024-11-04T08:00:01Z",
            "winlog": {"event_id": 256, "event_data": {**QUERY, "InterfaceIP": "0.0.0.0"}},
        }
    )
    nx, ev, wb = parse([nxlog(256), evtx, beat_id], tz="Europe/Berlin")[0]
    assert nx["ts"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)  # EventTime is local
    assert nx["windows_dns_analytical_server"] == "DC02.corp.example"
    assert (ev["ts"], ev["host"], ev["dns_qtype"], ev["windows_dns_analytical_server"]) == (
        dt.datetime(2024, 11, 4, 8, 0, 0, 123456, tzinfo=dt.UTC),  # 7 digits truncated
        "claude.ai",
        "AAAA",
        "DC03",
    )
    assert (wb["ts"], wb["dst_ip"]) == (dt.datetime(2024, 11, 4, 8, 0, 1, tzinfo=dt.UTC), None)


def test_other_records_are_not_this_format() -> None:
    security = json.dumps({"EventID": 4624, "SourceName": "Microsoft-Windows-Security-Auditing"})
    audit = nxlog(541, NAME="corp.example", QNAME=None)
    sysmon = json.dumps({"EventID": 22, "QueryName": "chatgpt.com", "SourceName": "Sysmon"})
    no_marker = json.dumps({"EventID": 256, "Name": "x"})
    events, rejected, skipped = parse(
        [security, audit, sysmon, no_marker, "{bad", "EventID=256 QNAME=x", "", nxlog(256)]
    )
    assert [e["line_no"] for e in events] == [7]
    assert rejected["line_no"].to_list() == [0, 1, 2, 3, 4, 5]
    assert skipped == 1


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([beat(256), beat(257)] * 2).format == "windows_dns_analytical"
    assert detect_lines([nxlog(256)] * 3).format == "windows_dns_analytical"
    cls = PARSERS.get("windows_dns_analytical")
    sysmon = json.dumps({"winlog": {"event_id": 22, "event_data": {"QueryName": "chatgpt.com"}}})
    zeek = '{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","query":"chatgpt.com","qtype_name":"A"}'
    for other in (sysmon, zeek, "plain text"):
        assert cls.sniff([other] * 3) is None


# --- properties ----------------------------------------------------------------------


@st.composite
def records(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    eid = draw(st.sampled_from([256, 256, 257, 258, 259, 260, 261, 263, 270]))
    name = draw(st.sampled_from(["chatgpt.com.", "Claude.AI.", "api.openai.com", "corp.example."]))
    qtype = draw(st.sampled_from(["1", "28", "65", "33"]))
    rcode = draw(st.sampled_from(["0", "2", "3", "5"]))
    ts = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=draw(st.integers(0, 10**8)))
    shape = draw(st.sampled_from([beat, nxlog]))
    when = ts.strftime("%Y-%m-%dT%H:%M:%SZ") if shape is beat else ts.strftime("%Y-%m-%d %H:%M:%S")
    line = shape(eid, when, QNAME=name, QTYPE=qtype, RCODE=rcode)
    expected: dict[str, object] = {
        "event": eid in (256, 257, 258, 259, 270),
        "ts": ts,
        "host": name.lower().rstrip("."),
        "dns_qtype": {"1": "A", "28": "AAAA", "65": "HTTPS", "33": "SRV"}[qtype],
        "dns_answer_only": eid in (257, 258, 259),
    }
    return line, expected


valid = records().map(lambda t: t[0])
cut = st.builds(lambda s, n: s[: n % (len(s) + 1)], valid, st.integers(0, 400))
any_line = st.one_of(valid, cut, NOISE)


@given(st.lists(any_line, max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("windows_dns_analytical", lines)


@given(st.lists(any_line, min_size=1, max_size=40))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("windows_dns_analytical", lines)


@given(records())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    events = parse([line])[0]
    assert len(events) == int(bool(expected.pop("event")))
    for row in events:
        for key, value in expected.items():
            assert row[key] == value, key
