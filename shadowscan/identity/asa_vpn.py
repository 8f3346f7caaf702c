"""Cisco ASA AnyConnect / WebVPN sessions from ASA syslog.

``Nov 19 2026 08:00:01 vpn-asa : %ASA-4-722051: Group <GP-Staff> User <jdoe> IP <203.0.113.7> IPv4 Address <10.10.0.23> IPv6 address <::> assigned to session``

Headers as the ``cisco_asa`` log parser reads them (``Mon dd [yyyy] HH:MM:SS [zone] host :``,
RFC 3339, a relay's syslog header in front; a year-less time takes the file's year, a
zone-less one ``--timezone``).

- **722051** ``Group <g> User <u> IP <public ip> IPv4 Address <a> IPv6 address <b>
  assigned to session`` (older releases: ``Address <a> assigned to session``) starts a
  session: ``u`` holds ``a`` (and ``b`` unless ``::``).
- It ends with the first of **113019** ``Group = g, Username = u, IP = public ip, Session
  disconnected. ...``, **722037** ``... SVC closing connection: reason``, **722023** ``...
  (TCP|UDP) SVC connection terminated ...`` and **716002** ``... WebVPN session terminated:
  reason`` for the same user and public address (the session ``key`` is ``user|public
  ip``, so two users behind one NAT address, or one user on two networks, stay apart).

A session with no logged end lasts ``--session-time``. Every other ASA message, and every
line that is not an ASA message, is ignored; a handled message whose text does not read
is rejected.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._vpn import address, clean_user, lines_frame, session_batch
from shadowscan.identity.base import IdentityBatch, IdentityReader
from shadowscan.parsers._fwlog import any_ts
from shadowscan.parsers.cisco_asa import _HEADER as ASA_HEADER

#: The header, then the message id and its text.
_LINE = ASA_HEADER + r"(?P<msgid>\d{6})(?::\s*|\s+)(?P<text>.*)$"
_STARTS = ("722051",)
_ENDS = ("113019", "722037", "722023", "716002")
#: ``Group <g> User <u> IP <ip> rest`` (the angle brackets are optional).
_GROUP_USER_IP = (
    r"^Group <?[^<>]*?>? User <?(?P<user>[^<>]*?)>? IP <?(?P<pub>[^<>\s]+)>? (?P<rest>.*)$"
)
_ASSIGNED = (
    r"^(?:IPv4 )?Address <?(?P<v4>[^<>\s]*)>?(?: IPv6 [Aa]ddress <?(?P<v6>[^<>\s]*)>?)? "
    r"assigned to session"
)
_DISCONNECTED = (
    r"^Group = [^,]*, Username = (?P<user>[^,]*), IP = (?P<pub>[^,\s]+), Session disconnected"
)
#: The text each end message starts with, after ``Group <g> User <u> IP <ip>``.
_END_TEXT = {
    "722037": r"^SVC closing connection",
    "722023": r"^(?:\S+ )?SVC connection terminated",
    "716002": r"^WebVPN session terminated",
}
_SNIFF = re.compile(ASA_HEADER + r"(?P<msgid>\d{6})")


@IDENTITY_READERS.register("asa_vpn")
class AsaVpnReader(IdentityReader):
    name = "asa_vpn"
    kind = "session"
    summary = (
        "Cisco ASA AnyConnect/WebVPN syslog: the address assigned to each user (722051) "
        "until the session's disconnect (113019, 722037, 722023, 716002)."
    )
    example = (
        "Nov 19 2026 08:00:01 vpn-asa : %ASA-4-722051: Group <GP-Staff> User <jdoe> IP "
        "<203.0.113.7> IPv4 Address <10.10.0.23> IPv6 address <::> assigned to session\n"
        "Nov 19 2026 09:02:04 vpn-asa : %ASA-4-113019: Group = GP-Staff, Username = jdoe, "
        "IP = 203.0.113.7, Session disconnected. Session Type: SSL, Duration: 1h:02m:03s, ..."
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """Sure when at least a fifth of the ASA messages are session starts or ends (a
        VPN log); a firewall log with an occasional 722051 line is not claimed."""
        ids = [m["msgid"] for line in head if (m := _SNIFF.search(line))]
        if not ids:
            return 0.0
        sessions = sum(1 for i in ids if i in _STARTS or i in _ENDS)
        if not any(i in _STARTS for i in ids):
            return 0.3 if sessions else 0.0
        return 0.9 if sessions / len(ids) >= 0.2 else 0.3

    def read(self, lines: list[str]) -> IdentityBatch:
        c = pl.col
        f = (
            lines_frame(lines)
            .select(c("line_no"), c("line").str.extract_groups(_LINE).alias("h"))
            .unnest("h")
        )
        msgid = c("msgid")
        angle = c("text").str.extract_groups(_GROUP_USER_IP)
        disconnected = c("text").str.extract_groups(_DISCONNECTED)
        f = f.with_columns(
            angle.struct.field("rest").alias("rest"),
            pl.when(msgid == "113019")
            .then(disconnected.struct.field("user"))
            .otherwise(angle.struct.field("user"))
            .str.strip_chars()
            .alias("raw_user"),
            pl.when(msgid == "113019")
            .then(disconnected.struct.field("pub"))
            .otherwise(angle.struct.field("pub"))
            .alias("raw_pub"),
        )
        assigned = c("rest").str.extract_groups(_ASSIGNED)
        is_end = (msgid == "113019") & c("raw_user").is_not_null()
        for mid, pattern in _END_TEXT.items():
            is_end = is_end | ((msgid == mid) & c("rest").str.contains(pattern))
        op = (
            pl.when((msgid == "722051") & assigned.struct.field("v4").is_not_null())
            .then(pl.lit("start"))
            .when(is_end.fill_null(False))
            .then(pl.lit("end"))
        )
        pub, bad_pub = address(c("raw_pub"))
        v4, bad_v4 = address(assigned.struct.field("v4"))
        v6, bad_v6 = address(assigned.struct.field("v6"))
        bad = (bad_pub | bad_v4 | bad_v6).fill_null(False)
        rows = f.with_columns(op.alias("op")).select(
            c("line_no"),
            c("op"),
            any_ts(
                c("iso"), c("bsd"), c("zone"), self.context.file_time, self.context.timezone
            ).alias("ts"),
            v4.alias("ip"),
            v6.alias("ip6"),
            clean_user(c("raw_user")).alias("user"),
            pl.lit(None, pl.String).alias("device"),
            pl.concat_str([c("raw_user").str.to_lowercase(), pl.lit("|"), pub]).alias("key"),
            pl.when(msgid.is_in([*_STARTS, *_ENDS]) & c("op").is_null())
            .then(pl.lit("malformed message"))
            .when(c("op").is_not_null() & bad)
            .then(pl.lit("bad address"))
            .alias("reason"),
        )
        return session_batch(rows, source=self.name, context=self.context)
