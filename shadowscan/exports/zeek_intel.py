"""Zeek: an Intel framework file (load it with ``redef Intel::read_files += {...}``).

Zeek matches ``Intel::DOMAIN`` against whole names only (DNS queries, TLS SNI, HTTP Host):
``chatgpt.com`` does not fire on ``ab.chatgpt.com``, and the exporter adds no subdomain it
cannot know. A catalogue ``*.x`` becomes ``x`` (subdomains of ``x`` are then missed); a
domain with a ``*`` inside (``bedrock.*.amazonaws.com``) cannot be written and is listed in
a comment. URL patterns become ``Intel::URL`` (``host/path`` without scheme, as Zeek's
``http-url`` seen script builds it) when they have no ``*``; others are listed in a comment.
A service left with no indicator at all is skipped with the reason.
"""

from __future__ import annotations

from typing import ClassVar

from shadowscan.exports import EXPORTERS
from shadowscan.exports._tables import has_inner_wildcard
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.signatures import Service

FILE_NAME = "shadowscan.intel"
FIELDS = ("indicator", "indicator_type", "meta.source", "meta.desc", "meta.url")
HEADER = "#fields\t" + "\t".join(FIELDS)
SOURCE = "shadowscan"


def _field(value: str) -> str:
    """A value that cannot break the tab-separated line; ``-`` for empty (Zeek's unset)."""
    cleaned = " ".join(value.split())
    return cleaned or "-"


def describe(service: Service, context: ExportContext) -> str:
    """``meta.desc``: the service id is what ties a Zeek ``intel.log`` hit back to the
    catalogue."""
    parts = [service.vendor or service.name, service.category]
    if level := context.level.get(service.id):
        parts.append(f"level {level}")
    if status := context.status.get(service.id):
        parts.append(f"policy {status}")
    return f"{service.name} [{service.id}] ({', '.join(parts)})"


@EXPORTERS.register("zeek-intel")
class ZeekIntelExporter(Exporter):
    name: ClassVar[str] = "zeek-intel"
    summary: ClassVar[str] = "Zeek Intel framework file (Intel::DOMAIN, exact Intel::URL)"

    def export(self, services: list[Service], context: ExportContext) -> Export:
        lines: dict[tuple[str, str, str], str] = {}
        left_out: list[str] = []
        skipped: list[tuple[str, str]] = []
        for service in services:
            desc = _field(describe(service, context))
            url = _field(service.references[0] if service.references else "")
            written = 0
            for domain in sorted(set(service.domains)):
                if has_inner_wildcard(domain):
                    left_out.append(f"{service.id}: domain {domain} (wildcard inside)")
                    continue
                plain = domain.removeprefix("*.")
                row = (plain, "Intel::DOMAIN", SOURCE, desc, url)
                lines[(plain, "Intel::DOMAIN", service.id)] = "\t".join(row)
                written += 1
            for pattern in sorted(set(service.url_patterns)):
                if "*" in pattern:
                    left_out.append(f"{service.id}: URL {pattern} (Intel::URL is exact)")
                    continue
                row = (pattern, "Intel::URL", SOURCE, desc, url)
                lines[(pattern, "Intel::URL", service.id)] = "\t".join(row)
                written += 1
            if not written:
                if service.domains or service.url_patterns:
                    reason = "only wildcard domains or URL patterns (Zeek intel is exact)"
                else:
                    reason = "no domain or URL pattern signatures"
                skipped.append((service.id, reason))
        comments = [
            f"# shadowscan {context.version}, catalogue {context.catalogue_version}",
            "# Intel::DOMAIN matches exact names only; subdomains need their own entries.",
        ]
        if left_out:
            comments.append("# Left out (not expressible as an exact indicator):")
            comments += [f"#   {item}" for item in left_out]
        body = [lines[key] for key in sorted(lines)]
        text = "\n".join([*comments, HEADER, *body]) + "\n"
        return Export(files={FILE_NAME: text}, skipped=skipped)
