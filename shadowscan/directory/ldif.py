"""Active Directory exported as LDIF (RFC 2849): ``ldifde -f users.ldf`` or
``ldapsearch -LLL``.

Entries are blocks of ``attr: value`` lines separated by blank lines; ``attr:: value``
is base64 (non-ASCII names, values with leading spaces); a line starting with one space
continues the line before it (folding); ``#`` starts a comment; ``version: 1`` may open
the file. Only user entries make people: groups, OUs, containers, computers (objectClass
``computer``, or a ``$`` at the end of sAMAccountName) and entries with no
sAMAccountName, uid or userPrincipalName are ignored, as are change records other than
``changetype: add``.

The canonical id is sAMAccountName (else uid, else userPrincipalName). Spellings:
sAMAccountName, uid, userPrincipalName, mail, the ``smtp:`` proxyAddresses,
otherMailbox and the entry's DN. ``manager`` is a DN; its CN is kept.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
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

_ATTR_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9;.\-]*)[ \t]*(::|:<|:)[ \t]*(.*)$")
_SNIFF_DN = re.compile(r"^dn::?\s", re.IGNORECASE)
_SNIFF_ATTR = re.compile(
    r"^(samaccountname|userprincipalname|objectclass|uid|mail|displayname)::?\s", re.IGNORECASE
)

#: Attributes a person is made of (lower case); others are never decoded or checked, so a
#: binary ``objectGUID::`` or ``thumbnailPhoto::`` costs nothing and breaks nothing.
USED = frozenset(
    {
        "dn",
        "samaccountname",
        "uid",
        "userprincipalname",
        "mail",
        "proxyaddresses",
        "othermailbox",
        "department",
        "title",
        "manager",
        "displayname",
        "cn",
        "objectclass",
        "changetype",
    }
)
NOT_PEOPLE = frozenset(
    {
        "computer",
        "group",
        "msds-groupmanagedserviceaccount",
        "msds-managedserviceaccount",
        "foreignsecurityprincipal",
    }
)
PEOPLE = frozenset({"user", "person", "organizationalperson", "inetorgperson", "posixaccount"})


@dataclass
class _Attribute:
    name: str  # lower case, options (``;lang-de``) removed
    kind: str  # ":", "::" or ":<"
    value: str
    first: int
    last: int


@dataclass
class _Raw:
    """A line and its continuation lines; an orphan is a continuation line with no line
    before it in its entry."""

    parts: list[str]
    first: int
    last: int
    orphan: bool = False


@dataclass
class _Entry:
    attributes: list[_Attribute] = field(default_factory=list)
    bad: list[tuple[int, int, str]] = field(default_factory=list)
    #: Values by attribute name (``:<`` URL references, which we do not fetch, left out).
    by_name: dict[str, list[str]] = field(default_factory=dict)

    def values(self, name: str) -> list[str]:
        return self.by_name.get(name, [])

    def first(self, name: str) -> str | None:
        return next((v for v in (clean(x) for x in self.values(name)) if v), None)


@DIRECTORY_READERS.register("ldif")
class LdifReader(DirectoryReader):
    name: ClassVar[str] = "ldif"
    summary: ClassVar[str] = (
        "Active Directory LDIF export (`ldifde`, `ldapsearch -LLL`): user entries with "
        "sAMAccountName, userPrincipalName, mail, proxyAddresses, department, manager"
    )
    example: ClassVar[str] = (
        "dn: CN=John Doe,OU=Engineering,DC=corp,DC=example\n"
        "objectClass: user\n"
        "sAMAccountName: jdoe\n"
        "userPrincipalName: john.doe@corp.example\n"
        "proxyAddresses: SMTP:john.doe@corp.example\n"
        "department: Engineering"
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        has_dn = any(_SNIFF_DN.match(ln) for ln in head)
        if not has_dn:
            return 0.0
        return 0.95 if any(_SNIFF_ATTR.match(ln) for ln in head) else 0.6

    def read(self, lines: list[str]) -> DirectoryBatch:
        ledger = LineLedger(len(lines))
        people: list[Person] = []
        for entry in _entries(lines):
            person = _person(entry)
            change = (entry.first("changetype") or "add").lower()
            if change != "add" or (person is None and not entry.bad):
                continue  # a change record, a group, an OU, a computer: ignored
            for first, last, reason in entry.bad:
                ledger.reject(first, last, reason)
            if person is None:
                continue
            people.append(person)
            for attr in entry.attributes:
                ledger.parse(attr.first, attr.last)
        return ledger.batch(people_frame(people, self.context.source_file))


def _entries(lines: list[str]) -> list[_Entry]:
    """Entries with their lines unfolded and their attributes decoded. Unfolding comes
    first: a fold may cut a line anywhere, even inside the attribute name."""
    entries: list[_Entry] = []
    logical: list[_Raw] = []  # one entry's unfolded lines
    for no, line in enumerate(lines, start=1):
        if line.startswith(" ") and logical:  # even a line of spaces continues (RFC 2849)
            logical[-1].parts.append(line[1:])
            logical[-1].last = no
        elif not line.strip():
            _close(logical, entries)
            logical = []
        elif line.startswith(" "):
            logical.append(_Raw([line], no, no, orphan=True))
        else:
            logical.append(_Raw([line], no, no))
    _close(logical, entries)
    return entries


def _close(logical: list[_Raw], entries: list[_Entry]) -> None:
    entry = _Entry()
    for raw in logical:
        text = "".join(raw.parts)
        if raw.orphan:
            entry.bad.append((raw.first, raw.last, "continuation without attribute"))
        elif text.startswith("#"):
            continue
        elif match := _ATTR_LINE.match(text):
            name = match.group(1).split(";", 1)[0].lower()
            if name == "version" and not entries and not entry.attributes and not entry.bad:
                continue  # the file's ``version: 1``: ignored like a comment
            _add(entry, name, match.group(2), match.group(3), raw.first, raw.last)
        else:
            entry.bad.append((raw.first, raw.last, "not an attribute line"))
    if entry.attributes or entry.bad:
        entries.append(entry)


def _add(entry: _Entry, name: str, kind: str, value: str, first: int, last: int) -> None:
    """Decode a used attribute's base64 value; an undecodable one is a bad line."""
    if kind == "::" and name in USED:
        try:
            value = base64.b64decode(value.replace(" ", ""), validate=True).decode("utf-8")
        except ValueError:  # bad base64 (binascii.Error), non-ASCII text, not UTF-8
            entry.bad.append((first, last, "bad base64"))
            return
        kind = ":"
    entry.attributes.append(_Attribute(name, kind, value, first, last))
    if kind != ":<":
        entry.by_name.setdefault(name, []).append(value)


def _person(entry: _Entry) -> Person | None:
    classes = {c.lower() for c in entry.values("objectclass")}
    if classes & NOT_PEOPLE or (classes and not classes & PEOPLE):
        return None
    sam, uid, upn = (
        entry.first("samaccountname"),
        entry.first("uid"),
        entry.first("userprincipalname"),
    )
    if sam is not None and sam.endswith("$"):
        return None  # a computer or managed service account
    canonical = sam or uid or upn
    if canonical is None or not entry.attributes:
        return None
    dn = entry.first("dn")
    manager = entry.first("manager")
    display = (
        entry.first("displayname") or entry.first("cn") or (dn_common_name(dn) if dn else None)
    )
    mails = [v for v in (clean(x) for x in entry.values("mail")) if v]
    spellings = [
        *(v for v in (sam, uid, upn, dn) if v),
        *mails,
        *smtp_addresses(v.strip() for v in entry.values("proxyaddresses")),
        *(v for v in (clean(x) for x in entry.values("othermailbox")) if v),
    ]
    return Person(
        user=canonical,
        line_no=entry.attributes[0].first,
        display_name=display,
        email=mails[0] if mails else None,
        department=entry.first("department"),
        title=entry.first("title"),
        manager=(dn_common_name(manager) or manager) if manager else None,
        spellings=spellings,
    )
