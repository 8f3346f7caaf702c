"""Parsing ``--since``/``--until`` values: ISO dates and times, or ``7d``/``24h``/``30m`` ago."""

from __future__ import annotations

import datetime as dt
import re

from shadowscan.errors import UsageError

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(
    value: str, *, now: dt.datetime | None = None, option: str = "--since"
) -> dt.datetime:
    """An aware UTC datetime; naive ISO values are taken as UTC."""
    text = value.strip()
    rel = _RELATIVE.match(text)
    if rel:
        now = now or dt.datetime.now(dt.UTC)
        return now - dt.timedelta(**{_UNITS[rel.group(2)]: int(rel.group(1))})
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {value!r}: use an ISO date or time (2024-05-01, 2024-05-01T08:00, "
            "2024-05-01T08:00+02:00) or a relative age (30m, 24h, 7d, 2w)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_duration(value: str, *, option: str) -> dt.timedelta:
    """``30s``, ``15m``, ``12h``, ``7d``, ``2w`` (or ``0``) as a timedelta."""
    text = value.strip()
    if text == "0":
        return dt.timedelta(0)
    rel = _RELATIVE.match(text)
    if not rel:
        raise UsageError(f"{option} {value!r}: use a duration like 30s, 15m, 12h, 7d or 2w")
    return dt.timedelta(**{_UNITS[rel.group(2)]: int(rel.group(1))})


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?$", re.IGNORECASE)


def parse_size(value: str, *, option: str) -> int:
    """``1MB`` (10^6), ``1MiB`` (2^20), ``500k``, ``2000000`` as a number of bytes."""
    m = _SIZE.match(value.strip())
    if not m:
        raise UsageError(f"{option} {value!r}: use a size like 1MB, 500KB, 2MiB or 1000000")
    number, unit, binary = float(m.group(1)), m.group(2).lower(), m.group(3)
    power = " kmgt".index(unit or " ")
    return int(number * (1024 if binary else 1000) ** power)
