"""Okta /api/v1/users JSON: profile fields, spellings, and per-line accounting."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shadowscan.directory import DIRECTORY_READERS
from tests.directory.helpers import SAMPLES, any_lines, check_accounting

SAMPLE = (SAMPLES / "okta_json" / "okta-users.json").read_text(encoding="utf-8").splitlines()


def user(login: str, **profile: Any) -> dict[str, Any]:
    return {
        "id": "00u" + login[:5],
        "status": "ACTIVE",
        "profile": {"login": login, "email": login, **profile},
        "_links": {"self": {"href": f"https://corp.okta.com/api/v1/users/{login}"}},
    }


def test_profile_fields_and_spellings() -> None:
    users = [
        user(
            "john.doe@corp.example",
            secondEmail="JD@home.example",
            firstName="John",
            lastName="Doe",
            department="Engineering",
            title="Engineer",
            managerId="00u999",
            samAccountName="jdoe",
        ),
        user("alice.smith@corp.example", displayName="Alice S.", manager="Robert Chen"),
    ]
    lines = json.dumps(users, indent=2).splitlines()
    batch = check_accounting("okta_json", lines)
    assert batch.frame.select(
        "user", "display_name", "department", "title", "manager", "line_no"
    ).rows() == [
        ("john.doe@corp.example", "John Doe", "Engineering", "Engineer", "00u999", 2),
        ("alice.smith@corp.example", "Alice S.", None, None, "Robert Chen", 22),
    ]
    assert batch.frame["aliases"][0].to_list() == [
        "jd@home.example",
        "jdoe",
        "john.doe@corp.example",
    ]
    assert (batch.parsed, batch.ignored) == (len(lines) - 2, 2)


def test_bad_records() -> None:
    lines = [
        json.dumps(user("john.doe@corp.example")),
        json.dumps({"id": "00u1", "status": "ACTIVE"}),
        json.dumps({"id": "00u2", "profile": {"email": "x@corp.example"}}),
        "[1, 2]",
        '{"id": ',
    ]
    batch = check_accounting("okta_json", lines)
    assert batch.frame.height == 1
    assert dict(batch.rejected.iter_rows()) == {
        2: "missing profile",
        3: "missing profile.login",
        4: "not an object",
        5: "bad JSON",
    }


def test_sniff() -> None:
    reader = DIRECTORY_READERS.get("okta_json")
    assert reader.sniff(SAMPLE[:50]) >= 0.9
    assert reader.sniff([json.dumps({"value": [{"userPrincipalName": "x"}]})]) == 0.0
    assert reader.sniff(["profile,login"]) == 0.0


@given(any_lines(SAMPLE, max_size=60))
def test_any_lines_are_accounted_for(lines: list[str]) -> None:
    check_accounting("okta_json", lines)


@given(
    st.lists(st.from_regex(r"[a-z]{1,8}@corp\.example", fullmatch=True), max_size=6),
    st.sampled_from([None, 2]),
    st.booleans(),
)
def test_round_trip(logins: list[str], indent: int | None, as_lines: bool) -> None:
    users = [user(login, department="Sales") for login in logins]
    text = "\n".join(json.dumps(u) for u in users) if as_lines else json.dumps(users, indent=indent)
    batch = check_accounting("okta_json", text.splitlines())
    assert batch.frame["user"].to_list() == logins
    assert batch.rejected.is_empty()
