"""The durable spool: what a destination did not take waits on disk for the next run.

One file per destination (``scheme://host:port/path``; the URL's options are not part of
it, so changing ``?batch=`` or ``?facility=`` does not strand a spool), named
``<scheme>-<host>-<port>-<hash>.spool``, mode 0600, one JSON message per line, oldest
first. A run sends the spool before its own messages and removes only what was
delivered, so order is kept and nothing is dropped.

Every change replaces the file whole: written to a temporary file, fsynced, renamed over
the old one, the directory fsynced. A crash at any moment leaves either the old spool or
the new one, never a torn line. The run's own messages are spooled *before* sending
(write-ahead), so a run killed mid-send loses nothing; the price is that messages sent
just before such a crash are sent again by the next run (at-least-once, like every
transport here). A lock file per destination keeps two concurrent runs from sending the
same spool twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from shadowscan.errors import DeliveryError
from shadowscan.transports.base import (
    Message,
    Transport,
    TransportError,
    as_message,
    open_transport,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, one run at a time
    fcntl = None  # type: ignore[assignment]

SPOOL_SUFFIX = ".spool"


def default_spool_dir() -> Path:
    """``$XDG_STATE_HOME/shadowscan/spool``, else ``~/.local/state/shadowscan/spool``:
    state that must survive reboots but is no user document (XDG Base Directory spec)."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "shadowscan" / "spool"


def spool_path(transport: Transport, spool_dir: Path) -> Path:
    """The spool file of ``transport``'s destination: readable prefix, collision-free hash."""
    digest = hashlib.sha256(transport.destination.encode()).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{transport.scheme}-{transport.address}")
    return spool_dir / f"{readable[:80]}-{digest}{SPOOL_SUFFIX}"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What :func:`deliver` did for one destination."""

    destination: str
    #: Messages delivered in this run, spooled ones included.
    delivered: int
    #: Of those, how many had been spooled by earlier runs.
    from_spool: int
    #: Messages left in the spool for the next run.
    spooled: int
    spool_file: Path
    #: Why delivery stopped (one line), or ``None``.
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Everything delivered and nothing wrong; otherwise the CLI exits 4."""
        return self.error is None and self.spooled == 0

    def summary(self) -> str:
        """One line for stderr."""
        spool = f" ({self.from_spool} from the spool)" if self.from_spool else ""
        if self.ok:
            return f"{self.destination}: delivered {self.delivered} message(s){spool}"
        kept = (
            f"; {self.spooled} message(s) kept in {self.spool_file} for the next run"
            if self.spooled
            else ""
        )
        return f"{self.destination}: delivered {self.delivered}{spool}{kept}: {self.error}"


def deliver(
    url: str,
    messages: Iterable[Message | str],
    *,
    spool_dir: Path | None = None,
    ca_file: Path | None = None,
    token: str | None = None,
) -> DeliveryReport:
    """Send the spool of ``url`` and then ``messages``, in order; spool what fails.

    A bad URL or option, or a message this destination can never carry, raises
    ``UsageError`` before anything is sent or spooled. An unusable spool directory raises
    ``DeliveryError``. A destination that fails is not an exception: the report says how
    many messages wait in the spool and why.
    """
    transport = open_transport(url, ca_file=ca_file, token=token)
    new = [as_message(item) for item in messages]
    transport.check(new)
    directory = default_spool_dir() if spool_dir is None else Path(spool_dir)
    path = spool_path(transport, directory)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DeliveryError(
            f"spool directory {directory}: cannot create it ({exc.strerror}); "
            "choose a writable one with --spool-dir"
        ) from None
    with _locked(path), transport:
        _remove_leftovers(path)
        notes: list[str] = []
        pending = _read(path, notes)
        queue = pending + new
        if new:
            _replace_or_fail(path, queue)
        if not queue:
            return DeliveryReport(transport.destination, 0, 0, 0, path, "; ".join(notes) or None)
        try:
            delivered = transport.send(queue)
        except TransportError as exc:
            delivered = exc.delivered
            notes.append(str(exc))
        if delivered:
            try:
                _replace(path, queue[delivered:])
            except OSError as exc:
                notes.append(
                    f"could not update the spool {path} ({exc.strerror}): the next run "
                    "will send the delivered messages again"
                )
    return DeliveryReport(
        destination=transport.destination,
        delivered=delivered,
        from_spool=min(delivered, len(pending)),
        spooled=len(queue) - delivered,
        spool_file=path,
        error="; ".join(notes) or None,
    )


def read_spool(path: Path) -> list[Message]:
    """The messages waiting in ``path`` (none when it does not exist); ``ValueError`` names
    the first bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    messages = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        try:
            messages.append(Message.from_json(line))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ValueError(f"line {number}: {exc}") from None
    return messages


def _read(path: Path, notes: list[str]) -> list[Message]:
    """The spool, or nothing when it is unreadable: then it is moved aside, never deleted,
    so new messages can still be spooled and a person can look at the old ones."""
    try:
        return read_spool(path)
    except (ValueError, OSError) as exc:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        try:
            path.rename(aside)
        except OSError as rename_error:
            raise DeliveryError(
                f"spool file {path} is unreadable ({exc}) and cannot be moved aside "
                f"({rename_error.strerror}): move it away by hand"
            ) from None
        notes.append(f"spool file {path} was unreadable ({exc}); it was moved to {aside}")
        return []


def _replace_or_fail(path: Path, messages: list[Message]) -> None:
    try:
        _replace(path, messages)
    except OSError as exc:
        raise DeliveryError(
            f"cannot write the spool {path} ({exc.strerror}); nothing was sent there: "
            "free space or choose another --spool-dir"
        ) from None


def _replace(path: Path, messages: list[Message]) -> None:
    """Make ``path`` hold exactly ``messages``, atomically; no messages removes it."""
    if not messages:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        _fsync_dir(path.parent)
        return
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(message.to_json() + "\n" for message in messages)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_dir(path.parent)


def _remove_leftovers(path: Path) -> None:
    """Temporary files of a run that crashed before its rename; the spool itself is intact."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _fsync_dir(directory: Path) -> None:
    """Make a rename or unlink durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``'s destination for the whole delivery."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise DeliveryError(
            f"spool directory {path.parent}: cannot create {lock.name} ({exc.strerror}); "
            "choose a writable one with --spool-dir"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
