"""Cisco ASA (and FTD/PIX/FWSM in ASA mode) syslog messages.

``Apr 29 2024 12:59:50 fw01 : %ASA-6-302013: Built outbound TCP connection 8974 for outside:104.18.32.47/443 (104.18.32.47/443) to inside:10.20.1.15/51234 (198.51.100.7/40001)``

Header: an optional ``<PRI>``, an optional relay header (BSD or RFC 3339 time and host),
the device's time (``Mon dd [yyyy] HH:MM:SS`` with an optional zone abbreviation such as
``EDT``, or RFC 3339), an optional host (``fw01 :``, ``<IP>:``, or just ``:``), then
``%ASA-<sev>-<msgid>:`` (``%ASA-session-5-106100`` style suffixes and a missing colon
are accepted). A time without a year takes it from the file's modification time; one
without a zone is read in ``--timezone``; the listed abbreviations (``EDT``, ``CEST``...)
are honoured.

Messages that become events (one per line):

- **302013/302015** ``Built {inbound|outbound} TCP|UDP connection <id> for <if>:<real
  ip>/<port> (<mapped ip>/<port>)[(<idfw user>)] to <if>:<ip>/<port> (<mapped>)
  [(<idfw user>)] [(<user>)]``. The ``for`` side is the lower-security (foreign) side and
  the ``to`` side the higher-security (local) side; Cisco's direction says who opened
  the connection: ``inbound`` = the ``for`` side, ``outbound`` = the ``to`` side. So
  ``src_*`` is the ``to`` side for outbound and the ``for`` side for inbound (real
  addresses, not the mapped ones); ``cisco_asa_direction`` keeps the word.
  ``cisco_asa_phase = build``; ``action = allowed``.
- **302014/302016** ``Teardown TCP|UDP connection <id> for <if>:<ip>/<port>[(<user>)] to
  <if>:<ip>/<port>[(<user>)] duration H:MM:SS bytes N [reason] [(<user>)]``. Same
  side order as the build line, but no direction: the side with the **lower port** is
  taken as the responder (the service port), the other as the initiator; on equal ports
  the ``to`` (inside) side is the initiator, as for the common outbound case.
  ``bytes N`` counts both directions together, so it goes to ``cisco_asa_bytes_total``
  and ``bytes_out``/``bytes_in`` stay null (never guessed). ``cisco_asa_phase =
  teardown``: a connection logged at both ends is two events, sharing
  ``cisco_asa_conn_id``.
- **304001** ``[user@]<src>[(<idfw user>)] Accessed URL <server ip>:<url>`` -> ``host``,
  ``url``, ``dst_ip``; a path-only URL gets the server address as host. **304002**
  ``Access denied URL <url> SRC <ip> DEST <ip> on interface <if>`` -> ``blocked``.
- **106023** (``Deny <proto> src <if>:<ip>[/<port>] dst <if>:<ip>[/<port>] ... by
  access-group "<acl>"``), **106100** (``access-list <acl> permitted|denied|est-allowed
  <proto> <if>/<ip>(<port>) -> <if>/<ip>(<port>) hit-cnt ...``), **106001**, **106006**,
  **106007**, **106015** (denied packets): ``action`` from the verdict, the ACL in
  ``cisco_asa_rule``. These describe one packet: ``src_*`` is its sender.
- **722051** AnyConnect ``Group <g> User <u> IP <public ip> IPv4 Address <assigned ip>
  ... assigned to session``: identity evidence, not traffic: an event with the user, the
  public address as ``src_ip``, the address handed to the client in
  ``cisco_asa_assigned_ip`` and ``action = unknown``.

Every other ``%ASA`` message (NAT translations 305011/305012, ICMP connections
302020/302021, spoofing and ICMP denies, VPN and AAA messages...) is skipped: it is not a
connection a user made to a service. A line of a handled message that does not parse is
unparsed.

Users: identity-firewall users appear after an address as ``(LOCAL\\user)``,
``(DOMAIN\\user)`` or ``(LOCAL\\DOMAIN\\user)``, names with spaces and non-ASCII letters
included; the user of the initiating side is kept with the ``LOCAL\\`` realm removed (the
form the ASA itself writes in the trailing ``(user)``), else the trailing user; a bare
name after a teardown address (``/53 user1 to ...``) is read as that side's user. ASA
``names`` aliases (``dmz:OCSP_Server/5678``) are kept as logged in ``src_ip``/``dst_ip``.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._dnslog import not_prefixed, words
from shadowscan.parsers._fwlog import (
    BSD_TS,
    BSD_TS_NO_YEAR,
    ISO_TS,
    ZONE,
    any_ts,
    placeholder_to_null,
    strip_group_names,
)
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, to_int

_DEVICE = r"%(?:ASA|FTD|PIX|FWSM)-(?:[A-Za-z]+-)?[0-7]-"
_HEADER = (
    r"^(?:<\d{1,3}>\s*)?"
    rf"(?:(?:{BSD_TS_NO_YEAR}|{ISO_TS})\s+[^\s%]+\s+)??"
    rf"(?:(?P<iso>{ISO_TS})|(?P<bsd>{BSD_TS}))(?:\s+(?P<zone>{ZONE}))?\s*:?\s+"
    r"(?:[^\s%:][^\s%]*?\s*:?\s+)?" + _DEVICE
)
_SEP = r"(?::\s*|\s+)"
#: Interface names (``inside``, ``vlan-42``, ``NP Identity Ifc``).
_IF = r"[^\s:()/][^:()/]*?"
#: An address or an ASA ``names`` alias (IPv6 keeps its colons: the interface ends first).
_ADDR = r"[^\s/()]+"
#: An identity-firewall user in parentheses (spaces and any letters allowed).
_USER = r"[^()]*"

_BUILT = (
    rf"(?P<b_id>30201[35]){_SEP}Built (?P<b_dir>inbound|outbound) (?P<b_proto>\S+) "
    rf"connection (?P<b_conn>\d+) for (?P<b_fif>{_IF}):(?P<b_faddr>{_ADDR})/(?P<b_fport>\d+) "
    rf"\({_ADDR}/\d+\)(?:\s?\((?P<b_fuser>{_USER})\))? "
    rf"to (?P<b_tif>{_IF}):(?P<b_taddr>{_ADDR})/(?P<b_tport>\d+) "
    rf"\({_ADDR}/\d+\)(?:\((?P<b_tuser>{_USER})\))?(?:\s+\((?P<b_user>{_USER})\))?(?:\s.*)?$"
)
_TEARDOWN = (
    rf"(?P<t_id>30201[46]){_SEP}Teardown (?P<t_proto>\S+) connection (?P<t_conn>\d+) "
    rf"for (?P<t_fif>{_IF}):(?P<t_faddr>{_ADDR})/(?P<t_fport>\d+)"
    rf"(?:\s?\((?P<t_fuser>{_USER})\)|\s+(?P<t_fbare>[^\s()]+))? "
    rf"to (?P<t_tif>{_IF}):(?P<t_taddr>{_ADDR})/(?P<t_tport>\d+)"
    rf"(?:\s?\((?P<t_tuser>{_USER})\)|\s+(?P<t_tbare>[^\s()]+))? "
    r"duration (?P<t_dur>\d+:\d{2}:\d{2}) bytes (?P<t_bytes>\d+)(?P<t_tail>(?:\s.*)?)$"
)
_URL = (
    rf"(?P<u_id>304001){_SEP}(?:(?P<u_name>[^\s@()]+)@)?(?P<u_src>[^\s@()]+)"
    rf"(?:\((?P<u_idfw>{_USER})\))? Accessed (?:JAVA )?URL "
    r"(?P<u_dst>[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f.]*[0-9A-Fa-f]|[^\s:]+)\s?:\s?"
    r"(?P<u_url>\S+)(?:\s.*)?$"
)
_URL_DENIED = (
    rf"(?P<p_id>304002){_SEP}Access denied (?:JAVA )?URL (?P<p_url>\S+) "
    r"SRC (?P<p_src>\S+) DEST (?P<p_dst>\S+)(?:\s.*)?$"
)
_ACL_GROUP = (
    rf"(?P<a_id>106023){_SEP}Deny (?P<a_proto>protocol \d+|\S+) "
    rf"src (?P<a_sif>{_IF}):(?P<a_saddr>{_ADDR})(?:/(?P<a_sport>\d+))?(?:\s?\((?P<a_suser>{_USER})\))?\s+"
    rf"dst (?P<a_dif>{_IF}):(?P<a_daddr>{_ADDR})(?:/(?P<a_dport>\d+))?(?:\s?\({_USER}\))?"
    r'.*?by access-group "(?P<a_acl>[^"]*)".*$'
)
_IF_SLASH = r"[^\s/()][^/()]*?"
_ACL_LIST = (
    rf"(?P<l_id>106100){_SEP}access-list (?P<l_acl>\S+) (?P<l_verdict>permitted|denied|est-allowed) "
    rf"(?P<l_proto>\S+) (?P<l_sif>{_IF_SLASH})/(?P<l_saddr>[^\s()]+)\((?P<l_sport>\d+)\)"
    rf"(?:\s?\((?P<l_suser>{_USER})\))?\s+(?:->\s+)?"
    rf"(?P<l_dif>{_IF_SLASH})/(?P<l_daddr>[^\s()]+)\((?P<l_dport>\d+)\)(?:\s?\({_USER}\))?"
    r"\s+hit-cnt.*$"
)
_DENY = (
    rf"(?P<d_id>10600[167]|106015){_SEP}"
    r"(?:Deny (?:inbound |outbound )?(?P<d_proto>\S+) (?:\(no connection\) )?from"
    r"|(?:Inbound|Outbound) (?P<d_proto2>\S+) connection denied from) "
    rf"(?P<d_saddr>{_ADDR})/(?P<d_sport>\d+) to (?P<d_daddr>{_ADDR})/(?P<d_dport>\d+)(?:\s.*)?$"
)
_VPN = (
    rf"(?P<v_id>722051){_SEP}Group <?(?P<v_group>[^<>]*?)>? User <?(?P<v_user>[^<>]*?)>? "
    r"IP <?(?P<v_ip>[^<>\s]+)>? IPv4 Address <?(?P<v_v4>[^<>\s]+)>?"
    r"(?: IPv6 [Aa]ddress <?[^<>\s]*>?)? assigned to session.*$"
)
_MESSAGES = (_BUILT, _TEARDOWN, _URL, _URL_DENIED, _ACL_GROUP, _ACL_LIST, _DENY, _VPN)
#: Message ids read as events; every other ``%ASA`` message is skipped.
HANDLED = (
    "302013",
    "302014",
    "302015",
    "302016",
    "304001",
    "304002",
    "106001",
    "106006",
    "106007",
    "106015",
    "106023",
    "106100",
    "722051",
)

PATTERN = _HEADER + "(?:" + "|".join(_MESSAGES) + ")"
LINE_PATTERN = strip_group_names(PATTERN)
_HEADER_PLAIN = strip_group_names(_HEADER)
#: Blank lines and the ``%ASA`` messages this parser does not read.
SKIP = r"^\s*$|" + _HEADER_PLAIN + not_prefixed(words(*HANDLED))
_ASA_LINE = re.compile(_HEADER_PLAIN + r"\d{6}")


def _idfw(expr: pl.Expr) -> pl.Expr:
    """An identity-firewall user without the ``LOCAL\\`` realm and security-group tags."""
    user = expr.str.replace(r"^LOCAL\\", "").str.replace(r",\s*\d+(?::[^,()]*)?$", "")
    return placeholder_to_null(user)


@PARSERS.register("cisco_asa")
class CiscoAsaParser(Parser):
    name = "cisco_asa"
    log_type = "firewall"
    summary = (
        "Cisco ASA syslog: connection build/teardown (302013-302016), URL (304001/304002), "
        "ACL (106023/106100...) and AnyConnect address (722051) messages."
    )
    example = (
        "Apr 29 2024 12:59:50 fw01 : %ASA-6-302013: Built outbound TCP connection 8974 for "
        "outside:104.18.32.47/443 (104.18.32.47/443) to inside:10.20.1.15/51234 "
        "(198.51.100.7/40001)"
    )
    line_pattern = LINE_PATTERN
    skip_pattern = SKIP

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        """Share of ASA messages (read or skipped) among the non-blank lines."""
        data = [ln for ln in lines if ln.strip()]
        asa = sum(1 for ln in data if _ASA_LINE.search(ln))
        if not asa:
            return None
        rx = re.compile(LINE_PATTERN)
        hits = sum(1 for ln in data if rx.search(ln))
        return Sniff(
            asa / len(data), f"{asa}/{len(data)} sample lines are %ASA messages ({hits} read)"
        )

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        ok = batch["line"].str.contains(LINE_PATTERN)
        skipped = ~ok & batch["line"].str.contains(SKIP)
        rejected = not_matching(batch, ok | skipped, self.mismatch_reason())
        c = pl.col
        f = (
            batch.filter(ok)
            .select(c("line_no"), c("line").str.extract_groups(PATTERN).alias("f"))
            .unnest("f")
        )
        built_out = c("b_dir") == "outbound"
        # Teardown: the lower port is the service; equal ports -> the "to" (inside) side opened it.
        t_to_opened = to_int(c("t_tport")) >= to_int(c("t_fport"))
        t_tail_user = c("t_tail").str.extract(r"\s\(([^()]*)\)\s*$", 1)
        t_fuser = pl.coalesce(_idfw(c("t_fuser")), placeholder_to_null(c("t_fbare")))
        t_tuser = pl.coalesce(_idfw(c("t_tuser")), placeholder_to_null(c("t_tbare")))
        url_raw = pl.coalesce(
            pl.when(c("u_url").str.starts_with("/"))
            .then(pl.format("http://{}{}", c("u_dst"), c("u_url")))
            .otherwise(c("u_url")),
            c("p_url"),
        )
        f = f.with_columns(url_parts(url_raw).alias("_u")).with_columns(
            host_expr(c("_u").struct.field("host")).alias("_host")
        )

        def pick(
            b_src: str, b_dst: str, t_src: str, t_dst: str, others: list[pl.Expr]
        ) -> tuple[pl.Expr, pl.Expr]:
            src = pl.coalesce(
                pl.when(built_out).then(c(b_src)).otherwise(c(b_dst)),
                pl.when(t_to_opened).then(c(t_src)).otherwise(c(t_dst)),
                *others,
            )
            dst = pl.coalesce(
                pl.when(built_out).then(c(b_dst)).otherwise(c(b_src)),
                pl.when(t_to_opened).then(c(t_dst)).otherwise(c(t_src)),
            )
            return src, dst

        src_ip, dst_ip = pick("b_taddr", "b_faddr", "t_taddr", "t_faddr", [])
        src_port, dst_port = pick("b_tport", "b_fport", "t_tport", "t_fport", [])
        msgid = pl.coalesce(
            c("b_id"), c("t_id"), c("u_id"), c("p_id"), c("a_id"), c("l_id"), c("d_id"), c("v_id")
        )
        user = pl.coalesce(
            pl.when(built_out)
            .then(_idfw(c("b_tuser")))
            .otherwise(_idfw(c("b_fuser")))
            .fill_null(_idfw(c("b_user"))),
            pl.when(t_to_opened).then(t_tuser).otherwise(t_fuser).fill_null(_idfw(t_tail_user)),
            pl.coalesce(_idfw(c("u_idfw")), placeholder_to_null(c("u_name"))),
            _idfw(c("a_suser")),
            _idfw(c("l_suser")),
            placeholder_to_null(c("v_user")),
        )
        verdict = c("l_verdict")
        action = (
            pl.when(c("v_id").is_not_null())
            .then(pl.lit("unknown"))
            .when(c("b_id").is_not_null() | c("t_id").is_not_null() | c("u_id").is_not_null())
            .then(pl.lit("allowed"))
            .when(verdict.is_in(["permitted", "est-allowed"]))
            .then(pl.lit("allowed"))
            .otherwise(pl.lit("blocked"))
        )
        events = f.select(
            c("line_no"),
            any_ts(
                c("iso"), c("bsd"), c("zone"), self.context.file_time, self.context.timezone
            ).alias("ts"),
            pl.coalesce(
                src_ip, c("u_src"), c("p_src"), c("a_saddr"), c("l_saddr"), c("d_saddr"), c("v_ip")
            ).alias("src_ip"),
            to_int(
                pl.coalesce(src_port, c("a_sport"), c("l_sport"), c("d_sport")), pl.Int32()
            ).alias("src_port"),
            user.alias("user"),
            c("_host").alias("host"),
            pl.coalesce(
                dst_ip, c("u_dst"), c("p_dst"), c("a_daddr"), c("l_daddr"), c("d_daddr")
            ).alias("dst_ip"),
            pl.coalesce(
                to_int(pl.coalesce(dst_port, c("a_dport"), c("l_dport"), c("d_dport")), pl.Int32()),
                to_int(c("_u").struct.field("port"), pl.Int32()),
                default_port(c("_u").struct.field("scheme")),
            ).alias("dst_port"),
            url_expr(c("_u"), c("_host")).alias("url"),
            action.alias("action"),
            msgid.alias("cisco_asa_msgid"),
            pl.when(c("b_id").is_not_null())
            .then(pl.lit("build"))
            .when(c("t_id").is_not_null())
            .then(pl.lit("teardown"))
            .alias("cisco_asa_phase"),
            c("b_dir").alias("cisco_asa_direction"),
            pl.coalesce(c("b_conn"), c("t_conn")).alias("cisco_asa_conn_id"),
            pl.coalesce(
                c("b_proto"), c("t_proto"), c("a_proto"), c("l_proto"), c("d_proto"), c("d_proto2")
            )
            .str.to_lowercase()
            .alias("cisco_asa_proto"),
            pl.coalesce(c("a_acl"), c("l_acl")).alias("cisco_asa_rule"),
            to_int(c("t_bytes")).alias("cisco_asa_bytes_total"),
            c("v_v4").alias("cisco_asa_assigned_ip"),
        )
        return ParsedBatch(events, rejected, int(skipped.sum()))
