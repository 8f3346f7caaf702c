"""What a signature exporter is: the catalogue as detection content for a SIEM, an IDS or
a blocklist (``shadowscan signatures export --to FORMAT``).

Each format is one module registering an :class:`Exporter`. An exporter gets the selected
services and returns the files to write plus what it could not express: a service whose
only signatures are URL patterns cannot become a DNS blocklist entry, and is listed as
skipped with the reason, never silently dropped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from shadowscan.signatures import Service


@dataclass(frozen=True)
class ExportContext:
    """What every exporter may use besides the services."""

    #: ``shadowscan.__version__`` (rule metadata).
    version: str
    #: The catalogue's content hash: two exports of the same catalogue are identical.
    catalogue_version: str
    #: Policy status per service id when ``--policy`` was given (else empty).
    status: dict[str, str] = field(default_factory=dict)
    #: Risk level per service id (``low``..``critical``), from the risk model.
    level: dict[str, str] = field(default_factory=dict)


@dataclass
class Export:
    """The files an export writes (name -> text; one entry for single-file formats) and
    the services it could not express, with why."""

    files: dict[str, str]
    skipped: list[tuple[str, str]] = field(default_factory=list)


class Exporter(ABC):
    """One export format. Subclasses register with ``@EXPORTERS.register(name)``."""

    #: Registry name: the ``--to`` value.
    name: ClassVar[str]
    #: One line for ``--help`` and the README.
    summary: ClassVar[str]
    #: True when the export is several files (``-o`` names a directory).
    multi_file: ClassVar[bool] = False

    @abstractmethod
    def export(self, services: list[Service], context: ExportContext) -> Export:
        """The export of ``services`` (already filtered, in catalogue order)."""


def domain_names(service: Service) -> list[str]:
    """The service's domains as plain names (``*.example.com`` -> ``example.com``: every
    format here matches subdomains of a listed name), sorted, without duplicates."""
    return sorted({d.removeprefix("*.") for d in service.domains})
