"""Output sinks, one module per format, each registering itself in ``SINKS``."""

from __future__ import annotations

from shadowscan.outputs.base import Sink
from shadowscan.registry import Registry, import_plugins

SINKS: Registry[type[Sink]] = Registry("output format")

import_plugins(__name__, __path__, {"base"}, skip_private=False)

__all__ = ["SINKS", "Sink"]
