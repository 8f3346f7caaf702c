"""ISC dhcpd's syslog lines: which device held an address, from its DHCPACK and
DHCPRELEASE messages.

::

    Nov 19 08:00:01 dhcp1 dhcpd[1234]: DHCPACK on 10.0.0.5 to 00:1a:2b:3c:4d:5e (LAPTOP-JDOE) via eth0
    Nov 19 12:30:00 dhcp1 dhcpd[1234]: DHCPRELEASE of 10.0.0.5 from 00:1a:2b:3c:4d:5e (LAPTOP-JDOE) via eth0 (found)

- ``DHCPACK on IP to MAC [(HOST)] via IFACE`` grants or renews a lease: a start point.
  dhcpd does not log the lease time, so each lasts ``context.lease_time`` unless renewed,
  released, or given to another device first.
- ``DHCPRELEASE of IP from MAC [(HOST)] via IFACE (found)`` ends it. A release dhcpd
  answers ``(not found)`` (a lease it did not hold for that client) is ignored.
- The reply to a DHCPINFORM (``DHCPACK to IP (MAC) via IFACE``) grants nothing: the
  client configured the address itself. It is ignored, as are DHCPDISCOVER, DHCPOFFER,
  DHCPREQUEST, DHCPDECLINE, DHCPNAK, BOOTREPLY, dhcpd's other messages and other
  programs' lines. dhcpd logs no expiry.

Envelopes: BSD syslog (year from the file's mtime), RFC 3339 (rsyslog) and RFC 5424;
stamps without a zone are in ``context.timezone``. A DHCPACK or DHCPRELEASE line that does
not parse, or has a bad time, address or MAC, is rejected.
"""

from __future__ import annotations

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._dhcp import SyslogLeaseReader


@IDENTITY_READERS.register("dhcpd_syslog")
class DhcpdSyslogReader(SyslogLeaseReader):
    """ISC dhcpd lease events from syslog."""

    name = "dhcpd_syslog"
    summary = (
        "ISC dhcpd syslog (BSD, RFC 3339 or RFC 5424 header): `DHCPACK on` starts or renews "
        "a lease of the default lease time, `DHCPRELEASE ... (found)` ends it; a lease is "
        "also cut when the address goes to another MAC. Other dhcpd messages and other "
        "programs' lines are ignored."
    )
    example = (
        "Nov 19 08:00:01 dhcp1 dhcpd[1234]: DHCPACK on 10.0.0.5 to 00:1a:2b:3c:4d:5e "
        "(LAPTOP-JDOE) via eth0"
    )

    program = r"dhcpd\d?"
    dhcp_message = r"DHCP(?:ACK|DISCOVER|OFFER|REQUEST|RELEASE|INFORM|NAK|DECLINE)\s"
    claimed = r"^DHCP(?:ACK on|RELEASE of)\s"
    skip = r"^DHCPRELEASE of .*\(not found\)$"
    start = r"^DHCPACK on (?P<ip>\S+) to (?P<mac>\S+)(?: \((?P<host>.*)\))? via \S+"
    end = r"^DHCPRELEASE of (?P<ip>\S+) from (?P<mac>\S+)(?: \((?P<host>.*)\))? via \S+ \(found\)$"
