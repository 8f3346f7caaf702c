"""AWS VPC Flow Logs: default and all-fields layouts by field count, header-driven custom
layouts (state across batches), CloudWatch export prefixes, NODATA/SKIPDATA, one record
per direction, sniffing and properties."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.vpcflow import ALL_FIELDS, VpcFlowParser
from tests.parsers.props import NOISE, check_accounting

ACCOUNT = "210987654321"
ENI = "eni-0c4d2a7e91f3b5a60"


def v2(
    src: str = "10.40.1.25",
    dst: str = "160.79.104.10",
    sport: str = "50418",
    dport: str = "443",
    nbytes: str = "18544",
    start: str = "1730707260",
    action: str = "ACCEPT",
    status: str = "OK",
) -> str:
    return f"2 {ACCOUNT} {ENI} {src} {dst} {sport} {dport} 6 42 {nbytes} {start} 1730707320 {action} {status}"


def parse_batches(batches: list[list[str]]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Parse consecutive batches with one parser instance (as the engine does per file)."""
    parser = VpcFlowParser(ParseContext("t"))
    events, rejected, skipped, offset = [], [], 0, 0
    for lines in batches:
        batch = pl.DataFrame(
            {
                "line_no": pl.Series(range(offset, offset + len(lines)), dtype=pl.UInt64),
                "line": pl.Series(lines, dtype=pl.String),
            }
        )
        out = parser.parse(batch)
        assert out.events.height + out.rejected.height + out.skipped == len(lines)
        events.append(out.events)
        rejected.append(out.rejected)
        skipped += out.skipped
        offset += len(lines)
    return pl.concat(events, how="diagonal_relaxed"), pl.concat(rejected), skipped


def parse(lines: list[str]) -> list[dict[str, object]]:
    return parse_batches([lines])[0].to_dicts()


def test_default_layout_fields() -> None:
    (row,) = parse([v2()])
    assert row["ts"] == dt.datetime(2024, 11, 4, 8, 1, tzinfo=dt.UTC)  # start, not end
    assert row["vpcflow_end"] == dt.datetime(2024, 11, 4, 8, 2, tzinfo=dt.UTC)
    assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (
        "10.40.1.25",
        50418,
        "160.79.104.10",
        443,
    )
    # the record's bytes went from srcaddr to dstaddr: bytes_out; no bytes_in
    assert (row["bytes_out"], row.get("bytes_in"), row["action"]) == (18544, None, "allowed")
    assert (row["vpcflow_packets"], row["vpcflow_protocol"]) == (42, 6)
    assert (row["vpcflow_account_id"], row["vpcflow_interface_id"]) == (ACCOUNT, ENI)
    assert all(row.get(c) is None for c in ("host", "user", "status", "app", "url"))


def test_each_direction_is_its_own_record() -> None:
    out, back = parse([v2(), v2("160.79.104.10", "10.40.1.25", "443", "50418", nbytes="96211")])
    assert (out["src_ip"], out["dst_ip"], out["bytes_out"]) == (
        "10.40.1.25",
        "160.79.104.10",
        18544,
    )
    assert (back["src_ip"], back["dst_ip"], back["bytes_out"], back.get("bytes_in")) == (
        "160.79.104.10",
        "10.40.1.25",
        96211,
        None,
    )


def test_actions_ipv6_and_icmp() -> None:
    rej, v6, icmp = parse(
        [
            v2("198.51.100.77", "10.40.2.14", "61022", "22", action="REJECT"),
            v2("2600:1f18:4a1:7b00::1c3f", "2001:db8::25", "51200", "443"),
            v2("203.0.113.40", "10.40.2.14", "0", "0"),
        ]
    )
    assert rej["action"] == "blocked"
    assert (v6["src_ip"], v6["dst_ip"]) == ("2600:1f18:4a1:7b00::1c3f", "2001:db8::25")
    assert (icmp["src_port"], icmp["dst_port"]) == (0, 0)


def test_nodata_and_skipdata_are_skipped() -> None:
    nodata = f"2 {ACCOUNT} {ENI} - - - - - - - 1730707260 1730707320 - NODATA"
    skipdata = f"2 {ACCOUNT} {ENI} - - - - - - - 1730707260 1730707320 - SKIPDATA"
    events, rejected, skipped = parse_batches([[nodata, v2(), skipdata, ""]])
    assert (events.height, rejected.height, skipped) == (1, 0, 3)


def _all_fields(values: dict[str, str], count: int) -> str:
    base = dict(zip(ALL_FIELDS, v2().split(" "), strict=False))
    base.update(values)
    return " ".join(base.get(f, "-") for f in ALL_FIELDS[:count])


def test_headerless_layouts_by_field_count() -> None:
    nat = {"dstaddr": "10.40.0.220", "pkt-dstaddr": "160.79.104.10", "pkt-srcaddr": "10.40.1.25"}
    rows = parse(
        [
            _all_fields({"version": "3", **nat, "instance-id": "-"}, 21),
            _all_fields({"version": "4", "region": "eu-west-1"}, 25),
            _all_fields({"version": "5", "flow-direction": "egress", "traffic-path": "8"}, 29),
            _all_fields({"version": "7", "ecs-cluster-name": "web"}, 39),
            _all_fields({"version": "8", "action": "REJECT", "reject-reason": "BPA"}, 40),
        ]
    )
    assert len(rows) == 5
    v3, v4, v5, v7, v8 = rows
    # pkt-dstaddr is where the packet was going; the NAT gateway's address is kept aside
    assert (v3["src_ip"], v3["dst_ip"], v3["vpcflow_dstaddr"], v3["vpcflow_srcaddr"]) == (
        "10.40.1.25",
        "160.79.104.10",
        "10.40.0.220",
        None,
    )
    assert (v4["dst_ip"], v4["vpcflow_dstaddr"]) == ("160.79.104.10", None)
    assert v5["vpcflow_flow_direction"] == "egress"
    assert v7["bytes_out"] == 18544
    assert (v8["action"], v8["vpcflow_reject_reason"]) == ("blocked", "BPA")


def test_other_field_counts_and_bad_values_are_rejected() -> None:
    events, rejected, _ = parse_batches(
        [
            [
                v2() + " vpc-0a7d3c91e5b24f816",  # 15 fields, no header
                v2(action="ALLOW"),
                v2(src="10.40.1.999x"),
                v2(sport="https"),
                " ".join(v2().split(" ")[:12]),
                "x" + v2(),
                v2(),
            ]
        ]
    )
    assert events.height == 1
    assert rejected["line_no"].to_list() == [0, 1, 2, 3, 4, 5]
    assert rejected["reason"].str.starts_with("not a VPC flow record").all()


HEADER = (
    "version account-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport dstport "
    "protocol packets bytes start end action log-status instance-id flow-direction"
)


def custom(src: str, dst: str, psrc: str, pdst: str, direction: str = "egress") -> str:
    return (
        f"5 {ACCOUNT} {ENI} {src} {dst} {psrc} {pdst} 50610 443 6 25 9120 1730710800 "
        f"1730710860 ACCEPT OK i-0b8e4c2a7d1f93e65 {direction}"
    )


def test_header_driven_layout_across_batches() -> None:
    events, rejected, skipped = parse_batches(
        [
            [HEADER, custom("10.40.1.25", "10.40.0.220", "10.40.1.25", "160.79.104.10")],
            [
                custom("10.40.0.220", "10.40.1.25", "160.79.104.10", "10.40.1.25"),
                v2(),  # the default layout does not fit the header's 18 fields
            ],
        ]
    )
    assert skipped == 1
    assert rejected.to_dicts() == [
        {"line_no": 3, "reason": "does not fit the header line's 18 fields"}
    ]
    first, second = events.to_dicts()
    assert (first["src_ip"], first["dst_ip"], first["vpcflow_dstaddr"]) == (
        "10.40.1.25",
        "160.79.104.10",
        "10.40.0.220",
    )
    assert (first["vpcflow_instance_id"], first["vpcflow_flow_direction"]) == (
        "i-0b8e4c2a7d1f93e65",
        "egress",
    )
    assert (second["src_ip"], second["vpcflow_srcaddr"], second["dst_ip"]) == (
        "160.79.104.10",
        "10.40.0.220",
        "10.40.1.25",
    )


def test_new_header_replaces_the_layout_and_spellings() -> None:
    header2 = (
        "${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${bytes} ${start} ${action} ${new-field}"
    )
    athena = "interface_id srcaddr dstaddr dstport bytes end action"
    events, rejected, skipped = parse_batches(
        [
            [
                HEADER,
                custom("10.40.1.25", "160.79.104.10", "-", "-"),
                header2,
                f"{ENI} 10.40.1.26 160.79.104.11 443 77 1730710900 REJECT whatever",
                athena,
                f"{ENI} 10.40.1.27 160.79.104.12 443 88 1730711000 ACCEPT",
            ]
        ]
    )
    assert (rejected.height, skipped) == (0, 3)
    first, second, third = events.to_dicts()
    assert (first["src_ip"], first["dst_ip"], first["vpcflow_srcaddr"]) == (
        "10.40.1.25",
        "160.79.104.10",
        None,
    )
    assert (second["src_ip"], second["bytes_out"], second["action"]) == (
        "10.40.1.26",
        77,
        "blocked",
    )
    assert second["ts"] == dt.datetime(2024, 11, 4, 9, 1, 40, tzinfo=dt.UTC)
    assert (second["src_port"], second["vpcflow_account_id"]) == (None, None)
    # no start: the end time is the best there is
    assert third["ts"] == dt.datetime(2024, 11, 4, 9, 3, 20, tzinfo=dt.UTC)


def test_cloudwatch_export_prefix() -> None:
    no_times = "interface-id srcaddr dstaddr dstport action"
    rows = parse(
        [
            "2024-11-04T08:02:00.000Z " + v2(),
            f"2024-11-04T08:02:05.000Z {ENI}-all " + v2(start="1730707325"),
            no_times,
            f"2024-11-04T08:03:00.123Z {ENI} 10.40.1.25 160.79.104.10 443 ACCEPT",
        ]
    )
    assert rows[0]["ts"] == dt.datetime(2024, 11, 4, 8, 1, tzinfo=dt.UTC)  # start wins
    assert (rows[1]["ts"], rows[1]["src_ip"]) == (
        dt.datetime(2024, 11, 4, 8, 2, 5, tzinfo=dt.UTC),
        "10.40.1.25",
    )
    assert rows[2]["ts"] == dt.datetime(2024, 11, 4, 8, 3, 0, 123000, tzinfo=dt.UTC)


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([v2()] * 5).format == "vpcflow"
    assert detect_lines([HEADER, custom("10.0.0.1", "10.0.0.2", "-", "-")]).format == "vpcflow"
    assert detect_lines(["2024-11-04T08:02:00.000Z " + v2()] * 3).format == "vpcflow"
    cls = PARSERS.get("vpcflow")
    assert cls.sniff(["hello world", '{"a": 1}']) is None
    assert (
        cls.sniff(
            [
                "1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 badeyek DIRECT/175.16.199.115 -"
            ]
        )
        is None
    )
    assert cls.sniff(["#fields\tts\tuid", "1.0\tC1"]) is None


# --- properties ----------------------------------------------------------------------

ips = st.one_of(
    st.builds(lambda a, b: f"10.40.{a}.{b}", st.integers(0, 255), st.integers(0, 255)),
    st.sampled_from(["160.79.104.10", "2001:db8::25", "fe80::1"]),
)


@st.composite
def records(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    src, dst = draw(ips), draw(ips)
    sport, dport = draw(st.integers(0, 65535)), draw(st.integers(0, 65535))
    nbytes = draw(st.integers(0, 10**12))
    start = draw(st.integers(946684800, 2_000_000_000))
    action = draw(st.sampled_from(["ACCEPT", "REJECT"]))
    line = v2(src, dst, str(sport), str(dport), str(nbytes), str(start), action)
    prefix = draw(
        st.sampled_from(["", "2024-11-04T08:02:00.000Z ", f"2024-11-04T08:02:00Z {ENI}-all "])
    )
    expected = {
        "src_ip": src,
        "dst_ip": dst,
        "src_port": sport,
        "dst_port": dport,
        "bytes_out": nbytes,
        "action": "allowed" if action == "ACCEPT" else "blocked",
        "ts": dt.datetime.fromtimestamp(start, dt.UTC),
    }
    return prefix + line, expected


def _mutate(line: str, cut: int, drop: int) -> str:
    """Near misses: a truncated line, or one with a field dropped."""
    words = line.split(" ")
    if drop % 2:
        return line[: cut % (len(line) + 1)]
    del words[drop % len(words)]
    return " ".join(words)


valid = records().map(lambda t: t[0])
any_line = st.one_of(
    valid,
    st.builds(_mutate, valid, st.integers(0, 200), st.integers(0, 40)),
    st.just(f"2 {ACCOUNT} {ENI} - - - - - - - 1730707260 1730707320 - NODATA"),
    st.just(HEADER),
    NOISE,
)


@given(st.lists(any_line, max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("vpcflow", lines)


@given(records())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    (row,) = parse([line])
    for key, value in expected.items():
        assert row[key] == value, key
