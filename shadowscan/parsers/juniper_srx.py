"""Juniper SRX session logs: ``RT_FLOW`` (session create / close / deny) and ``APPTRACK``
(AppTrack session create / volume update / route update / close), in both syslog modes.

Structured (RFC 5424 with ``[junos@2636.1.1.1.2.x key="value" ...]``)::

    <14>1 2024-11-04T09:00:05.120Z srx01 RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.129 reason="TCP FIN" source-address="10.20.1.15" source-port="51234" destination-address="104.18.32.47" destination-port="443" ... bytes-from-client="48211" ... bytes-from-server="912345" ... application="HTTP" nested-application="CHATGPT" username="jdoe" ...]

Unstructured (BSD syslog, positional)::

    Nov  4 09:00:05 srx01 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: 10.20.1.15/51234->104.18.32.47/443 0x0 junos-https 198.51.100.7/40001->104.18.32.47/443 0x0 source rule snat-out N/A N/A 6 trust-to-untrust trust untrust 4821 58(48211) 71(912345) 32 HTTP CHATGPT jdoe(staff) ge-0/0/1.0 UNKNOWN

(``packets(bytes)`` for client then server). ``_LS`` (logical system) variants are read
the same way. Some devices write typographic quotes (``key=”value”``); they are read as
``"``, and anything after the closing ``]`` is ignored.

Mapping: ``source-address``/``source-port`` (before source NAT) -> ``src_*``;
``nat-destination-address``/``-port`` (the real destination after destination NAT) when
logged, else ``destination-address``/``-port`` -> ``dst_*``; the translated source and
the destination as the client addressed it go to ``juniper_srx_nat_src_ip`` /
``juniper_srx_orig_dst_ip`` when NAT changed them. ``username`` -> ``user``;
``nested-application`` (``FACEBOOK-SOCIALRSS``) -> ``app`` unless it is
``UNKNOWN``/``none``, else ``application``; ``hostname`` (newer releases) -> ``host`` when
it is a host name. ``policy-name`` -> ``juniper_srx_rule``, ``reason`` ->
``juniper_srx_reason``, ``protocol-id`` -> ``juniper_srx_proto``.

One session is several lines; each is an event and ``juniper_srx_phase`` says which
(``start`` create, ``update`` AppTrack volume/route update, ``end`` close, ``deny``).
``bytes-from-client``/``-server`` become ``bytes_out``/``bytes_in`` only on
``RT_FLOW_SESSION_CLOSE``: AppTrack lines repeat the same session's running or final
counters, so theirs go to ``juniper_srx_apptrack_bytes_out``/``_in`` (never summed twice).
``action``: deny -> ``blocked``, every other session event -> ``allowed``.

Other Junos messages (``RT_SCREEN``, ``RT_IDP``, ``UI_*``, daemons' messages) are skipped;
a session line that does not parse is unparsed.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.hosts import host_expr
from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._dnslog import not_prefixed, words
from shadowscan.parsers._fwlog import (
    BSD_TS_NO_YEAR,
    ISO_TS,
    any_ts,
    placeholder_to_null,
    strip_group_names,
)
from shadowscan.parsers.base import ParsedBatch, Parser, not_matching, to_int
from shadowscan.parsers.common import kv_value

EVENTS = (
    "RT_FLOW_SESSION_CREATE",
    "RT_FLOW_SESSION_CLOSE",
    "RT_FLOW_SESSION_DENY",
    "APPTRACK_SESSION_CREATE",
    "APPTRACK_SESSION_CLOSE",
    "APPTRACK_SESSION_VOL_UPDATE",
    "APPTRACK_SESSION_ROUTE_UPDATE",
)
_EVENT = "(?:" + "|".join(EVENTS) + ")(?:_LS)?"

#: RFC 5424 header up to the MSGID, or a BSD/RFC 3339 header with optional host and tag.
_HEADER = (
    r"^(?:<\d{1,3}>)?"
    rf"(?:1 (?P<iso5424>{ISO_TS}|-) \S+ \S+ \S+ "
    rf"|(?:(?P<bsd>{BSD_TS_NO_YEAR})|(?P<iso>{ISO_TS}))\s+(?:[^\s:]+\s+)??"
    r"(?:[A-Za-z_][\w\-]*(?:\[\d+\])?:\s+)?)"
)
_STRUCTURED = rf"(?P<sevent>{_EVENT}) \[junos@[^\s\]]+ [^\]]*source-address=.*\].*$"

_A = r"[0-9A-Fa-f:.]+"  # an IPv4/IPv6 address
_TAG = r"(?: 0x[0-9A-Fa-f]+)?"  # connection tag (newer releases)
_PAIR = rf"(?P<{{p}}src>{_A})/(?P<{{p}}sport>\d+)->(?P<{{p}}dst>{_A})/(?P<{{p}}dport>\d+){_TAG} "
_NAT = rf"(?P<{{p}}nsrc>{_A})/(?P<{{p}}nsport>\d+)->(?P<{{p}}ndst>{_A})/(?P<{{p}}ndport>\d+){_TAG}"
_MIDDLE = (
    r" (?:.*? )?(?P<{p}proto>\d+) (?P<{p}policy>\S+) (?P<{p}szone>\S+) (?P<{p}dzone>\S+) "
    r"(?P<{p}sid>\d+)"
)
_COUNTS = r" \d+\((?P<{p}bc>\d+)\) \d+\((?P<{p}bs>\d+)\) \d+"
_USER_ROLES = r"(?P<{p}user>[^\s()]*)\([^()]*\)"


def _fill(template: str, p: str) -> str:
    return template.replace("{{p}}", p).replace("{p}", p)


#: Unstructured bodies, after ``EVENT:``.
_U_CREATE = _fill(
    r"(?:.*? )?session created "
    + _PAIR
    + r"(?P<{p}svc>\S+) "
    + _NAT
    + _MIDDLE
    + r"(?: "
    + _USER_ROLES
    + r"(?: \S+ (?P<{p}app>\S+) (?P<{p}napp>\S+))?)?(?:\s.*)?$",
    "c_",
)
_U_CLOSE = _fill(
    r"(?:.*? )?session closed (?P<{p}reason>.*?): "
    + _PAIR
    + r"(?P<{p}svc>\S+) "
    + _NAT
    + _MIDDLE
    + _COUNTS
    + r"(?: (?P<{p}app>\S+)(?: (?P<{p}napp>[^\s()]+))? "
    + _USER_ROLES
    + r")?(?:\s.*)?$",
    "x_",
)
_U_DENY = _fill(
    r"(?:.*? )?session denied " + _PAIR + r"(?P<{p}svc>\S+) (?P<{p}proto>\d+)\(\d+\) "
    r"(?P<{p}policy>\S+) (?P<{p}szone>\S+) (?P<{p}dzone>\S+)"
    r"(?: (?P<{p}app>\S+) (?P<{p}napp>\S+) " + _USER_ROLES + r")?(?:\s.*)?$",
    "d_",
)
_U_APPTRACK = _fill(
    r"(?:.*? )?AppTrack (?:session created|session closed|volume update|route update)"
    r"(?: (?P<{p}reason>[^:]*?))?:? " + _PAIR + r"(?P<{p}svc>\S+) (?P<{p}app>\S+) "
    r"(?P<{p}napp>\S+) " + _NAT + _MIDDLE + r"(?:" + _COUNTS + r")?"
    r" (?P<{p}user>\S+) \S+(?:\s.*)?$",
    "a_",
)
_UNSTRUCTURED = rf"(?P<uevent>{_EVENT}):\s+(?:{_U_CREATE}|{_U_CLOSE}|{_U_DENY}|{_U_APPTRACK})"
PATTERN = _HEADER + rf"(?:{_STRUCTURED}|{_UNSTRUCTURED})"
LINE_PATTERN = strip_group_names(PATTERN)
#: The two forms apart: extracting the many positional groups is slow, so structured lines
#: (most SRX deployments) only go through the header and event name (their fields are
#: read as ``key="value"`` pairs).
_STRUCTURED_PATTERN = _HEADER + rf"(?P<sevent>{_EVENT}) \[junos@"
_UNSTRUCTURED_PATTERN = _HEADER + _UNSTRUCTURED
_IS_STRUCTURED = strip_group_names(_HEADER + _STRUCTURED)
_NOT_SESSION = not_prefixed(words(*EVENTS))
#: Blank lines and Junos messages that are not session events: an RFC 5424 MSGID, or the
#: message after a BSD tag, that is not a session event. The BSD tag is at most 19
#: characters, so a session event name (20 or more) can never be taken for it.
SKIP = (
    r"^\s*$"
    + rf"|^(?:<\d{{1,3}}>)?1 (?:{ISO_TS}|-) \S+ \S+ \S+ {_NOT_SESSION}"
    + rf"|^(?:<\d{{1,3}}>)?(?:{BSD_TS_NO_YEAR}|{ISO_TS})\s+(?:[^\s:]+\s+)?"
    + rf"[A-Za-z_/][\w\-/.]{{0,18}}(?:\[\d+\])?:\s+{_NOT_SESSION}"
)
_SESSION_EVENT = re.compile(r"\b" + _EVENT + r"\b")

_QUOTES = r"=[“”]([^“”\"]*)[“”]"
_HOSTNAME = r"^[A-Za-z0-9_](?:[A-Za-z0-9_\-]*\.)+[A-Za-z]{2,63}\.?$"


def _sd(key: str) -> pl.Expr:
    return kv_value(pl.col("_text"), key)


@PARSERS.register("juniper_srx")
class JuniperSrxParser(Parser):
    name = "juniper_srx"
    log_type = "firewall"
    summary = (
        "Juniper SRX RT_FLOW session create/close/deny and APPTRACK logs, structured "
        '(RFC 5424 [junos@... key="value"]) or unstructured (BSD syslog).'
    )
    example = (
        "<14>1 2024-11-04T09:00:05.120Z srx01 RT_FLOW - RT_FLOW_SESSION_CLOSE "
        '[junos@2636.1.1.1.2.129 reason="TCP FIN" source-address="10.20.1.15" '
        'source-port="51234" destination-address="104.18.32.47" destination-port="443" '
        'bytes-from-client="48211" bytes-from-server="912345" application="HTTP" '
        'nested-application="CHATGPT" username="jdoe"]'
    )
    line_pattern = LINE_PATTERN
    skip_pattern = SKIP

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        """Share of session lines and other Junos messages among the non-blank lines,
        provided some line is a session event."""
        data = [ln for ln in lines if ln.strip()]
        if not any(_SESSION_EVENT.search(ln) for ln in data):
            return None
        rx, skip = re.compile(LINE_PATTERN), re.compile(SKIP)
        hits = sum(1 for ln in data if rx.search(ln))
        known = sum(1 for ln in data if rx.search(ln) or skip.search(ln))
        if not hits:
            return None
        return Sniff(
            known / len(data),
            f"{known}/{len(data)} sample lines are Junos syslog ({hits} session events)",
        )

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        ok = batch["line"].str.contains(LINE_PATTERN)
        skipped = ~ok & batch["line"].str.contains(SKIP)
        rejected = not_matching(batch, ok | skipped, self.mismatch_reason())
        c = pl.col
        good = batch.filter(ok).with_columns(
            c("line").str.replace_all(_QUOTES, '="$1"').alias("_text")
        )
        is_structured = good["line"].str.contains(_IS_STRUCTURED)
        parts = [
            part.select(
                "line_no", "_text", c("line").str.extract_groups(pattern).alias("g")
            ).unnest("g")
            for part, pattern in (
                (good.filter(is_structured), _STRUCTURED_PATTERN),
                (good.filter(~is_structured), _UNSTRUCTURED_PATTERN),
            )
        ]
        f = pl.concat(parts, how="diagonal_relaxed").sort("line_no")
        keys = (
            "source-address",
            "source-port",
            "destination-address",
            "destination-port",
            "nat-source-address",
            "nat-destination-address",
            "nat-destination-port",
            "bytes-from-client",
            "bytes-from-server",
            "username",
            "application",
            "nested-application",
            "policy-name",
            "reason",
            "protocol-id",
            "hostname",
        )
        structured = c("sevent").is_not_null()
        f = f.with_columns(pl.when(structured).then(_sd(k)).alias(f"s:{k}") for k in keys)

        def field(key: str, *positional: str) -> pl.Expr:
            return pl.coalesce(c(f"s:{key}"), *[c(p) for p in positional])

        event = pl.coalesce(c("sevent"), c("uevent"))
        base = event.str.replace(r"_LS$", "")
        phase = (
            pl.when(base.str.ends_with("_CREATE"))
            .then(pl.lit("start"))
            .when(base.str.ends_with("_CLOSE"))
            .then(pl.lit("end"))
            .when(base.str.ends_with("_DENY"))
            .then(pl.lit("deny"))
            .otherwise(pl.lit("update"))
        )
        rt_close = base == "RT_FLOW_SESSION_CLOSE"
        apptrack = base.str.starts_with("APPTRACK")
        src = placeholder_to_null(field("source-address", "c_src", "x_src", "d_src", "a_src"))
        dst = placeholder_to_null(field("destination-address", "c_dst", "x_dst", "d_dst", "a_dst"))
        dport = to_int(
            field("destination-port", "c_dport", "x_dport", "d_dport", "a_dport"), pl.Int32()
        )
        nat_src = placeholder_to_null(
            field("nat-source-address", "c_nsrc", "x_nsrc", "a_nsrc"), ("0.0.0.0", "::")
        )
        nat_dst = placeholder_to_null(
            field("nat-destination-address", "c_ndst", "x_ndst", "a_ndst"), ("0.0.0.0", "::")
        )
        nat_dport = to_int(
            field("nat-destination-port", "c_ndport", "x_ndport", "a_ndport"), pl.Int32()
        )
        real_dst = pl.coalesce(nat_dst, dst)
        bytes_out = to_int(field("bytes-from-client", "x_bc", "a_bc"))
        bytes_in = to_int(field("bytes-from-server", "x_bs", "a_bs"))
        apps = ("UNKNOWN", "unknown", "Unknown", "junos:UNKNOWN", "INCONCLUSIVE")
        app = pl.coalesce(
            placeholder_to_null(
                field("nested-application", "c_napp", "x_napp", "d_napp", "a_napp"), apps
            ),
            placeholder_to_null(field("application", "c_app", "x_app", "d_app", "a_app"), apps),
        )
        hostname = c("s:hostname").str.strip_chars()
        events = f.select(
            c("line_no"),
            any_ts(
                pl.coalesce(placeholder_to_null(c("iso5424")), c("iso")),
                c("bsd"),
                None,
                self.context.file_time,
                self.context.timezone,
            ).alias("ts"),
            src.alias("src_ip"),
            to_int(
                field("source-port", "c_sport", "x_sport", "d_sport", "a_sport"), pl.Int32()
            ).alias("src_port"),
            placeholder_to_null(field("username", "c_user", "x_user", "d_user", "a_user")).alias(
                "user"
            ),
            pl.when(hostname.str.contains(_HOSTNAME)).then(host_expr(hostname)).alias("host"),
            real_dst.alias("dst_ip"),
            pl.when(nat_dst.is_not_null() & nat_dport.is_not_null() & (nat_dport != 0))
            .then(nat_dport)
            .otherwise(dport)
            .alias("dst_port"),
            pl.when(phase == "deny")
            .then(pl.lit("blocked"))
            .otherwise(pl.lit("allowed"))
            .alias("action"),
            pl.when(rt_close).then(bytes_out).alias("bytes_out"),
            pl.when(rt_close).then(bytes_in).alias("bytes_in"),
            app.alias("app"),
            event.alias("juniper_srx_event"),
            phase.alias("juniper_srx_phase"),
            placeholder_to_null(
                field("policy-name", "c_policy", "x_policy", "d_policy", "a_policy")
            ).alias("juniper_srx_rule"),
            placeholder_to_null(field("reason", "x_reason", "a_reason"), ("unset",)).alias(
                "juniper_srx_reason"
            ),
            placeholder_to_null(
                field("protocol-id", "c_proto", "x_proto", "d_proto", "a_proto")
            ).alias("juniper_srx_proto"),
            pl.when(nat_src != src).then(nat_src).alias("juniper_srx_nat_src_ip"),
            pl.when(real_dst != dst).then(dst).alias("juniper_srx_orig_dst_ip"),
            pl.when(apptrack).then(bytes_out).alias("juniper_srx_apptrack_bytes_out"),
            pl.when(apptrack).then(bytes_in).alias("juniper_srx_apptrack_bytes_in"),
        )
        return ParsedBatch(events, rejected, int(skipped.sum()))
