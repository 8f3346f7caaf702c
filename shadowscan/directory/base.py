"""What a people directory is, and the helpers its readers share.

Logs spell one person many ways: ``CORP\\jdoe`` in a proxy log, ``jdoe@CORP.EXAMPLE`` in
a Kerberos ticket, ``john.doe@corp.example`` in a SaaS audit log. A directory export (AD
LDIF, an HR CSV, Entra ID or Okta JSON) lists every spelling of each person with their
department, so findings roll up by person and department instead of by spelling.

Each reader turns one file into a frame of **people** (``PERSON_SCHEMA``). Directory
files are small (100,000 people is a few tens of MB), so a reader sees the whole file as
a list of lines and may walk its records in Python; what must be fast is
:meth:`shadowscan.directory.load.Directory.resolve`, which is a join. As with log
parsers, every line is accounted for: it contributed to a person (``parsed``), carried
nothing about people (``ignored``: headers, comments, groups, JSON brackets), or was
malformed (``rejected`` with line number and reason).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

#: One person. ``user`` is the directory's primary login *as written* (sAMAccountName in
#: AD, the login column of a CSV, userPrincipalName in Entra ID, ``profile.login`` in
#: Okta); ``aliases`` holds every lower-cased spelling that names the person, the
#: canonical id included.
PERSON_SCHEMA: dict[str, pl.DataType] = {
    "user": pl.String(),
    "display_name": pl.String(),
    "email": pl.String(),
    "department": pl.String(),
    "title": pl.String(),
    "manager": pl.String(),
    "aliases": pl.List(pl.String()),
    "source_file": pl.String(),
    "line_no": pl.UInt64(),  # first line of the record
}

REJECTED_SCHEMA: dict[str, pl.DataType] = {"line_no": pl.UInt64(), "reason": pl.String()}

#: The fields a reader fills in, besides the aliases and the file/line it adds.
PERSON_FIELDS = ("user", "display_name", "email", "department", "title", "manager")


@dataclass(frozen=True)
class DirectoryContext:
    """What a reader may need to know about the file it reads."""

    source_file: str


@dataclass
class Person:
    """One record as a reader found it, before it becomes a row of ``PERSON_SCHEMA``."""

    user: str
    line_no: int
    display_name: str | None = None
    email: str | None = None
    department: str | None = None
    title: str | None = None
    manager: str | None = None
    #: Other spellings (any case); the canonical id and ``email`` are added by
    #: :func:`people_frame`.
    spellings: list[str] = field(default_factory=list)


@dataclass
class DirectoryBatch:
    """What a reader read from one file. ``frame`` is in ``PERSON_SCHEMA``;
    ``parsed + ignored + len(rejected)`` equals the number of lines read."""

    frame: pl.DataFrame
    lines: int
    parsed: int
    ignored: int = 0
    rejected: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTED_SCHEMA))


class DirectoryReader(ABC):
    """One directory-export format. Subclasses register with
    ``@DIRECTORY_READERS.register(name)``."""

    #: Registry name, also the ``TYPE`` in ``--directory TYPE:FILE``.
    name: ClassVar[str]
    #: One line for the README.
    summary: ClassVar[str]
    #: A short, typical excerpt of the format (may span lines), for the README.
    example: ClassVar[str]

    def __init__(self, context: DirectoryContext) -> None:
        self.context = context

    @classmethod
    @abstractmethod
    def sniff(cls, head: list[str]) -> float:
        """How sure (0..1) the reader is that a file starting with ``head`` is its format."""

    @abstractmethod
    def read(self, lines: list[str]) -> DirectoryBatch:
        """Read every line of the file (``lines[0]`` is line 1, line ends stripped)."""


def rejected_frame(rows: Iterable[tuple[int, str]]) -> pl.DataFrame:
    """Rejected lines from ``(line_no, reason)`` pairs."""
    return pl.DataFrame(list(rows), schema=REJECTED_SCHEMA, orient="row")


def clean(value: object) -> str | None:
    """A field value as a stripped string; None for missing, empty and non-strings."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text or None


def smtp_addresses(values: Iterable[str]) -> list[str]:
    """The addresses of Exchange ``proxyAddresses`` values: ``SMTP:`` is the primary,
    ``smtp:`` the secondary ones; ``X500:``, ``SIP:`` and the like name no mailbox."""
    return [v[5:] for v in values if v[:5].lower() == "smtp:" and v[5:].strip()]


_DN_CN = re.compile(r"^\s*cn\s*=\s*((?:[^,+\\]|\\.)+)", re.IGNORECASE)
_DN_ESCAPE = re.compile(r"\\([0-9a-fA-F]{2}|.)")


def dn_common_name(dn: str) -> str | None:
    """``CN=Doe\\, John,OU=Staff,DC=corp,DC=example`` -> ``Doe, John``; None when the DN
    does not start with a CN (RFC 4514 escapes, ``\\,`` and ``\\2C``, are undone)."""
    match = _DN_CN.match(dn)
    if not match:
        return None

    def unescape(m: re.Match[str]) -> str:
        code = m.group(1)
        return chr(int(code, 16)) if len(code) == 2 else code

    return _DN_ESCAPE.sub(unescape, match.group(1).strip()) or None


def people_frame(people: Iterable[Person], source_file: str) -> pl.DataFrame:
    """``PERSON_SCHEMA`` rows from ``people``; aliases are the canonical id, the email
    and every spelling, lower-cased, stripped, without duplicates, sorted."""
    columns: dict[str, list[Any]] = {name: [] for name in PERSON_SCHEMA}
    for p in people:
        spellings = [p.user, *([p.email] if p.email else []), *p.spellings]
        for name in PERSON_FIELDS:
            columns[name].append(getattr(p, name))
        columns["aliases"].append(sorted({s.strip().lower() for s in spellings if s and s.strip()}))
        columns["line_no"].append(p.line_no)
    columns["source_file"] = [source_file] * len(columns["user"])
    return pl.DataFrame(columns, schema=PERSON_SCHEMA)


class LineLedger:
    """The outcome of each line of one file, for readers whose records span lines.

    Every line starts as ignored. A line that belongs to a record that made a person is
    parsed, whatever else touched it; a line of a malformed record is rejected unless it
    is also parsed (a one-line JSON array holding a good and a bad record is parsed).
    """

    def __init__(self, lines: int) -> None:
        self.lines = lines
        self._parsed = [False] * lines
        self._reasons: dict[int, str] = {}

    def parse(self, first: int, last: int) -> None:
        """Lines ``first..last`` (1-based, inclusive) made a person."""
        for no in range(first, last + 1):
            self._parsed[no - 1] = True

    def reject(self, first: int, last: int, reason: str) -> None:
        """Lines ``first..last`` are malformed; the first reason given for a line stays."""
        for no in range(first, last + 1):
            self._reasons.setdefault(no, reason)

    def batch(self, frame: pl.DataFrame) -> DirectoryBatch:
        parsed = sum(self._parsed)
        rejected = sorted(
            (no, reason) for no, reason in self._reasons.items() if not self._parsed[no - 1]
        )
        return DirectoryBatch(
            frame=frame,
            lines=self.lines,
            parsed=parsed,
            ignored=self.lines - parsed - len(rejected),
            rejected=rejected_frame(rejected),
        )
