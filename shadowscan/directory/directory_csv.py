"""A people list as CSV: an HR export, ``Get-ADUser | Export-Csv``, a spreadsheet.

The header names the columns, in any case and order; spaces, ``_`` and ``-`` in a name
do not matter (``Job Title`` = ``job_title``). Comma, semicolon or tab separated (the
header decides). A PowerShell ``#TYPE`` line and ``#`` comments are ignored.

The canonical id is the first user column (``user``, ``username``, ``samaccountname``,
``login``, ``account``) with a value, else the first email column. Every user and email
column, an ``aliases`` column (``;``-separated spellings) and the ``smtp:`` entries of a
``proxyaddresses`` column add spellings.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import ClassVar

from shadowscan.directory import DIRECTORY_READERS
from shadowscan.directory.base import (
    DirectoryBatch,
    DirectoryReader,
    LineLedger,
    Person,
    clean,
    dn_common_name,
    people_frame,
    smtp_addresses,
)

#: Field -> accepted column names (normalised: lower case, no space, ``_`` or ``-``), in
#: order of preference for the field's value.
COLUMNS: dict[str, tuple[str, ...]] = {
    "user": ("user", "username", "samaccountname", "login", "account"),
    "email": ("email", "mail", "emailaddress", "upn", "userprincipalname"),
    "department": ("department", "dept", "team", "orgunit"),
    "display_name": ("displayname", "name", "fullname"),
    "first_name": ("givenname", "firstname"),
    "last_name": ("surname", "lastname", "sn"),
    "title": ("title", "jobtitle"),
    "manager": ("manager",),
    "aliases": ("aliases",),
    "proxy_addresses": ("proxyaddresses",),
}

#: Columns of identity files (leases, sessions, asset inventories), not of people lists.
FOREIGN_COLUMNS = frozenset(
    {"ip", "ipaddress", "mac", "macaddress", "hostname", "device", "start", "end"}
)

DELIMITERS = (",", ";", "\t")


def normalise_column(name: str) -> str:
    return "".join(ch for ch in name.strip().strip('"').lower() if ch not in " _-")


def delimiter_of(header: str) -> str:
    """The separator a header line uses: the most frequent of comma, semicolon, tab."""
    return max(DELIMITERS, key=header.count)


def header_fields(header: str) -> list[str]:
    row = next(csv.reader([header], delimiter=delimiter_of(header)), [])
    return [normalise_column(c) for c in row]


def is_preamble(line: str) -> bool:
    """Blank lines and ``#`` comments (PowerShell's ``#TYPE ...``) before the header."""
    return not line.strip() or line.lstrip().startswith("#")


def column_map(columns: list[str]) -> dict[str, list[int]]:
    """Field -> indexes of the columns that carry it, in order of preference."""
    found: dict[str, list[int]] = {}
    for fld, names in COLUMNS.items():
        idx = [columns.index(n) for n in names if n in columns]
        if idx:
            found[fld] = idx
    return found


@DIRECTORY_READERS.register("directory_csv")
class DirectoryCsvReader(DirectoryReader):
    name: ClassVar[str] = "directory_csv"
    summary: ClassVar[str] = (
        "People as CSV with a header (HR export, `Get-ADUser | Export-Csv`): user, email, "
        "department, display name, title, manager, extra `;`-separated aliases"
    )
    example: ClassVar[str] = (
        "user,email,display_name,department,title,manager,aliases\n"
        "jdoe,john.doe@corp.example,John Doe,Engineering,Engineer,Maria Garcia,"
        "j.doe@corp.example;johnd"
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        header = next((ln for ln in head if not is_preamble(ln)), None)
        if header is None:
            return 0.0
        columns = header_fields(header)
        if len(columns) < 2 or FOREIGN_COLUMNS.intersection(columns):
            return 0.0
        found = column_map(columns)
        has_user = "user" in found
        if has_user and "department" in found:
            return 0.9
        if has_user and ("email" in found or "display_name" in found):
            return 0.8
        if "email" in found and "department" in found:
            return 0.7
        return 0.0

    def read(self, lines: list[str]) -> DirectoryBatch:
        ledger = LineLedger(len(lines))
        start = next((i for i, ln in enumerate(lines) if not is_preamble(ln)), len(lines))
        if start == len(lines):
            return ledger.batch(people_frame([], self.context.source_file))
        header = lines[start]
        delimiter = delimiter_of(header)
        columns = header_fields(header)
        found = column_map(columns)
        people: list[Person] = []
        if "user" not in found and "email" not in found:
            ledger.reject(start + 1, start + 1, "no user or email column")
            for no in range(start + 2, len(lines) + 1):
                if lines[no - 1].strip():
                    ledger.reject(no, no, "no user or email column")
            return ledger.batch(people_frame(people, self.context.source_file))
        for first, last, row in _records(lines, start + 1, delimiter):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if row[0].lstrip().startswith("#") or [normalise_column(c) for c in row] == columns:
                continue  # a comment, or the header again (concatenated exports)
            if len(row) > len(columns) and not any(c.strip() for c in row[len(columns) :]):
                row = row[: len(columns)]  # trailing separators
            if len(row) != len(columns):
                ledger.reject(first, last, "wrong number of fields")
                continue
            person = _person(row, found, first)
            if person is None:
                ledger.reject(first, last, "missing user")
                continue
            people.append(person)
            ledger.parse(first, last)
        return ledger.batch(people_frame(people, self.context.source_file))


def _records(
    lines: list[str], header_no: int, delimiter: str
) -> Iterator[tuple[int, int, list[str]]]:
    """``(first line, last line, fields)`` of each CSV record after the header line; a
    quoted field may span lines. A record the csv module cannot read has no fields."""
    source = iter([ln + "\n" for ln in lines[header_no:]])
    reader = csv.reader(source, delimiter=delimiter)
    consumed = header_no
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            row = ["\0", "\0"]  # never a valid record: rejected as the wrong field count
        first, consumed = consumed + 1, header_no + reader.line_num
        yield first, consumed, row


def _person(row: list[str], found: dict[str, list[int]], line_no: int) -> Person | None:
    def values(fld: str) -> list[str]:
        return [v for i in found.get(fld, []) if (v := clean(row[i])) is not None]

    def first(fld: str) -> str | None:
        vals = values(fld)
        return vals[0] if vals else None

    users, emails = values("user"), values("email")
    if not users and not emails:
        return None
    canonical = (users or emails)[0]
    display = first("display_name")
    if display is None:
        parts = [p for p in (first("first_name"), first("last_name")) if p]
        display = " ".join(parts) or None
    manager = first("manager")
    if manager is not None:
        manager = dn_common_name(manager) or manager
    extra = [a for v in values("aliases") for a in v.split(";")]
    proxies = [a for v in values("proxy_addresses") for a in v.split(";")]
    return Person(
        user=canonical,
        line_no=line_no,
        display_name=display,
        email=emails[0] if emails else None,
        department=first("department"),
        title=first("title"),
        manager=manager,
        spellings=[*users, *emails, *extra, *smtp_addresses(a.strip() for a in proxies)],
    )
