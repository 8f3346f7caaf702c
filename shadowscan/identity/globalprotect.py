"""Palo Alto GlobalProtect sessions from PAN-OS syslog (CSV): the private address each user
was given by a GlobalProtect gateway.

``Nov 19 08:00:01 PA-3220 1,2026/11/19 08:00:01,013201001234,GLOBALPROTECT,0,2305,2026/11/19 08:00:01,vsys1,gateway-connected,connected,,SSL,corp\\jdoe,US,LAPTOP-JDOE,203.0.113.7,0.0.0.0,10.31.0.5,0.0.0.0,...,success,...``

Headers as the ``panos`` log parser reads them; record times are read at the offset of an
RFC 3339 syslog header when there is one, else in ``--timezone`` (the generated time,
else the receive time).

**GLOBALPROTECT log type** (PAN-OS 9.1 and later). Columns (0-based): 8 event id, 12
source user, 14 machine name, 17 private IP, 18 private IPv6, 28 status. Successful
gateway events that carry a private address (``gateway-connected``,
``gateway-register``, ``gateway-getconfig``, HIP checks, tunnel latency, ...) start or
confirm the user's session on that address; ``gateway-logout`` and
``gateway-config-release`` end it. The session ``key`` is user and machine, so a logout
closes the session of that user on that machine. Failed events, portal events and the
gateway's pre-tunnel ``gateway-prelogin``/``gateway-auth`` are ignored, as is the
``pre-logon`` user (a machine tunnel before anyone logs on).

**SYSTEM log, subtype globalprotect** (older releases): the description of
``globalprotectgateway-config-succ`` (``GlobalProtect gateway client configuration
generated. User name: jdoe, Private IP: 10.31.0.5, Client version: ..., Device name:
LAPTOP-JDOE, ...``), ``-regist-succ`` and ``-switch-succ`` start a session;
``globalprotectgateway-logout-succ`` (``User name: jdoe, ..., Reason: client logout.``) and
``-config-release`` end it. The logout names no machine, so here the key is the user.

A session with no logged end lasts ``--session-time``. Other PAN-OS records and other
lines are ignored.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._vpn import address, clean_user, lines_frame, session_batch, sniff_share
from shadowscan.identity.base import IdentityBatch, IdentityReader, normalise_device
from shadowscan.parsers.common import csv_fields, split_item
from shadowscan.parsers.panos import _HEAD, _HEADER_OFFSET, _START, _offset_minutes, _time

_RECORD = rf"{_HEAD}(?P<rec>{_START}(?:GLOBALPROTECT|SYSTEM),.*)$"
_GP_ENDS = ("gateway-logout", "gateway-config-release")
#: Gateway events before the tunnel exists: any address they carry is not yet the user's.
_GP_PRE_TUNNEL = ("gateway-prelogin", "gateway-auth")
_SYSTEM_STARTS = (
    "globalprotectgateway-config-succ",
    "globalprotectgateway-regist-succ",
    "globalprotectgateway-switch-succ",
)
_SYSTEM_ENDS = ("globalprotectgateway-logout-succ", "globalprotectgateway-config-release")
_SNIFF_PANOS = re.compile(rf"{_HEAD}{_START}[A-Z][A-Z\-]*,")
_SNIFF_GP = re.compile(rf"{_HEAD}{_START}(?:GLOBALPROTECT,|SYSTEM,globalprotect,)")


def _described(field: str) -> pl.Expr:
    """``<field>: value`` from a SYSTEM record's description (column 14)."""
    return pl.col("c14").str.extract(rf"(?:^|[\s,]){field}:\s*([^,]*?)\s*(?:,|\.?$)", 1)


@IDENTITY_READERS.register("globalprotect")
class GlobalProtectReader(IdentityReader):
    name = "globalprotect"
    kind = "session"
    summary = (
        "Palo Alto GlobalProtect (PAN-OS GLOBALPROTECT log, or SYSTEM globalprotect "
        "events): the private address each user's client held, from connect to logout."
    )
    example = (
        "Nov 19 08:00:01 PA-3220 1,2026/11/19 08:00:01,013201001234,GLOBALPROTECT,0,2305,"
        "2026/11/19 08:00:01,vsys1,gateway-connected,connected,,SSL,corp\\jdoe,US,"
        "LAPTOP-JDOE,203.0.113.7,0.0.0.0,10.31.0.5,0.0.0.0,...,success,..."
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """Sure when at least a fifth of the PAN-OS records are GlobalProtect ones."""
        return sniff_share(head, _SNIFF_PANOS, _SNIFF_GP)

    def read(self, lines: list[str]) -> IdentityBatch:
        c = pl.col
        tz = self.context.timezone
        f = lines_frame(lines).select(
            c("line_no"),
            csv_fields(c("line").str.extract(_RECORD, 1)).alias("_f"),
            _offset_minutes(c("line").str.extract(_HEADER_OFFSET, 1)).alias("_off"),
        )
        f = f.select(
            c("line_no"),
            c("_off"),
            *[split_item(i).alias(f"c{i}") for i in (1, 3, 4, 6, 8, 12, 14, 17, 18, 28)],
        )
        event = c("c8").str.to_lowercase()
        gp = c("c3") == "GLOBALPROTECT"
        system = (c("c3") == "SYSTEM") & (c("c4").str.to_lowercase() == "globalprotect")
        succeeded = c("c28").is_null() | (c("c28").str.to_lowercase() == "success")
        gp_end = gp & succeeded & event.is_in(_GP_ENDS)
        gp_start = (
            gp
            & succeeded
            & event.str.starts_with("gateway-")
            & ~event.is_in([*_GP_ENDS, *_GP_PRE_TUNNEL])
        )
        op = (
            pl.when(gp_start | (system & event.is_in(_SYSTEM_STARTS)))
            .then(pl.lit("start"))
            .when(gp_end | (system & event.is_in(_SYSTEM_ENDS)))
            .then(pl.lit("end"))
        )
        raw_user = pl.when(gp).then(c("c12")).otherwise(_described("User name"))
        device = normalise_device(pl.when(gp).then(c("c14")).otherwise(_described("Device name")))
        ip, bad_ip = address(pl.when(gp).then(c("c17")).otherwise(_described("Private IP")))
        ip6, bad_ip6 = address(pl.when(gp).then(c("c18")))
        key = pl.concat_str(
            [
                raw_user.str.strip_chars().str.to_lowercase(),
                pl.when(gp).then(pl.lit("|") + device.fill_null("")).otherwise(pl.lit("")),
            ]
        )
        rows = f.with_columns(op.alias("op")).select(
            c("line_no"),
            c("op"),
            pl.coalesce(_time(c("c6"), c("_off"), tz), _time(c("c1"), c("_off"), tz)).alias("ts"),
            ip.alias("ip"),
            ip6.alias("ip6"),
            clean_user(raw_user).alias("user"),
            device.alias("device"),
            key.alias("key"),
            pl.when(c("op").is_not_null() & (bad_ip | bad_ip6).fill_null(False))
            .then(pl.lit("bad address"))
            .alias("reason"),
        )
        return session_batch(rows, source=self.name, context=self.context)
