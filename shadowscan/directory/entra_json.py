"""Microsoft Entra ID (Azure AD) users from Microsoft Graph ``GET /users``.

Saved as the Graph response (``{"@odata.context": ..., "value": [...]}``, one page or an
array of pages), as a JSON array, or as JSON lines (``jq -c '.value[]'``). Use
``$select`` to include ``department``, ``onPremisesSamAccountName`` and
``proxyAddresses``, and ``$expand=manager($select=displayName)`` for the manager.

The canonical id is userPrincipalName. Spellings: userPrincipalName, mail,
onPremisesSamAccountName, onPremisesUserPrincipalName, mailNickname, otherMails and the
``smtp:`` proxyAddresses. Objects whose ``@odata.type`` is not a user (groups, devices in
a ``directoryObjects`` export) are ignored. Property names may be in any case, so
``Get-MgUser | ConvertTo-Json`` output reads too.
"""

from __future__ import annotations

from typing import Any, ClassVar

from shadowscan.directory import DIRECTORY_READERS
from shadowscan.directory._json import Verdict, read_json_people
from shadowscan.directory.base import (
    DirectoryBatch,
    DirectoryReader,
    Person,
    clean,
    smtp_addresses,
)

USER_TYPE = "#microsoft.graph.user"


@DIRECTORY_READERS.register("entra_json")
class EntraJsonReader(DirectoryReader):
    name: ClassVar[str] = "entra_json"
    summary: ClassVar[str] = (
        "Microsoft Entra ID users from Graph `GET /users` (response, array or JSON lines): "
        "userPrincipalName, mail, onPremisesSamAccountName, department, manager"
    )
    example: ClassVar[str] = (
        '{"value": [{"userPrincipalName": "john.doe@corp.example", '
        '"onPremisesSamAccountName": "jdoe", "displayName": "John Doe", '
        '"department": "Engineering", "mail": "john.doe@corp.example"}]}'
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        text = "\n".join(head)
        if text.lstrip()[:1] not in ("{", "["):
            return 0.0
        lower = text.lower()
        if '"profile"' in lower and '"login"' in lower:
            return 0.4  # Okta, perhaps with a custom userPrincipalName attribute
        if "$metadata#users" in lower:
            return 0.95
        if '"userprincipalname"' in lower:
            return 0.9
        return 0.0

    def read(self, lines: list[str]) -> DirectoryBatch:
        return read_json_people(lines, self.context.source_file, _person)


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v for v in (clean(x) for x in items) if v]


def _person(record: Any, line_no: int) -> Verdict:
    if not isinstance(record, dict):
        return "not an object"
    # Graph writes camelCase; ``Get-MgUser | ConvertTo-Json`` writes PascalCase.
    fields = {str(k).lower(): v for k, v in record.items()}
    kind = fields.get("@odata.type")
    if isinstance(kind, str) and kind != USER_TYPE:
        return None
    upn = clean(fields.get("userprincipalname"))
    if upn is None:
        return "missing userPrincipalName"
    manager = fields.get("manager")
    if isinstance(manager, dict):
        boss = {str(k).lower(): v for k, v in manager.items()}
        manager = boss.get("displayname") or boss.get("userprincipalname")
    return Person(
        user=upn,
        line_no=line_no,
        display_name=clean(fields.get("displayname")),
        email=clean(fields.get("mail")),
        department=clean(fields.get("department")),
        title=clean(fields.get("jobtitle")),
        manager=clean(manager),
        spellings=[
            *_strings(fields.get("onpremisessamaccountname")),
            *_strings(fields.get("onpremisesuserprincipalname")),
            *_strings(fields.get("mailnickname")),
            *_strings(fields.get("othermails")),
            *smtp_addresses(_strings(fields.get("proxyaddresses"))),
        ],
    )
