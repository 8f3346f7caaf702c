"""dnsmasq DHCP lines: DHCPACK starts, DHCPRELEASE ends; DNS and other DHCP lines are
ignored."""

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

NAME = "dnsmasq_dhcp"
SAMPLE = sample_lines(NAME, "dnsmasq-dhcp.log")
UTC = dt.UTC


def test_ack_renewal_release_with_and_without_transaction_ids() -> None:
    lines = [
        "Nov 19 08:00:01 gw dnsmasq-dhcp[812]: DHCPACK(br0) 10.0.5.105 00:1a:2b:3c:4d:5e laptop-jdoe",
        "Nov 19 08:00:02 gw dnsmasq[812]: query[A] chatgpt.com from 10.0.5.105",
        "Nov 19 14:00:03 gw dnsmasq-dhcp[812]: 3416981542 DHCPACK(br0) 10.0.5.105 00:1a:2b:3c:4d:5e ",
        "Nov 19 14:00:03 gw dnsmasq-dhcp[812]: 3416981542 tags: br0, known",
        "Nov 19 17:30:00 gw dnsmasq-dhcp[812]: DHCPRELEASE(br0) 10.0.5.105 00:1a:2b:3c:4d:5e ",
        "Nov 19 17:31:00 gw dnsmasq-dhcp[812]: DHCPRELEASE(br0) 10.0.5.150 00:1a:2b:3c:4d:71 unknown lease",
    ]
    batch = read(NAME, lines)
    got = list(batch.frame.select("ip", "start", "end", "mac", "device").iter_rows())
    assert got == [
        (
            "10.0.5.105",
            dt.datetime(2026, 11, 19, 8, 0, 1, tzinfo=UTC),
            dt.datetime(2026, 11, 19, 17, 30, tzinfo=UTC),
            "00:1a:2b:3c:4d:5e",
            "laptop-jdoe",
        )
    ]
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (3, 3, 0)


def test_other_dhcp_messages_are_ignored() -> None:
    lines = [
        "Nov 19 07:58:10 gw dnsmasq-dhcp[812]: DHCP, IP range 10.0.5.100 -- 10.0.5.200, lease time 12h",
        "Nov 19 08:00:00 gw dnsmasq-dhcp[812]: DHCPDISCOVER(br0) 00:1a:2b:3c:4d:5e ",
        "Nov 19 08:00:00 gw dnsmasq-dhcp[812]: DHCPOFFER(br0) 10.0.5.105 00:1a:2b:3c:4d:5e ",
        "Nov 19 08:00:01 gw dnsmasq-dhcp[812]: DHCPREQUEST(br0) 10.0.5.105 00:1a:2b:3c:4d:5e ",
        "Nov 19 08:00:01 gw dnsmasq-dhcp[812]: DHCPNAK(br0) 10.0.5.120 00:1a:2b:44:55:67 wrong address",
        "Nov 19 08:00:01 gw dnsmasq-dhcp[812]: DHCPREPLY(br0) 2001:db8:5::50 00:01:00:01:2d:4f bwong-tab",
        "Nov 19 08:00:01 gw dnsmasq[812]: reply chatgpt.com is 104.18.32.47",
        "Nov 19 08:00:01 gw dhcpd[1]: DHCPACK on 10.0.0.5 to 00:1a:2b:3c:4d:5e via eth0",
    ]
    batch = read(NAME, lines)
    assert batch.frame.is_empty()
    assert batch.ignored == len(lines)


def test_openwrt_and_rfc3339_envelopes() -> None:
    lines = [
        "Thu Nov 19 09:00:00 2026 daemon.info dnsmasq-dhcp[1530]: DHCPACK(br-lan) 10.0.6.40 00:1a:2b:3c:4d:a0 asmith-mbp",
        "2026-11-19T10:00:00-05:00 gw dnsmasq-dhcp[1530]: DHCPACK(br-lan) 10.0.6.41 00:1a:2b:3c:4d:a1",
    ]
    batch = read(NAME, lines, timezone="Europe/Berlin")
    assert batch.frame["start"].to_list() == [
        dt.datetime(2026, 11, 19, 8, tzinfo=UTC),
        dt.datetime(2026, 11, 19, 15, tzinfo=UTC),
    ]


def test_broken_lease_lines_are_rejected() -> None:
    lines = [
        "Nov 19 19:00:00 gw dnsmasq-dhcp[812]: DHCPACK(br0) 10.0.5.300 00:1a:2b:44:55:69 kiosk-1",
        "Nov 19 19:00:01 gw dnsmasq-dhcp[812]: DHCPACK(br0) 10.0.5.110 00:1a:2b:44:55 kiosk-2",
        "Nov 19 19:00:02 gw dnsmasq-dhcp[812]: DHCPACK(br0) 10.0.5.111",
        "Nov 19 19:00:03 gw dnsmasq-dhcp[812]: DHCPRELEASE(br0) 10.0.5.111 00:1a:2b:44:55:6a extra words",
    ]
    batch = read(NAME, lines)
    assert batch.rejected.sort("line_no")["reason"].to_list() == [
        "bad address",
        "bad MAC",
        "malformed line",
        "malformed line",
    ]


@given(any_lines(SAMPLE, max_size=40))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_sniff_leaves_dns_logs_with_a_few_dhcp_lines_alone() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)
