"""Suricata 7: two rules per domain, on the DNS query name and on the TLS SNI.

``dotprefix`` then ``content:".<domain>"; endswith`` matches the domain and its
subdomains and nothing else (``evilchatgpt.com`` has no ``.chatgpt.com`` suffix). A domain
with a ``*`` inside (``bedrock.*.amazonaws.com``) keeps its literal tail as the content
and adds a ``pcre`` where ``*`` is one DNS label, as in shadowscan's own matcher. URL
patterns are not visible in DNS or TLS, so a service known only by them is skipped.

sids: 3000000000 + (first 8 bytes of SHA-256 of ``"<service id>|<domain>|<dns|tls>"``)
mod 10^9, in 3000000000-3999999999, clear of the local (1000000-1999999) and Emerging
Threats (2000000-2999999) ranges. A rule's sid depends only on its own service, domain
and kind, so it never changes when other services are filtered in or out; a collision
(about one in a thousand for the whole catalogue) raises rather than emit duplicate sids.
"""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar

from shadowscan.exports import EXPORTERS
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.signatures import Service

FILE_NAME = "shadowscan.rules"
SID_BASE = 3_000_000_000
SID_SPAN = 1_000_000_000
#: Lower is louder: Suricata's ``priority`` from the export level.
PRIORITY = {"critical": 1, "high": 1, "medium": 2, "low": 3, "informational": 4}
#: (buffer keyword, protocol, words for msg, extra options before the buffer)
KINDS = {
    "dns": ("dns.query", "dns", "DNS lookup", ""),
    "tls": ("tls.sni", "tls", "TLS SNI", "flow:established,to_server; "),
}


def sid_for(service_id: str, domain: str, kind: str) -> int:
    digest = hashlib.sha256(f"{service_id}|{domain}|{kind}".encode()).digest()
    return SID_BASE + int.from_bytes(digest[:8], "big") % SID_SPAN


def escape_msg(text: str) -> str:
    """Suricata string escaping: ``\\``, ``"`` and ``;`` are backslash-escaped."""
    return re.sub(r'([\\";])', r"\\\1", text)


def _metadata_value(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text) or "-"


def match_options(domain: str) -> str:
    """The payload options after ``dotprefix`` for a catalogue domain."""
    name = domain.removeprefix("*.")
    if "*" not in name:
        return f'content:".{name}"; nocase; endswith;'
    tail = name.rsplit("*", 1)[1]
    label = "[a-z0-9-]+"
    regex = r"\." + label.join(part.replace(".", r"\.") for part in name.split("*")) + "$"
    return f'content:"{tail}"; nocase; endswith; pcre:"/{regex}/i";'


def rule(service: Service, domain: str, kind: str, context: ExportContext) -> str:
    buffer, proto, words, flow = KINDS[kind]
    level = context.level.get(service.id, "")
    msg = escape_msg(f"shadowscan: {service.name} {words} ({domain.removeprefix('*.')})")
    metadata = ", ".join(
        [
            f"shadowscan_service {service.id}",
            f"shadowscan_category {service.category}",
            f"shadowscan_level {_metadata_value(level)}",
            f"shadowscan_catalogue {_metadata_value(context.catalogue_version)}",
        ]
    )
    priority = f"priority:{PRIORITY[level]}; " if level in PRIORITY else ""
    return (
        f'alert {proto} $HOME_NET any -> any any (msg:"{msg}"; {flow}{buffer}; dotprefix; '
        f"{match_options(domain)} classtype:policy-violation; {priority}"
        f"sid:{sid_for(service.id, domain, kind)}; rev:1; metadata:{metadata};)"
    )


@EXPORTERS.register("suricata")
class SuricataExporter(Exporter):
    name: ClassVar[str] = "suricata"
    summary: ClassVar[str] = "Suricata 7 rules on dns.query and tls.sni (sids 3000000000+)"

    def export(self, services: list[Service], context: ExportContext) -> Export:
        lines = [
            f"# shadowscan {context.version}, catalogue {context.catalogue_version}",
            f"# sids {SID_BASE}-{SID_BASE + SID_SPAN - 1}: stable per (service, domain, kind)",
        ]
        skipped: list[tuple[str, str]] = []
        owner: dict[int, str] = {}
        for service in services:
            if not service.domains:
                reason = (
                    "URL patterns only; not visible in DNS or TLS SNI"
                    if service.url_patterns
                    else "no domain signatures"
                )
                skipped.append((service.id, reason))
                continue
            lines.append(f"# {service.id}: {service.name}")
            for domain in sorted(set(service.domains)):
                for kind in KINDS:
                    sid = sid_for(service.id, domain, kind)
                    key = f"{service.id}|{domain}|{kind}"
                    if sid in owner:
                        raise ValueError(f"sid {sid} of {key} collides with {owner[sid]}")
                    owner[sid] = key
                    lines.append(rule(service, domain, kind, context))
        return Export(files={FILE_NAME: "\n".join(lines) + "\n"}, skipped=skipped)
