"""Reading secrets (pseudonymisation keys, HEC tokens) from files only their owner can
read. Secrets never come from the command line, where ``ps`` and shell history show
them; and a secret file others can read protects no one."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from shadowscan.errors import UsageError


def read_private_file(
    path: Path, *, what: str, hint: str, min_bytes: int = 1, max_bytes: int = 4096
) -> bytes:
    """The bytes of ``path`` without surrounding whitespace.

    The file must be a regular file owned by the current user that neither group nor
    others can read or write, as ssh demands of private keys (on Windows, where POSIX
    modes mean nothing, only the file type and length are checked). ``what`` names the
    file in messages ("key file") and ``hint`` says how to make a good one; messages
    never contain the secret.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not hang; fstat below rejects it anyway.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist: {hint}") from None
    except OSError as exc:
        raise UsageError(f"cannot open {what} {path}: {exc.strerror}") from None
    try:
        # fstat on the open descriptor: the checked file is the one we read.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{what} {path} is not a regular file: {hint}")
        if sys.platform != "win32":
            if info.st_uid != os.geteuid():
                raise UsageError(
                    f"{what} {path} is owned by uid {info.st_uid}, not by you "
                    f"(uid {os.geteuid()}): copy it to a file you own and run `chmod 600` on it"
                )
            if info.st_mode & 0o077:
                mode = stat.S_IMODE(info.st_mode)
                raise UsageError(
                    f"{what} {path} is accessible by group or others (mode {mode:04o}): "
                    f"run `chmod 600 {path}`"
                )
        if info.st_size > max_bytes:
            raise UsageError(
                f"{what} {path} is {info.st_size} bytes, too large (is it the right file?): {hint}"
            )
        try:
            data = os.read(fd, max_bytes + 1)
        except OSError as exc:
            raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    secret = data.strip()
    if not secret:
        raise UsageError(f"{what} {path} is empty: {hint}")
    if len(secret) < min_bytes:
        raise UsageError(
            f"{what} {path} holds {len(secret)} bytes, fewer than the {min_bytes} it needs: {hint}"
        )
    return secret
