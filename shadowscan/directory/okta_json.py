"""Okta users from ``GET /api/v1/users``: a JSON array (one page or pages joined) or
JSON lines (``jq -c '.[]'``).

The canonical id is ``profile.login``. Spellings: login, email, secondEmail and, for
users mastered in Active Directory, a ``samAccountName`` profile attribute. The
display name is ``profile.displayName``, else first and last name; the manager is
``profile.manager``, else ``profile.managerId``. Users of every status are kept (a
deprovisioned user's traffic is still theirs).
"""

from __future__ import annotations

from typing import Any, ClassVar

from shadowscan.directory import DIRECTORY_READERS
from shadowscan.directory._json import Verdict, read_json_people
from shadowscan.directory.base import DirectoryBatch, DirectoryReader, Person, clean


@DIRECTORY_READERS.register("okta_json")
class OktaJsonReader(DirectoryReader):
    name: ClassVar[str] = "okta_json"
    summary: ClassVar[str] = (
        "Okta users from `GET /api/v1/users` (array or JSON lines): profile login, email, "
        "secondEmail, department, title, manager"
    )
    example: ClassVar[str] = (
        '[{"id": "00u1a2b3c4d5e6f7g8h9", "status": "ACTIVE", "profile": '
        '{"login": "john.doe@corp.example", "email": "john.doe@corp.example", '
        '"firstName": "John", "lastName": "Doe", "department": "Engineering"}}]'
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        text = "\n".join(head)
        if text.lstrip()[:1] not in ("{", "[") or '"profile"' not in text:
            return 0.0
        if '"login"' not in text:
            return 0.0
        return 0.9 if '"status"' in text or '"id"' in text else 0.7

    def read(self, lines: list[str]) -> DirectoryBatch:
        return read_json_people(lines, self.context.source_file, _person)


def _person(record: Any, line_no: int) -> Verdict:
    if not isinstance(record, dict):
        return "not an object"
    profile = record.get("profile")
    if not isinstance(profile, dict):
        return "missing profile"
    login = clean(profile.get("login"))
    if login is None:
        return "missing profile.login"
    names = [n for n in (clean(profile.get("firstName")), clean(profile.get("lastName"))) if n]
    email = clean(profile.get("email"))
    second = clean(profile.get("secondEmail"))
    sam = next(
        (clean(v) for k, v in profile.items() if k.lower() == "samaccountname" and clean(v)),
        None,
    )
    return Person(
        user=login,
        line_no=line_no,
        display_name=clean(profile.get("displayName")) or " ".join(names) or None,
        email=email,
        department=clean(profile.get("department")),
        title=clean(profile.get("title")),
        manager=clean(profile.get("manager")) or clean(profile.get("managerId")),
        spellings=[s for s in (second, sam) if s],
    )
