"""Syslog: RFC 5424 messages over UDP (RFC 5426), TCP (RFC 6587) or TLS (RFC 5425).

Each record becomes one message::

    <PRI>1 TIMESTAMP HOSTNAME shadowscan PROCID MSGID - BOM MSG

PRI is the URL's ``facility`` times 8 plus the record's severity (a finding's ``critical``
is syslog ``crit``, ``high`` is ``err``, ``medium`` is ``warning``, ``low`` is ``notice``,
``info`` is ``info``; events use the URL's ``severity``). MSGID is ``finding`` or
``event``. There is no structured data (``-``): the record itself carries the fields. MSG is
UTF-8 and, as RFC 5424 section 6.4 requires of UTF-8 MSG, starts with a byte order mark;
``bom=0`` leaves it out for receivers that keep it in the stored text.

Over TCP and TLS messages are framed by octet counting (``LEN SP MESSAGE``, RFC 5425
section 4.3 and RFC 6587 section 3.4.1), so a record may contain any byte, newlines
included. Syslog has no acknowledgement, so each send uses its own connection and ends it
in order: after the last message shadowscan half-closes and waits for the receiver to
close too, which it does only once it has read everything. A reset or a TLS alert instead
(a receiver that died, or refused our certificate) means the messages may be lost: they
are all sent again once, on a new connection (so a receiver may see some twice), and a
second failure leaves them to the spool.

Over UDP each message is one datagram; a datagram can drop unseen and a receiver that is
down is only noticed when the network says so, after the message already sent to it is
lost. A message larger than a datagram (65,507 bytes) is refused rather than cut.
"""

from __future__ import annotations

import datetime as dt
import os
import select
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from shadowscan.errors import UsageError
from shadowscan.transports.base import (
    TRANSPORTS,
    Endpoint,
    Message,
    Transport,
    TransportError,
    bool_option,
    float_option,
    tls_context,
    tls_failure,
)

#: RFC 5424 section 6.2.1, with the names rsyslog and logger(1) accept.
FACILITIES: Mapping[str, int] = {
    "kern": 0,
    "user": 1,
    "mail": 2,
    "daemon": 3,
    "auth": 4,
    "syslog": 5,
    "lpr": 6,
    "news": 7,
    "uucp": 8,
    "cron": 9,
    "authpriv": 10,
    "ftp": 11,
    "ntp": 12,
    "security": 13,
    "console": 14,
    "solaris-cron": 15,
    **{f"local{n}": 16 + n for n in range(8)},
}
SYSLOG_SEVERITIES: Mapping[str, int] = {
    "emerg": 0,
    "alert": 1,
    "crit": 2,
    "err": 3,
    "warning": 4,
    "notice": 5,
    "info": 6,
    "debug": 7,
}
#: A finding's severity as a syslog severity: the SIEM's own alerting keys on PRI.
FINDING_SEVERITY: Mapping[str, int] = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}

APP_NAME = "shadowscan"
BOM = "\ufeff".encode()
#: The largest UDP payload over IPv4 (65,535 - 8 UDP - 20 IP header bytes).
MAX_DATAGRAM = 65_507

_OPTIONS = {
    "facility": "syslog facility: a name (user, local0 ... local7, ...) or 0-23; default user",
    "severity": "syslog severity for records without one (events): a name or 0-7; default info",
    "hostname": "the HOSTNAME field; default this machine's host name",
    "bom": "1 (default) starts MSG with the UTF-8 byte order mark RFC 5424 asks for; 0 omits it",
    "timeout": "seconds to wait for a connection or a send; default 10",
}
_TLS_OPTIONS = {
    "cert_file": "PEM client certificate, for receivers that require mutual TLS",
    "key_file": "PEM private key of cert_file, unencrypted (when not inside cert_file)",
}


def _named_number(endpoint: Endpoint, name: str, names: Mapping[str, int], default: str) -> int:
    raw = endpoint.options.get(name, default).lower()
    if raw in names:
        return names[raw]
    if raw.isdigit() and int(raw) <= max(names.values()):
        return int(raw)
    raise UsageError(
        f"--send {endpoint.url}: {name}={raw!r} is not a syslog {name} "
        f"(known: {', '.join(names)}, or 0-{max(names.values())})"
    )


def _header_field(value: str, limit: int) -> str:
    """RFC 5424 header fields are printable US-ASCII without spaces; ``-`` when empty."""
    cleaned = "".join(ch for ch in value if 33 <= ord(ch) <= 126)[:limit]
    return cleaned or "-"


def syslog_timestamp(epoch: float) -> str:
    """RFC 5424 TIMESTAMP: UTC, microseconds, ``Z`` (section 6.2.3 allows six digits)."""
    stamp = dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="microseconds")
    return stamp.removesuffix("+00:00") + "Z"


def format_message(
    message: Message,
    *,
    facility: int,
    default_severity: int,
    hostname: str,
    procid: str,
    bom: bool,
    now: float,
) -> bytes:
    """One RFC 5424 message (without transport framing)."""
    severity = FINDING_SEVERITY.get(message.severity or "", default_severity)
    timestamp = syslog_timestamp(now if message.time is None else message.time)
    header = (
        f"<{facility * 8 + severity}>1 {timestamp} {_header_field(hostname, 255)} "
        f"{APP_NAME} {_header_field(procid, 128)} {_header_field(message.kind, 32)} - "
    )
    return header.encode("ascii") + (BOM if bom else b"") + message.text.encode("utf-8")


class _Syslog(Transport):
    """What the three syslog transports share: options and RFC 5424 formatting."""

    default_port: ClassVar[int]
    options: ClassVar[Mapping[str, str]] = _OPTIONS

    def __init__(self, endpoint: Endpoint, *, ca_file: Path | None, token: str | None) -> None:
        super().__init__(endpoint, ca_file=ca_file, token=token)
        if endpoint.path not in {"", "/"}:
            raise UsageError(
                f"--send {endpoint.url}: syslog URLs have no path; write "
                f"{endpoint.scheme}://HOST:PORT"
            )
        if token is not None:
            raise UsageError(f"--send {endpoint.url}: syslog takes no token")
        self.facility = _named_number(endpoint, "facility", FACILITIES, "user")
        self.default_severity = _named_number(endpoint, "severity", SYSLOG_SEVERITIES, "info")
        self.hostname = endpoint.options.get("hostname") or socket.gethostname()
        self.bom = bool_option(endpoint, "bom", True)
        self.timeout = float_option(endpoint, "timeout", 10.0, low=0.1, high=3600.0)
        self.procid = str(os.getpid())

    def format(self, message: Message, now: float) -> bytes:
        return format_message(
            message,
            facility=self.facility,
            default_severity=self.default_severity,
            hostname=self.hostname,
            procid=self.procid,
            bom=self.bom,
            now=now,
        )


@TRANSPORTS.register("syslog+udp")
class SyslogUdp(_Syslog):
    """One datagram per message; fire and forget."""

    scheme = "syslog+udp"
    default_port = 514

    def __init__(self, endpoint: Endpoint, *, ca_file: Path | None, token: str | None) -> None:
        super().__init__(endpoint, ca_file=ca_file, token=token)
        self._sock: socket.socket | None = None

    def _check(self, messages: Sequence[Message]) -> None:
        for number, message in enumerate(messages, 1):
            size = len(self.format(message, 0.0))
            if size > MAX_DATAGRAM:
                raise UsageError(
                    f"--send {self.endpoint.url}: record {number} is {size:,} bytes as a syslog "
                    f"message, more than one UDP datagram carries ({MAX_DATAGRAM:,}); send it "
                    "with syslog+tcp:// or syslog+tls://"
                )

    def _socket(self) -> socket.socket:
        if self._sock is None:
            family, kind, proto, _, address = socket.getaddrinfo(
                self.endpoint.host, self.port, type=socket.SOCK_DGRAM
            )[0]
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.timeout)
                # connect(): the kernel then reports ICMP "port unreachable" on later sends.
                sock.connect(address)
            except OSError:
                sock.close()
                raise
            self._sock = sock
        return self._sock

    def _send(self, messages: Sequence[Message]) -> int:
        self._check(messages)
        now = dt.datetime.now(dt.UTC).timestamp()
        for index, message in enumerate(messages):
            try:
                self._socket().send(self.format(message, now))
            except OSError as exc:
                self.close()
                raise TransportError(
                    f"syslog to {self.destination} failed ({_reason(exc)}): "
                    "is the receiver up and listening on UDP?",
                    delivered=index,
                ) from exc
        return len(messages)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@TRANSPORTS.register("syslog+tcp")
class SyslogTcp(_Syslog):
    """Octet-counted messages over one connection per :meth:`send`, confirmed by an
    orderly close and sent again once over a new connection when it breaks."""

    scheme = "syslog+tcp"
    default_port = 514

    def _connect(self) -> socket.socket:
        return socket.create_connection((self.endpoint.host, self.port), timeout=self.timeout)

    def _send(self, messages: Sequence[Message]) -> int:
        if not messages:
            return 0
        now = dt.datetime.now(dt.UTC).timestamp()
        frames = []
        for message in messages:
            body = self.format(message, now)
            frames.append(b"%d " % len(body) + body)
        try:
            self._send_confirmed(frames)
        except TransportError:
            raise
        except OSError as first:
            try:
                self._send_confirmed(frames)  # everything again: the first try is unknown
            except OSError as second:
                raise TransportError(
                    f"syslog to {self.destination}: the connection broke twice "
                    f"({_reason(first)}; {_reason(second)}): {self._advice(second)}",
                    delivered=0,
                ) from second
        return len(messages)

    def _send_confirmed(self, frames: list[bytes]) -> None:
        """Send ``frames`` on a new connection, then half-close and wait for the receiver
        to close too: it has then read every byte. A reset or TLS alert instead means it
        did not (it refused us, or died), and raises."""
        try:
            sock = self._connect()
        except ssl.SSLError as exc:
            raise TransportError(
                f"syslog to {self.destination}: {tls_failure(exc, self.endpoint)}", delivered=0
            ) from exc
        except OSError as exc:
            raise TransportError(
                f"syslog to {self.destination}: cannot connect ({_reason(exc)}): is the "
                f"receiver up and listening on {self.scheme.removeprefix('syslog+').upper()} port {self.port}?",
                delivered=0,
            ) from exc
        try:
            for frame in frames:
                sock.sendall(frame)
            try:
                if isinstance(sock, ssl.SSLSocket):
                    try:
                        sock = sock.unwrap()  # our close_notify; waits for the receiver's
                    except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                        return  # closed without close_notify (rsyslog does): all read
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(4096):
                    pass  # syslog receivers send nothing; read until their end of stream
            except TimeoutError as exc:
                raise TimeoutError(
                    "the receiver did not close the connection after the last message "
                    f"within timeout={self.timeout:g}s"
                ) from exc
        finally:
            sock.close()

    def _advice(self, exc: OSError) -> str:
        if isinstance(exc, ssl.SSLError):
            return (
                "the receiver ended TLS: check its TLS settings (if it wants a client "
                "certificate, give cert_file= and key_file=)"
            )
        return "check the receiver's logs and limits (rsyslog: maxMessageSize)"


@TRANSPORTS.register("syslog+tls")
class SyslogTls(SyslogTcp):
    """RFC 5425: the same framing as TCP inside TLS, the server certificate verified."""

    scheme = "syslog+tls"
    default_port = 6514
    options: ClassVar[Mapping[str, str]] = {**_OPTIONS, **_TLS_OPTIONS}

    def __init__(self, endpoint: Endpoint, *, ca_file: Path | None, token: str | None) -> None:
        super().__init__(endpoint, ca_file=ca_file, token=token)
        self.context = tls_context(endpoint, ca_file)

    def _connect(self) -> socket.socket:
        raw = super()._connect()
        started = time.monotonic()
        try:
            sock = self.context.wrap_socket(raw, server_hostname=self.endpoint.host)
        except BaseException:
            raw.close()
            raise
        # A receiver that checks client certificates after a TLS 1.3 handshake (rsyslog
        # does) hangs up about one round trip later, without an alert; messages sent into
        # that connection vanish, so wait about that long (the handshake took one).
        window = min(self.timeout, 0.05 + 2 * (time.monotonic() - started))
        try:
            if _hung_up_within(sock, window):
                raise ssl.SSLError("the receiver hung up right after the handshake")
            sock.settimeout(self.timeout)
        except BaseException:
            sock.close()
            raise
        return sock


def _hung_up_within(sock: ssl.SSLSocket, seconds: float) -> bool:
    """True if the receiver closes the connection within ``seconds``; TLS alerts raise.
    Session tickets (TLS 1.3 housekeeping) are read and ignored."""
    deadline = time.monotonic() + seconds
    sock.setblocking(False)
    while (remaining := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([sock], [], [], remaining)
        if not readable:
            return False
        try:
            if not sock.recv(4096):
                return True
        except ssl.SSLWantReadError:
            continue
    return False


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
