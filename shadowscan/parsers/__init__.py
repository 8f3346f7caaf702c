"""Log-format parsers, one module per format, each registering itself in ``PARSERS``.

Importing this package imports every sibling module (except ``base``, ``common`` and
``_private`` helpers shared by several formats), so adding a format is adding one file (plus its samples and golden output, which ``tests/test_layout.py`` insists on).
"""

from __future__ import annotations

import importlib
import pkgutil

from shadowscan.parsers.base import ParseContext, ParsedBatch, Parser, Sniff
from shadowscan.registry import Registry

PARSERS: Registry[type[Parser]] = Registry("log format")

for _module in pkgutil.iter_modules(__path__):
    # base/common and _private modules hold shared code, not formats.
    if _module.name not in {"base", "common"} and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["PARSERS", "ParseContext", "ParsedBatch", "Parser", "Sniff"]
