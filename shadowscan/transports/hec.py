"""Splunk HTTP Event Collector: batched JSON events over HTTPS, with retries and, on
request, indexer acknowledgement.

Each record becomes one HEC event::

    {"time": 1763542800.0, "host": "scanner01", "source": "shadowscan",
     "sourcetype": "shadowscan:finding", "event": {...the record...}}

A record that is a JSON object (ndjson, ecs, ocsf) is embedded as an object, so Splunk
extracts its fields; any other (a CEF line) is embedded as a string. Events are POSTed to
``/services/collector/event`` newline-separated, at most ``batch`` events and
``batch_bytes`` bytes per request. 5xx, 429 and connection failures are retried with
exponential backoff and jitter (``attempts``, ``backoff``, ``max_wait``); any other 4xx
fails at once with HEC's own ``text`` and ``code`` and what to do. A batch that got no
answer is sent again, so a receiver may see it twice (at-least-once). With ``ack=1`` events
are sent on a channel and count as delivered only once ``/services/collector/ack`` says
they were indexed (within ``ack_timeout``).

The token comes from ``SHADOWSCAN_HEC_TOKEN`` or from the file named by
``SHADOWSCAN_HEC_TOKEN_FILE`` (which, like an ssh key, only its owner may read), never
from the URL or the command line. HTTPS only: the token travels in every request.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import ssl
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from shadowscan import __version__
from shadowscan.errors import UsageError
from shadowscan.secrets import read_private_file
from shadowscan.transports.base import (
    TRANSPORTS,
    Endpoint,
    Message,
    Transport,
    TransportError,
    bool_option,
    float_option,
    int_option,
    tls_context,
    tls_failure,
)

TOKEN_ENV = "SHADOWSCAN_HEC_TOKEN"
TOKEN_FILE_ENV = "SHADOWSCAN_HEC_TOKEN_FILE"
EVENT_PATH = "/services/collector/event"
ACK_PATH = "/services/collector/ack"
#: The longest single wait between retries or acknowledgement polls.
MAX_DELAY = 30.0

#: What to do about HEC's documented error codes (the ``code`` in its JSON reply).
HINTS: Mapping[int, str] = {
    1: "the token is disabled: enable it in Splunk (Settings > Data inputs > HTTP Event Collector)",
    2: f"set {TOKEN_ENV} or {TOKEN_FILE_ENV}",
    3: f"check the token in {TOKEN_ENV} or {TOKEN_FILE_ENV}",
    4: f"check the token in {TOKEN_ENV} or {TOKEN_FILE_ENV}",
    7: "check index= in the URL: the token may not write to that index",
    10: "the token requires indexer acknowledgement: add ack=1 to the URL",
    11: "the token requires indexer acknowledgement: add ack=1 to the URL",
    14: "indexer acknowledgement is off for this token: remove ack=1 or enable it on the token",
}
STATUS_HINTS: Mapping[int, str] = {
    401: f"check the token in {TOKEN_ENV} or {TOKEN_FILE_ENV}",
    403: f"check the token in {TOKEN_ENV} or {TOKEN_FILE_ENV}",
    404: "is this a HEC endpoint? check the URL's host, port and path",
    413: "lower batch_bytes= in the URL below the receiver's max_content_length",
}


def load_token(explicit: str | None = None, environ: Mapping[str, str] = os.environ) -> str:
    """The HEC token: ``explicit`` (library callers), else the environment.

    A token file must be private to its owner, as a pseudonymisation key must be
    (:func:`shadowscan.secrets.read_private_file`).
    """
    if explicit is not None:
        token = explicit.strip()
    else:
        value, path = environ.get(TOKEN_ENV, ""), environ.get(TOKEN_FILE_ENV, "")
        if value and path:
            raise UsageError(f"both {TOKEN_ENV} and {TOKEN_FILE_ENV} are set: unset one")
        if value:
            token = value.strip()
        elif path:
            token = _read_token_file(Path(path))
        else:
            raise UsageError(
                f"hec+https needs a token: set {TOKEN_ENV}, or {TOKEN_FILE_ENV} to a file "
                "only you can read (never put the token in the URL or on the command line)"
            )
    if not token or not all(33 <= ord(ch) <= 126 for ch in token):
        raise UsageError(
            "the HEC token is empty or holds spaces or control characters: "
            f"check {TOKEN_ENV} or {TOKEN_FILE_ENV}"
        )
    return token


def _read_token_file(path: Path) -> str:
    data = read_private_file(
        path, what="HEC token file", hint=f"put the HEC token in it ({TOKEN_FILE_ENV})"
    )
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(
            f"HEC token file {path} is not a token (non-ASCII bytes) ({TOKEN_FILE_ENV})"
        ) from None


@dataclass
class _Reply:
    status: int
    body: dict[str, Any]
    retry_after: float | None

    def describe(self) -> str:
        text = self.body.get("text")
        code = self.body.get("code")
        detail = f": {text}" if text else ""
        detail += f" (code {code})" if code is not None else ""
        return f"HTTP {self.status}{detail}"


class _GiveUp(Exception):
    """Stop sending; the message says why and what to do."""


@TRANSPORTS.register("hec+https")
class HecHttps(Transport):
    """Splunk HEC (or a compatible receiver: Cribl, Vector, OpenObserve, ...) over HTTPS."""

    scheme = "hec+https"
    default_port = 8088
    options: ClassVar[Mapping[str, str]] = {
        "batch": "events per request; default 500",
        "batch_bytes": "bytes per request (a larger single event goes alone); default 1000000",
        "attempts": "tries per request on 5xx, 429 and connection errors; default 5",
        "backoff": "seconds before the first retry, doubled each time, with jitter; default 0.5",
        "max_wait": "seconds one request may spend on retries before giving up; default 120",
        "timeout": "seconds to wait for each HTTP response; default 30",
        "ack": "1 to count events delivered only once indexed (indexer acknowledgement)",
        "ack_timeout": "seconds to wait for the acknowledgements; default 120",
        "index": "Splunk index; default the token's default index",
        "hostname": "the events' host field; default this machine's host name",
        "cert_file": "PEM client certificate, for receivers that require mutual TLS",
        "key_file": "PEM private key of cert_file, unencrypted (when not inside cert_file)",
    }

    def __init__(self, endpoint: Endpoint, *, ca_file: Path | None, token: str | None) -> None:
        super().__init__(endpoint, ca_file=ca_file, token=token)
        self.batch = int_option(endpoint, "batch", 500, low=1, high=100_000)
        self.batch_bytes = int_option(
            endpoint, "batch_bytes", 1_000_000, low=1_000, high=800_000_000
        )
        self.attempts = int_option(endpoint, "attempts", 5, low=1, high=100)
        self.backoff = float_option(endpoint, "backoff", 0.5, low=0.0, high=MAX_DELAY)
        self.max_wait = float_option(endpoint, "max_wait", 120.0, low=0.0, high=86_400.0)
        self.timeout = float_option(endpoint, "timeout", 30.0, low=0.1, high=3600.0)
        self.ack = bool_option(endpoint, "ack", False)
        self.ack_timeout = float_option(endpoint, "ack_timeout", 120.0, low=0.0, high=86_400.0)
        self.index = endpoint.options.get("index") or None
        self.hostname = endpoint.options.get("hostname") or socket.gethostname()
        prefix = endpoint.path.rstrip("/")
        for known in (EVENT_PATH, "/services/collector"):
            prefix = prefix.removesuffix(known)
        self.event_path = prefix + EVENT_PATH
        self.ack_path = prefix + ACK_PATH
        self.context = tls_context(endpoint, ca_file)
        self.token = load_token(token)
        self.channel = str(uuid.uuid4())
        self._conn: http.client.HTTPSConnection | None = None

    def encode(self, message: Message, now: float) -> bytes:
        """One HEC event (JSON, one line)."""
        try:
            record: Any = json.loads(message.text)
        except ValueError:
            record = message.text
        if not isinstance(record, dict):
            record = message.text
        event: dict[str, Any] = {
            "time": round(now if message.time is None else message.time, 3),
            "host": self.hostname,
            "source": "shadowscan",
            "sourcetype": f"shadowscan:{message.kind}",
        }
        if self.index:
            event["index"] = self.index
        event["event"] = record
        return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def batches(self, messages: Sequence[Message], now: float) -> list[tuple[int, bytes]]:
        """``(end, body)`` per request: messages up to index ``end`` are in ``body``."""
        result: list[tuple[int, bytes]] = []
        events: list[bytes] = []
        size = 0
        for index, message in enumerate(messages):
            event = self.encode(message, now)
            if events and (len(events) >= self.batch or size + 1 + len(event) > self.batch_bytes):
                result.append((index, b"\n".join(events)))
                events, size = [], 0
            events.append(event)
            size += len(event) + (1 if size else 0)
        if events:
            result.append((len(messages), b"\n".join(events)))
        return result

    def _send(self, messages: Sequence[Message]) -> int:
        delivered = 0
        unacked: list[tuple[int, int]] = []  # (ackId, end)
        problem: str | None = None
        try:
            for end, body in self.batches(messages, time.time()):
                reply = self._post(self.event_path, body)
                if not self.ack:
                    delivered = end
                    continue
                ack_id = reply.body.get("ackId")
                if not isinstance(ack_id, int):
                    raise _GiveUp(
                        "no ackId in the reply: is indexer acknowledgement enabled on the "
                        "token? enable it or remove ack=1"
                    )
                unacked.append((ack_id, end))
        except _GiveUp as exc:
            problem = str(exc)
        if unacked:
            delivered, ack_problem = self._await_acks(unacked)
            problem = problem or ack_problem
        if problem is not None:
            raise TransportError(f"HEC {self.destination}: {problem}", delivered=delivered)
        return len(messages)

    def _await_acks(self, unacked: list[tuple[int, int]]) -> tuple[int, str | None]:
        """Poll until every batch is indexed: the end of the acknowledged prefix (a later
        batch acknowledged before an earlier one still waits for it) and what went wrong."""
        deadline = time.monotonic() + self.ack_timeout
        acked: set[int] = set()
        prefix = 0
        delay = max(self.backoff, 0.01)
        try:
            while True:
                waiting = [ack_id for ack_id, _ in unacked if ack_id not in acked]
                body = json.dumps({"acks": waiting}).encode()
                statuses = self._post(self.ack_path, body).body.get("acks")
                if isinstance(statuses, dict):
                    acked.update(i for i in waiting if statuses.get(str(i)) is True)
                for ack_id, end in unacked:
                    if ack_id not in acked:
                        break
                    prefix = end
                if len(acked) == len(unacked):
                    return prefix, None
                if time.monotonic() + delay > deadline:
                    return prefix, (
                        f"{len(unacked) - len(acked)} batch(es) not acknowledged as indexed "
                        f"within ack_timeout={self.ack_timeout:g}s: check the indexers' health, or "
                        "raise ack_timeout"
                    )
                time.sleep(delay)
                delay = min(delay * 2, MAX_DELAY)
        except _GiveUp as exc:
            return prefix, f"while waiting for acknowledgement: {exc}"

    def _post(self, path: str, body: bytes) -> _Reply:
        """POST with retries on 5xx, 429 and connection errors; other failures give up."""
        deadline = time.monotonic() + self.max_wait
        problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                reply = self._request(path, body)
            except ssl.SSLCertVerificationError as exc:
                self._drop()
                raise _GiveUp(tls_failure(exc, self.endpoint)) from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                problem = _connection_problem(exc)
                retry_after = None
            else:
                if reply.status == 200:
                    return reply
                if reply.status != 429 and reply.status < 500:
                    raise _GiveUp(f"refused: {reply.describe()}: {_hint(reply)}")
                problem = reply.describe()
                retry_after = reply.retry_after
            if attempt == self.attempts:
                break
            delay = min(self.backoff * 2 ** (attempt - 1), MAX_DELAY)
            delay = random.uniform(delay / 2, delay)  # jitter: retries of many runs spread out
            if retry_after is not None:
                delay = max(delay, min(retry_after, MAX_DELAY))
            if time.monotonic() + delay > deadline:
                break
            time.sleep(delay)
        raise _GiveUp(
            f"{problem}, {attempt} attempt(s): is HEC up and reachable? (attempts=, max_wait= "
            "in the URL set how hard to try)"
        )

    def _request(self, path: str, body: bytes) -> _Reply:
        if self._conn is None:
            self._conn = http.client.HTTPSConnection(
                self.endpoint.host, self.port, timeout=self.timeout, context=self.context
            )
        headers = {
            "Authorization": f"Splunk {self.token}",
            "Content-Type": "application/json",
            "User-Agent": f"shadowscan/{__version__}",
        }
        if self.ack:
            headers["X-Splunk-Request-Channel"] = self.channel
        self._conn.request("POST", path, body=body, headers=headers)
        response = self._conn.getresponse()
        raw = response.read()
        if response.will_close:
            self._drop()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            snippet = " ".join(raw.decode("utf-8", "replace").split())[:200]
            parsed = {"text": snippet or response.reason}
        return _Reply(response.status, parsed, _retry_after(response.getheader("Retry-After")))

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self._drop()


def _hint(reply: _Reply) -> str:
    code = reply.body.get("code")
    if isinstance(code, int) and code in HINTS:
        return HINTS[code]
    return STATUS_HINTS.get(reply.status, "see the receiver's logs")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (HTTP dates are ignored: HEC sends seconds)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _connection_problem(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc})"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot connect ({exc.strerror})"
    return f"connection failed ({type(exc).__name__}: {exc})"
