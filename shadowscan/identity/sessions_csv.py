"""Generic sessions as CSV with a header: which user held which address from when to
when (``ip,user,start,end``), the lowest common denominator of RADIUS accounting, NAC,
captive-portal and VPN exports and of hand-made lists.

Columns are found by header name, compared case-insensitively and ignoring spaces,
underscores and hyphens: address ``ip``, ``ip_address``, ``address``, ``src_ip``,
``client_ip``; user ``user``, ``username``, ``user_name``, ``login``, ``account``; start
``start``, ``start_time``, ``from``, ``begin``, ``login_time``; end ``end``,
``end_time``, ``to``, ``until``, ``logout_time`` (optional: a session without an end
lasts ``context.session_time``). Other columns are ignored. The delimiter (``,``, ``;``
or tab) is the header's; ``#`` lines are comments.

Times are ISO 8601 (with a zone, or naive in ``context.timezone``), epoch seconds or
milliseconds, or locale dates (``11/2/2026 8:00 AM``). Users are kept as spelled.
Rejected rows: no address, user or start, an address or time that does not read, an end
before its start. Ignored rows: loopback addresses, machine and service accounts.
"""

from __future__ import annotations

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._tabular import (
    SESSION_ALIASES,
    find_columns,
    head_header,
    missing_roles,
    read_table,
    row_frame,
    session_batch,
)
from shadowscan.identity.base import IdentityBatch, IdentityReader

#: Header names of Windows event exports (``windows_logon_csv``), which also have an
#: address and a user but are not session lists.
EVENT_ID_COLUMNS = ("eventid", "eventcode")


@IDENTITY_READERS.register("sessions_csv")
class SessionsCsvReader(IdentityReader):
    name = "sessions_csv"
    kind = "session"
    summary = "Generic sessions as CSV with a header: ip, user, start[, end]"
    example = (
        "ip,user,start,end\n"
        "10.0.0.5,jdoe,2026-11-02T08:00:00Z,2026-11-02T17:30:00Z\n"
        "10.0.0.6,CORP\\asmith,2026-11-02 09:15:00,"
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """A header naming an address, a user and a start column."""
        header = head_header(head)
        columns = find_columns(header, SESSION_ALIASES)
        if missing_roles(columns, ("ip",), ("user",), ("start",)):
            return 0.0
        if find_columns(header, {"event_id": EVENT_ID_COLUMNS}):
            return 0.2
        return 0.9

    def read(self, lines: list[str]) -> IdentityBatch:
        table = read_table(lines)
        columns = find_columns(table.header, SESSION_ALIASES)
        problem = missing_roles(columns, ("ip",), ("user",), ("start",))
        rows = row_frame(table, columns, list(SESSION_ALIASES), problem)
        return session_batch(rows, len(lines), self.context, self.name)
