"""What a transport is, the message it carries, and the URL parsing every transport shares.

A transport takes records a sink has already rendered (an NDJSON object, a CEF line, ...)
and delivers them somewhere. It never decides what to send: the caller renders, the
transport frames and ships, and :mod:`shadowscan.transports.spool` keeps whatever could not
be shipped for the next run.
"""

from __future__ import annotations

import io
import json
import math
import os
import ssl
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Self

from shadowscan.errors import DeliveryError, UsageError
from shadowscan.registry import Registry

if TYPE_CHECKING:
    import polars as pl

#: Finding severities, lowest first (``shadowscan.findings`` assigns them).
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
#: What a message can be a rendering of; HEC files them under different sourcetypes.
KINDS: tuple[str, ...] = ("finding", "event")


@dataclass(frozen=True, slots=True)
class Message:
    """One rendered record and the little a transport needs to file it.

    ``severity`` (findings only) picks the syslog severity; ``time`` (epoch seconds, for
    matched events: when the event happened) is the syslog TIMESTAMP and the HEC ``time``;
    ``None`` means "now", which is when a finding is reported.
    """

    text: str
    kind: str = "finding"
    severity: str | None = None
    time: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"message kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ValueError(
                f"message severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}"
            )
        if self.time is not None and not math.isfinite(self.time):
            raise ValueError(f"message time must be a finite epoch, not {self.time!r}")

    def to_json(self) -> str:
        """One line of JSON (the spool's format); ``ensure_ascii`` keeps it one line."""
        return json.dumps(
            {"text": self.text, "kind": self.kind, "severity": self.severity, "time": self.time},
            ensure_ascii=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str) -> Message:
        """Inverse of :meth:`to_json`; raises ``ValueError`` on anything else."""
        data = json.loads(line)
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise ValueError("not a spooled message")
        time = data.get("time")
        if time is not None and not isinstance(time, int | float):
            raise ValueError("bad time")
        return cls(
            text=data["text"],
            kind=data.get("kind", "finding"),
            severity=data.get("severity"),
            time=None if time is None else float(time),
        )


def as_message(item: Message | str) -> Message:
    """Plain strings are findings of no particular severity."""
    return item if isinstance(item, Message) else Message(item)


def render_messages(frame: pl.DataFrame, output_format: str, *, kind: str) -> list[Message]:
    """Render ``frame`` with the sink ``output_format``: one message per row.

    ``kind`` is what the sink is told: ``findings`` or ``events``. Only sinks that write
    one record per line can feed a transport; any other (a JSON array, CSV with its
    header, a table) is refused with the formats that can. Findings carry their
    ``severity``; events their timestamp ``ts``.
    """
    import polars as pl

    from shadowscan.outputs import SINKS

    if kind not in {"findings", "events"}:
        raise UsageError(f"--send carries findings or events, not {kind} rollups")
    sink = SINKS.get(output_format)()
    if sink.binary:
        raise UsageError(f"--send cannot carry {output_format}: it is a binary format; {_LINE}")
    stream = io.StringIO()
    sink.write(frame, stream, kind=kind)
    # split("\n"), not splitlines(): JSON may hold U+2028 or \x1c unescaped inside strings.
    lines = stream.getvalue().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != frame.height:
        raise UsageError(
            f"--send cannot carry {output_format}: it does not write one line per record; {_LINE}"
        )
    severities: list[str | None] = [None] * frame.height
    times: list[float | None] = [None] * frame.height
    if kind == "findings" and "severity" in frame.columns:
        severities = [s if s in SEVERITIES else None for s in frame["severity"].cast(pl.String)]
    if kind == "events" and "ts" in frame.columns:
        epoch = frame["ts"].dt.epoch("us")
        times = [None if us is None else us / 1e6 for us in epoch]
    return [
        Message(text, kind=kind.removesuffix("s"), severity=severity, time=time)
        for text, severity, time in zip(lines, severities, times, strict=True)
    ]


_LINE = "choose a format that writes one record per line, such as ndjson"


class TransportError(DeliveryError):
    """A transport gave up; ``delivered`` messages (a prefix, in order) did get through."""

    def __init__(self, message: str, *, delivered: int) -> None:
        super().__init__(message)
        self.delivered = delivered


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed ``--send`` URL: scheme, host, port, path and its options."""

    url: str
    scheme: str
    host: str
    port: int | None
    path: str
    options: Mapping[str, str]


def format_address(host: str, port: int) -> str:
    """``host:port`` for messages and spool keys, with IPv6 hosts bracketed."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_url(url: str, *, known_options: Iterable[str]) -> Endpoint:
    """Split ``url`` and check what is the same for every transport.

    Credentials never go in a URL (it ends up in shell history, process lists and CI
    logs), so userinfo and a ``token`` option are refused rather than ignored.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise UsageError(f"--send {_redact(url)}: not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UsageError(
            f"--send {_redact(url)}: credentials do not belong in the URL, where shell history "
            "and process lists would show them; see the transport's environment variables"
        )
    if not parts.hostname:
        raise UsageError(f"--send {url}: no host; write {scheme}://HOST:PORT")
    if parts.fragment:
        raise UsageError(f"--send {url}: a URL fragment (#...) means nothing here; remove it")
    known = sorted(known_options)
    options: dict[str, str] = {}
    for name, value in pairs:
        if name.lower() in {"token", "password", "secret", "key"}:
            raise UsageError(
                f"--send {_redact(url)}: secrets do not belong in the URL, where shell history "
                "and process lists would show them; see the transport's environment variables"
            )
        if name not in known:
            raise UsageError(
                f"--send {url}: unknown option {name!r} for {scheme} "
                f"(known: {', '.join(known) or 'none'})"
            )
        if name in options:
            raise UsageError(f"--send {url}: option {name!r} given twice")
        options[name] = value
    return Endpoint(
        url=url,
        scheme=scheme,
        host=parts.hostname,
        port=port,
        path=parts.path,
        options=options,
    )


def _redact(url: str) -> str:
    """``url`` without userinfo or query, for messages about a URL that carried a secret."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "<unparsable URL>"


def int_option(endpoint: Endpoint, name: str, default: int, *, low: int, high: int) -> int:
    raw = endpoint.options.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise UsageError(
            f"--send {endpoint.url}: {name}={raw!r} must be a whole number from {low} to {high}"
        )
    return value


def float_option(
    endpoint: Endpoint, name: str, default: float, *, low: float, high: float
) -> float:
    raw = endpoint.options.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # also false for nan
        raise UsageError(f"--send {endpoint.url}: {name}={raw!r} must be from {low} to {high}")
    return value


def bool_option(endpoint: Endpoint, name: str, default: bool) -> bool:
    raw = endpoint.options.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise UsageError(f"--send {endpoint.url}: {name}={raw!r} must be 1 or 0")


def tls_context(endpoint: Endpoint, ca_file: Path | None) -> ssl.SSLContext:
    """A client TLS context that always verifies the server.

    ``ca_file`` replaces the system trust store (a private CA should not also trust the
    whole web PKI for this connection). There is deliberately no option to skip
    verification: a SIEM that accepts anyone's certificate receives findings on behalf of
    anyone. ``cert_file``/``key_file`` options add a client certificate (mutual TLS).
    """
    if ca_file is not None and not Path(ca_file).is_file():
        raise UsageError(f"--ca-file {ca_file}: no such file; give the PEM file of the CA")
    try:
        context = ssl.create_default_context(cafile=None if ca_file is None else os.fspath(ca_file))
    except (ssl.SSLError, OSError) as exc:
        raise UsageError(f"--ca-file {ca_file}: not a PEM CA bundle ({exc})") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    cert_file = endpoint.options.get("cert_file")
    key_file = endpoint.options.get("key_file")
    if key_file and not cert_file:
        raise UsageError(f"--send {endpoint.url}: key_file needs cert_file too")
    if cert_file:
        try:
            context.load_cert_chain(cert_file, key_file or None)
        except (ssl.SSLError, OSError) as exc:
            raise UsageError(
                f"--send {endpoint.url}: cannot load the client certificate {cert_file}"
                f"{f' with key {key_file}' if key_file else ''} ({exc}); "
                "give PEM files, the key unencrypted"
            ) from None
    return context


def tls_failure(exc: BaseException, endpoint: Endpoint) -> str:
    """A one-line reason for a failed TLS handshake, with what to do about it."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"the TLS certificate of {endpoint.host} is not trusted "
            f"({exc.verify_message}): give its CA with --ca-file"
        )
    return (
        f"TLS with {endpoint.host} failed ({exc}): check the receiver's TLS settings and log "
        "(does it want a client certificate? give cert_file= and key_file=)"
    )


class Transport(ABC):
    """Delivers rendered messages to one destination.

    Constructing a transport checks its URL and options (``UsageError``) without touching
    the network, so a typo fails before a long scan, not after it. :meth:`send` connects on
    first use.
    """

    scheme: ClassVar[str]
    #: The port when the URL names none.
    default_port: ClassVar[int]
    #: Options accepted in the URL query, with a one-line description each (for the docs).
    options: ClassVar[Mapping[str, str]] = {}

    def __init__(self, endpoint: Endpoint, *, ca_file: Path | None, token: str | None) -> None:
        self.endpoint = endpoint
        self.ca_file = ca_file
        self.port = endpoint.port or self.default_port
        #: ``scheme://host:port`` of the destination: names it in messages and keys its spool.
        self.address = format_address(endpoint.host, self.port)
        self.destination = f"{self.scheme}://{self.address}{endpoint.path.rstrip('/')}"

    def check(self, messages: Sequence[Message | str]) -> None:
        """Raise ``UsageError`` for a message this destination can never take, so it is
        refused up front instead of blocking the spool forever."""
        self._check([as_message(item) for item in messages])

    def send(self, messages: Sequence[Message | str]) -> int:
        """Deliver ``messages`` in order; return how many were delivered (all of them).

        Raises :class:`TransportError` (with ``delivered``, the prefix that got through)
        when the destination cannot take them. Plain strings are findings of no severity.
        """
        return self._send([as_message(item) for item in messages])

    def _check(self, messages: Sequence[Message]) -> None:  # noqa: B027 - optional hook
        """Transports with limits (UDP's datagram size) refuse here."""

    @abstractmethod
    def _send(self, messages: Sequence[Message]) -> int:
        """:meth:`send`, with every item a :class:`Message`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; never raises."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


TRANSPORTS: Registry[type[Transport]] = Registry("transport")


def open_transport(url: str, *, ca_file: Path | None = None, token: str | None = None) -> Transport:
    """The transport for ``url``'s scheme, its URL and options checked, not yet connected.

    ``token`` is for library callers; the CLI leaves it ``None`` and transports that need
    one read it from their environment variables.
    """
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in TRANSPORTS:
        known = ", ".join(f"{name}://" for name in TRANSPORTS.names())
        raise UsageError(f"--send {_redact(url)}: unknown destination type (known: {known})")
    cls = TRANSPORTS.get(scheme)
    endpoint = parse_url(url, known_options=cls.options)
    return cls(endpoint, ca_file=ca_file, token=token)
