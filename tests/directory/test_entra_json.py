"""Entra ID (Graph /users) JSON: every saved shape, spellings, and per-line accounting."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shadowscan.directory import DIRECTORY_READERS
from tests.directory.helpers import SAMPLES, any_lines, check_accounting

SAMPLE = (SAMPLES / "entra_json" / "graph-users.json").read_text(encoding="utf-8").splitlines()
JSONL = (SAMPLES / "entra_json" / "users.jsonl").read_text(encoding="utf-8").splitlines()

JDOE: dict[str, Any] = {
    "userPrincipalName": "john.doe@corp.example",
    "mail": "John.Doe@corp.example",
    "displayName": "John Doe",
    "department": "Engineering",
    "jobTitle": "Engineer",
    "onPremisesSamAccountName": "jdoe",
    "mailNickname": "johnd",
    "otherMails": ["jd@home.example"],
    "proxyAddresses": ["SMTP:John.Doe@corp.example", "smtp:jdoe@corp.example", "SIP:x@y"],
    "manager": {"@odata.type": "#microsoft.graph.user", "displayName": "Maria Garcia"},
}
ASMITH = {"userPrincipalName": "alice.smith@corp.example", "department": "Finance"}


def test_graph_response_pretty_printed() -> None:
    doc = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
        "value": [JDOE, ASMITH],
    }
    lines = json.dumps(doc, indent=2).splitlines()
    batch = check_accounting("entra_json", lines)
    row = batch.frame.row(0, named=True)
    assert row["user"] == "john.doe@corp.example"
    assert row["email"] == "John.Doe@corp.example"
    assert row["manager"] == "Maria Garcia"
    assert row["title"] == "Engineer"
    assert row["line_no"] == 4
    assert row["aliases"] == [
        "jd@home.example",
        "jdoe",
        "jdoe@corp.example",
        "john.doe@corp.example",
        "johnd",
    ]
    # Only the wrapper's lines are ignored: {, @odata.context, "value": [, ], }.
    assert (batch.parsed, batch.ignored) == (len(lines) - 5, 5)


def test_one_line_response_array_of_pages_jsonl_and_jq_output() -> None:
    page = json.dumps({"value": [JDOE, ASMITH]})
    assert check_accounting("entra_json", [page]).frame.height == 2
    pages = json.dumps([{"value": [JDOE]}, {"value": [ASMITH], "@odata.nextLink": None}], indent=1)
    assert check_accounting("entra_json", pages.splitlines()).frame["user"].to_list() == [
        "john.doe@corp.example",
        "alice.smith@corp.example",
    ]
    jsonl = [json.dumps(JDOE), json.dumps(ASMITH)]
    batch = check_accounting("entra_json", jsonl)
    assert (batch.parsed, batch.frame.height) == (2, 2)
    jq = (json.dumps(JDOE, indent=2) + "\n" + json.dumps(ASMITH, indent=2)).splitlines()
    batch = check_accounting("entra_json", jq)
    assert (batch.parsed, batch.frame.height) == (len(jq), 2)


def test_bad_records_and_bad_json() -> None:
    lines = [
        json.dumps(JDOE),
        '{"userPrincipalName": "broken@corp.example", ',
        json.dumps({"mail": "no.upn@corp.example"}),
        json.dumps({"@odata.type": "#microsoft.graph.group", "displayName": "Sales"}),
        '"a string"',
        "not json at all",
        json.dumps(ASMITH),
    ]
    batch = check_accounting("entra_json", lines)
    assert batch.frame["user"].to_list() == ["john.doe@corp.example", "alice.smith@corp.example"]
    assert dict(batch.rejected.iter_rows()) == {
        2: "bad JSON",
        3: "missing userPrincipalName",
        5: "bad JSON",
        6: "bad JSON",
    }
    assert batch.ignored == 1  # the group


def test_a_broken_record_in_a_pretty_array_resumes_at_the_next_record() -> None:
    good = json.dumps([JDOE, ASMITH, ASMITH | {"userPrincipalName": "x@corp.example"}], indent=2)
    lines = good.splitlines()
    second = next(i for i, ln in enumerate(lines) if "alice.smith" in ln)
    lines[second] = lines[second].replace('",', '"')  # a missing comma
    batch = check_accounting("entra_json", lines)
    assert batch.frame["user"].to_list() == ["john.doe@corp.example", "x@corp.example"]
    assert set(batch.rejected["reason"].to_list()) == {"bad JSON"}
    assert batch.rejected["line_no"].min() == second  # from the record's opening brace


def test_powershell_pascal_case() -> None:
    record = {
        "UserPrincipalName": "john.doe@corp.example",
        "Department": "Engineering",
        "OnPremisesSamAccountName": "jdoe",
        "Manager": {"DisplayName": "Maria Garcia"},
    }
    lines = json.dumps([record], indent=4).splitlines()
    assert DIRECTORY_READERS.get("entra_json").sniff(lines) >= 0.9
    batch = check_accounting("entra_json", lines)
    assert batch.frame.select("user", "department", "manager").rows() == [
        ("john.doe@corp.example", "Engineering", "Maria Garcia")
    ]
    assert "jdoe" in batch.frame["aliases"][0]


def test_sniff() -> None:
    reader = DIRECTORY_READERS.get("entra_json")
    assert reader.sniff(SAMPLE[:50]) >= 0.9
    assert reader.sniff(JSONL[:50]) >= 0.9
    assert reader.sniff(['{"profile": {"login": "x", "userPrincipalName": "y"}}']) < 0.5
    assert reader.sniff(["userPrincipalName,department"]) == 0.0


@given(any_lines(SAMPLE, max_size=60))
def test_any_lines_are_accounted_for(lines: list[str]) -> None:
    check_accounting("entra_json", lines)


@given(st.lists(st.sampled_from(SAMPLE), max_size=80))
def test_shuffled_sample_lines_are_accounted_for(lines: list[str]) -> None:
    check_accounting("entra_json", lines)


USER = st.fixed_dictionaries(
    {
        "userPrincipalName": st.from_regex(r"[a-z]{1,8}@corp\.example", fullmatch=True),
        "department": st.one_of(st.none(), st.text(max_size=12)),
    },
    optional={"onPremisesSamAccountName": st.from_regex(r"[a-z]{1,8}", fullmatch=True)},
)


@given(
    st.lists(USER, max_size=6),
    st.sampled_from(["page", "array", "jsonl", "jq"]),
    st.sampled_from([None, 1, 2, 4]),
)
def test_round_trip_in_every_shape(
    users: list[dict[str, Any]], shape: str, indent: int | None
) -> None:
    if shape == "page":
        text = json.dumps({"@odata.context": "x", "value": users}, indent=indent)
    elif shape == "array":
        text = json.dumps(users, indent=indent)
    elif shape == "jsonl":
        text = "\n".join(json.dumps(u) for u in users)
    else:
        text = "\n".join(json.dumps(u, indent=indent) for u in users)
    batch = check_accounting("entra_json", text.splitlines())
    assert batch.frame["user"].to_list() == [u["userPrincipalName"] for u in users]
    assert batch.frame["department"].to_list() == [
        (u["department"] or "").strip() or None for u in users
    ]
    assert batch.rejected.is_empty()
