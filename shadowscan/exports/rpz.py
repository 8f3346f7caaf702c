"""A BIND response-policy zone (RPZ) answering NXDOMAIN for AI services' names.

Load it with ``response-policy { zone "rpz.local"; };`` and a ``zone "rpz.local"`` of
type primary pointing at the file; names in it are relative to whatever zone name you
choose. ``x CNAME .`` is the NXDOMAIN action; ``*.x CNAME .`` covers the subdomains (a
catalogue ``*.x`` gets only the second line, as it means subdomains only). The SOA
serial is derived from the catalogue version (its first 8 hex digits, mod 2**31), so an
export is reproducible; it does not grow with each catalogue, so secondaries fed by zone
transfer need the serial rewritten on load.
"""

from __future__ import annotations

import hashlib

from shadowscan.exports import EXPORTERS
from shadowscan.exports._lists import describe, dns_skip_reason, header, names, not_expressed
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.signatures import Service

#: Seconds: records, SOA refresh, retry, expire, negative-cache TTL.
TTL, REFRESH, RETRY, EXPIRE, NEGATIVE = 300, 3600, 600, 86400, 300


def serial(catalogue_version: str) -> int:
    """A deterministic SOA serial (1..2**31-1) from the catalogue version."""
    try:
        value = int(catalogue_version[:8], 16)
    except ValueError:
        value = int(hashlib.sha256(catalogue_version.encode()).hexdigest()[:8], 16)
    return value % 2**31 or 1


@EXPORTERS.register("rpz")
class RpzExporter(Exporter):
    name = "rpz"
    summary = "A BIND response-policy zone: NXDOMAIN for each domain and its subdomains."

    def export(self, services: list[Service], context: ExportContext) -> Export:
        lines = [f"; {line}" for line in header(context, "shadowscan AI response-policy zone")]
        lines += [
            f"$TTL {TTL}",
            f"@ IN SOA localhost. root.localhost. ( {serial(context.catalogue_version)} "
            f"{REFRESH} {RETRY} {EXPIRE} {NEGATIVE} )",
            "@ IN NS localhost.",
        ]
        skipped: list[tuple[str, str]] = []
        listed: dict[str, str] = {}
        for service in services:
            reason = dns_skip_reason(service, "a response-policy zone")
            if reason is not None:
                skipped.append((service.id, reason))
                continue
            split = names(service)
            lines += ["", f"; {describe(service, context)}"]
            lines += [f"; {n}" for n in not_expressed(service, "an RPZ", paths=False)]
            owners = [
                *((n, o) for n in split.whole for o in (n, f"*.{n}")),
                *((n, f"*.{n}") for n in split.subdomains),
            ]
            for _, owner in sorted(owners, key=lambda pair: (pair[0], pair[1] != pair[0])):
                if owner in listed:
                    lines.append(f"; {owner}: listed above for {listed[owner]}")
                    continue
                listed[owner] = service.id
                lines.append(f"{owner} CNAME .")
        return Export(files={"shadowscan.rpz": "\n".join(lines) + "\n"}, skipped=skipped)
