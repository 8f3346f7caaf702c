"""Public-suffix knowledge, from tldextract's *bundled* snapshot only.

shadowscan never makes a network call at run time: the extractor is built with no suffix
list URLs and no cache directory, so it cannot fetch a newer list.
"""

from __future__ import annotations

from functools import lru_cache

import tldextract


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


@lru_cache(maxsize=65536)
def registered_domain(host: str) -> str | None:
    """``eu.api.example.co.uk`` -> ``example.co.uk``; None for IPs and bare suffixes."""
    parts = _extractor()(host)
    if not parts.domain or not parts.suffix:
        return None
    return f"{parts.domain}.{parts.suffix}"


def is_public_suffix(name: str) -> bool:
    """True for ``com``, ``co.uk``, ``azurewebsites.net``: names anyone can register under."""
    parts = _extractor()(name)
    return not parts.domain and bool(parts.suffix)
