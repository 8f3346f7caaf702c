"""Windows Security logon events (4624, 4768, 4769) exported as JSON lines -> sessions.

The shapes read (one event per line):

- **Winlogbeat / Elastic Agent**: ``{"@timestamp": "2026-11-02T08:00:03.412Z", "winlog":
  {"event_id": "4624", "event_data": {"TargetUserName": "jdoe", "TargetDomainName":
  "CORP", "IpAddress": "10.0.0.5", "LogonType": "3"}}}`` (``event_id`` a number or a
  string);
- **NXLog** (``im_msvistalog`` with ``to_json()``) and other flat EventLog JSON:
  ``{"EventTime": "2026-11-02 09:00:03", "EventID": 4624, "TargetUserName": "jdoe", ...}``;
  ``EventTime`` is the collector's local time (``context.timezone``), ``TimeCreated`` /
  ``SystemTime`` are UTC unless they carry an offset; evtx_dump (``Event.EventData``)
  and Wazuh (``data.win.eventdata``) shapes too;
- **Splunk** JSON export (``{"preview": false, "result": {...}}`` per line, or the bare
  result): ``_time``, ``EventCode``, ``Account_Name`` (multi-valued for 4624: a JSON
  array whose last value is the logged-on account), ``Account_Domain``,
  ``Source_Network_Address`` / ``Client_Address``, ``Logon_Type``; or the
  ``TargetUserName``... fields of ``XmlWinEventLog``.

Which events count, how users are spelled and how logons become sessions:
:mod:`shadowscan.identity._windows_logon`. Lines that are not JSON objects, carry no
event id, or a logon event without a readable time or with a malformed address or logon
type are rejected; other events are ignored.

Each line is decoded once with :mod:`json` and the few values needed are picked out in
Python: with a dozen key paths to try per event, that is several times faster than
polars' per-path JSON matching, and judging the values stays vectorised.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._tabular import IGNORED, ROW_SCHEMA
from shadowscan.identity._windows_logon import FIELDS, LOGON_EVENTS, logon_batch, message_field
from shadowscan.identity.base import IdentityBatch, IdentityReader
from shadowscan.parsers._winevent import (
    EVENT_ID_PATHS,
    LOCAL_TIME_PATHS,
    TIME_PATHS,
    windows_time,
)

SPLUNK = "result"
ID_PATHS = (*EVENT_ID_PATHS, "EventCode", f"{SPLUNK}/EventCode", f"{SPLUNK}/EventID")
UTC_TIME_PATHS = (*TIME_PATHS, "SystemTime", f"{SPLUNK}/_time", "_time")
MESSAGE_PATHS = ("message", "Message", f"{SPLUNK}/Message", f"{SPLUNK}/_raw")
#: Where each shape keeps the event fields (else they are top-level keys, as in NXLog).
DATA_OBJECTS = (
    "winlog/event_data",
    "Event/EventData",
    "EventData",
    "event_data",
    "data/win/eventdata",
    SPLUNK,
)
#: Each field's names, with Wazuh's spelling (first letter in lower case) after them.
SPELLINGS = {
    field: tuple(dict.fromkeys(s for n in names for s in (n, n[:1].lower() + n[1:])))
    for field, names in FIELDS.items()
}
RAW = ("_utc", "_local", "_message", *FIELDS)


def _get(obj: Any, path: str) -> Any:
    for key in path.split("/"):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _text(value: Any) -> str | None:
    """A JSON value as text: scalars as written, arrays (Splunk's multi-valued fields)
    as JSON; null and objects as None."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _first(obj: Any, paths: Sequence[str]) -> str | None:
    for path in paths:
        value = _text(_get(obj, path))
        if value is not None:
            return value
    return None


def _event_id(obj: dict[str, Any]) -> int | None:
    value = (_first(obj, ID_PATHS) or "").strip()
    return int(value) if value.isdecimal() and len(value) < 10 else None


def _data(obj: dict[str, Any]) -> dict[str, Any]:
    for path in DATA_OBJECTS:
        found = _get(obj, path)
        if isinstance(found, dict):
            return found
    return obj


@IDENTITY_READERS.register("windows_logon")
class WindowsLogonReader(IdentityReader):
    name = "windows_logon"
    kind = "session"
    summary = (
        "Windows Security events 4624/4768/4769 as JSON lines (Winlogbeat, NXLog, Splunk "
        "export): user logons and Kerberos tickets from an address"
    )
    example = (
        '{"@timestamp":"2026-11-02T08:00:03.412Z","winlog":{"event_id":"4624",'
        '"event_data":{"TargetUserName":"jdoe","TargetDomainName":"CORP",'
        '"IpAddress":"10.0.0.5","LogonType":"3"}}}'
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """Most lines are Security-log events (ids 4608-4999 or the auditing provider)
        and at least one is a logon or Kerberos ticket event."""
        security = logons = 0
        for line in head:
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if not isinstance(obj, dict):
                continue
            event_id = _event_id(obj)
            if (event_id is not None and 4608 <= event_id < 5000) or (
                "Microsoft-Windows-Security-Auditing" in line
            ):
                security += 1
                logons += event_id in LOGON_EVENTS
        if logons and security * 2 >= len(head):
            return 0.95
        return 0.1 if logons else 0.0

    def read(self, lines: list[str]) -> IdentityBatch:
        columns: dict[str, list[Any]] = {name: [] for name in (*ROW_SCHEMA, "event_id", *RAW)}
        for number, line in enumerate(lines, 1):
            values: dict[str, Any] = dict.fromkeys(("event_id", *RAW))
            values["_first"] = values["_last"] = number
            values["_fate"] = IGNORED if not line.strip() else None
            try:
                obj = json.loads(line) if values["_fate"] is None else None
            except (ValueError, RecursionError):
                obj = None
            if isinstance(obj, dict):
                event_id = _event_id(obj)
                values["event_id"] = None if event_id is None else str(event_id)
                if event_id in LOGON_EVENTS:
                    data = _data(obj)
                    values["_utc"] = _first(obj, UTC_TIME_PATHS)
                    values["_local"] = _first(obj, LOCAL_TIME_PATHS)
                    values["_message"] = _first(obj, MESSAGE_PATHS)
                    for field, names in SPELLINGS.items():
                        values[field] = _first(data, names)
            elif values["_fate"] is None:
                values["_fate"] = "not a JSON object"
            for name, value in values.items():
                columns[name].append(value)
        schema = ROW_SCHEMA | dict.fromkeys(("event_id", *RAW), pl.String())
        rows = pl.DataFrame(columns, schema=schema).with_columns(
            pl.coalesce(
                windows_time(pl.col("_utc"), "UTC"),
                windows_time(pl.col("_local"), self.context.timezone),
            ).alias("ts"),
            *(
                pl.coalesce(pl.col(field), message_field(pl.col("_message"), field)).alias(field)
                for field in FIELDS
            ),
        )
        return logon_batch(rows, len(lines), self.context, self.name)
