"""Signature exporters, one module per format, each registering itself in ``EXPORTERS``.

Importing this package imports every sibling module except ``base`` and ``_private``
helpers, so adding a format is adding one file (plus its golden output, which
``tests/exports`` insists on).
"""

from __future__ import annotations

from shadowscan.exports.base import Export, ExportContext, Exporter, domain_names
from shadowscan.registry import Registry, import_plugins

EXPORTERS: Registry[type[Exporter]] = Registry("export format")

import_plugins(__name__, __path__, {"base", "run"})

__all__ = ["EXPORTERS", "Export", "ExportContext", "Exporter", "domain_names"]
