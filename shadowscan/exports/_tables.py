"""What the SIEM lookup tables share: the columns describing a service, and CSV text.

The Splunk lookup and the Sentinel watchlist carry the same per-service columns, so an
analyst sees the same names in both; this keeps them from drifting apart.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from shadowscan.exports.base import ExportContext
from shadowscan.signatures import Service

#: The columns after the match key, in order.
SERVICE_COLUMNS = ("service_id", "service", "vendor", "category", "status", "level")


def service_columns(service: Service, context: ExportContext) -> list[str]:
    """The :data:`SERVICE_COLUMNS` values for ``service`` (status is empty without
    ``--policy``)."""
    return [
        service.id,
        service.name,
        service.vendor,
        service.category,
        context.status.get(service.id, ""),
        context.level.get(service.id, ""),
    ]


def has_inner_wildcard(domain: str) -> bool:
    """True for ``bedrock.*.amazonaws.com`` or ``*-aiplatform.googleapis.com``: a ``*``
    that a leading ``*.`` (subdomains) does not account for."""
    return "*" in domain.removeprefix("*.")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """RFC 4180 CSV with ``\\n`` line ends (both Splunk and Sentinel accept them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
