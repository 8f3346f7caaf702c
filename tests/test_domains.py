"""Public-suffix handling uses the bundled list and never the network."""

from __future__ import annotations

import socket

import pytest

from shadowscan.domains import _extractor, is_public_suffix, registered_domain


def test_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    _extractor.cache_clear()
    registered_domain.cache_clear()
    assert registered_domain("eu.api.example.co.uk") == "example.co.uk"
    assert registered_domain("contoso.openai.azure.com") == "azure.com"
    assert registered_domain("10.1.2.3") is None


def test_public_suffixes() -> None:
    assert is_public_suffix("com")
    assert is_public_suffix("co.uk")
    assert not is_public_suffix("huggingface.co")
