"""Identity sources: DHCP leases, logons, VPN sessions and asset inventories, one module
per format, each registering itself in ``IDENTITY_READERS``.

Importing this package imports every sibling module except ``base``, ``load`` and
``_private`` helpers, so adding a source is adding one file (plus its sample and golden
output, which ``tests/test_layout.py`` insists on).
"""

from __future__ import annotations

from shadowscan.identity.base import (
    ASSET_SCHEMA,
    BINDING_SCHEMA,
    POINT_SCHEMA,
    IdentityBatch,
    IdentityContext,
    IdentityReader,
)
from shadowscan.registry import Registry, import_plugins

IDENTITY_READERS: Registry[type[IdentityReader]] = Registry("identity source type")

import_plugins(__name__, __path__, {"base", "load"})

__all__ = [
    "ASSET_SCHEMA",
    "BINDING_SCHEMA",
    "IDENTITY_READERS",
    "POINT_SCHEMA",
    "IdentityBatch",
    "IdentityContext",
    "IdentityReader",
]
