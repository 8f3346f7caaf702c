"""Google Cloud DNS query logs: fields, rdata answers, timestamps, sniffing, properties."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.gcp_cloud_dns import GcpCloudDnsParser
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def entry(**payload: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "authAnswer": False,
        "protocol": "UDP",
        "queryName": "api.openai.com.",
        "queryType": "A",
        "rdata": (
            "api.openai.com.\t300\tIN\tcname\tapi.openai.com.cdn.cloudflare.net.\n"
            "api.openai.com.cdn.cloudflare.net.\t300\tIN\ta\t162.159.140.245\n"
            "api.openai.com.cdn.cloudflare.net.\t300\tIN\ta\t172.66.0.243"
        ),
        "responseCode": "NOERROR",
        "serverLatency": 4,
        "sourceIP": "10.164.0.12",
        "sourceNetwork": "ml-vpc",
        "vmInstanceId": 4815162342108,
        "vmInstanceName": "4815162342108.build-runner-01",
        "vmProjectId": "acme-ml-prod",
        "vmZoneName": "europe-west4-a",
    }
    body.update(payload)
    return {
        "insertId": "k2j3h4g5f6d7",
        "jsonPayload": body,
        "logName": "projects/acme-ml-prod/logs/dns.googleapis.com%2Fdns_queries",
        "receiveTimestamp": "2024-11-04T08:00:01.801234567Z",
        "resource": {"labels": {"project_id": "acme-ml-prod"}, "type": "dns_query"},
        "severity": "INFO",
        "timestamp": "2024-11-04T08:00:00.123456789Z",
    }


def line(rec: dict[str, Any]) -> str:
    return json.dumps(rec, separators=(",", ":"))


def parse_lines(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return GcpCloudDnsParser(ParseContext("t")).parse(batch).events


def test_fields() -> None:
    row = parse_lines([line(entry())]).row(0, named=True)
    assert row == {
        "line_no": 0,
        "ts": dt.datetime(2024, 11, 4, 8, 0, 0, 123456, tzinfo=dt.UTC),
        "src_ip": "10.164.0.12",
        "host": "api.openai.com",
        "dst_ip": None,
        "action": "allowed",
        "dns_qtype": "A",
        "dns_answers": ["api.openai.com.cdn.cloudflare.net", "162.159.140.245", "172.66.0.243"],
        "dns_rcode": "NOERROR",
        "gcp_cloud_dns_vm_instance": "4815162342108.build-runner-01",
        "gcp_cloud_dns_vm_project": "acme-ml-prod",
    }


def test_rdata_variants_and_codes() -> None:
    aaaa = entry(queryType="AAAA", rdata="claude.ai.\t60\tIN\taaaa\t2607:6bc0::10")
    mx = entry(queryType="MX", rdata="example.com.\t300\tIN\tmx\t10 mx1.example.com.")
    txt = entry(queryType="TXT", rdata='x.\t300\tIN\ttxt\t"a b c"\nx.\t300\tIN\ttxt...')
    refused = entry(responseCode="REFUSED", rdata="", destinationIP="10.10.0.53")
    numeric = entry(queryType="28", responseCode="3")
    no_ts = entry()
    del no_ts["timestamp"]
    rows = parse_lines([line(r) for r in (aaaa, mx, txt, refused, numeric, no_ts)]).to_dicts()
    assert rows[0]["dns_answers"] == ["2607:6bc0::10"]
    assert (rows[1]["dns_qtype"], rows[1]["dns_answers"]) == ("MX", None)
    assert rows[2]["dns_answers"] is None
    assert (rows[3]["action"], rows[3]["dns_rcode"], rows[3]["dst_ip"]) == (
        "blocked",
        "REFUSED",
        "10.10.0.53",
    )
    assert rows[3]["dns_answers"] is None
    assert (rows[4]["dns_qtype"], rows[4]["dns_rcode"]) == ("AAAA", "NXDOMAIN")
    # no timestamp: the receive time stands in
    assert rows[5]["ts"] == dt.datetime(2024, 11, 4, 8, 0, 1, 801234, tzinfo=dt.UTC)


def test_rejects_other_entries() -> None:
    other = {
        "insertId": "zz2",
        "textPayload": "Started guest agent.",
        "resource": {"type": "gce_instance"},
        "timestamp": "2024-11-04T08:00:03Z",
    }
    bad_ts = entry()
    bad_ts["timestamp"] = "yesterday"
    del bad_ts["receiveTimestamp"]
    lines = [line(other), line(bad_ts), line(entry())[:150], "not json", line(entry())]
    assert GcpCloudDnsParser.validate(pl.Series(lines)).to_list() == [False] * 4 + [True]
    assert parse_lines(lines)["line_no"].to_list() == [4]


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([line(entry())] * 3).format == "gcp_cloud_dns"
    sniff = PARSERS.get("gcp_cloud_dns").sniff
    r53 = (
        '{"version":"1.100000","query_timestamp":"2024-11-04T08:00:00Z",'
        '"query_name":"chatgpt.com.","srcaddr":"10.0.0.1"}'
    )
    assert sniff([r53] * 3) is None
    assert sniff(['{"timestamp":"2024-11-04T08:00:00Z","jsonPayload":{"message":"hi"}}']) is None


# --- properties ----------------------------------------------------------------------

hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai"])
addrs = st.builds(lambda a, b: f"10.{a}.{b}.9", st.integers(0, 255), st.integers(0, 255))


@st.composite
def gcp_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=draw(st.integers(0, 10**8)), microseconds=draw(st.integers(0, 999_999))
    )
    host = draw(hosts)
    answers = draw(st.lists(addrs, max_size=3))
    rdata = "\n".join(f"{host}.\t300\tIN\ta\t{a}" for a in answers)
    rec = entry(queryName=host + ".", rdata=rdata, sourceIP=draw(addrs))
    rec["timestamp"] = when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
    expected: dict[str, object] = {"ts": when, "host": host, "dns_answers": answers or None}
    return json.dumps(rec, ensure_ascii=draw(st.booleans())), expected


valid = gcp_lines().map(lambda t: t[0])
lines_mix = st.one_of(
    valid, st.tuples(valid, st.integers(0, 600)).map(lambda t: t[0][: t[1]]), NOISE
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("gcp_cloud_dns", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("gcp_cloud_dns", lines)


@given(gcp_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    row = parse_lines([text]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
