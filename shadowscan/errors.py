"""Exceptions and exit codes.

Every library error is one line that says what went wrong *and what to do next*; the CLI
prints it without a traceback (``--debug`` shows one) and exits with its ``exit_status``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Process exit codes, shared by every command."""

    OK = 0
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # bad option or argument
    INPUT = 3  # missing, unreadable or unrecognisable input
    DELIVERY = 4  # output written, but a --send destination failed (findings spooled)
    INTERNAL = 70  # a bug in shadowscan (EX_SOFTWARE)


class ShadowscanError(Exception):
    """Base class: a problem the user can fix, reported in one line."""

    exit_status: ExitStatus = ExitStatus.INPUT


class UsageError(ShadowscanError):
    """An option or argument is invalid."""

    exit_status = ExitStatus.USAGE


class UnknownNameError(UsageError, KeyError):
    """A name (format, sink, ...) is not registered; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InputError(ShadowscanError):
    """An input file is missing, unreadable, or in no format we can parse."""


class SignatureError(ShadowscanError):
    """A signature file is invalid; the message names ``file:service``."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class DeliveryError(ShadowscanError):
    """A transport could not deliver; what it could not send is spooled for the next run."""

    exit_status = ExitStatus.DELIVERY
