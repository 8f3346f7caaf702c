"""`scan --send` through the CLI: a destination that is down makes exit 4 and spools
everything; the next run delivers the spool first, then its own findings."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

from typer.testing import CliRunner

from shadowscan.cli import app
from tests.transports.helpers import free_port


class OctetCountingReceiver:
    """A minimal RFC 6587 octet-counting syslog receiver on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.frames: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", port))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
                while data:
                    length, _, rest = data.partition(b" ")
                    n = int(length)
                    self.frames.append(rest[:n])
                    data = rest[n:]

    def close(self) -> None:
        self.sock.close()


def _scan(port: int, spool: Path, *extra: str) -> int:
    res = CliRunner().invoke(
        app,
        [
            "scan",
            "sample_logs/squid",
            "-q",
            "-F",
            "ndjson",
            "--send",
            f"syslog+tcp://127.0.0.1:{port}",
            "--spool-dir",
            str(spool),
            *extra,
        ],
    )
    return res.exit_code


def test_down_then_up_delivers_everything_in_order(tmp_path: Path) -> None:
    port = free_port()
    spool = tmp_path / "spool"
    assert _scan(port, spool) == 4
    (spooled,) = [p for p in spool.iterdir() if p.suffix == ".spool"]
    first_run = spooled.read_text(encoding="utf-8").splitlines()
    assert first_run

    receiver = OctetCountingReceiver(port)
    try:
        assert _scan(port, spool, "--min-severity", "medium") == 0
    finally:
        receiver.close()
        receiver.thread.join(timeout=5)
    messages = [frame.decode("utf-8") for frame in receiver.frames]
    # every message is an RFC 5424 line carrying one NDJSON finding
    assert all(m.startswith("<") and " shadowscan " in m for m in messages)
    bodies = [json.loads(m[m.index("{") :]) for m in messages]
    # the spool first, in order, then this run's findings (only medium and worse)
    spooled_bodies = [json.loads(json.loads(line)["text"]) for line in first_run]
    assert bodies[: len(first_run)] == spooled_bodies
    plain = CliRunner().invoke(
        app, ["scan", "sample_logs/squid", "-q", "-F", "ndjson", "--min-severity", "medium"]
    )
    assert bodies[len(first_run) :] == [json.loads(x) for x in plain.stdout.splitlines()]
    assert not spooled.exists() or not spooled.read_text(encoding="utf-8").strip()


def test_a_bad_url_fails_before_scanning(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["scan", "sample_logs/squid", "--send", "syslog+carrier-pigeon://x", "-q"]
    )
    assert res.exit_code == 2
