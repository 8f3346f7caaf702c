"""dnsmasq's DHCP log lines (``dnsmasq-dhcp[pid]:``): which device held an address.

::

    Nov 19 08:00:01 gw dnsmasq-dhcp[812]: DHCPACK(br0) 10.0.0.5 00:1a:2b:3c:4d:5e laptop-jdoe
    Nov 19 12:30:00 gw dnsmasq-dhcp[812]: DHCPRELEASE(br0) 10.0.0.5 00:1a:2b:3c:4d:5e

- ``DHCPACK(IFACE) IP MAC [HOST]`` grants or renews a lease: a start point lasting
  ``context.lease_time`` unless renewed, released, or given to another device first
  (dnsmasq does not log the lease time in these lines).
- ``DHCPRELEASE(IFACE) IP MAC`` ends it; ``... unknown lease`` (a release of a lease
  dnsmasq did not hold) is ignored.
- With ``log-dhcp`` every line carries a transaction id first (``1234567 DHCPACK(br0)
  ...``); the id is skipped.
- DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPINFORM, DHCPNAK, DHCPv6 messages, the
  ``log-dhcp`` detail lines (``tags:``, ``sent size:``...), dnsmasq's DNS lines
  (``query[A]``, read by the DNS log parser) and other programs' lines are ignored.

dnsmasq answers a DHCPINFORM with a DHCPACK line that looks like a lease; it is read as
one (the client does hold that address). Envelopes: BSD syslog, OpenWrt ``logread``,
RFC 3339 and RFC 5424; stamps without a zone are in ``context.timezone``.
"""

from __future__ import annotations

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._dhcp import SyslogLeaseReader

#: The transaction id ``log-dhcp`` puts before every message.
_XID = r"(?:\d+ )?"


@IDENTITY_READERS.register("dnsmasq_dhcp")
class DnsmasqDhcpReader(SyslogLeaseReader):
    """dnsmasq DHCP lease events from syslog."""

    name = "dnsmasq_dhcp"
    summary = (
        "dnsmasq's `dnsmasq-dhcp` syslog lines (BSD, OpenWrt `logread`, RFC 3339/5424; "
        "`log-dhcp` transaction ids accepted): `DHCPACK` starts or renews a lease of the "
        "default lease time, `DHCPRELEASE` ends it; DNS lines and other DHCP messages are "
        "ignored, so a mixed dnsmasq log can be given as `dnsmasq_dhcp:FILE`."
    )
    example = (
        "Nov 19 08:00:01 gw dnsmasq-dhcp[812]: DHCPACK(br0) 10.0.0.5 00:1a:2b:3c:4d:5e laptop-jdoe"
    )

    program = r"dnsmasq-dhcp"
    dhcp_message = rf"{_XID}DHCP[A-Z]+\("
    claimed = rf"^{_XID}DHCP(?:ACK|RELEASE)\("
    skip = rf"^{_XID}DHCPRELEASE\(.* unknown lease$"
    start = rf"^{_XID}DHCPACK\([^)\s]*\) (?P<ip>\S+) (?P<mac>\S+)(?: (?P<host>\S+))?$"
    end = rf"^{_XID}DHCPRELEASE\([^)\s]*\) (?P<ip>\S+) (?P<mac>\S+)$"
