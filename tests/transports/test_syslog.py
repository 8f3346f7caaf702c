"""Syslog formatting and connection handling, against small servers in the test process
(the real receiver is exercised in test_rsyslog.py)."""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import struct
import threading
from pathlib import Path

import pytest
import trustme
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.errors import UsageError
from shadowscan.transports import Message, TransportError, open_transport
from shadowscan.transports.syslog import BOM, MAX_DATAGRAM, format_message, syslog_timestamp
from tests.transports.helpers import free_port

RFC5424 = re.compile(
    rb"<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) "
    rb"(?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) (?P<sd>-) (?P<msg>.*)\Z",
    re.DOTALL,
)


def _format(message: Message, **overrides: object) -> bytes:
    options: dict[str, object] = {
        "facility": 20,
        "default_severity": 6,
        "hostname": "scanner-01",
        "procid": "4242",
        "bom": True,
        "now": 1_763_542_800.25,
    }
    options.update(overrides)
    return format_message(message, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("severity", "pri"),
    [("critical", 162), ("high", 163), ("medium", 164), ("low", 165), ("info", 166), (None, 166)],
)
def test_finding_severity_sets_the_syslog_severity(severity: str | None, pri: int) -> None:
    line = _format(Message("{}", severity=severity))
    assert line.startswith(f"<{pri}>1 2025-11-19T09:00:00.250000Z scanner-01 ".encode())


def test_header_fields_and_bom() -> None:
    line = _format(Message("ünï 😀", kind="event", time=0.0), hostname="bad host\nname")
    assert line == (
        b"<166>1 1970-01-01T00:00:00.000000Z badhostname shadowscan 4242 event - "
        + BOM
        + "ünï 😀".encode()
    )
    assert _format(Message("x"), bom=False).endswith(b" finding - x")
    assert b" - - - " not in _format(Message("x"), hostname="")
    assert _format(Message("x"), hostname="  ").split(b" ")[2] == b"-"


@given(text=st.text(), severity=st.sampled_from([None, "info", "low", "high", "critical"]))
def test_every_record_parses_back_as_rfc5424(text: str, severity: str | None) -> None:
    line = _format(Message(text, severity=severity))
    match = RFC5424.match(line)
    assert match is not None
    assert 0 <= int(match["pri"]) <= 191
    assert match["msg"] == BOM + text.encode("utf-8")


def test_timestamp_is_utc_with_microseconds() -> None:
    assert syslog_timestamp(1_763_542_800.123456) == "2025-11-19T09:00:00.123456Z"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("syslog+tcp://h?facility=local9", "facility='local9' is not a syslog facility"),
        ("syslog+tcp://h?severity=loud", "severity='loud' is not a syslog severity"),
        ("syslog+tcp://h?bom=maybe", "bom='maybe' must be 1 or 0"),
        ("syslog+tcp://h?timeout=0", "timeout='0' must be from 0.1"),
        ("syslog+tcp://h?cert_file=/c.pem", "unknown option 'cert_file' for syslog+tcp"),
        ("syslog+udp://h?facility=1&facility=2", "option 'facility' given twice"),
        ("syslog+tcp://h/some/path", "syslog URLs have no path"),
        ("syslog+tcp://user:pw@h:514", "credentials do not belong in the URL"),
        ("syslog+tls://h?token=abc", "secrets do not belong in the URL"),
        ("syslog+tcp://:514", "no host"),
        ("syslog+tcp://h:99999", "not a valid URL"),
        ("syslog://h", "unknown destination type (known: hec+https://, syslog+tcp://"),
    ],
)
def test_bad_urls_are_refused_before_any_connection(url: str, error: str) -> None:
    with pytest.raises(UsageError) as info:
        open_transport(url)
    assert error in str(info.value)
    assert "pw" not in str(info.value) and "abc" not in str(info.value)


def test_defaults_and_facility_names() -> None:
    transport = open_transport("syslog+tls://siem.example.com?facility=local4&severity=notice")
    assert transport.destination == "syslog+tls://siem.example.com:6514"
    assert open_transport("syslog+udp://[::1]").destination == "syslog+udp://[::1]:514"
    line = transport.format(Message("x", kind="event"), 0.0)  # type: ignore[attr-defined]
    assert line.startswith(b"<165>1 ")
    assert open_transport("syslog+tcp://h?facility=23").facility == 23  # type: ignore[attr-defined]


def test_udp_refuses_a_record_larger_than_a_datagram() -> None:
    transport = open_transport(f"syslog+udp://127.0.0.1:{free_port(socket.SOCK_DGRAM)}")
    fits = Message("x" * (MAX_DATAGRAM - 200))
    too_big = Message("x" * MAX_DATAGRAM)
    transport.check([fits])
    with pytest.raises(UsageError, match=r"record 2 is 65,5.. bytes .* syslog\+tcp://"):
        transport.check([fits, too_big])
    with pytest.raises(UsageError):
        transport.send([too_big])


def test_udp_to_a_closed_port_fails_instead_of_pretending() -> None:
    """Linux reports ICMP port unreachable on the next send of a connected UDP socket."""
    transport = open_transport(f"syslog+udp://127.0.0.1:{free_port(socket.SOCK_DGRAM)}")
    with pytest.raises(TransportError, match="is the receiver up and listening on UDP") as info:
        transport.send([Message(str(n)) for n in range(20)])
    assert info.value.delivered < 20
    transport.close()


class FrameServer:
    """Accepts TCP (or TLS) connections and splits RFC 6587 octet-counted frames.

    The first ``resets`` connections are reset (RST, as a crashing receiver would) after
    one frame; with ``hold_open`` the server never closes a connection itself.
    """

    def __init__(
        self, context: ssl.SSLContext | None = None, *, resets: int = 0, hold_open: bool = False
    ) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.context = context
        self.resets = resets
        self.hold_open = hold_open
        self.frames: list[bytes] = []
        self.connections = 0
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            try:
                if self.context is not None:
                    conn = self.context.wrap_socket(conn, server_side=True)
                if self.connections <= self.resets:
                    self._read(conn, limit=1)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    self._read(conn)
                    if self.hold_open:
                        self.stopping.wait(5)
            except (OSError, ValueError) as exc:
                self.errors.append(exc)
            finally:
                conn.close()

    def _read(self, conn: socket.socket, limit: int | None = None) -> None:
        buffer = b""
        while True:
            while b" " in buffer:
                length, _, rest = buffer.partition(b" ")
                if len(rest) < int(length):
                    break
                self.frames.append(rest[: int(length)])
                buffer = rest[int(length) :]
                if limit is not None and len(self.frames) >= limit:
                    return
            chunk = conn.recv(65536)
            if not chunk:
                return
            buffer += chunk

    def texts(self) -> list[bytes]:
        return [frame.split(b" - ", 1)[1] for frame in self.frames]

    def stop(self) -> None:
        """Stop listening; shutdown() is what wakes a thread blocked in accept() on Linux."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=5)


def test_tcp_frames_by_octet_count() -> None:
    server = FrameServer()
    with open_transport(f"syslog+tcp://127.0.0.1:{server.port}?bom=0") as transport:
        assert transport.send([Message("first\nline"), Message("second ünï")]) == 2
        assert transport.send(["third"]) == 1  # plain strings are findings
    server.stop()
    assert server.texts() == [b"first\nline", "second ünï".encode(), b"third"]
    assert server.connections == 2  # one per send, each ended in order
    assert not server.errors


def test_a_reset_connection_is_sent_again_once() -> None:
    """A receiver that dies mid-stream may have lost anything sent on that connection."""
    server = FrameServer(resets=1)
    with open_transport(f"syslog+tcp://127.0.0.1:{server.port}?bom=0") as transport:
        assert transport.send([Message("a"), Message("b"), Message("c")]) == 3
    server.stop()
    assert server.texts() == [b"a", b"a", b"b", b"c"]  # at least once, in order
    assert server.connections == 2


def test_a_second_reset_gives_up() -> None:
    server = FrameServer(resets=2)
    transport = open_transport(f"syslog+tcp://127.0.0.1:{server.port}")
    with pytest.raises(TransportError, match="the connection broke twice") as info:
        transport.send([Message("a"), Message("b")])
    server.stop()
    assert info.value.delivered == 0
    assert server.connections == 2


def test_a_receiver_that_never_closes_is_not_trusted() -> None:
    server = FrameServer(hold_open=True)
    transport = open_transport(f"syslog+tcp://127.0.0.1:{server.port}?timeout=0.2")
    with pytest.raises(TransportError, match=r"did not close the connection .*timeout=0.2s"):
        transport.send([Message("a")])
    server.stop()


def test_tcp_connection_refused() -> None:
    transport = open_transport(f"syslog+tcp://127.0.0.1:{free_port()}")
    with pytest.raises(TransportError, match="Connection refused") as info:
        transport.send([Message("one")])
    assert info.value.delivered == 0


def _tls_server(cert: trustme.LeafCert) -> FrameServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return FrameServer(context)


def test_tls_verifies_the_server_against_ca_file(
    server_cert: trustme.LeafCert, ca_file: Path
) -> None:
    server = _tls_server(server_cert)
    try:
        with open_transport(f"syslog+tls://localhost:{server.port}", ca_file=ca_file) as tls:
            tls.send([Message("secret finding")])
    finally:
        server.stop()
    assert server.frames and server.frames[0].endswith(BOM + b"secret finding")


def test_tls_refuses_a_server_it_cannot_verify(tmp_path: Path) -> None:
    stranger = trustme.CA().issue_cert("localhost")
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(other_ca)
    server = _tls_server(stranger)
    try:
        transport = open_transport(f"syslog+tls://localhost:{server.port}", ca_file=other_ca)
        with pytest.raises(TransportError, match=r"is not trusted .* --ca-file") as info:
            transport.send([Message("secret finding")])
        assert info.value.delivered == 0
    finally:
        server.stop()
    assert server.frames == []


def test_tls_ca_file_and_client_cert_must_exist(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--ca-file .*no such file"):
        open_transport("syslog+tls://h", ca_file=tmp_path / "missing.pem")
    with pytest.raises(UsageError, match="cannot load the client certificate"):
        open_transport(f"syslog+tls://h?cert_file={tmp_path / 'missing.pem'}")
    with pytest.raises(UsageError, match="key_file needs cert_file"):
        open_transport("syslog+tls://h?key_file=/k.pem")
