"""Transports that send rendered findings to a SIEM, one module per protocol, each
registering its URL schemes in ``TRANSPORTS``; :func:`deliver` adds the durable spool."""

from __future__ import annotations

import importlib
import pkgutil

from shadowscan.transports.base import (
    TRANSPORTS,
    Message,
    Transport,
    TransportError,
    open_transport,
    render_messages,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base", "spool"}:
        importlib.import_module(f"{__name__}.{_module.name}")

from shadowscan.transports.spool import DeliveryReport, default_spool_dir, deliver  # noqa: E402

__all__ = [
    "TRANSPORTS",
    "DeliveryReport",
    "Message",
    "Transport",
    "TransportError",
    "default_spool_dir",
    "deliver",
    "open_transport",
    "render_messages",
]
