"""ISC dhcpd syslog: DHCPACK starts, DHCPRELEASE (found) ends, everything else is ignored."""

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

NAME = "dhcpd_syslog"
SAMPLE = sample_lines(NAME, "dhcpd.log")
UTC = dt.UTC
JDOE = "00:1a:2b:3c:4d:5e"


def test_ack_renewal_release_and_next_client() -> None:
    lines = [
        f"Nov 19 08:00:01 dhcp1 dhcpd[1234]: DHCPACK on 10.0.0.5 to {JDOE} (LAPTOP-JDOE) via eth0",
        f"Nov 19 14:00:02 dhcp1 dhcpd[1234]: DHCPACK on 10.0.0.5 to {JDOE} (LAPTOP-JDOE) via eth0",
        f"Nov 19 17:30:00 dhcp1 dhcpd[1234]: DHCPRELEASE of 10.0.0.5 from {JDOE} (LAPTOP-JDOE) via eth0 (found)",
        "Nov 19 18:05:01 dhcp1 dhcpd[1234]: DHCPACK on 10.0.0.5 to 00:1a:2b:44:55:66 via 10.0.50.1",
        "Nov 19 19:00:00 dhcp1 dhcpd[1234]: DHCPACK on 10.0.0.5 to 00:1a:2b:99:88:77 (John's iPhone) via eth0",
    ]
    batch = read(NAME, lines)
    got = list(batch.frame.select("start", "end", "mac", "device").iter_rows())
    assert got == [
        (
            dt.datetime(2026, 11, 19, 8, 0, 1, tzinfo=UTC),
            dt.datetime(2026, 11, 19, 17, 30, tzinfo=UTC),
            JDOE,
            "laptop-jdoe",
        ),
        (
            dt.datetime(2026, 11, 19, 18, 5, 1, tzinfo=UTC),
            dt.datetime(2026, 11, 19, 19, tzinfo=UTC),  # cut: the address went to another MAC
            "00:1a:2b:44:55:66",
            None,
        ),
        (
            dt.datetime(2026, 11, 19, 19, tzinfo=UTC),
            dt.datetime(2026, 11, 20, 7, tzinfo=UTC),  # the default lease time
            "00:1a:2b:99:88:77",
            "john's iphone",
        ),
    ]
    assert batch.parsed == 5


def test_messages_that_grant_nothing_are_ignored() -> None:
    lines = [
        "Nov 19 08:15:00 dhcp1 dhcpd[1234]: DHCPACK to 10.0.0.40 (00:1a:2b:3c:4d:70) via eth0",
        "Nov 19 17:31:05 dhcp1 dhcpd[1234]: DHCPRELEASE of 10.0.0.7 from 00:1a:2b:3c:4d:71 via eth0 (not found)",
        "Nov 19 08:00:01 dhcp1 dhcpd[1234]: DHCPREQUEST for 10.0.0.5 (10.0.0.2) from 00:1a:2b:3c:4d:5e via eth0",
        "Nov 19 08:00:01 dhcp1 dhcpd[1234]: DHCPOFFER on 10.0.0.5 to 00:1a:2b:3c:4d:5e via eth0",
        "Nov 19 19:00:00 dhcp1 dhcpd[1234]: DHCPDECLINE of 10.0.0.8 from 00:1a:2b:44:55:68 via eth0: abandoned",
        "Nov 19 08:00:01 dhcp1 named[99]: DHCPACK on 10.0.0.5 to 00:1a:2b:3c:4d:5e via eth0",
        "not syslog at all",
        "",
    ]
    batch = read(NAME, lines)
    assert batch.frame.is_empty()
    assert (batch.parsed, batch.ignored) == (0, len(lines))


def test_envelopes_and_zones() -> None:
    lines = [
        "Nov 19 09:00:00 dhcp1 dhcpd[1]: DHCPACK on 10.0.0.1 to 00:1a:2b:3c:4d:01 via eth0",
        "2026-11-19T09:00:00+01:00 dhcp1 dhcpd[1]: DHCPACK on 10.0.0.2 to 00:1a:2b:3c:4d:02 via eth0",
        '<30>1 2026-11-19T08:00:00.5Z dhcp1 dhcpd 1 - [x@1 a="b"] DHCPACK on 10.0.0.3 to 00:1a:2b:3c:4d:03 via eth0',
        "<30>Nov 19 09:00:00 dhcp1 dhcpd: DHCPACK on 10.0.0.4 to 00:1a:2b:3c:4d:04 via eth0",
    ]
    batch = read(NAME, lines, timezone="Europe/Berlin")
    assert batch.frame["start"].to_list() == [
        dt.datetime(2026, 11, 19, 8, tzinfo=UTC),
        dt.datetime(2026, 11, 19, 8, tzinfo=UTC),
        dt.datetime(2026, 11, 19, 8, 0, 0, 500000, tzinfo=UTC),
        dt.datetime(2026, 11, 19, 8, tzinfo=UTC),
    ]


def test_broken_lease_lines_are_rejected_with_a_reason() -> None:
    lines = [
        "Nov 19 20:00:00 dhcp1 dhcpd[1]: DHCPACK on 10.0.0.300 to 00:1a:2b:44:55:69 via eth0",
        "Nov 19 20:01:00 dhcp1 dhcpd[1]: DHCPACK on 10.0.0.9 to 00:1a:2b:44:55 via eth0",
        "Nov 19 20:02:00 dhcp1 dhcpd[1]: DHCPACK on 10.0.0.9 via eth0",
        "Nov 31 20:03:00 dhcp1 dhcpd[1]: DHCPACK on 10.0.0.9 to 00:1a:2b:44:55:6a via eth0",
        "Nov 19 20:04:00 dhcp1 dhcpd[1]: DHCPRELEASE of 10.0.0.9 from 00:1a:2b:44:55:6a via eth0",
    ]
    batch = read(NAME, lines)
    assert batch.rejected.sort("line_no")["reason"].to_list() == [
        "bad address",
        "bad MAC",
        "malformed line",
        "bad timestamp",
        "malformed line",
    ]


@given(any_lines(SAMPLE, max_size=40))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    check_accounting(NAME, lines)


def test_sniff_claims_only_dhcpd_logs() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)
