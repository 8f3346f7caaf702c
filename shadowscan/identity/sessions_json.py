"""Generic sessions as JSON: objects with an address, a user, a start and optionally an
end, one per line (JSON lines) or in a JSON array (pretty-printed or on one line).

Keys are compared case-insensitively, ignoring underscores and hyphens, with the
aliases of ``sessions_csv`` (``ip``/``ip_address``/``client_ip``..., ``user``/``username``
/``login``..., ``start``/``start_time``/``login_time``..., ``end``/``end_time``/
``logout_time``...); other keys are ignored. Times are ISO 8601 strings (naive ones in
``context.timezone``) or epoch seconds or milliseconds (numbers or strings). An object
spread over several lines counts for each of its lines; lines holding only ``[``, ``]``
or commas are ignored; text that is not JSON is rejected line by line. Rejections and
ignored objects as for ``sessions_csv``.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._tabular import (
    ROW_SCHEMA,
    SESSION_ALIASES,
    column_key,
    json_values,
    pick_key,
    session_batch,
)
from shadowscan.identity.base import IdentityBatch, IdentityReader


def _has_roles(obj: Any, roles: tuple[str, ...] = ("ip", "user", "start")) -> bool:
    if not isinstance(obj, dict):
        return False
    keys = {column_key(k) for k in obj}
    return all(keys & set(SESSION_ALIASES[role]) for role in roles)


@IDENTITY_READERS.register("sessions_json")
class SessionsJsonReader(IdentityReader):
    name = "sessions_json"
    kind = "session"
    summary = "Generic sessions as JSON lines or a JSON array: ip, user, start[, end]"
    example = (
        '{"ip": "10.0.0.5", "user": "jdoe", "start": "2026-11-02T08:00:00Z", '
        '"end": "2026-11-02T17:30:00Z"}\n'
        '{"ip_address": "10.0.0.6", "username": "asmith@corp.example", "start_time": 1793611800}'
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """Most JSON objects of the head have an address, a user and a start key."""
        objects = [v.value for v in json_values(head) if isinstance(v.value, dict)]
        sessions = sum(_has_roles(obj) for obj in objects)
        return 0.9 if sessions and sessions * 2 >= len(objects) else 0.0

    def read(self, lines: list[str]) -> IdentityBatch:
        out: dict[str, list[Any]] = {name: [] for name in (*ROW_SCHEMA, *SESSION_ALIASES)}
        for found in json_values(lines):
            fate = found.error or (None if isinstance(found.value, dict) else "not a JSON object")
            out["_first"].append(found.first)
            out["_last"].append(found.last)
            out["_fate"].append(fate)
            for role, names in SESSION_ALIASES.items():
                out[role].append(pick_key(found.value, names) if fate is None else None)
        rows = pl.DataFrame(out, schema=ROW_SCHEMA | dict.fromkeys(SESSION_ALIASES, pl.String()))
        return session_batch(rows, len(lines), self.context, self.name)
