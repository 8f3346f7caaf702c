"""Splunk: a wildcard lookup of the catalogue plus the saved searches that use it.

Files (``-o DIRECTORY``, copy them into an app: the CSV under ``lookups/``, the ``.conf``
files under ``local/``):

- ``shadowscan_ai_services.csv``: one row per domain, and one per ``*.domain`` so that
  subdomains match too (``match_type = WILDCARD(domain)``); URL patterns are rows with an
  empty ``domain`` and a ``url_pattern`` such as ``*://api.github.com/copilot_internal/*``
  (``WILDCARD(url_pattern)``), matched against the full URL.
- ``transforms.conf``: the lookup definition (case-insensitive, first match wins; rows are
  ordered exact names first, then longer patterns before shorter ones).
- ``savedsearches.conf``: ``[shadowscan - AI service use]`` runs hourly over the last 24
  hours of the CIM ``Web`` data model (``tstats`` over ``Web.url_domain``, so any proxy
  add-on that is CIM-mapped works, accelerated or not) and alerts once a day per client
  and service; ``[shadowscan - AI service use (URL patterns)]`` does the same over
  ``Web.url`` for services known by URL patterns.
"""

from __future__ import annotations

from typing import ClassVar

from shadowscan.exports import EXPORTERS
from shadowscan.exports._tables import SERVICE_COLUMNS, csv_text, service_columns
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.signatures import Service

LOOKUP = "shadowscan_ai_services"
LOOKUP_FILE = f"{LOOKUP}.csv"
HEADER = ("domain", "url_pattern", *SERVICE_COLUMNS)
DOMAIN_SEARCH = "shadowscan - AI service use"
URL_SEARCH = "shadowscan - AI service use (URL patterns)"


def domain_patterns(domain: str) -> list[str]:
    """Lookup keys for a catalogue domain: ``x`` matches ``x`` and its subdomains, ``*.x``
    only subdomains; an inner ``*`` is left to Splunk's wildcard (which also spans dots)."""
    if domain.startswith("*."):
        return [domain]
    return [domain, f"*.{domain}"]


def url_lookup_patterns(pattern: str) -> list[str]:
    """Lookup keys for a ``host/path`` glob, against a CIM ``url`` with its scheme; an
    exact path also matches with a query string."""
    keys = [f"*://{pattern}"]
    if not pattern.endswith("*"):
        keys.append(f"*://{pattern}?*")
    return keys


def _domain_order(row: list[str]) -> tuple[bool, int, str, str]:
    return ("*" in row[0], -len(row[0]), row[0], row[2])


def _url_order(row: list[str]) -> tuple[int, str, str]:
    return (-len(row[1]), row[1], row[2])


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_OUTPUT = f"OUTPUT {' '.join(SERVICE_COLUMNS)}"
_TAIL = (
    "| where isnotnull(service_id) "
    "| convert ctime(first_seen) ctime(last_seen) "
    "| table first_seen last_seen src user {key} service_id service vendor category "
    "status level count"
)


def domain_search() -> str:
    return (
        "| tstats summariesonly=false count min(_time) AS first_seen max(_time) AS last_seen "
        "values(Web.user) AS user from datamodel=Web by Web.src Web.url_domain "
        '| rename "Web.*" AS "*" '
        f"| lookup {LOOKUP} domain AS url_domain {_OUTPUT} " + _TAIL.format(key="url_domain")
    )


def url_search(patterns: list[str]) -> str:
    where = " OR ".join(f"Web.url={_quote(p)}" for p in patterns)
    return (
        "| tstats summariesonly=false count min(_time) AS first_seen max(_time) AS last_seen "
        f"values(Web.user) AS user from datamodel=Web where ({where}) by Web.src Web.url "
        '| rename "Web.*" AS "*" '
        f"| lookup {LOOKUP} url_pattern AS url {_OUTPUT} " + _TAIL.format(key="url")
    )


def saved_search(name: str, description: str, search: str) -> str:
    """A scheduled alert: hourly over 24 h, one alert per client and service a day."""
    return "\n".join(
        [
            f"[{name}]",
            f"description = {description}",
            f"search = {search}",
            "dispatch.earliest_time = -24h",
            "dispatch.latest_time = now",
            "enableSched = 1",
            "cron_schedule = 7 * * * *",
            "counttype = number of events",
            "relation = greater than",
            "quantity = 0",
            "alert.track = 1",
            "alert.severity = 3",
            "alert.digest_mode = 0",
            "alert.suppress = 1",
            "alert.suppress.fields = src,service_id",
            "alert.suppress.period = 24h",
            "",
        ]
    )


@EXPORTERS.register("splunk")
class SplunkExporter(Exporter):
    name: ClassVar[str] = "splunk"
    summary: ClassVar[str] = (
        "Splunk wildcard lookup CSV + transforms.conf + savedsearches.conf (CIM Web data model)"
    )
    multi_file: ClassVar[bool] = True

    def export(self, services: list[Service], context: ExportContext) -> Export:
        domain_rows: dict[tuple[str, str], list[str]] = {}
        url_rows: dict[tuple[str, str], list[str]] = {}
        skipped: list[tuple[str, str]] = []
        for service in services:
            columns = service_columns(service, context)
            for domain in service.domains:
                for key in domain_patterns(domain):
                    domain_rows[(key, service.id)] = [key, "", *columns]
            for pattern in service.url_patterns:
                for key in url_lookup_patterns(pattern):
                    url_rows[(key, service.id)] = ["", key, *columns]
            if not service.domains and not service.url_patterns:
                skipped.append((service.id, "no domain or URL pattern signatures"))
        rows = sorted(domain_rows.values(), key=_domain_order)
        rows += sorted(url_rows.values(), key=_url_order)
        header = (
            f"# shadowscan {context.version}, catalogue {context.catalogue_version}: "
            "AI service use from the CIM Web data model\n"
        )
        searches = (
            header
            + "\n"
            + saved_search(
                DOMAIN_SEARCH,
                "Web traffic to AI services in the shadowscan catalogue (by domain)",
                domain_search(),
            )
        )
        patterns = sorted({row[1] for row in url_rows.values()})
        if patterns:
            searches += "\n" + saved_search(
                URL_SEARCH,
                "Web traffic to AI services in the shadowscan catalogue (by URL pattern)",
                url_search(patterns),
            )
        transforms = (
            f"# shadowscan {context.version}, catalogue {context.catalogue_version}\n"
            f"[{LOOKUP}]\n"
            f"filename = {LOOKUP_FILE}\n"
            "match_type = WILDCARD(domain), WILDCARD(url_pattern)\n"
            "case_sensitive_match = false\n"
            "max_matches = 1\n"
        )
        return Export(
            files={
                LOOKUP_FILE: csv_text(HEADER, rows),
                "savedsearches.conf": searches,
                "transforms.conf": transforms,
            },
            skipped=skipped,
        )
