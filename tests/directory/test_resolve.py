"""Loading directories, merging files, and resolving every spelling of a person."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.directory.load import Directory, load_directory
from shadowscan.errors import InputError
from tests.directory.helpers import SAMPLES, write

LDIF = str(SAMPLES / "ldif" / "ad-staff.ldif")
CSV = str(SAMPLES / "directory_csv" / "hr-people.csv")
ENTRA = str(SAMPLES / "entra_json" / "graph-users.json")
OKTA = str(SAMPLES / "okta_json" / "okta-users.json")

JDOE_SPELLINGS = [
    "CORP\\jdoe",
    "jdoe@corp.example",
    "JDoe",
    "John.Doe@corp.example",
    "CN=John Doe,OU=Eng,DC=corp,DC=example",
    "  jdoe ",
    "corp.example\\JDOE",
    "cn=John Doe,OU=Engineering,OU=Staff,DC=corp,DC=example",
]


def persons(directory: Directory, users: list[str | None]) -> list[str | None]:
    return directory.resolve(pl.Series(users, dtype=pl.String))["person"].to_list()


@pytest.mark.parametrize("path", [LDIF, CSV])
def test_every_spelling_of_jdoe_resolves(path: str) -> None:
    directory = load_directory([path])
    assert directory.warnings == []
    found = directory.resolve(pl.Series(JDOE_SPELLINGS))
    assert found.columns == ["person", "department", "display_name"]
    assert found.rows() == [("jdoe", "Engineering", "John Doe")] * len(JDOE_SPELLINGS)


@pytest.mark.parametrize("path", [ENTRA, OKTA])
def test_cloud_directories_resolve_the_on_premises_spellings(path: str) -> None:
    directory = load_directory([path])
    assert persons(directory, ["CORP\\jdoe", "jdoe", "CORP\\asmith", "bwong@CORP.EXAMPLE"]) == [
        "john.doe@corp.example",
        "john.doe@corp.example",
        "alice.smith@corp.example",
        "bernard.wong@corp.example",
    ]


def test_kerberos_realm_resolves_by_local_part_only_when_unique(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "people.csv",
        "user,upn,department\n"
        "jdoe,john.doe@corp.example,Engineering\n"
        "jsmith,john.smith@corp.example,Marketing\n"
        "jsmith2,john.smith@eu.corp.example,Sales\n",
    )
    directory = load_directory([path])
    assert persons(
        directory, ["jdoe@CORP.EXAMPLE", "JDOE@EU.CORP.EXAMPLE", "john.smith@other"]
    ) == [
        "jdoe",
        "jdoe",
        None,  # the local part is no one's alias
    ]
    assert persons(directory, ["john.smith@corp.example", "host/jdoe@CORP.EXAMPLE"]) == [
        "jsmith",
        None,
    ]


def test_unknown_null_empty_and_order() -> None:
    directory = load_directory([LDIF])
    assert persons(
        directory, [None, "nobody", "CORP\\nobody", "bwong", None, "CN=Nobody,DC=x"]
    ) == [
        None,
        None,
        None,
        "bwong",
        None,
        None,
    ]
    assert directory.resolve(pl.Series([], dtype=pl.String)).height == 0
    empty = Directory.empty().resolve(pl.Series(["jdoe", None]))
    assert empty.rows() == [(None, None, None), (None, None, None)]
    assert empty.schema == pl.Schema(
        {"person": pl.String, "department": pl.String, "display_name": pl.String}
    )


def test_categorical_input() -> None:
    directory = load_directory([CSV])
    found = directory.resolve(pl.Series(["CORP\\asmith", "bwong"], dtype=pl.Categorical))
    assert found["department"].to_list() == ["Finance", "Sales"]


def test_an_alias_two_people_claim_is_not_used_and_warned_about(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "people.csv",
        "user,email,display_name,department,aliases\n"
        "jsmith,john.smith@corp.example,John Smith,Marketing,j.smith\n"
        "jsmith2,jane.smith@corp.example,John Smith,Engineering,J.Smith;jane\n",
    )
    directory = load_directory([path])
    assert directory.warnings == [
        f"alias 'j.smith' names two people (jsmith, jsmith2) in {path}; it is not used",
        f"display name 'john smith' names two people (jsmith, jsmith2) in {path}; DNs with "
        "this CN are not resolved by name",
    ]
    assert persons(directory, ["j.smith", "CORP\\J.Smith", "j.smith@corp.example", "jane"]) == [
        None,
        None,
        None,
        "jsmith2",
    ]
    assert persons(directory, ["CN=John Smith,OU=x,DC=corp", "CN=jsmith,OU=Users,DC=corp"]) == [
        None,
        "jsmith",  # a CN that is a login
    ]


def test_files_merge_into_one_person_per_person(tmp_path: Path) -> None:
    hr = write(
        tmp_path,
        "hr.csv",
        "user,email,department,title\n"
        "john.doe@corp.example,john.doe@corp.example,,Staff Engineer\n"
        "ghost@corp.example,ghost@corp.example,Sales,\n",
    )
    directory = load_directory([LDIF, ENTRA, hr])
    people = directory.people
    assert people["user"].is_unique().all()
    jdoe = people.filter(pl.col("user") == "jdoe").row(0, named=True)
    assert jdoe["department"] == "Engineering"  # first non-null, in file order
    assert jdoe["title"] == "Senior Software Engineer"
    assert jdoe["source_file"] == LDIF
    assert {
        "jdoe",
        "john.doe@corp.example",
        "cn=john doe,ou=engineering,ou=staff,dc=corp,dc=example",
    } <= set(jdoe["aliases"])
    # The Entra guest and the HR-only person are people of their own.
    assert {
        "pat.lee_partner.example#EXT#@corpexample.onmicrosoft.com",
        "ghost@corp.example",
    } <= set(people["user"].to_list())
    assert people.height == 15 + 1 + 1
    assert directory.warnings == []
    assert [f.type for f in directory.files] == ["ldif", "entra_json", "directory_csv"]


def test_the_first_file_given_supplies_fields_and_id() -> None:
    cloud_first = load_directory([ENTRA, LDIF])
    row = cloud_first.people.filter(pl.col("user") == "john.doe@corp.example")
    assert row.height == 1 and "jdoe" in row["aliases"][0]
    assert persons(cloud_first, ["CORP\\jdoe"]) == ["john.doe@corp.example"]


def test_a_later_record_matching_two_people_stays_apart(tmp_path: Path) -> None:
    first = write(
        tmp_path, "a.csv", "user,email,department\nann,ann@x.example,HR\nbob,bob@x.example,IT\n"
    )
    second = write(
        tmp_path, "b.csv", "user,email,department,aliases\ncarol,carol@x.example,Sales,ann;bob\n"
    )
    directory = load_directory([first, second])
    assert directory.people["user"].to_list() == ["ann", "bob", "carol"]
    assert directory.warnings[0] == (
        f"{second}:2: carol matches several people (ann, bob); kept as a person of its own"
    )


def test_load_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.csv: directory export not found"):
        load_directory([str(tmp_path / "missing.csv")])
    empty = write(tmp_path, "empty.csv", "")
    with pytest.raises(InputError, match=r"empty\.csv: the directory export is empty"):
        load_directory([empty])
    other = write(tmp_path, "notes.txt", "hello\nworld\n")
    with pytest.raises(
        InputError, match=r"notes.txt: not a recognised directory export; name its type as TYPE:"
    ):
        load_directory([other])
    with pytest.raises(InputError, match=r"notes.txt:1: no line reads as ldif"):
        load_directory([f"ldif:{other}"])
    groups = write(tmp_path, "groups.ldif", "dn: CN=G,DC=x\nobjectClass: group\n")
    assert load_directory([groups]).warnings == [
        f"{groups}: no people found (only groups, computers or OUs?)"
    ]
    assert load_directory([f"directory_csv:{empty}"]).people.is_empty()


def test_gzipped_file(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "users.jsonl.gz"
    path.write_bytes(gzip.compress(json.dumps({"userPrincipalName": "a@x.example"}).encode()))
    assert load_directory([str(path)]).people["user"].to_list() == ["a@x.example"]


SPELLINGS = [*JDOE_SPELLINGS, "asmith", "CORP\\bwong", "nobody", "CN=Nobody,OU=x", "x@y", "\\"]
DIRECTORY = load_directory([LDIF])


@given(
    st.lists(st.one_of(st.none(), st.sampled_from(SPELLINGS), st.text(max_size=12)), max_size=30)
)
def test_resolving_a_column_is_resolving_each_value(users: list[str | None]) -> None:
    found = DIRECTORY.resolve(pl.Series(users, dtype=pl.String))
    assert found.height == len(users)
    one_by_one = [DIRECTORY.resolve(pl.Series([u], dtype=pl.String)).row(0) for u in users]
    assert found.rows() == one_by_one
    assert all(
        row == (None, None, None) for row, u in zip(found.rows(), users, strict=True) if u is None
    )
