"""Named points where a test can kill the process (SIGKILL), to prove that a run killed
at any moment leaves the state as if it had not started.

``SHADOWSCAN_CRASH_AT=name#n`` kills the process the n-th time ``crashpoint(name)`` is
reached (``#n`` defaults to 1). Unset, a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_TARGET = os.environ.get("SHADOWSCAN_CRASH_AT", "")
_NAME, _, _NTH = _TARGET.partition("#")
_COUNTS: dict[str, int] = {}


def crashpoint(name: str) -> None:
    """Die here (SIGKILL, nothing cleaned up) if the test asked for this point."""
    if not _TARGET or name != _NAME:
        return
    _COUNTS[name] = _COUNTS.get(name, 0) + 1
    if _COUNTS[name] == int(_NTH or 1):
        os.kill(os.getpid(), signal.SIGKILL)
