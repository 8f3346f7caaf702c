"""Transports that send rendered findings to a SIEM, one module per protocol, each
registering its URL schemes in ``TRANSPORTS``; :func:`deliver` adds the durable spool."""

from __future__ import annotations

from shadowscan.registry import import_plugins
from shadowscan.transports.base import (
    TRANSPORTS,
    Message,
    Transport,
    TransportError,
    open_transport,
    render_messages,
)

import_plugins(__name__, __path__, {"base", "spool"}, skip_private=False)

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
