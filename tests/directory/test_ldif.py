"""LDIF: unfolding, base64, what is a person and what is not, and exact line accounting."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from shadowscan.directory import DIRECTORY_READERS
from tests.directory.helpers import SAMPLES, any_lines, check_accounting

SAMPLE = (SAMPLES / "ldif" / "ad-staff.ldif").read_text(encoding="utf-8").splitlines()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_folded_base64_and_comments() -> None:
    lines = [
        "version: 1",
        "",
        "# John Doe, Engineering, corp.example",
        "dn: CN=John Doe,OU=Engineering,DC=corp,DC=example",
        "objectClass: user",
        "sAMAccountName: jdoe",
        "userPrincipalName: john.doe@corp.",
        " example",
        f"displayName:: {b64('Jöhn Doe')}",
        "proxyAddresses: SMTP:john.doe@corp.example",
        "proxyAddresses: smtp:JDoe@Corp.Example",
        "proxyAddresses: SIP:john.doe@corp.example",
        "otherMailbox: jd@home.example",
        "manager: CN=Doe\\, Jane,OU=Engineering,DC=corp,DC=example",
        "department: Engineering",
        "objectGUID:: AAEC/w==",
        "",
    ]
    batch = check_accounting("ldif", lines)
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (13, 4, 0)
    row = batch.frame.row(0, named=True)
    assert row["user"] == "jdoe"
    assert row["display_name"] == "Jöhn Doe"
    assert row["manager"] == "Doe, Jane"
    assert row["line_no"] == 4
    assert row["aliases"] == [
        "cn=john doe,ou=engineering,dc=corp,dc=example",
        "jd@home.example",
        "jdoe",
        "jdoe@corp.example",
        "john.doe@corp.example",
    ]


def test_groups_computers_ous_and_contacts_are_ignored() -> None:
    lines = [
        "dn: OU=Staff,DC=corp,DC=example",
        "objectClass: organizationalUnit",
        "",
        "dn: CN=Sales,OU=Groups,DC=corp,DC=example",
        "objectClass: group",
        "sAMAccountName: Sales",
        "",
        "dn: CN=PC-1,OU=Computers,DC=corp,DC=example",
        "objectClass: user",
        "objectClass: computer",
        "sAMAccountName: PC-1$",
        "",
        "dn: CN=svc-backup,OU=Service,DC=corp,DC=example",
        "sAMAccountName: gmsa-backup$",
        "",
        "dn: CN=Vendor,OU=Contacts,DC=corp,DC=example",
        "objectClass: contact",
        "mail: vendor@example.net",
    ]
    batch = check_accounting("ldif", lines)
    assert batch.frame.is_empty()
    assert batch.ignored == len(lines)


def test_entries_without_object_class_and_openldap_uid() -> None:
    lines = [
        "dn: uid=ksato,ou=people,dc=corp,dc=example",
        "objectClass: inetOrgPerson",
        "uid: ksato",
        "cn: Kenji Sato",
        "mail: kenji.sato@corp.example",
        "",
        "dn: CN=Only Upn,DC=corp,DC=example",
        "userPrincipalName: only.upn@corp.example",
    ]
    batch = check_accounting("ldif", lines)
    assert batch.frame["user"].to_list() == ["ksato", "only.upn@corp.example"]
    assert batch.frame["display_name"].to_list() == ["Kenji Sato", "Only Upn"]


def test_malformed_lines_are_rejected_with_reasons() -> None:
    lines = [
        " continued from nowhere",
        "dn: CN=John Doe,DC=corp,DC=example",
        "sAMAccountName: jdoe",
        "this line has no colon",
        "department:: not base64!",
        "title:: /w==",
        "",
        "dn: CN=Bad,DC=corp,DC=example",
        "garbage",
    ]
    batch = check_accounting("ldif", lines)
    rejected = dict(batch.rejected.iter_rows())
    assert rejected == {
        1: "continuation without attribute",
        4: "not an attribute line",
        5: "bad base64",
        6: "bad base64",
        9: "not an attribute line",
    }
    assert batch.frame["user"].to_list() == ["jdoe"]
    assert batch.frame["department"].to_list() == [None]
    assert batch.parsed == 2  # dn and sAMAccountName; line 8 (the dn of a non-person) ignored


def test_non_ascii_base64_value_is_rejected() -> None:
    batch = check_accounting("ldif", ["dn: CN=Ann,DC=x", "sAMAccountName: ann", "title:: Zü=="])
    assert batch.rejected.rows() == [(3, "bad base64")]
    assert batch.frame["user"].to_list() == ["ann"]


def test_change_records_other_than_add_are_ignored() -> None:
    lines = [
        "dn: CN=John Doe,DC=corp,DC=example",
        "changetype: modify",
        "replace: department",
        "department: Sales",
        "-",
        "",
        "dn: CN=Jane Roe,DC=corp,DC=example",
        "changetype: add",
        "objectClass: user",
        "sAMAccountName: jroe",
    ]
    batch = check_accounting("ldif", lines)
    assert batch.frame["user"].to_list() == ["jroe"]
    assert batch.ignored == 6 and batch.parsed == 4


def test_sniff() -> None:
    reader = DIRECTORY_READERS.get("ldif")
    assert reader.sniff(SAMPLE[:50]) >= 0.9
    assert reader.sniff(["user,email,department", "jdoe,j@x,Eng"]) == 0.0
    assert reader.sniff(['{"dn": "x"}']) == 0.0


@given(any_lines(SAMPLE, max_size=60))
def test_any_lines_are_accounted_for(lines: list[str]) -> None:
    check_accounting("ldif", lines)


NAME = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() == s and s)
SAM = st.from_regex(r"[a-z][a-z0-9.]{1,12}", fullmatch=True)


@given(
    st.lists(st.tuples(SAM, NAME, NAME), min_size=1, max_size=6, unique_by=lambda t: t[0]),
    st.integers(min_value=2, max_value=40),
)
def test_round_trip_through_folding_and_base64(
    people: list[tuple[str, str, str]], width: int
) -> None:
    """What ldifde writes (base64 for non-ASCII, folded long lines) reads back exactly."""

    def attr(name: str, value: str) -> list[str]:
        line = (
            f"{name}:: {b64(value)}"
            if not value.isascii() or value[0] in " :<"
            else f"{name}: {value}"
        )
        folded = [line[:width]]
        rest = line[width:]
        while rest:
            folded.append(" " + rest[: width - 1])
            rest = rest[width - 1 :]
        return folded

    lines: list[str] = []
    for sam, display, department in people:
        lines += attr("dn", f"CN={sam},DC=corp,DC=example")
        lines += ["objectClass: user", *attr("sAMAccountName", sam)]
        lines += [*attr("displayName", display), *attr("department", department), ""]
    batch = check_accounting("ldif", lines)
    assert batch.frame.select("user", "display_name", "department").rows() == people
    assert batch.parsed == len(lines) - len(people)
