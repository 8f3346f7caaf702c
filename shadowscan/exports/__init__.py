"""Signature exporters, one module per format, each registering itself in ``EXPORTERS``.

Importing this package imports every sibling module except ``base`` and ``_private``
helpers, so adding a format is adding one file (plus its golden output, which
``tests/exports`` insists on).
"""

from __future__ import annotations

import importlib
import pkgutil

from shadowscan.exports.base import Export, ExportContext, Exporter, domain_names
from shadowscan.registry import Registry

EXPORTERS: Registry[type[Exporter]] = Registry("export format")

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base", "run"} and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["EXPORTERS", "Export", "ExportContext", "Exporter", "domain_names"]
