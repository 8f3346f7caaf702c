"""A hosts file (``0.0.0.0 name``) for machines without a filtering resolver.

A hosts file matches exact names only: it cannot hold ``*.x``, so a wildcard domain is
listed as ``x`` and the subdomains of every listed name stay reachable (the header says
so). Domains with a wildcard inside the name and URL patterns cannot be written at all:
they are named in a comment, and a service with nothing else is skipped with the reason.
"""

from __future__ import annotations

from shadowscan.exports import EXPORTERS
from shadowscan.exports._lists import describe, dns_skip_reason, header, names, not_expressed
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.signatures import Service

#: The address blocked names resolve to: unroutable, fails at once (unlike 127.0.0.1,
#: which may reach a local web server).
SINKHOLE = "0.0.0.0"

LIMITS = [
    "A hosts file matches exact names only: subdomains of a listed name are NOT blocked,",
    "and a wildcard domain *.x is listed as x. Use the rpz or adblock export for subdomains.",
]


@EXPORTERS.register("hosts")
class HostsExporter(Exporter):
    name = "hosts"
    summary = "A hosts file: 0.0.0.0 per domain (exact names; no wildcards or paths)."

    def export(self, services: list[Service], context: ExportContext) -> Export:
        lines = [f"# {line}" for line in [*header(context, "shadowscan AI hosts file"), *LIMITS]]
        skipped: list[tuple[str, str]] = []
        listed: dict[str, str] = {}
        for service in services:
            reason = dns_skip_reason(service, "a hosts file")
            if reason is not None:
                skipped.append((service.id, reason))
                continue
            split = names(service)
            lines += ["", f"# {describe(service, context)}"]
            lines += [f"# {n}" for n in not_expressed(service, "a hosts file", paths=False)]
            for name in sorted({*split.whole, *split.subdomains}):
                if name in listed:
                    lines.append(f"# {name}: listed above for {listed[name]}")
                    continue
                listed[name] = service.id
                lines.append(f"{SINKHOLE} {name}")
        return Export(files={"shadowscan.hosts": "\n".join(lines) + "\n"}, skipped=skipped)
