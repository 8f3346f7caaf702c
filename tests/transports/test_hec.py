"""Splunk HEC against a local HTTPS receiver that behaves like HEC: it checks the token,
the path and the event envelope, records each batch, answers with scripted failures,
hands out ackIds and answers acknowledgement polls."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from shadowscan.errors import UsageError
from shadowscan.transports import Message, TransportError, deliver, open_transport, render_messages
from shadowscan.transports.hec import TOKEN_ENV, TOKEN_FILE_ENV, load_token
from tests.outputs.fixtures import HOSTILE, events, findings
from tests.transports.helpers import free_port

TOKEN = "5f1c6a2e-8d3b-4b7a-9c1e-2f4d6b8a0c13"


class HecReceiver(ThreadingHTTPServer):
    """A HEC endpoint; ``script`` holds (status, body) replies for the next event POSTs
    (``None``: take the batch), after which it takes every batch."""

    daemon_threads = True

    def __init__(self, cert: trustme.LeafCert, port: int = 0, *, ack_after_polls: int = 1):
        super().__init__(("127.0.0.1", port), HecHandler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.script: list[tuple[int, dict[str, Any]] | None] = []
        self.batches: list[list[dict[str, Any]]] = []
        self.event_posts = 0
        self.channels: set[str] = set()
        self.next_ack = 0
        self.ack_after_polls = ack_after_polls  # 0: never acknowledge
        self.polls: dict[int, int] = {}
        self.problems: list[str] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port

    @property
    def url(self) -> str:
        return f"hec+https://localhost:{self.port}"

    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.batches for event in batch]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gives up on TLS is not a server error."""


class HecHandler(BaseHTTPRequestHandler):
    server: HecReceiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != f"Splunk {TOKEN}":
            self._reply(403, {"text": "Invalid token", "code": 4})
            return
        channel = self.headers.get("X-Splunk-Request-Channel")
        with self.server.lock:
            if self.path == "/services/collector/event":
                self._event(body, channel)
            elif self.path == "/services/collector/ack":
                self._ack(body, channel)
            else:
                self._reply(404, {"text": "The requested URL was not found", "code": 404})

    def _event(self, body: bytes, channel: str | None) -> None:
        server = self.server
        server.event_posts += 1
        scripted = server.script.pop(0) if server.script else None
        if scripted is not None:
            status, reply = scripted
            self._reply(status, reply, {"Retry-After": "0"} if status == 429 else None)
            return
        batch = [json.loads(line) for line in body.split(b"\n")]
        for event in batch:
            if set(event) - {"time", "host", "source", "sourcetype", "event", "index"}:
                server.problems.append(f"unexpected keys {sorted(event)}")
            if event["source"] != "shadowscan" or not isinstance(event["time"], float | int):
                server.problems.append(f"bad envelope {event}")
        server.batches.append(batch)
        if channel is None:
            self._reply(200, {"text": "Success", "code": 0})
            return
        server.channels.add(channel)
        ack_id = server.next_ack
        server.next_ack += 1
        self._reply(200, {"text": "Success", "code": 0, "ackId": ack_id})

    def _ack(self, body: bytes, channel: str | None) -> None:
        server = self.server
        if channel is None or channel not in server.channels:
            self._reply(400, {"text": "Invalid data channel", "code": 11})
            return
        statuses = {}
        for ack_id in json.loads(body)["acks"]:
            server.polls[ack_id] = server.polls.get(ack_id, 0) + 1
            done = 0 < server.ack_after_polls <= server.polls[ack_id]
            statuses[str(ack_id)] = done
        self._reply(200, {"acks": statuses})


@pytest.fixture
def receiver(server_cert: trustme.LeafCert) -> Iterator[HecReceiver]:
    server = HecReceiver(server_cert)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.delenv(TOKEN_FILE_ENV, raising=False)


def _messages() -> list[Message]:
    return render_messages(findings(), "ndjson", kind="findings") + render_messages(
        events(), "ndjson", kind="events"
    )


def test_batches_carry_every_record_in_order(receiver: HecReceiver, ca_file: Path) -> None:
    messages = [*_messages(), Message(f"CEF:0|x|y|1|z|{HOSTILE}|5|", severity="low")]
    url = f"{receiver.url}?batch=3&index=security&hostname=scanner-01"
    with open_transport(url, ca_file=ca_file) as transport:
        assert transport.send(messages) == 7
    assert [len(batch) for batch in receiver.batches] == [3, 3, 1]
    sent = receiver.events()
    assert [event["event"] for event in sent[:6]] == [json.loads(m.text) for m in messages[:6]]
    assert sent[6]["event"] == messages[6].text  # not JSON: sent as a string, intact
    assert [event["sourcetype"] for event in sent] == ["shadowscan:finding"] * 3 + [
        "shadowscan:event"
    ] * 3 + ["shadowscan:finding"]
    assert {event["host"] for event in sent} == {"scanner-01"}
    assert {event["index"] for event in sent} == {"security"}
    assert sent[3]["time"] == 1_795_078_800.0  # an event keeps its own time
    assert not receiver.problems


def test_batch_bytes_splits_large_batches(receiver: HecReceiver, ca_file: Path) -> None:
    messages = [Message(json.dumps({"n": n, "pad": "x" * 600})) for n in range(5)]
    with open_transport(f"{receiver.url}?batch_bytes=1500", ca_file=ca_file) as transport:
        transport.send(messages)
    assert [len(batch) for batch in receiver.batches] == [2, 2, 1]
    assert [event["event"]["n"] for event in receiver.events()] == [0, 1, 2, 3, 4]


def test_busy_receiver_is_retried_with_backoff(receiver: HecReceiver, ca_file: Path) -> None:
    busy = (503, {"text": "Server is busy", "code": 9})
    receiver.script = [busy, busy, (429, {"text": "Too many requests"})]
    with open_transport(f"{receiver.url}?backoff=0.01", ca_file=ca_file) as transport:
        assert transport.send(_messages()) == 6
    assert receiver.event_posts == 4
    assert len(receiver.events()) == 6


def test_retries_stop_after_attempts(receiver: HecReceiver, ca_file: Path) -> None:
    receiver.script = [(503, {"text": "Server is busy", "code": 9})] * 3
    url = f"{receiver.url}?backoff=0.01&attempts=3&batch=4"
    with (
        open_transport(url, ca_file=ca_file) as transport,
        pytest.raises(TransportError, match=r"HTTP 503: Server is busy \(code 9\), 3 attempt"),
    ):
        transport.send(_messages())
    assert receiver.event_posts == 3


def test_max_wait_caps_the_time_spent_retrying(receiver: HecReceiver, ca_file: Path) -> None:
    receiver.script = [(503, {"text": "Server is busy", "code": 9})] * 5
    url = f"{receiver.url}?backoff=5&attempts=5&max_wait=1"
    with (
        open_transport(url, ca_file=ca_file) as transport,
        pytest.raises(TransportError, match=r"1 attempt\(s\)"),
    ):
        transport.send(_messages())
    assert receiver.event_posts == 1


def test_a_wrong_path_says_so(receiver: HecReceiver, ca_file: Path) -> None:
    with (
        open_transport(f"{receiver.url}/splunk", ca_file=ca_file) as transport,
        pytest.raises(TransportError, match=r"HTTP 404: .*is this a HEC endpoint"),
    ):
        transport.send(_messages())


def test_a_refusal_fails_at_once_with_hecs_reason(
    receiver: HecReceiver, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "00000000-0000-0000-0000-000000000000")
    with (
        open_transport(f"{receiver.url}?backoff=0.01", ca_file=ca_file) as transport,
        pytest.raises(TransportError) as info,
    ):
        transport.send(_messages())
    message = str(info.value)
    assert "HTTP 403: Invalid token (code 4)" in message
    assert TOKEN_ENV in message and "00000000" not in message
    assert info.value.delivered == 0
    assert receiver.event_posts == 0  # refused before the event handler: no retry either


def test_partial_delivery_reports_the_delivered_prefix(
    receiver: HecReceiver, ca_file: Path
) -> None:
    receiver.script = [None, (500, {"text": "Internal server error", "code": 8})]
    url = f"{receiver.url}?batch=2&attempts=1"
    with (
        open_transport(url, ca_file=ca_file) as transport,
        pytest.raises(TransportError, match="Internal server error") as info,
    ):
        transport.send(_messages())
    assert info.value.delivered == 2
    assert len(receiver.events()) == 2


def test_indexer_acknowledgement(server_cert: trustme.LeafCert, ca_file: Path) -> None:
    receiver = HecReceiver(server_cert, ack_after_polls=2)
    try:
        url = f"{receiver.url}?ack=1&batch=2&backoff=0.01"
        with open_transport(url, ca_file=ca_file) as transport:
            assert transport.send(_messages()) == 6
    finally:
        receiver.stop()
    assert len(receiver.channels) == 1
    assert receiver.polls == {0: 2, 1: 2, 2: 2}


def test_unacknowledged_events_are_not_delivered(
    server_cert: trustme.LeafCert, ca_file: Path
) -> None:
    receiver = HecReceiver(server_cert, ack_after_polls=0)
    try:
        url = f"{receiver.url}?ack=1&backoff=0.01&ack_timeout=0.3"
        with (
            open_transport(url, ca_file=ca_file) as transport,
            pytest.raises(TransportError, match="not acknowledged as indexed") as info,
        ):
            transport.send(_messages())
    finally:
        receiver.stop()
    assert info.value.delivered == 0
    assert len(receiver.events()) == 6


def test_untrusted_certificate_is_not_retried(receiver: HecReceiver) -> None:
    with (
        open_transport(f"{receiver.url}?backoff=0.01") as transport,
        pytest.raises(TransportError, match=r"is not trusted .* --ca-file"),
    ):
        transport.send(_messages())


def test_refused_connection_is_spooled_then_sent_first(
    server_cert: trustme.LeafCert, ca_file: Path, tmp_path: Path
) -> None:
    port = free_port()
    url = f"hec+https://localhost:{port}?backoff=0.01&attempts=2&batch=4"
    first = _messages()
    report = deliver(url, first, spool_dir=tmp_path, ca_file=ca_file)
    assert (report.delivered, report.spooled, report.ok) == (0, 6, False)
    assert report.error is not None and "cannot connect (Connection refused)" in report.error
    assert report.spool_file.exists()

    receiver = HecReceiver(server_cert, port)
    try:
        second = [Message(json.dumps({"run": 2, "n": n})) for n in range(3)]
        report = deliver(url, second, spool_dir=tmp_path, ca_file=ca_file)
    finally:
        receiver.stop()
    assert (report.delivered, report.from_spool, report.spooled, report.ok) == (9, 6, 0, True)
    assert [event["event"] for event in receiver.events()] == [
        json.loads(m.text) for m in first + second
    ]
    assert not report.spool_file.exists()


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("hec+https://admin:changeme@splunk:8088", "credentials do not belong in the URL"),
        (f"hec+https://splunk:8088?token={TOKEN}", "secrets do not belong in the URL"),
        ("hec+http://splunk:8088", "unknown destination type"),
        ("hec+https://splunk?batch=0", "batch='0' must be a whole number from 1"),
        ("hec+https://splunk?ack=sometimes", "ack='sometimes' must be 1 or 0"),
    ],
)
def test_bad_urls(url: str, error: str) -> None:
    with pytest.raises(UsageError) as info:
        open_transport(url)
    assert error in str(info.value) and TOKEN not in str(info.value)


def test_path_prefix_and_full_collector_urls() -> None:
    base = open_transport("hec+https://splunk.example.com/proxy/services/collector/event")
    assert base.event_path == "/proxy/services/collector/event"  # type: ignore[attr-defined]
    plain = open_transport("hec+https://splunk.example.com:443")
    assert plain.ack_path == "/services/collector/ack"  # type: ignore[attr-defined]
    assert plain.destination == "hec+https://splunk.example.com:443"


def test_token_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "hec.token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    assert load_token(environ={TOKEN_FILE_ENV: str(token_file)}) == TOKEN
    assert load_token(environ={TOKEN_ENV: f" {TOKEN}\n"}) == TOKEN
    assert load_token("explicit-token", environ={}) == "explicit-token"
    with pytest.raises(UsageError, match="needs a token: set SHADOWSCAN_HEC_TOKEN"):
        load_token(environ={})
    with pytest.raises(UsageError, match="both"):
        load_token(environ={TOKEN_ENV: TOKEN, TOKEN_FILE_ENV: str(token_file)})
    with pytest.raises(UsageError, match="spaces or control characters"):
        load_token(environ={TOKEN_ENV: "abc\r\nX-Injected: 1"})
    token_file.chmod(0o644)
    with pytest.raises(UsageError) as info:
        load_token(environ={TOKEN_FILE_ENV: str(token_file)})
    assert str(info.value).startswith(f"HEC token file {token_file} is accessible by group")
    assert "chmod 600" in str(info.value) and TOKEN not in str(info.value)
    with pytest.raises(UsageError) as info:
        load_token(environ={TOKEN_FILE_ENV: str(tmp_path / "missing")})
    assert "does not exist: put the HEC token in it" in str(info.value)
    assert "keygen" not in str(info.value)
