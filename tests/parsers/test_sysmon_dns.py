"""Sysmon Event ID 22: JSON shapes (Winlogbeat, NXLog, evtx_dump, Wazuh), event XML one
per line, several per line or pretty-printed (records gathered across lines and batches),
QueryResults and QueryStatus, sniffing and properties."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.sysmon_dns import SysmonDnsParser
from tests.parsers.props import NOISE, check_accounting

CHROME = r"C:\Program Files\Google\Chrome\Application\chrome.exe"


def data(**values: str | None) -> dict[str, str]:
    base: dict[str, str | None] = {
        "RuleName": "-",
        "UtcTime": "2024-11-04 08:00:00.123",
        "ProcessGuid": "{4f6a2b10-3c5d-6711-9a02-000000003b00}",
        "ProcessId": "7312",
        "QueryName": "chatgpt.com",
        "QueryStatus": "0",
        "QueryResults": "type:  5 chatgpt.com.cdn.cloudflare.net;::ffff:104.18.32.47;",
        "Image": CHROME,
        "User": "CORP\\jdoe",
    }
    base.update(values)
    return {k: v for k, v in base.items() if v is not None}


def winlogbeat(eid: int = 22, **values: str | None) -> str:
    return json.dumps(
        {
            "@timestamp": "2024-11-04T08:00:00.135Z",
            "winlog": {
                "event_id": str(eid),
                "provider_name": "Microsoft-Windows-Sysmon",
                "computer_name": "WS0142.corp.example",
                "event_data": data(**values),
            },
        }
    )


def nxlog(eid: int = 22, **values: str | None) -> str:
    return json.dumps(
        {
            "EventTime": "2024-11-04 09:00:00",
            "Hostname": "LT0031.corp.example",
            "EventID": eid,
            "SourceName": "Microsoft-Windows-Sysmon",
            "AccountName": "SYSTEM",
            **data(**values),
        }
    )


def xml(eid: int = 22, quote: str = "'", **values: str | None) -> str:
    q = quote
    fields = "".join(
        f"<Data Name={q}{k}{q}>{v.replace('&', '&amp;').replace('<', '&lt;')}</Data>"
        for k, v in data(**values).items()
    )
    return (
        f"<Event xmlns={q}http://schemas.microsoft.com/win/2004/08/events/event{q}><System>"
        f"<Provider Name={q}Microsoft-Windows-Sysmon{q} Guid={q}{{5770385f}}{q}/>"
        f"<EventID>{eid}</EventID><TimeCreated SystemTime={q}2024-11-04T08:00:00.1354231Z{q}/>"
        f"<Computer>WS0205.corp.example</Computer></System><EventData>{fields}</EventData></Event>"
    )


def pretty(eid: int = 22, **values: str | None) -> list[str]:
    lines = [
        '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">',
        "  <System>",
        '    <Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385f}" />',
        f"    <EventID>{eid}</EventID>",
        '    <TimeCreated SystemTime="2024-11-04T08:00:00.1354231Z" />',
        "    <Computer>WS0205.corp.example</Computer>",
        "  </System>",
        "  <EventData>",
    ]
    for k, v in data(**values).items():
        lines.append(f'    <Data Name="{k}">{v}</Data>' if v else f'    <Data Name="{k}" />')
    return [*lines, "  </EventData>", "</Event>"]


def parse_batches(
    batches: list[list[str]],
) -> tuple[list[dict[str, object]], dict[int, str], int]:
    """Parse consecutive batches with one parser instance (as the engine does per file)."""
    parser = SysmonDnsParser(ParseContext("t"))
    events: list[dict[str, object]] = []
    rejected: dict[int, str] = {}
    skipped, offset = 0, 0
    for lines in batches:
        batch = pl.DataFrame(
            {"line_no": pl.Series(range(offset, offset + len(lines)), dtype=pl.UInt64)},
        ).with_columns(pl.Series("line", lines, dtype=pl.String))
        out = parser.parse(batch)
        parsed = batch.height - out.skipped - out.rejected.height
        assert parsed == out.events["line_no"].n_unique() if out.events.height else parsed == 0
        assert set(out.rejected["line_no"]).isdisjoint(set(out.events["line_no"]))
        events += out.events.to_dicts()
        rejected.update(zip(out.rejected["line_no"], out.rejected["reason"], strict=True))
        skipped += out.skipped
        offset += len(lines)
    return events, rejected, skipped


def parse(lines: list[str]) -> tuple[list[dict[str, object]], dict[int, str], int]:
    return parse_batches([lines])


def test_json_shapes() -> None:
    evtx = json.dumps(
        {
            "Event": {
                "System": {"EventID": 22, "Computer": "WS0300"},
                "EventData": data(QueryName="claude.ai", ProcessId=None),
            }
        }
    )
    wazuh = json.dumps(
        {
            "data": {
                "win": {
                    "system": {"eventID": "22", "providerName": "Microsoft-Windows-Sysmon"},
                    "eventdata": {
                        "utcTime": "2024-11-04 08:00:05.000",
                        "queryName": "gemini.google.com",
                        "queryStatus": "0",
                        "queryResults": "::ffff:142.250.185.206;",
                        "image": CHROME,
                        "user": "CORP\\mlopez",
                    },
                }
            }
        }
    )
    wb, nx, ev, wz = parse([winlogbeat(), nxlog(), evtx, wazuh])[0]
    # UtcTime wins over @timestamp / EventTime
    assert wb["ts"] == nx["ts"] == dt.datetime(2024, 11, 4, 8, 0, 0, 123000, tzinfo=dt.UTC)
    assert (wb["host"], wb["user"], wb["process"], wb.get("src_ip")) == (
        "chatgpt.com",
        "CORP\\jdoe",
        CHROME,
        None,
    )
    assert wb["dns_answers"] == ["chatgpt.com.cdn.cloudflare.net", "104.18.32.47"]
    assert (wb["dns_rcode"], wb["action"], wb["dns_answer_only"], wb.get("dns_qtype")) == (
        "NOERROR",
        "allowed",
        False,
        None,
    )
    assert (wb["sysmon_dns_process_id"], wb["sysmon_dns_computer"]) == (7312, "WS0142.corp.example")
    assert (nx["sysmon_dns_computer"], nx["user"]) == ("LT0031.corp.example", "CORP\\jdoe")
    assert (ev["host"], ev["sysmon_dns_computer"], ev["sysmon_dns_process_id"]) == (
        "claude.ai",
        "WS0300",
        None,
    )
    assert (wz["host"], wz["user"], wz["dns_answers"]) == (
        "gemini.google.com",
        "CORP\\mlopez",
        ["142.250.185.206"],
    )


def test_query_results_and_status() -> None:
    rows = parse(
        [
            winlogbeat(
                QueryResults="type:  5 a.example.;type:  5 b.example;::ffff:1.2.3.4;2606:4700::6812:202f;"
            ),
            winlogbeat(QueryResults="-", QueryStatus="9003"),
            winlogbeat(QueryResults="", QueryStatus="9501"),
            winlogbeat(QueryResults="-", QueryStatus="9005"),
            winlogbeat(QueryResults="-", QueryStatus="1460"),
            winlogbeat(QueryResults="::ffff:0.0.0.0;", QueryStatus="0"),
            winlogbeat(QueryResults="::;", QueryStatus="0", Image="<unknown process>", User="-"),
        ]
    )[0]
    assert rows[0]["dns_answers"] == ["a.example", "b.example", "1.2.3.4", "2606:4700::6812:202f"]
    assert [(r["dns_rcode"], r["action"]) for r in rows[1:]] == [
        ("NXDOMAIN", "allowed"),
        ("NOERROR", "allowed"),
        ("REFUSED", "blocked"),
        (None, "unknown"),
        ("NOERROR", "blocked"),  # sinkholed
        ("NOERROR", "blocked"),
    ]
    assert [r["dns_answers"] for r in rows[1:5]] == [None] * 4
    assert (rows[4]["sysmon_dns_query_status"], rows[6]["process"], rows[6]["user"]) == (
        "1460",
        None,
        None,
    )


def test_xml_one_or_several_per_line() -> None:
    lines = [
        xml(Image="C:\\A&B\\app.exe"),
        xml(quote='"', QueryName="claude.ai") + xml(QueryName="api.openai.com"),
        "<Events>" + xml(QueryName="gemini.google.com") + "</Events>",
    ]
    rows, rejected, skipped = parse(lines)
    assert rejected == {} and skipped == 0
    assert [(r["line_no"], r["host"]) for r in rows] == [
        (0, "chatgpt.com"),
        (1, "claude.ai"),
        (1, "api.openai.com"),
        (2, "gemini.google.com"),
    ]
    assert rows[0]["process"] == "C:\\A&B\\app.exe"
    assert rows[0]["sysmon_dns_computer"] == "WS0205.corp.example"


def test_pretty_printed_records() -> None:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<Events>",
        *pretty(),
        *pretty(QueryName="claude.ai", User=""),
        "</Events>",
    ]
    rows, rejected, skipped = parse(lines)
    assert rejected == {}
    assert [(r["line_no"], r["host"], r["user"]) for r in rows] == [
        (2, "chatgpt.com", "CORP\\jdoe"),
        (2 + len(pretty()), "claude.ai", None),
    ]
    assert skipped == len(lines) - 2


def test_record_across_batches() -> None:
    """A record cut by a batch boundary is reported unparsed where it starts (the parser
    cannot tell the end of the file from the end of a batch) and still becomes an event,
    on the next batch's first line."""
    record = pretty(QueryName="claude.ai")
    first = [winlogbeat(), *record[:5]]
    second = [*record[5:], winlogbeat(QueryName="api.openai.com")]
    rows, rejected, skipped = parse_batches([first, second])
    assert [(r["line_no"], r["host"]) for r in rows] == [
        (0, "chatgpt.com"),
        (len(first), "claude.ai"),
        (len(first) + len(second) - 1, "api.openai.com"),
    ]
    assert rejected == {1: "incomplete XML event (no </Event> before the end of the input)"}
    assert skipped == len(record) - 2


def test_incomplete_records_and_other_events() -> None:
    lines = [
        winlogbeat(eid=3, QueryName=None),  # another Sysmon event: skipped
        json.dumps({"winlog": {"event_id": "4624", "provider_name": "Security"}}),
        winlogbeat(QueryName=None),
        json.dumps({k: v for k, v in json.loads(nxlog(UtcTime=None)).items() if k != "EventTime"}),
        "{broken",
        "Dns query: chatgpt.com",
        "</Event>",
        xml(eid=1),  # Sysmon process creation: skipped
        xml()[:300],  # cut: the next record starts before it closes
        *pretty()[:6],  # cut by the end of the input
    ]
    rows, rejected, skipped = parse(lines)
    assert rows == []
    assert rejected == {
        1: "not a Sysmon event",
        2: "Sysmon event 22 without QueryName",
        3: "no timestamp",
        4: "invalid JSON",
        5: "not a Sysmon event (JSON or XML)",
        6: "not a Sysmon event (JSON or XML)",
        8: "XML event not closed before the next <Event>",
        9: "incomplete XML event (no </Event> before the end of the input)",
    }
    assert skipped == 2 + 5


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([winlogbeat(), winlogbeat(eid=3)] * 2).format == "sysmon_dns"
    assert detect_lines([nxlog()] * 3).format == "sysmon_dns"
    assert detect_lines([xml(), xml(eid=1)]).format == "sysmon_dns"
    assert detect_lines(["<Events>", *pretty(), *pretty()[:4]]).format == "sysmon_dns"
    cls = PARSERS.get("sysmon_dns")
    analytical = json.dumps({"EventID": 256, "QNAME": "chatgpt.com.", "Source": "10.0.0.1"})
    security = xml().replace("Microsoft-Windows-Sysmon", "Microsoft-Windows-Security-Auditing")
    security = security.replace("<EventID>22</EventID>", "<EventID>4624</EventID>")
    for other in (analytical, security, '{"ts":1.0,"query":"chatgpt.com"}', "plain text"):
        assert cls.sniff([other] * 3) is None


# --- properties ----------------------------------------------------------------------

names = st.sampled_from(["chatgpt.com", "claude.ai", "api.openai.com", "www.example.com"])


@st.composite
def records(draw: st.DrawFn) -> list[str]:
    """One record: a JSON line, an XML line, or a pretty-printed XML block."""
    eid = draw(st.sampled_from([22, 22, 22, 1, 3]))
    name = draw(names)
    shape = draw(st.sampled_from(["winlogbeat", "nxlog", "xml", "pretty"]))
    if shape == "winlogbeat":
        return [winlogbeat(eid, QueryName=name)]
    if shape == "nxlog":
        return [nxlog(eid, QueryName=name)]
    if shape == "xml":
        return [xml(eid, QueryName=name)]
    return pretty(eid, QueryName=name)


def _flatten(items: list[list[str]]) -> list[str]:
    return [line for item in items for line in item]


noise = NOISE.map(lambda s: [s])
cut = st.builds(lambda r, n: r[: n % (len(r) + 1)], records(), st.integers(0, 30))
blocks = st.lists(st.one_of(records(), noise, cut), max_size=12).map(_flatten)


@given(blocks)
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("sysmon_dns", lines)


@given(st.lists(records(), min_size=1, max_size=8).map(_flatten), st.integers(0, 400))
def test_batch_boundaries_do_not_lose_records(lines: list[str], at: int) -> None:
    """Well-formed records give the same events whichever line a batch ends on."""
    cut_at = at % (len(lines) + 1)
    whole = parse_batches([lines])[0]
    split = parse_batches([lines[:cut_at], lines[cut_at:]])[0]
    key = ("host", "ts", "user", "dns_answers", "sysmon_dns_computer")
    assert [tuple(r[k] for k in key) for r in split] == [tuple(r[k] for k in key) for r in whole]
    assert all(r["host"] is not None for r in whole)


def test_records_are_never_split_between_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pretty-printed XML over many small chunks: every record parses, nothing unparsed."""
    import shadowscan.readers as readers
    from shadowscan.api import parse_files

    sample = (
        Path(__file__).resolve().parents[2] / "sample_logs" / "sysmon_dns" / "sysmon-pretty.xml"
    )
    text = sample.read_text(encoding="utf-8")
    big = tmp_path / "big.xml"
    big.write_text(text * 40, encoding="utf-8")
    _, one_chunk = parse_files([str(sample)], log_format="sysmon_dns")
    monkeypatch.setattr(readers, "CHUNK_SIZE", 700)  # far smaller than a record group
    _, many = parse_files([str(big)], log_format="sysmon_dns")
    f, g = one_chunk.files[0], many.files[0]
    assert g.unparsed_total == 40 * f.unparsed_total
    assert g.parsed == 40 * f.parsed
