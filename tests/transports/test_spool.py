"""The spool: order, crash safety of every rewrite, idempotent removal, locking."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

import shadowscan.transports.spool as spool
from shadowscan.errors import DeliveryError, UsageError
from shadowscan.transports import Message, Transport, TransportError, open_transport
from shadowscan.transports.base import parse_url
from shadowscan.transports.spool import (
    DeliveryReport,
    default_spool_dir,
    deliver,
    read_spool,
    spool_path,
)


class FakeTransport(Transport):
    """Takes ``capacity`` messages per send, then fails like a dropped connection."""

    scheme = "fake"
    default_port = 9
    received: ClassVar[list[str]] = []
    capacity: ClassVar[int | None] = None
    gate: ClassVar[threading.Event | None] = None
    interrupt: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__(
            parse_url("fake://siem.example:9", known_options=()), ca_file=None, token=None
        )

    def _send(self, messages: Sequence[Message]) -> int:
        if self.gate is not None:
            self.gate.wait(5)
        if self.interrupt:
            FakeTransport.received.extend(m.text for m in messages[:1])
            raise KeyboardInterrupt  # the run is killed mid-send
        take = len(messages) if self.capacity is None else min(self.capacity, len(messages))
        FakeTransport.received.extend(m.text for m in messages[:take])
        if take < len(messages):
            raise TransportError("fake: connection lost", delivered=take)
        return take


@pytest.fixture(autouse=True)
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeTransport.received = []
    FakeTransport.capacity = None
    FakeTransport.gate = None
    FakeTransport.interrupt = False
    monkeypatch.setattr(spool, "open_transport", lambda *a, **k: FakeTransport())


def _texts(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n}" for n in range(count)]


def _run(spool_dir: Path, texts: list[str]) -> DeliveryReport:
    return deliver("fake://siem.example:9", texts, spool_dir=spool_dir)


def test_failure_spools_the_rest_and_the_next_run_sends_it_first(tmp_path: Path) -> None:
    spool_dir = tmp_path / "state" / "spool"
    FakeTransport.capacity = 2
    report = _run(spool_dir, _texts("a", 5))
    assert (report.delivered, report.from_spool, report.spooled) == (2, 0, 3)
    assert not report.ok and report.error == "fake: connection lost"
    assert "3 message(s) kept in" in report.summary()
    assert [m.text for m in read_spool(report.spool_file)] == ["a2", "a3", "a4"]
    assert stat.S_IMODE(report.spool_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(spool_dir.stat().st_mode) == 0o700

    FakeTransport.capacity = None
    report = _run(spool_dir, _texts("b", 2))
    assert (report.delivered, report.from_spool, report.spooled, report.ok) == (5, 3, 0, True)
    assert FakeTransport.received == ["a0", "a1", "a2", "a3", "a4", "b0", "b1"]
    assert not report.spool_file.exists()
    assert report.summary() == "fake://siem.example:9: delivered 5 message(s) (3 from the spool)"


def test_nothing_to_send_touches_nothing(tmp_path: Path) -> None:
    report = _run(tmp_path, [])
    assert report == DeliveryReport("fake://siem.example:9", 0, 0, 0, report.spool_file)
    assert report.ok and not report.spool_file.exists()


def test_messages_keep_their_metadata_through_the_spool(tmp_path: Path) -> None:
    FakeTransport.capacity = 0
    message = Message("ünï\n😀 \u2028", kind="event", severity=None, time=1.5)
    finding = Message("{}", severity="critical")
    report = deliver("fake://siem.example:9", [message, finding], spool_dir=tmp_path)
    assert read_spool(report.spool_file) == [message, finding]
    assert report.spool_file.read_text().count("\n") == 2  # one line per message


@given(text=st.text(), time=st.none() | st.floats(allow_nan=False, allow_infinity=False))
def test_spool_lines_round_trip(text: str, time: float | None) -> None:
    message = Message(text, kind="event", time=time)
    line = message.to_json()
    assert "\n" not in line and Message.from_json(line) == message


@given(
    batches=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=6),
    capacities=st.lists(st.none() | st.integers(min_value=0, max_value=8), min_size=6, max_size=6),
)
def test_every_message_arrives_once_and_in_order(
    tmp_path_factory: pytest.TempPathFactory, batches: list[int], capacities: list[int | None]
) -> None:
    """Whatever fails when, the receiver sees each run's messages once, in run order."""
    spool_dir = tmp_path_factory.mktemp("spool")
    FakeTransport.received = []
    sent: list[str] = []
    for run, (count, capacity) in enumerate(zip(batches, capacities, strict=False)):
        FakeTransport.capacity = capacity
        texts = _texts(f"r{run}-", count)
        sent += texts
        report = _run(spool_dir, texts)
        assert report.spooled == len(sent) - len(FakeTransport.received)
    FakeTransport.capacity = None
    _run(spool_dir, [])
    assert FakeTransport.received == sent


def test_write_ahead_survives_a_run_killed_mid_send(tmp_path: Path) -> None:
    FakeTransport.capacity = 0
    first = _run(tmp_path, _texts("old", 2))
    FakeTransport.interrupt = True
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, _texts("new", 2))
    # Spooled before sending: nothing lost; what went out before the kill goes out again.
    assert [m.text for m in read_spool(first.spool_file)] == ["old0", "old1", "new0", "new1"]


def test_a_crash_during_a_rewrite_leaves_the_old_spool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeTransport.capacity = 0
    report = _run(tmp_path, _texts("a", 3))
    before = report.spool_file.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    real_replace = os.replace
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(DeliveryError, match=r"cannot write the spool .*No space left"):
        _run(tmp_path, _texts("b", 1))
    assert report.spool_file.read_bytes() == before
    assert list(tmp_path.glob(".*.tmp")) == []

    # One message gets through but the trimmed spool cannot be written: the full spool
    # stays, so the next run sends that message again rather than losing any.
    FakeTransport.capacity = 1
    report = _run(tmp_path, [])
    assert (report.delivered, report.spooled) == (1, 2)
    assert report.error is not None and "will send the delivered messages again" in report.error
    assert report.spool_file.read_bytes() == before
    monkeypatch.setattr(os, "replace", real_replace)
    FakeTransport.capacity = None
    assert _run(tmp_path, []).delivered == 3
    assert FakeTransport.received == ["a0", "a0", "a1", "a2"]


def test_leftover_temporary_files_are_cleaned_up(tmp_path: Path) -> None:
    FakeTransport.capacity = 0
    report = _run(tmp_path, _texts("a", 1))
    leftover = report.spool_file.with_name(f".{report.spool_file.name}.deadbeef.tmp")
    leftover.write_text("half a li")
    FakeTransport.capacity = None
    assert _run(tmp_path, []).delivered == 1
    assert not leftover.exists()


def test_removal_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "x.spool"
    spool._replace(path, [Message("a")])
    spool._replace(path, [])
    spool._replace(path, [])
    assert not path.exists()


def test_a_corrupt_spool_is_moved_aside_not_lost(tmp_path: Path) -> None:
    FakeTransport.capacity = 0
    report = _run(tmp_path, _texts("a", 1))
    report.spool_file.write_text('{"text": "ok"}\nnot json\n')
    FakeTransport.capacity = None
    report = _run(tmp_path, _texts("b", 1))
    assert FakeTransport.received == ["b0"]
    assert report.error is not None and "line 2" in report.error and "moved to" in report.error
    (aside,) = tmp_path.glob("*.corrupt-*")
    assert aside.read_text() == '{"text": "ok"}\nnot json\n'


def test_concurrent_runs_do_not_send_a_spool_twice(tmp_path: Path) -> None:
    FakeTransport.capacity = 0
    _run(tmp_path, _texts("a", 2))
    FakeTransport.capacity = None
    FakeTransport.gate = threading.Event()
    reports: list[DeliveryReport] = []
    runs = [threading.Thread(target=lambda: reports.append(_run(tmp_path, []))) for _ in "xy"]
    for run in runs:
        run.start()
    time.sleep(0.2)
    FakeTransport.gate.set()
    for run in runs:
        run.join(5)
    assert FakeTransport.received == ["a0", "a1"]
    assert sorted(r.delivered for r in reports) == [0, 2]


def test_bad_urls_and_oversized_messages_are_refused_before_spooling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spool, "open_transport", open_transport)
    with pytest.raises(UsageError):
        deliver("syslog+udp://h?facility=nope", ["x"], spool_dir=tmp_path)
    with pytest.raises(UsageError, match="more than one UDP datagram"):
        deliver("syslog+udp://127.0.0.1:9", ["x" * 70_000], spool_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_spool_dir_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DeliveryError, match="--spool-dir"):
        _run(blocker / "spool", ["x"])


def test_spool_names_follow_the_destination_not_the_options(tmp_path: Path) -> None:
    def path(url: str) -> Path:
        return spool_path(open_transport(url), tmp_path)

    base = path("syslog+tcp://siem.example.com?facility=local4")
    assert base == path("syslog+tcp://SIEM.example.com:514")
    assert base.name.startswith("syslog_tcp-siem.example.com_514-")
    assert base != path("syslog+tcp://siem.example.com:601")
    assert base != path("syslog+tls://siem.example.com:514")
    assert path("syslog+udp://[2001:db8::1]").name.startswith("syslog_udp-_2001_db8_1_514-")


def test_default_spool_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_spool_dir() == tmp_path / "shadowscan" / "spool"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_spool_dir() == tmp_path / ".local" / "state" / "shadowscan" / "spool"
