"""shadowscan: find shadow AI in the network logs an organisation already has.

The library entry point is :func:`shadowscan.api.scan`; the ``shadowscan`` command is a
thin layer over it.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
