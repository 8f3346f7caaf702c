"""``shadowscan signatures export``: select services, run an exporter, write its files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from shadowscan import __version__
from shadowscan.errors import UsageError
from shadowscan.exports import EXPORTERS
from shadowscan.exports.base import Export, ExportContext
from shadowscan.signatures import Catalogue, Service

#: Sigma-style levels from a policy status (``--policy``).
STATUS_LEVEL = {
    "unsanctioned": "high",
    "unreviewed": "medium",
    "tolerated": "low",
    "sanctioned": "informational",
}


def service_level(service: Service, status: str | None) -> str:
    """How loudly a rule for ``service`` should ring: from its policy status when known,
    else from the catalogue's risk attributes (trains on user data: medium; else low)."""
    if status is not None:
        return STATUS_LEVEL[status]
    return "medium" if service.risk.trains_on_user_data else "low"


def select(
    catalogue: Catalogue,
    *,
    categories: Sequence[str] = (),
    statuses: dict[str, str] | None = None,
    only: Sequence[str] = (),
) -> list[Service]:
    """The active services, in catalogue order, of ``categories`` (all when empty) and,
    with ``only``, whose policy status is one of ``only``."""
    known = {s.category for s in catalogue.active()}
    unknown = sorted(set(categories) - known)
    if unknown:
        raise UsageError(
            f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    if only and statuses is None:
        raise UsageError("--only needs --policy FILE (the statuses come from it)")
    chosen = []
    for service in catalogue.active():
        if categories and service.category not in categories:
            continue
        if only and (statuses or {}).get(service.id, "unreviewed") not in only:
            continue
        chosen.append(service)
    return chosen


def run_export(
    catalogue: Catalogue,
    to: str,
    *,
    categories: Sequence[str] = (),
    statuses: dict[str, str] | None = None,
    only: Sequence[str] = (),
) -> tuple[Export, list[Service]]:
    """Export the selected services as ``to``."""
    exporter = EXPORTERS.get(to)()
    services = select(catalogue, categories=categories, statuses=statuses, only=only)
    status = statuses or {}
    context = ExportContext(
        version=__version__,
        catalogue_version=catalogue.version,
        status=dict(status),
        level={s.id: service_level(s, status.get(s.id)) for s in services},
    )
    return exporter.export(services, context), services


def write_export(export: Export, to: str, output: Path | None) -> list[Path]:
    """Write the files: a single-file format to ``output`` (or stdout when None), a
    multi-file format into the directory ``output``. Returns the paths written."""
    exporter = EXPORTERS.get(to)
    if exporter.multi_file:
        if output is None:
            raise UsageError(f"--to {to} writes several files: give -o DIRECTORY")
        output.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in sorted(export.files.items()):
            path = output / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written
    (text,) = export.files.values()
    if output is None:
        import sys

        sys.stdout.write(text)
        return []
    output.write_text(text, encoding="utf-8")
    return [output]


def policy_statuses(policy_path: Path, catalogue: Catalogue) -> dict[str, str]:
    """Each active service's status under the policy (for everyone: no user or
    department exceptions apply to an export)."""
    import polars as pl

    from shadowscan.policy import apply_policy, load_policy

    policy = load_policy(policy_path, catalogue)
    services = catalogue.active()
    frame = pl.DataFrame(
        {
            "service_id": [s.id for s in services],
            "vendor": [s.vendor for s in services],
            "category": [s.category for s in services],
            "user": pl.Series([None] * len(services), dtype=pl.String),
            "department": pl.Series([None] * len(services), dtype=pl.String),
        }
    )
    decided = apply_policy(frame, policy, catalogue, dt.datetime.now(dt.UTC).date())
    return dict(zip(decided["service_id"].to_list(), decided["policy"].to_list(), strict=True))
