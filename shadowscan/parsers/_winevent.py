"""Reading Windows event-log records exported as JSON lines, whatever the shipper
(used by ``windows_dns_analytical`` and ``sysmon_dns``).

The same event comes in several shapes:

- Winlogbeat / Elastic Agent: ``{"@timestamp": ..., "winlog": {"event_id": 22,
  "computer_name": ..., "event_data": {"QueryName": ...}}}`` (the ETW input puts the id in
  ``event.code``);
- NXLog (``im_msvistalog``/``im_etw`` with ``to_json()``): flat, ``{"EventTime": "2024-11-04
  09:00:00", "Hostname": ..., "EventID": 22, "QueryName": ...}`` (``EventTime`` is local
  time);
- evtx_dump / python-evtx: ``{"Event": {"System": {"EventID": 22, ...}, "EventData":
  {...}}}``;
- Wazuh: ``{"data": {"win": {"system": {"eventID": "22", ...}, "eventdata": {"queryName":
  ...}}}}`` (camel-case keys).

:func:`event_columns` reads an ``EventData`` value from all of them at once. A key path is
only queried when its first key occurs in the batch, which saves JSON work and never
changes a line's result (a path that is absent gives null).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from shadowscan.parsers.common import epoch_ts, iso_ts, json_path

#: Where each shape keeps an ``EventData`` value; ``{}`` is the Data name, ``{lc}`` the
#: name with a lower-case first letter (Wazuh).
DATA_PATHS: tuple[str, ...] = (
    "winlog/event_data/{}",
    "event_data/{}",
    "Event/EventData/{}",
    "EventData/{}",
    "data/win/eventdata/{lc}",
    "{}",
)
EVENT_ID_PATHS: tuple[str, ...] = (
    "winlog/event_id",
    "Event/System/EventID/#text",
    "Event/System/EventID",
    "System/EventID",
    "data/win/system/eventID",
    "event/code",
    "EventID",
    "EventId",
)
#: Event time in UTC (or with an offset).
TIME_PATHS: tuple[str, ...] = (
    "@timestamp",
    "winlog/time_created",
    "Event/System/TimeCreated/#attributes/SystemTime",
    "System/TimeCreated/SystemTime",
    "data/win/system/systemTime",
    "TimeCreated",
    "timestamp",
)
#: NXLog's ``EventTime``: local time of the collecting host, usually without an offset.
LOCAL_TIME_PATHS: tuple[str, ...] = ("EventTime",)
COMPUTER_PATHS: tuple[str, ...] = (
    "winlog/computer_name",
    "Event/System/Computer",
    "System/Computer",
    "data/win/system/computer",
    "host/name",
    "Computer",
    "Hostname",
)


def data_paths(name: str) -> list[str]:
    """Key paths of the ``EventData`` value ``name`` in every shape."""
    lc = name[:1].lower() + name[1:]
    return [p.format(name, lc=lc) for p in DATA_PATHS]


def _used(text: pl.Series, paths: Sequence[str]) -> list[str]:
    out = []
    for path in paths:
        first = path.split("/", 1)[0]
        if text.str.contains(f'"{first}"', literal=True).any():
            out.append(path)
    return out


def first_of(text: pl.Series, paths: Sequence[str], dtype: pl.DataType | None = None) -> pl.Expr:
    """The first of ``paths`` a line has (as text, or cast to ``dtype``; a value that does
    not cast falls through to the next path); null when none."""
    found: list[pl.Expr] = []
    for path in _used(text, paths):
        value = pl.col("line").str.json_path_match(json_path(path))
        found.append(value.cast(dtype, strict=False) if dtype is not None else value)
    if not found:
        return pl.lit(None, dtype or pl.String())
    return found[0] if len(found) == 1 else pl.coalesce(found)


def event_columns(frame: pl.DataFrame, data: Mapping[str, str], timezone: str) -> pl.DataFrame:
    """``frame`` (``line_no``, ``line``) plus ``_event_id`` (Int64), ``_ts`` (UTC),
    ``_computer`` and one ``_<column>`` per ``data`` item (column -> EventData name)."""
    text = frame["line"]
    cols = frame.with_columns(
        first_of(text, EVENT_ID_PATHS, pl.Int64()).alias("_event_id"),
        first_of(text, TIME_PATHS).alias("_time"),
        first_of(text, LOCAL_TIME_PATHS).alias("_local_time"),
        first_of(text, COMPUTER_PATHS).alias("_computer"),
        *(first_of(text, data_paths(name)).alias(f"_{col}") for col, name in data.items()),
    )
    return cols.with_columns(
        pl.coalesce(
            windows_time(pl.col("_time"), "UTC"), windows_time(pl.col("_local_time"), timezone)
        ).alias("_ts")
    ).drop("_time", "_local_time")


def windows_time(raw: pl.Expr, tz: str) -> pl.Expr:
    """ISO 8601 (``T`` or space, 7-digit fractions, ``Z``/offset or naive in ``tz``),
    PowerShell ``/Date(1730707200123)/`` or epoch -> UTC."""
    s = raw.str.strip_chars()
    ms = s.str.extract(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$", 1)
    return pl.coalesce(
        iso_ts(s, tz),
        epoch_ts(ms),
        pl.when(s.str.contains(r"^\d+(?:\.\d+)?$")).then(epoch_ts(s)),
    )


def nonempty(expr: pl.Expr) -> pl.Expr:
    """Null for empty and placeholder values (``-``, ``NULL``, ``N/A``)."""
    s = expr.str.strip_chars()
    return pl.when(s.is_in(["", "-", "NULL", "N/A", "null"])).then(None).otherwise(s)
