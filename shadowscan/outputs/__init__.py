"""Output sinks, one module per format, each registering itself in ``SINKS``."""

from __future__ import annotations

import importlib
import pkgutil

from shadowscan.outputs.base import Sink
from shadowscan.registry import Registry

SINKS: Registry[type[Sink]] = Registry("output format")

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base"}:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["SINKS", "Sink"]
