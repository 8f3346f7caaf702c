"""Identity sources: DHCP leases, logons, VPN sessions and asset inventories, one module
per format, each registering itself in ``IDENTITY_READERS``.

Importing this package imports every sibling module except ``base``, ``load`` and
``_private`` helpers, so adding a source is adding one file (plus its sample and golden
output, which ``tests/test_layout.py`` insists on).
"""

from __future__ import annotations

import importlib
import pkgutil

from shadowscan.identity.base import (
    ASSET_SCHEMA,
    BINDING_SCHEMA,
    POINT_SCHEMA,
    IdentityBatch,
    IdentityContext,
    IdentityReader,
)
from shadowscan.registry import Registry

IDENTITY_READERS: Registry[type[IdentityReader]] = Registry("identity source type")

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base", "load"} and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ASSET_SCHEMA",
    "BINDING_SCHEMA",
    "IDENTITY_READERS",
    "POINT_SCHEMA",
    "IdentityBatch",
    "IdentityContext",
    "IdentityReader",
]
