"""Sigma rules (https://sigmahq.io): one ``proxy`` and one ``dns`` rule per service, so any
SIEM with a Sigma backend (Splunk, Elastic, Sentinel, ...) can alert on AI use.

Field names follow the SigmaHQ taxonomy: ``cs-host`` and ``c-uri`` for web proxies,
``query`` for DNS. A name ``example.com`` matches itself exactly and its subdomains with
``|endswith: .example.com``, never ``notexample.com``. URL patterns (``host/path*``) become
a host selection plus ``c-uri|contains`` on the path, so a service known only by a URL
pattern still gets a proxy rule; it is skipped for DNS only, with the reason.

Rule ids are UUID5 of :data:`SIGMA_NAMESPACE` and ``"<service id>:<logsource>"``: stable
across exports and releases, so a SIEM updates a rule in place instead of duplicating it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import yaml

from shadowscan.exports import EXPORTERS
from shadowscan.exports.base import Export, ExportContext, Exporter, domain_names
from shadowscan.signatures import CATEGORIES, Service

#: Fixed namespace for rule ids (chosen once at random; never change it, or every
#: deployed rule id changes).
SIGMA_NAMESPACE = uuid.UUID("fe92ae49-7374-4860-8187-99af08b4c1c4")

#: Rule date when a service has no ``last_verified``: fixed, so exports stay identical.
DEFAULT_DATE = dt.date(2026, 1, 1)

#: Using an AI service with company data is data leaving over a web service (ATT&CK T1567).
ATTACK_TAGS = ("attack.exfiltration", "attack.t1567")

PROXY_FIELDS = ("src_ip", "cs-host", "c-uri", "cs-method", "c-useragent")
DNS_FIELDS = ("src_ip", "query", "answer", "record_type")


def rule_id(service_id: str, logsource: str) -> str:
    """The stable id of the ``logsource`` rule (``proxy`` or ``dns``) of a service."""
    return str(uuid.uuid5(SIGMA_NAMESPACE, f"{service_id}:{logsource}"))


def _sigma_escape(text: str) -> str:
    """``text`` with Sigma's special characters (``\\`` and the ``?`` wildcard) escaped;
    ``*`` stays a wildcard, as in the catalogue's globs."""
    return text.replace("\\", "\\\\").replace("?", "\\?")


def _url_selections(patterns: list[str]) -> list[dict[str, Any]]:
    """One selection per URL-pattern host: the host (``*.x`` -> subdomains of ``x``) and
    any of its paths, as ``c-uri|contains`` (trailing ``*`` dropped: ``contains`` already
    matches whatever follows; a path that contains another plain path is redundant)."""
    paths_by_host: dict[str, set[str]] = {}
    for pattern in patterns:
        host, _, path = pattern.partition("/")
        paths_by_host.setdefault(host, set()).add(_sigma_escape("/" + path.rstrip("*")))
    selections = []
    for host in sorted(paths_by_host):
        paths = paths_by_host[host]
        plain = [p for p in paths if "*" not in p]
        kept = sorted(p for p in paths if not any(q != p and q in p for q in plain))
        host_item: dict[str, Any] = (
            {"cs-host|endswith": host[1:]} if host.startswith("*.") else {"cs-host": host}
        )
        selections.append({**host_item, "c-uri|contains": kept[0] if len(kept) == 1 else kept})
    return selections


def _name_selections(field: str, names: list[str]) -> dict[str, dict[str, Any]]:
    """Exact names and their subdomains as two selections on ``field``."""
    return {
        "selection_domain": {field: list(names)},
        "selection_subdomain": {f"{field}|endswith": [f".{n}" for n in names]},
    }


def _description(service: Service, logsource: str, context: ExportContext) -> str:
    what = "Web proxy requests to" if logsource == "proxy" else "DNS queries for"
    vendor = f" by {service.vendor}" if service.vendor else ""
    parts = [
        f"{what} {service.name}{vendor} (category: {CATEGORIES[service.category]}).",
        "Prompts, documents and code sent to an AI service leave the organisation's "
        "control unless the service is approved.",
    ]
    if service.description:
        parts.append(service.description.strip())
    if service.risk.trains_on_user_data:
        parts.append("The service may train on user content by default.")
    if service.risk.hq_country:
        parts.append(f"Vendor country: {service.risk.hq_country}.")
    status = context.status.get(service.id)
    if status:
        parts.append(f"Policy status: {status}.")
    return " ".join(parts)


def _rule(
    service: Service, logsource: str, detection: dict[str, Any], context: ExportContext
) -> dict[str, Any]:
    """The rule in the order of the Sigma specification's examples."""
    title = (
        f"{service.name} access through a web proxy"
        if logsource == "proxy"
        else f"{service.name} DNS query"
    )
    sanctioned = context.status.get(service.id) == "sanctioned"
    return {
        "title": title,
        "id": rule_id(service.id, logsource),
        "status": "experimental",
        "description": _description(service, logsource, context),
        "references": list(service.references),
        "author": "shadowscan",
        "date": service.last_verified or DEFAULT_DATE,
        "tags": [*ATTACK_TAGS, f"shadowscan.{service.category}"],
        "logsource": {"category": logsource},
        "detection": {**detection, "condition": "1 of selection_*"},
        "fields": list(PROXY_FIELDS if logsource == "proxy" else DNS_FIELDS),
        "falsepositives": [
            f"Sanctioned use of {service.name}"
            + (" (sanctioned by the policy: consider disabling this rule)" if sanctioned else "")
        ],
        "level": context.level.get(service.id, "medium"),
    }


class _RuleDumper(yaml.SafeDumper):
    """Indents list items under their key, as the SigmaHQ rules are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _render(rule: dict[str, Any], context: ExportContext) -> str:
    header = (
        f"# Generated by shadowscan {context.version} from catalogue "
        f"{context.catalogue_version}; regenerate with "
        "`shadowscan signatures export --to sigma`.\n"
    )
    body = yaml.dump(
        rule, Dumper=_RuleDumper, sort_keys=False, allow_unicode=True, width=100, indent=4
    )
    return header + body


@EXPORTERS.register("sigma")
class SigmaExporter(Exporter):
    """Sigma rules, one file per service and log source: ``proxy/<id>.yml``, ``dns/<id>.yml``."""

    name = "sigma"
    summary = "Sigma rules (proxy and dns log sources) with stable ids, for any SIEM backend"
    multi_file = True

    def export(self, services: list[Service], context: ExportContext) -> Export:
        files: dict[str, str] = {}
        skipped: list[tuple[str, str]] = []
        for service in services:
            names = domain_names(service)
            proxy_detection: dict[str, Any] = _name_selections("cs-host", names) if names else {}
            for n, selection in enumerate(_url_selections(service.url_patterns), start=1):
                proxy_detection[f"selection_url_{n}"] = selection
            if proxy_detection:
                rule = _rule(service, "proxy", proxy_detection, context)
                files[f"proxy/{service.id}.yml"] = _render(rule, context)
            else:
                skipped.append((service.id, "proxy: no domains or URL patterns"))
            if names:
                rule = _rule(service, "dns", _name_selections("query", names), context)
                files[f"dns/{service.id}.yml"] = _render(rule, context)
            elif service.url_patterns:
                skipped.append((service.id, "dns: URL patterns only (exported as a proxy rule)"))
            else:
                skipped.append((service.id, "dns: no domains"))
        return Export(files=dict(sorted(files.items())), skipped=skipped)
