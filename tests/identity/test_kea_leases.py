"""Kea memfile lease CSV: rows become one binding per client and address; declined,
deleted and prefix rows are ignored; columns come from the header."""

from __future__ import annotations

import datetime as dt

from hypothesis import given

from shadowscan.identity import IDENTITY_READERS
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
    sample_lines,
)

NAME = "kea_leases"
SAMPLE = sample_lines(NAME, "kea-leases4.csv")
UTC = dt.UTC
V4 = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id"
AT_8 = 1795075200  # 2026-11-19 08:00 UTC


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 19, tzinfo=UTC) + dt.timedelta(hours=hour, minutes=minute)


def test_renewal_deletion_and_next_client() -> None:
    lines = [
        V4,
        f"10.0.2.5,00:1a:2b:3c:4d:5e,,43200,{AT_8 + 43200},1,0,0,laptop-jdoe,0,,0",
        f"10.0.2.5,00:1a:2b:3c:4d:5e,,43200,{AT_8 + 6 * 3600 + 43200},1,0,0,laptop-jdoe,0,,0",
        # Deleted: lifetime 0, stamped with the last renewal, not the deletion.
        f"10.0.2.5,00:1a:2b:3c:4d:5e,,0,{AT_8 + 6 * 3600},1,0,0,laptop-jdoe,0,,0",
        f"10.0.2.5,00:1a:2b:99:88:77,,43200,{AT_8 + 10 * 3600 + 43200},1,0,0,,0,,0",
    ]
    batch = read(NAME, lines)
    got = list(batch.frame.select("start", "end", "mac", "device").iter_rows())
    assert got == [
        (at(8), at(18), "00:1a:2b:3c:4d:5e", "laptop-jdoe"),
        (at(18), at(30), "00:1a:2b:99:88:77", None),
    ]
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (3, 2, 0)


def test_reclaimed_declined_and_infinite_leases() -> None:
    lines = [
        V4,
        f"10.0.2.6,00:1a:2b:44:55:66,,3600,{AT_8 + 4800},1,0,0,bwong-ws,0,,0",
        f"10.0.2.6,00:1a:2b:44:55:66,,3600,{AT_8 + 4800},1,0,0,,2,,0",
        f"10.0.2.7,,,86400,{AT_8 + 86400},1,0,0,,1,,0",
        f"10.0.2.8,00:1a:2b:3c:4d:60,,4294967295,{AT_8 + 4294967295},1,0,0,printer&#x2c 3f,0,,0",
    ]
    batch = read(NAME, lines)
    got = list(batch.frame.select("ip", "start", "end", "device").iter_rows())
    assert got == [
        ("10.0.2.6", at(8, 20), at(9, 20), "bwong-ws"),
        ("10.0.2.8", at(8), at(20), "printer, 3f"),
    ]


def test_dhcpv6_prefixes_and_duid_only_clients_are_ignored() -> None:
    header = (
        "address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,"
        "fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source,pool_id"
    )
    lines = [
        header,
        f"2001:DB8:1::5,00:03:00:01,43200,{AT_8 + 43200},1,21600,0,1,128,0,0,jdoe-lt,00:1a:2b:3c:4d:5e,0,,1,2,0",
        f"2001:db8:1::6,00:01:00:01,3600,{AT_8 + 3600},1,1800,0,7,128,0,0,,,0,,0,0,0",
        f"2001:db8:1:200::,00:03:00:01,43200,{AT_8 + 43200},1,21600,2,3,56,0,0,,00:1a:2b:3c:4d:5e,0,,1,2,0",
    ]
    batch = read(NAME, lines)
    assert batch.frame["ip"].to_list() == ["2001:db8:1::5"]
    assert batch.ignored == 3


def test_old_header_without_state_and_file_without_header() -> None:
    old = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname"
    row = f"10.0.2.9,00:1a:2b:3c:4d:61,,3600,{AT_8 + 3600},1,0,0,kiosk-1"
    assert read(NAME, [old, row]).frame["end"].to_list() == [at(9)]
    assert read(NAME, [row]).frame["end"].to_list() == [at(9)]


def test_broken_rows_are_rejected() -> None:
    lines = [
        V4,
        "10.0.2.10,00:1a:2b:3c:4d:61,,43200",
        f"10.0.2.300,00:1a:2b:3c:4d:62,,43200,{AT_8},1,0,0,kiosk-2,0,,0",
        "10.0.2.11,00:1a:2b:3c:4d:63,,43200,not-a-time,1,0,0,kiosk-3,0,,0",
        f"10.0.2.12,00:1a:2b:3c:4d:64,,-5,{AT_8},1,0,0,kiosk-4,0,,0",
        f"10.0.2.13,00:1a:2b:3c:4d:65,,43200,{AT_8},1,0,0,kiosk-5,x,,0",
    ]
    batch = read(NAME, lines)
    assert batch.rejected.sort("line_no")["reason"].to_list() == [
        "malformed row",
        "bad address",
        "bad timestamp",
        "bad timestamp",
        "bad state",
    ]


@given(any_lines(SAMPLE, max_size=40))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    batch = check_accounting(NAME, lines)
    assert (batch.frame["end"] > batch.frame["start"]).all()


def test_sniff_claims_only_kea_lease_files() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)
