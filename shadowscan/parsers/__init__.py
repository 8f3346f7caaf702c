"""Log-format parsers, one module per format, each registering itself in ``PARSERS``.

Importing this package imports every sibling module (except ``base``, ``common`` and
``_private`` helpers shared by several formats), so adding a format is adding one file (plus its samples and golden output, which ``tests/test_layout.py`` insists on).
"""

from __future__ import annotations

from shadowscan.parsers.base import ParseContext, ParsedBatch, Parser, Sniff
from shadowscan.registry import Registry, import_plugins

PARSERS: Registry[type[Parser]] = Registry("log format")

import_plugins(__name__, __path__, {"base", "common"})

__all__ = ["PARSERS", "ParseContext", "ParsedBatch", "Parser", "Sniff"]
