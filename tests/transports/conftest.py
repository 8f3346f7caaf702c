"""Test certificates: a throwaway CA made per session with trustme."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(test_ca: trustme.CA) -> trustme.LeafCert:
    return test_ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture(scope="session")
def cert_dir(
    tmp_path_factory: pytest.TempPathFactory, test_ca: trustme.CA, server_cert: trustme.LeafCert
) -> Path:
    """ca.pem, server cert.pem/key.pem, and a client certificate for mutual TLS."""
    directory = tmp_path_factory.mktemp("certs")
    test_ca.cert_pem.write_to_path(directory / "ca.pem")
    server_cert.cert_chain_pems[0].write_to_path(directory / "cert.pem")
    server_cert.private_key_pem.write_to_path(directory / "key.pem")
    client = test_ca.issue_cert("shadowscan-client.example")
    client.cert_chain_pems[0].write_to_path(directory / "client.pem")
    client.private_key_pem.write_to_path(directory / "client-key.pem")
    return directory


@pytest.fixture
def ca_file(cert_dir: Path) -> Path:
    return cert_dir / "ca.pem"
