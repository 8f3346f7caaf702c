"""Windows Security logon events (4624, 4768, 4769) exported as CSV with a header row ->
sessions.

Columns are found by header name, compared case-insensitively and ignoring spaces,
underscores and hyphens, so the common exports all read:

- **Splunk / SIEM** (``_time,EventCode,Account_Name,Account_Domain,
  Source_Network_Address,Logon_Type,...``): a multi-valued field is one quoted cell with
  a value per line (``"WS0142$`` / ``jdoe"`` for the two accounts of a 4624); the last
  value is the logged-on account;
- **PowerShell** ``Get-WinEvent ... | Select-Object TimeCreated, Id,
  @{n='TargetUserName';e={$_.Properties[5].Value}}, ... | Export-Csv`` (Windows
  PowerShell 5.1 starts the file with a ``#TYPE`` line, ignored), or the plain
  ``Get-WinEvent | Export-Csv``, whose only event fields are in the multi-line
  ``Message`` text (read from its ``Account Name:``... lines, English messages).

Aliases: time ``TimeCreated``, ``_time``, ``EventTime``, ``Date and Time``, ``Timestamp``,
``SystemTime``, ``TimeGenerated``; event id ``Id``, ``EventID``, ``EventCode``, ``Event
ID``; user ``TargetUserName``, ``Account_Name``; domain ``TargetDomainName``,
``Account_Domain``, ``Supplied_Realm_Name``; address ``IpAddress``,
``Source_Network_Address``, ``Client_Address``, ``Source IP``; ``LogonType`` /
``Logon_Type``; status ``Status``, ``Result_Code``, ``Failure_Code``; ``Message``.

Times are ISO 8601 (naive ones, and locale dates such as ``11/2/2026 8:00:00 AM`` that
PowerShell and Event Viewer write, are in ``context.timezone``; ``2/11/2026`` is read
day-first when some date of the file only reads that way). Records may span lines
(quoted line breaks): all the lines of a record count as it does. The delimiter (``,``,
``;`` or tab) is the header's. Which events count and how they become sessions:
:mod:`shadowscan.identity._windows_logon`.
"""

from __future__ import annotations

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._tabular import (
    csv_records,
    day_first,
    find_columns,
    head_header,
    missing_roles,
    parse_time,
    pick,
    read_table,
    row_frame,
    sniff_delimiter,
)
from shadowscan.identity._windows_logon import LOGON_EVENTS, logon_batch, message_field
from shadowscan.identity.base import IdentityBatch, IdentityReader

#: Role -> header names (as :func:`~shadowscan.identity._tabular.column_key` writes them).
ALIASES: dict[str, tuple[str, ...]] = {
    "time": (
        "timecreated",
        "time",
        "eventtime",
        "dateandtime",
        "timestamp",
        "systemtime",
        "timegenerated",
    ),
    "event_id": ("id", "eventid", "eventcode"),
    "user": ("targetusername", "accountname"),
    "domain": ("targetdomainname", "accountdomain", "suppliedrealmname"),
    "ip": ("ipaddress", "sourcenetworkaddress", "clientaddress", "sourceip"),
    "logon_type": ("logontype",),
    "status": ("status", "resultcode", "failurecode"),
    "message": ("message",),
}
FIELDS = ("user", "domain", "ip", "logon_type", "status")


@IDENTITY_READERS.register("windows_logon_csv")
class WindowsLogonCsvReader(IdentityReader):
    name = "windows_logon_csv"
    kind = "session"
    summary = (
        "Windows Security events 4624/4768/4769 as CSV (Splunk/SIEM export, "
        "Get-WinEvent | Export-Csv): user logons and Kerberos tickets from an address"
    )
    example = (
        '"TimeCreated","Id","TargetUserName","TargetDomainName","LogonType","IpAddress"\n'
        '"11/2/2026 8:02:51 AM","4624","jdoe","CORP","3","10.0.1.15"'
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """A header with time, event id and user (or message) columns; surer when a row
        of the head is a logon or Kerberos ticket event."""
        columns = find_columns(head_header(head), ALIASES)
        if missing_roles(columns, ("time",), ("event_id",), ("user", "message")):
            return 0.0
        first = next((ln for ln in head if ln.strip() and not ln.strip().startswith("#")), "")
        records = csv_records(head, sniff_delimiter(first))
        ids = {pick(r.fields, columns["event_id"]) for r in records if r.fields}
        return 0.95 if any(str(e) in ids for e in LOGON_EVENTS) else 0.6

    def read(self, lines: list[str]) -> IdentityBatch:
        table = read_table(lines)
        columns = find_columns(table.header, ALIASES)
        problem = missing_roles(
            columns, ("time",), ("event_id",), ("user", "message"), ("ip", "message")
        )
        rows = row_frame(table, columns, list(ALIASES), problem)
        dayfirst = day_first(rows["time"])
        message = pl.col("message")
        rows = rows.with_columns(
            parse_time(pl.col("time"), self.context.timezone, dayfirst=dayfirst).alias("ts"),
            *(pl.coalesce(pl.col(f), message_field(message, f)).alias(f) for f in FIELDS),
        )
        return logon_batch(rows, len(lines), self.context, self.name)
