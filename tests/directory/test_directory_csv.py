"""Directory CSV: column names, delimiters, PowerShell exports, quoted fields spanning
lines, and exact line accounting."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from shadowscan.directory import DIRECTORY_READERS
from tests.directory.helpers import SAMPLES, any_lines, check_accounting

SAMPLE = (SAMPLES / "directory_csv" / "hr-people.csv").read_text(encoding="utf-8").splitlines()
AD_SAMPLE = (SAMPLES / "directory_csv" / "ad-users.csv").read_text(encoding="utf-8").splitlines()


def test_column_names_in_any_case_and_spelling() -> None:
    lines = [
        "Login;E-Mail;Full Name;Org_Unit;Job Title;Manager;Aliases",
        'jdoe;John.Doe@corp.example;John Doe;Engineering;Engineer;CN=Roe\\, Jane,OU=Eng,DC=corp;"JD@corp.example; johnd"',
    ]
    batch = check_accounting("directory_csv", lines)
    row = batch.frame.row(0, named=True)
    assert row["user"] == "jdoe"
    assert row["email"] == "John.Doe@corp.example"
    assert row["display_name"] == "John Doe"
    assert row["department"] == "Engineering"
    assert row["title"] == "Engineer"
    assert row["manager"] == "Roe, Jane"  # a DN keeps its CN
    assert row["aliases"] == ["jd@corp.example", "jdoe", "john.doe@corp.example", "johnd"]


def test_aliases_column_and_several_user_and_email_columns() -> None:
    lines = [
        "user,samaccountname,mail,userprincipalname,department,aliases,proxyAddresses",
        'jdoe,JDoe,john.doe@corp.example,jdoe@corp.example,Engineering,"johnd; j.doe@corp.example",'
        '"SMTP:john.doe@corp.example;smtp:jd@corp.example;X500:/o=Org/cn=jdoe"',
    ]
    batch = check_accounting("directory_csv", lines)
    assert batch.frame["aliases"].to_list() == [
        [
            "j.doe@corp.example",
            "jd@corp.example",
            "jdoe",
            "jdoe@corp.example",
            "john.doe@corp.example",
            "johnd",
        ]
    ]


def test_powershell_export_and_quoted_field_spanning_lines() -> None:
    lines = [
        "#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser",
        '"SamAccountName","UserPrincipalName","GivenName","Surname","Department","Title"',
        '"jdoe","john.doe@corp.example","John","Doe","Engineering","Senior',
        'Engineer"',
        "",
        '"asmith","alice.smith@corp.example","Alice","Smith","Finance","Analyst"',
        '"SamAccountName","UserPrincipalName","GivenName","Surname","Department","Title"',
        "# a comment",
    ]
    batch = check_accounting("directory_csv", lines)
    assert batch.frame.select("user", "display_name", "title", "line_no").rows() == [
        ("jdoe", "John Doe", "Senior\nEngineer", 3),
        ("asmith", "Alice Smith", "Analyst", 6),
    ]
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (3, 5, 0)


def test_bad_rows_are_rejected() -> None:
    lines = [
        "user,email,department",
        "jdoe,john.doe@corp.example,Engineering",
        "asmith,alice.smith@corp.example",
        "bwong,bernard.wong@corp.example,Sales,extra",
        ",,Finance",
        ",only.email@corp.example,Legal",
        "cwu,,HR,,",
    ]
    batch = check_accounting("directory_csv", lines)
    assert dict(batch.rejected.iter_rows()) == {
        3: "wrong number of fields",
        4: "wrong number of fields",
        5: "missing user",
    }
    assert batch.frame["user"].to_list() == ["jdoe", "only.email@corp.example", "cwu"]


def test_a_file_without_user_or_email_column_rejects_its_lines() -> None:
    batch = check_accounting("directory_csv", ["name,department", "John,Eng", "", "Ann,HR"])
    assert batch.parsed == 0
    assert batch.rejected["reason"].unique().to_list() == ["no user or email column"]
    assert batch.ignored == 1


def test_empty_and_header_only() -> None:
    assert check_accounting("directory_csv", []).lines == 0
    batch = check_accounting("directory_csv", ["user,department"])
    assert (batch.parsed, batch.ignored) == (0, 1)


def test_sniff() -> None:
    reader = DIRECTORY_READERS.get("directory_csv")
    assert reader.sniff(SAMPLE[:50]) >= 0.9
    assert reader.sniff(AD_SAMPLE[:50]) >= 0.9
    assert reader.sniff(["user,email", "jdoe,j@x"]) >= 0.5
    # Identity CSVs (sessions, asset inventories) are not people lists.
    assert reader.sniff(["ip,user,start,end", "10.0.0.1,jdoe,1,2"]) == 0.0
    assert reader.sniff(["hostname,mac,user,department", "pc1,aa,jdoe,Eng"]) == 0.0
    assert reader.sniff(["timestamp,url,user", "1,x,jdoe"]) == 0.0
    assert reader.sniff(["dn: CN=x", "sAMAccountName: x"]) == 0.0


@given(any_lines(SAMPLE + AD_SAMPLE, max_size=40))
def test_any_lines_are_accounted_for(lines: list[str]) -> None:
    check_accounting("directory_csv", lines)


VALUE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and not s.startswith("#"))


@given(
    st.lists(st.tuples(VALUE, VALUE, VALUE), min_size=1, max_size=8, unique_by=lambda t: t[0]),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_round_trip_through_csv_writer(
    people: list[tuple[str, str, str]], delimiter: str, quoting: int
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="\n")  # type: ignore[arg-type]
    writer.writerow(["user", "department", "display_name"])
    writer.writerows(people)
    lines = buffer.getvalue().splitlines()
    batch = check_accounting("directory_csv", lines)
    assert batch.frame.select("user", "department", "display_name").rows() == people
    assert batch.parsed == len(lines) - 1
