"""Microsoft Sentinel: a watchlist of the catalogue's domains plus the KQL that uses it.

Files (``-o DIRECTORY``):

- ``shadowscan_ai_services_watchlist.csv``: one row per (domain, service); upload it as a
  watchlist with alias ``shadowscan_ai_services`` and search key ``domain``.
- ``shadowscan_ai_services.kql``: host names seen in ``CommonSecurityLog``
  (``DestinationHostName``: CEF proxies and firewalls) and ``DnsEvents`` (``Name``) over the
  last day, each expanded into itself and its parent domains and joined to the watchlist
  on ``SearchKey``: ``api.chatgpt.com`` finds ``chatgpt.com`` by equality, where
  ``endswith`` would need a join per row, and ``evilchatgpt.com`` does not.

A ``*.x`` catalogue entry exports as ``x`` (the join matches ``x`` itself as well). A
domain with a ``*`` inside (``bedrock.*.amazonaws.com``) cannot be an equality key: it is
left out and listed in a comment in the query file; a service with no other domain, and a
service known only by URL patterns, is skipped.
"""

from __future__ import annotations

from typing import ClassVar

from shadowscan.exports import EXPORTERS
from shadowscan.exports._tables import (
    SERVICE_COLUMNS,
    csv_text,
    has_inner_wildcard,
    service_columns,
)
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.signatures import Service

WATCHLIST = "shadowscan_ai_services"
WATCHLIST_FILE = f"{WATCHLIST}_watchlist.csv"
QUERY_FILE = f"{WATCHLIST}.kql"
HEADER = ("domain", *SERVICE_COLUMNS)

QUERY = """\
let lookback = 1d;
let AiServices = _GetWatchlist('{watchlist}')
    | project Domain = tolower(tostring(SearchKey)), ServiceId = tostring(service_id),
        Service = tostring(service), Vendor = tostring(vendor), Category = tostring(category),
        Status = tostring(status), Level = tostring(level);
let ObservedHosts = union isfuzzy=true
    (CommonSecurityLog
        | where TimeGenerated > ago(lookback) and isnotempty(DestinationHostName)
        | project TimeGenerated, Table = "CommonSecurityLog", Client = SourceIP,
            User = SourceUserName, Host = tolower(DestinationHostName)),
    (DnsEvents
        | where TimeGenerated > ago(lookback) and isnotempty(Name)
        | project TimeGenerated, Table = "DnsEvents", Client = ClientIP, User = "",
            Host = tolower(trim_end(@"\\.", Name)))
    | summarize FirstSeen = min(TimeGenerated), LastSeen = max(TimeGenerated), Events = count()
        by Table, Client, User, Host;
ObservedHosts
| extend Labels = split(Host, ".")
| mv-expand Start = range(0, array_length(Labels) - 2) to typeof(int)
| extend Domain = strcat_array(array_slice(Labels, Start, -1), ".")
| join kind=inner AiServices on Domain
| project FirstSeen, LastSeen, Table, Client, User, Host, Domain, ServiceId, Service, Vendor,
    Category, Status, Level, Events
| order by LastSeen desc
"""


@EXPORTERS.register("kql")
class KqlExporter(Exporter):
    name: ClassVar[str] = "kql"
    summary: ClassVar[str] = (
        "Microsoft Sentinel watchlist CSV + KQL over CommonSecurityLog and DnsEvents"
    )
    multi_file: ClassVar[bool] = True

    def export(self, services: list[Service], context: ExportContext) -> Export:
        rows: dict[tuple[str, str], list[str]] = {}
        left_out: list[str] = []
        skipped: list[tuple[str, str]] = []
        for service in services:
            columns = service_columns(service, context)
            inner = sorted(d for d in service.domains if has_inner_wildcard(d))
            for domain in sorted(set(service.domains) - set(inner)):
                plain = domain.removeprefix("*.")
                rows[(plain, service.id)] = [plain, *columns]
            left_out += [f"{service.id}: {d}" for d in inner]
            if len(inner) == len(service.domains):
                if service.domains:
                    reason = "only domains with a wildcard inside, not a watchlist key"
                elif service.url_patterns:
                    reason = "URL patterns only; the watchlist query matches host names"
                else:
                    reason = "no domain signatures"
                skipped.append((service.id, reason))
        header = [
            f"// shadowscan {context.version}, catalogue {context.catalogue_version}",
            f"// Watchlist: upload {WATCHLIST_FILE} with alias {WATCHLIST}, search key domain.",
        ]
        if left_out:
            header.append("// Domains left out (a wildcard inside the name is not a key):")
            header += [f"//   {item}" for item in left_out]
        query = "\n".join(header) + "\n" + QUERY.format(watchlist=WATCHLIST)
        watchlist = csv_text(HEADER, sorted(rows.values()))
        return Export(files={WATCHLIST_FILE: watchlist, QUERY_FILE: query}, skipped=skipped)
