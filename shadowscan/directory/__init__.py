"""People directories: AD LDIF, CSV, Entra ID and Okta JSON exports, one module per
format, each registering itself in ``DIRECTORY_READERS``.

Importing this package imports every sibling module except ``base``, ``load`` and
``_private`` helpers, so adding a format is adding one file (plus its sample and golden
output, which ``tests/directory/test_golden_directory.py`` insists on).
"""

from __future__ import annotations

from shadowscan.directory.base import (
    PERSON_SCHEMA,
    DirectoryBatch,
    DirectoryContext,
    DirectoryReader,
)
from shadowscan.registry import Registry, import_plugins

DIRECTORY_READERS: Registry[type[DirectoryReader]] = Registry("directory type")

import_plugins(__name__, __path__, {"base", "load"})

__all__ = [
    "DIRECTORY_READERS",
    "PERSON_SCHEMA",
    "DirectoryBatch",
    "DirectoryContext",
    "DirectoryReader",
]
