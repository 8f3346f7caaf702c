"""People directories: AD LDIF, CSV, Entra ID and Okta JSON exports, one module per
format, each registering itself in ``DIRECTORY_READERS``.

Importing this package imports every sibling module except ``base``, ``load`` and
``_private`` helpers, so adding a format is adding one file (plus its sample and golden
output, which ``tests/directory/test_golden_directory.py`` insists on).
"""

from __future__ import annotations

import importlib
import pkgutil

from shadowscan.directory.base import (
    PERSON_SCHEMA,
    DirectoryBatch,
    DirectoryContext,
    DirectoryReader,
)
from shadowscan.registry import Registry

DIRECTORY_READERS: Registry[type[DirectoryReader]] = Registry("directory type")

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base", "load"} and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "DIRECTORY_READERS",
    "PERSON_SCHEMA",
    "DirectoryBatch",
    "DirectoryContext",
    "DirectoryReader",
]
