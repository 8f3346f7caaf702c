"""An AdGuard / uBlock Origin filter list (also Adblock Plus and AdGuard Home).

``||x^`` blocks ``x`` and its subdomains; a catalogue ``*.x`` becomes ``||x^`` too (so
it also blocks ``x`` itself), and ``*`` inside a name stays a ``*`` (which in filter
syntax may match more than one label). URL patterns are expressible here:
``host/path*`` becomes ``||host/path*``, and a pattern without a trailing ``*`` ends in
``^`` (end of address or a separator: ``/copilot^`` matches ``/copilot?x`` but not
``/copilotkit``). DNS-level blockers (AdGuard Home, Pi-hole) ignore the path rules.
"""

from __future__ import annotations

from shadowscan.exports import EXPORTERS
from shadowscan.exports._lists import NO_NAMES, describe, header
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.signatures import Service


def domain_rule(domain: str) -> str:
    return f"||{domain.removeprefix('*.')}^"


def url_rule(pattern: str) -> str:
    rule = f"||{pattern.removeprefix('*.')}"
    return rule if rule.endswith("*") else f"{rule}^"


@EXPORTERS.register("adblock")
class AdblockExporter(Exporter):
    name = "adblock"
    summary = "An AdGuard/uBlock filter list: ||domain^ and ||host/path* rules."

    def export(self, services: list[Service], context: ExportContext) -> Export:
        lines = [
            "[Adblock Plus 2.0]",
            "! Title: shadowscan AI services",
            "! Description: AI services from the shadowscan signature catalogue",
            f"! Version: {context.catalogue_version}",
            "! Expires: 4 days",
        ]
        lines += [f"! {line}" for line in header(context, "")[1:]]
        skipped: list[tuple[str, str]] = []
        listed: dict[str, str] = {}
        for service in services:
            if not service.domains and not service.url_patterns:
                skipped.append((service.id, NO_NAMES))
                continue
            lines += ["!", f"! {describe(service, context)}"]
            rules = sorted({domain_rule(d) for d in service.domains})
            rules += sorted({url_rule(p) for p in service.url_patterns})
            for rule in rules:
                if rule in listed:
                    lines.append(f"! {rule}: listed above for {listed[rule]}")
                    continue
                listed[rule] = service.id
                lines.append(rule)
        return Export(files={"shadowscan.txt": "\n".join(lines) + "\n"}, skipped=skipped)
