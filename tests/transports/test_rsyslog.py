"""End to end: findings and events sent over each syslog transport to a real rsyslogd,
started by the test on 127.0.0.1, come out of rsyslog's file output byte for byte.

rsyslogd must be installed (``apt-get install rsyslog rsyslog-gnutls``). Without it the test
is skipped locally and fails in CI (``CI`` set), where it must run. The daemon gets its own
config, work directory and pid file under tmp: no /dev/log (no imuxsock), no system paths.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shadowscan.outputs import SINKS
from shadowscan.transports import Message, TransportError, open_transport, render_messages
from shadowscan.transports.syslog import BOM, MAX_DATAGRAM
from tests.outputs.fixtures import HOSTILE, events, findings
from tests.transports.helpers import free_port

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
GTLS_DIRS = ("/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog")

#: Everything rsyslog parsed out of the RFC 5424 header, then MSG exactly as received.
TEMPLATE = (
    'template(name="fields" type="list") {\n'
    '  property(name="pri") constant(value=" ") property(name="hostname") constant(value=" ")\n'
    '  property(name="app-name") constant(value=" ") property(name="procid")\n'
    '  constant(value=" ") property(name="msgid") constant(value=" ")\n'
    '  property(name="structured-data") constant(value=" ") property(name="msg")\n'
    '  constant(value="<<END>>\\n")\n'
    "}\n"
)
#: Ends each record in rsyslog's output file, so records may hold raw newlines.
END = b"<<END>>\n"


def _rsyslogd() -> str:
    found = shutil.which("rsyslogd", path=SEARCH_PATH)
    gtls = any(Path(d, "lmnsd_gtls.so").exists() for d in GTLS_DIRS)
    if found and gtls:
        return found
    reason = (
        "rsyslogd is not installed" if not found else "rsyslog-gnutls (lmnsd_gtls) is not installed"
    ) + ": apt-get install rsyslog rsyslog-gnutls"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the rsyslog end-to-end test)")
    pytest.skip(reason)


@dataclass
class Rsyslog:
    directory: Path
    ports: dict[str, int]

    def output(self, name: str) -> Path:
        return self.directory / f"{name}.log"


def _config(directory: Path, certs: Path, ports: dict[str, int]) -> str:
    rulesets = "".join(
        f'ruleset(name="{name}") {{ action(type="omfile" file="{directory / name}.log" '
        'template="fields") }\n'
        for name in ports
    )
    tls = 'streamDriver.name="gtls" streamDriver.mode="1" port="{port}"'
    return (
        f'global(workDirectory="{directory / "work"}" maxMessageSize="128k"\n'
        '       parser.escapeControlCharactersOnReceive="off"\n'
        f'       defaultNetstreamDriverCAFile="{certs / "ca.pem"}"\n'
        f'       defaultNetstreamDriverCertFile="{certs / "cert.pem"}"\n'
        f'       defaultNetstreamDriverKeyFile="{certs / "key.pem"}")\n'
        'module(load="imudp")\n'
        'module(load="imtcp")\n'
        + TEMPLATE
        + rulesets
        + f'input(type="imudp" address="127.0.0.1" port="{ports["udp"]}" ruleset="udp")\n'
        f'input(type="imtcp" address="127.0.0.1" port="{ports["tcp"]}" ruleset="tcp")\n'
        'input(type="imtcp" address="127.0.0.1" ruleset="tls" streamDriver.authMode="anon" '
        + tls.format(port=ports["tls"])
        + ")\n"
        'input(type="imtcp" address="127.0.0.1" ruleset="mtls" '
        'streamDriver.authMode="x509/certvalid" ' + tls.format(port=ports["mtls"]) + ")\n"
    )


def _wait_for_tcp(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"rsyslogd exited with {process.returncode}: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"rsyslogd did not listen on TCP port {port}: {log.read_text()}")


@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory: pytest.TempPathFactory, cert_dir: Path) -> Iterator[Rsyslog]:
    binary = _rsyslogd()
    directory = tmp_path_factory.mktemp("rsyslog")
    (directory / "work").mkdir()
    ports = {
        "udp": free_port(socket.SOCK_DGRAM),
        "tcp": free_port(),
        "tls": free_port(),
        "mtls": free_port(),
    }
    conf = directory / "rsyslog.conf"
    conf.write_text(_config(directory, cert_dir, ports))
    log = directory / "rsyslogd.out"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [binary, "-n", "-f", str(conf), "-i", str(directory / "rsyslogd.pid")],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for name in ("tcp", "tls", "mtls"):
            _wait_for_tcp(ports[name], process, log)
        yield Rsyslog(directory, ports)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _is_probe(line: bytes) -> bool:
    return line.split(b" ")[2:3] == [b"probe"]


def _read_lines(path: Path, count: int) -> list[bytes]:
    """The lines rsyslog wrote (probes left out), once there are ``count`` of them."""
    deadline = time.monotonic() + 10
    lines: list[bytes] = []
    while time.monotonic() < deadline:
        data = path.read_bytes() if path.exists() else b""
        lines = [line for line in data.split(END)[:-1] if not _is_probe(line)]
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    pytest.fail(f"rsyslog wrote {len(lines)} of {count} messages to {path}")


def _udp_ready(rsyslog: Rsyslog) -> None:
    """imudp binds without telling anyone: send probes until one is written."""
    port = rsyslog.ports["udp"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(100):
            sock.sendto(b"<14>1 - - probe - probe - ready", ("127.0.0.1", port))
            out = rsyslog.output("udp")
            if out.exists() and any(map(_is_probe, out.read_bytes().split(END))):
                return
            time.sleep(0.05)
    pytest.fail("rsyslogd never wrote a UDP probe")


def _messages() -> list[Message]:
    """Findings and events in every line format there is (with the hostile fixture
    values), a large record, and a raw multi-line one."""
    formats = [name for name in ("ndjson", "cef", "leef", "ecs", "ocsf") if name in SINKS]
    messages: list[Message] = []
    for name in formats:
        messages += render_messages(findings(), name, kind="findings")
        messages += render_messages(events(), name, kind="events")
    messages.append(Message("x" * 40_000 + " big ünï 😀", severity="critical"))
    # Raw, not escaped by any sink: octet counting (TCP, TLS) and datagrams (UDP) frame
    # records, not newlines; rsyslog is told to keep control characters as they are.
    messages.append(Message(f"multi\nline\r\n{HOSTILE}", kind="event"))
    return messages


SYSLOG_SEVERITY = {None: 6, "info": 6, "low": 5, "medium": 4, "high": 3, "critical": 2}


def _check(lines: list[bytes], messages: list[Message], *, facility: int) -> None:
    assert len(lines) == len(messages)
    for line, message in zip(lines, messages, strict=True):
        pri, host, app, procid, msgid, sd, msg = line.split(b" ", 6)
        expected_severity = SYSLOG_SEVERITY[message.severity]
        assert int(pri) == facility * 8 + expected_severity
        assert (host, app, procid) == (b"scanner-01", b"shadowscan", str(os.getpid()).encode())
        assert (msgid, sd) == (message.kind.encode(), b"-")
        assert msg == BOM + message.text.encode("utf-8")


@pytest.mark.parametrize("scheme", ["syslog+tcp", "syslog+tls"])
def test_stream_transports_deliver_every_record_intact(
    rsyslog: Rsyslog, scheme: str, ca_file: Path
) -> None:
    name = scheme.partition("+")[2]
    url = f"{scheme}://127.0.0.1:{rsyslog.ports[name]}?facility=local4&hostname=scanner-01"
    messages = _messages()
    with open_transport(url, ca_file=ca_file) as transport:
        assert transport.send(messages[:3]) == 3
        assert transport.send(messages[3:]) == len(messages) - 3
    _check(_read_lines(rsyslog.output(name), len(messages)), messages, facility=20)


def test_mutual_tls_with_a_client_certificate(
    rsyslog: Rsyslog, cert_dir: Path, ca_file: Path
) -> None:
    url = (
        f"syslog+tls://localhost:{rsyslog.ports['mtls']}?hostname=scanner-01"
        f"&cert_file={cert_dir / 'client.pem'}&key_file={cert_dir / 'client-key.pem'}"
    )
    messages = _messages()[:4]
    with open_transport(url, ca_file=ca_file) as transport:
        transport.send(messages)
    _check(_read_lines(rsyslog.output("mtls"), len(messages)), messages, facility=1)


def test_a_refused_client_certificate_is_a_failure_not_a_silent_loss(
    rsyslog: Rsyslog, ca_file: Path
) -> None:
    """With TLS 1.3 the receiver rejects a missing client certificate only after the
    handshake; the orderly close that ends each send is what notices."""
    url = f"syslog+tls://localhost:{rsyslog.ports['mtls']}?timeout=5"
    with (
        open_transport(url, ca_file=ca_file) as transport,
        pytest.raises(TransportError, match="give cert_file= and key_file=") as info,
    ):
        transport.send(_messages()[:2])
    assert info.value.delivered == 0


def test_udp_delivers_one_datagram_per_record(rsyslog: Rsyslog) -> None:
    _udp_ready(rsyslog)
    url = f"syslog+udp://127.0.0.1:{rsyslog.ports['udp']}?hostname=scanner-01&facility=local7"
    messages = _messages()
    assert all(len(m.text.encode()) < MAX_DATAGRAM - 200 for m in messages)
    with open_transport(url) as transport:
        transport.send(messages)
    _check(_read_lines(rsyslog.output("udp"), len(messages)), messages, facility=23)
