"""FortiGate (FortiOS) VPN event logs: the address each SSL-VPN or dial-up IPsec user held.

``date=2026-11-19 time=08:00:01 eventtime=1763539201000000000 tz="+0000" logid="0101039947" type="event" subtype="vpn" action="tunnel-up" tunneltype="ssl-tunnel" tunnelid=12345 remip=203.0.113.7 tunnelip=10.212.134.200 user="jdoe" group="VPN-Staff" msg="SSL tunnel established"``

Lines are FortiOS ``key=value`` logs (as the ``fortigate`` log parser reads them) with
``type="event" subtype="vpn"``:

- ``action="tunnel-up"`` starts a session: SSL-VPN tunnel mode gives the client
  ``tunnelip``; dial-up IPsec with mode-config gives it ``assignip``. The user is
  ``xauthuser`` (IPsec XAuth), else ``user`` (``N/A`` and peer addresses are no user).
  ``action="tunnel-stats"`` lines with an address confirm the session is still up.
- ``action="tunnel-down"`` ends the session with the same ``tunnelid`` (the key).

Tunnels that give no address (SSL-VPN web mode, site-to-site IPsec) and all other lines
are ignored. Time: ``eventtime`` (epoch s/ms/us/ns, UTC), else ``date`` + ``time`` at the
``tz`` offset, else in ``--timezone``. A session with no logged end lasts
``--session-time``.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._vpn import address, clean_user, lines_frame, session_batch, sniff_share
from shadowscan.identity.base import IdentityBatch, IdentityReader
from shadowscan.parsers.common import epoch_ts, iso_ts, kv_value
from shadowscan.parsers.fortigate import PATTERN as FORTIOS_LINE

_KEYS = (
    "date",
    "time",
    "tz",
    "eventtime",
    "type",
    "subtype",
    "action",
    "tunnelid",
    "tunnelip",
    "assignip",
    "user",
    "xauthuser",
)
_STARTS = ("tunnel-up", "tunnel-stats")
_SNIFF_LINE = re.compile(FORTIOS_LINE)
_SNIFF_VPN = re.compile(
    r'(?:^|[\s,])subtype="?vpn"?[\s,].*(?:^|[\s,])action="?tunnel-(?:up|down|stats)"?(?:[\s,]|$)'
)


@IDENTITY_READERS.register("fortigate_vpn")
class FortigateVpnReader(IdentityReader):
    name = "fortigate_vpn"
    kind = "session"
    summary = (
        "FortiGate VPN event logs: the SSL-VPN tunnel address (tunnelip) or dial-up IPsec "
        "address (assignip) each user held, from tunnel-up to tunnel-down."
    )
    example = (
        'date=2026-11-19 time=08:00:01 eventtime=1763539201000000000 tz="+0000" '
        'logid="0101039947" type="event" subtype="vpn" action="tunnel-up" '
        'tunneltype="ssl-tunnel" tunnelid=12345 remip=203.0.113.7 tunnelip=10.212.134.200 '
        'user="jdoe" group="VPN-Staff" msg="SSL tunnel established"'
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """Sure when at least a fifth of the FortiOS lines are VPN tunnel events."""
        return sniff_share(head, _SNIFF_LINE, _SNIFF_VPN)

    def read(self, lines: list[str]) -> IdentityBatch:
        c = pl.col
        frame = lines_frame(lines)
        fortios = c("line").str.contains(FORTIOS_LINE)
        f = frame.select(
            c("line_no"),
            *[pl.when(fortios).then(kv_value(c("line"), key)).alias(key) for key in _KEYS],
        )
        vpn = (c("type") == "event") & (c("subtype") == "vpn")
        action = c("action").str.to_lowercase()
        op = (
            pl.when(vpn & action.is_in(_STARTS))
            .then(pl.lit("start"))
            .when(vpn & (action == "tunnel-down"))
            .then(pl.lit("end"))
        )
        assigned, bad_assigned = address(c("assignip"))
        tunnel, bad_tunnel = address(c("tunnelip"))
        # IPsec peers without XAuth log their address (or certificate) as ``user``.
        user_is_ip = address(c("user"))[0].is_not_null()
        user = pl.coalesce(
            clean_user(c("xauthuser")), pl.when(~user_is_ip).then(clean_user(c("user")))
        )
        zone = (
            pl.when(c("tz").str.contains(r"^[+-]\d{2}:?\d{2}$")).then(c("tz")).otherwise(pl.lit(""))
        )
        local = iso_ts(
            pl.concat_str([c("date"), pl.lit("T"), c("time"), zone]), self.context.timezone
        )
        eventtime = pl.when(c("eventtime").str.contains(r"^\d{9,19}$")).then(c("eventtime"))
        tunnel_id = pl.when(c("tunnelid").str.contains(r"^[1-9]\d*$")).then(c("tunnelid"))
        rows = f.select(
            c("line_no"),
            op.alias("op"),
            pl.coalesce(epoch_ts(eventtime), local).alias("ts"),
            pl.coalesce(assigned, tunnel).alias("ip"),
            pl.lit(None, pl.String).alias("ip6"),
            user.alias("user"),
            pl.lit(None, pl.String).alias("device"),
            tunnel_id.alias("key"),
            pl.when(op.is_not_null() & (bad_assigned | bad_tunnel).fill_null(False))
            .then(pl.lit("bad address"))
            .alias("reason"),
        )
        return session_batch(rows, source=self.name, context=self.context)
