"""The policy file: loading with located errors, and which rule decides a finding."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.errors import UsageError
from shadowscan.policy import (
    STATUSES,
    Policy,
    PolicyError,
    apply_policy,
    evaluate,
    load_policy,
)
from shadowscan.schema import FINDING_SCHEMA, conform
from shadowscan.signatures import Catalogue, load_catalogue
from tests.outputs.fixtures import findings as fixture_findings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "policy-example.yaml"
TODAY = dt.date(2026, 11, 26)
CATALOGUE = load_catalogue()


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return CATALOGUE


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def finding_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Findings with the identity columns the policy reads; service, vendor and category
    come from the catalogue, as the engine fills them."""
    full = []
    for row in rows:
        svc = CATALOGUE.services[row["service_id"]]
        full.append(
            {
                "user": None,
                "department": None,
                "service": svc.name,
                "vendor": svc.vendor,
                "category": svc.category,
                **row,
            }
        )
    return conform(pl.DataFrame(full), FINDING_SCHEMA)


def decide(policy: Policy | None, today: dt.date = TODAY, **row: Any) -> tuple[str, str]:
    out = apply_policy(finding_frame([row]), policy, CATALOGUE, today)
    return out["policy"][0], out["policy_rule"][0]


PRECEDENCE = """\
default: unsanctioned
services:
  github-copilot:
    status: unsanctioned
    departments: {Engineering: sanctioned}
    users:
      - {user: asmith, status: tolerated, until: 2027-03-31, reason: "pilot, ticket SEC-123"}
vendors:
  github: tolerated
categories:
  coding_assistant: sanctioned
"""


@pytest.mark.parametrize(
    ("user", "department", "service_id", "expected"),
    [
        # user beats department beats service
        (
            "asmith",
            "Engineering",
            "github-copilot",
            ("tolerated", "user:asmith (service:github-copilot, until 2027-03-31)"),
        ),
        (
            "ASMITH",
            None,
            "github-copilot",
            ("tolerated", "user:asmith (service:github-copilot, until 2027-03-31)"),
        ),
        (
            "bwong",
            "Engineering",
            "github-copilot",
            ("sanctioned", "department:Engineering (service:github-copilot)"),
        ),
        (
            "bwong",
            "engineering ",
            "github-copilot",
            ("sanctioned", "department:Engineering (service:github-copilot)"),
        ),
        ("bwong", "Sales", "github-copilot", ("unsanctioned", "service:github-copilot")),
        (None, None, "github-copilot", ("unsanctioned", "service:github-copilot")),
        # service beats vendor beats category beats default (github-spark: GitHub, coding_assistant)
        ("bwong", "Sales", "github-spark", ("tolerated", "vendor:GitHub")),
        ("asmith", "Engineering", "cursor", ("sanctioned", "category:coding_assistant")),
        ("asmith", "Engineering", "openai-chatgpt", ("unsanctioned", "default")),
    ],
)
def test_precedence(
    tmp_path: Path,
    catalogue: Catalogue,
    user: str | None,
    department: str | None,
    service_id: str,
    expected: tuple[str, str],
) -> None:
    policy = load_policy(write(tmp_path, PRECEDENCE), catalogue)
    assert decide(policy, user=user, department=department, service_id=service_id) == expected


def test_user_exception_applies_through_its_last_day_and_not_after(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    policy = load_policy(write(tmp_path, PRECEDENCE), catalogue)
    row = {"user": "asmith", "department": "Engineering", "service_id": "github-copilot"}
    assert decide(policy, dt.date(2027, 3, 31), **row)[0] == "tolerated"
    # Expired: the department exception decides again.
    assert decide(policy, dt.date(2027, 4, 1), **row) == (
        "sanctioned",
        "department:Engineering (service:github-copilot)",
    )
    assert policy.expired(dt.date(2027, 4, 1)) == [
        f"{tmp_path / 'policy.yaml'}:7: the exception for user asmith on service:github-copilot "
        "expired on 2027-03-31 and no longer applies; renew or remove it"
    ]
    assert policy.expired(dt.date(2027, 3, 31)) == []


def test_expiring_department_exception(tmp_path: Path, catalogue: Catalogue) -> None:
    text = """\
services:
  github-copilot:
    status: unsanctioned
    departments:
      Platform Operations: {status: tolerated, until: 2027-01-31, reason: trial}
"""
    policy = load_policy(write(tmp_path, text), catalogue)
    row = {"user": "ops1", "department": "Platform Operations", "service_id": "github-copilot"}
    assert decide(policy, dt.date(2027, 1, 31), **row) == (
        "tolerated",
        "department:Platform Operations (service:github-copilot, until 2027-01-31)",
    )
    assert decide(policy, dt.date(2027, 2, 1), **row) == ("unsanctioned", "service:github-copilot")
    assert len(policy.expired(dt.date(2027, 2, 1))) == 1


def test_exceptions_under_vendors_and_categories(tmp_path: Path, catalogue: Catalogue) -> None:
    text = """\
services:
  anthropic-claude: unsanctioned
vendors:
  Anthropic:
    departments: {Research: tolerated}
categories:
  chat_assistant:
    status: unsanctioned
    users:
      - {user: jdoe, status: tolerated, until: 2027-01-01}
"""
    policy = load_policy(write(tmp_path, text), catalogue)
    # A user exception on the category beats the service's own status ...
    assert decide(policy, user="jdoe", service_id="anthropic-claude") == (
        "tolerated",
        "user:jdoe (category:chat_assistant, until 2027-01-01)",
    )
    # ... and a department exception on the vendor does too.
    assert decide(policy, user="x", department="Research", service_id="anthropic-claude") == (
        "tolerated",
        "department:Research (vendor:Anthropic)",
    )
    # An entry with only exceptions lets everyone else fall through to the next level.
    assert decide(policy, user="x", department="Sales", service_id="anthropic-api") == (
        "unreviewed",
        "default",
    )


def test_more_specific_scope_wins_between_exceptions_of_one_kind(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    text = """\
services:
  openai-chatgpt:
    users: [{user: jdoe, status: unsanctioned, until: 2027-01-01}]
vendors:
  OpenAI:
    users: [{user: jdoe, status: sanctioned, until: 2027-01-01}]
"""
    policy = load_policy(write(tmp_path, text), catalogue)
    assert decide(policy, user="jdoe", service_id="openai-chatgpt")[1].startswith(
        "user:jdoe (service:openai-chatgpt"
    )
    assert decide(policy, user="jdoe", service_id="openai-api")[0] == "sanctioned"


def test_without_a_policy_everything_is_unreviewed_by_default() -> None:
    frame = finding_frame(
        [{"user": "a", "service_id": "openai-chatgpt"}, {"service_id": "github-copilot"}]
    )
    out = apply_policy(frame, None, CATALOGUE, TODAY)
    assert out["policy"].to_list() == ["unreviewed", "unreviewed"]
    assert out["policy_rule"].to_list() == ["default", "default"]
    assert out.columns == frame.columns


def test_empty_findings(tmp_path: Path, catalogue: Catalogue) -> None:
    policy = load_policy(write(tmp_path, PRECEDENCE), catalogue)
    empty = pl.DataFrame(schema=FINDING_SCHEMA)
    out = evaluate(empty, policy, catalogue, TODAY)
    assert out.is_empty()
    assert out.schema == empty.schema


def test_empty_sections_are_allowed(tmp_path: Path, catalogue: Catalogue) -> None:
    policy = load_policy(write(tmp_path, "default: tolerated\nservices:\n# none yet\n"), catalogue)
    assert decide(policy, service_id="openai-chatgpt") == ("tolerated", "default")


# --- errors ------------------------------------------------------------------------------


def problems_of(path: Path, catalogue: Catalogue) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(path, catalogue)
    assert isinstance(info.value, UsageError)
    return info.value.problems


def test_unknown_service_id_names_file_line_and_suggests(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    path = write(
        tmp_path,
        "default: unreviewed\nservices:\n  openai-chatgpt: unsanctioned\n  chatgtp: tolerated\n",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path, catalogue)
    message = str(info.value)
    assert message.startswith(f"{path}:4: services.chatgtp: unknown service id 'chatgtp'")
    assert "(did you mean 'openai-chatgpt'?)" in message
    assert message.endswith("`shadowscan signatures list --search chatgtp` finds ids")


def test_service_display_name_suggests_its_id(tmp_path: Path, catalogue: Catalogue) -> None:
    path = write(tmp_path, "services:\n  GitHub Copilot: unsanctioned\n")
    [problem] = problems_of(path, catalogue)
    assert problem.startswith(f"{path}:2: ")
    assert "did you mean 'github-copilot'?" in problem
    assert "--search 'GitHub Copilot'" in problem


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (
            "categories:\n  coding: tolerated\n",
            2,
            "unknown category 'coding' (did you mean 'coding_assistant'?)",
        ),
        ("vendors:\n  OpenAl: tolerated\n", 2, "unknown vendor 'OpenAl' (did you mean 'OpenAI'?)"),
        (
            "vendors:\n  OpenAI: tolerated\n  openai: sanctioned\n",
            3,
            "vendor 'openai' is listed twice",
        ),
        (
            "default: allowed\n",
            1,
            "'allowed' is not one of sanctioned, tolerated, unreviewed, unsanctioned",
        ),
        (
            "services:\n  github-copilot:\n    status: unsanctionned\n",
            3,
            "services.github-copilot.status: 'unsanctionned' is not one of",
        ),
        (
            "services:\n  github-copilot:\n    staus: unsanctioned\n",
            3,
            "unknown key 'staus' (did you mean 'status'?); allowed here: departments, reason, status, users",
        ),
        (
            "servces: {}\n",
            1,
            "unknown key 'servces' (did you mean 'services'?); allowed here: categories, default, risk, services, vendors, version",
        ),
        (
            "services:\n  github-copilot:\n    users:\n      - {user: asmith, status: tolerated}\n",
            4,
            "services.github-copilot.users[0].until: user exceptions must expire: add `until: YYYY-MM-DD`",
        ),
        (
            "services:\n  github-copilot:\n    users:\n      - user: asmith\n        status: tolerated\n        until: 2027-02-30\n",
            6,
            "'2027-02-30' is not a valid date",
        ),
        (
            "services:\n  github-copilot:\n    users:\n      - {user: asmith, status: tolerated, until: 20270331}\n",
            4,
            "20270331 is not a date: write it as YYYY-MM-DD",
        ),
        (
            "services:\n  github-copilot:\n    departments: {Sales: tolerated, sales: sanctioned}\n",
            3,
            "department 'sales' is listed twice",
        ),
        (
            "services:\n  github-copilot:\n    users:\n      - {user: ann, status: tolerated, until: 2027-01-01}\n      - {user: Ann, status: sanctioned, until: 2027-01-01}\n",
            5,
            "user 'Ann' is listed twice",
        ),
        ("services:\n  github-copilot: {}\n", 2, "give a status, departments or users"),
        (
            "services:\n  github-copilot:\n    departments: {No: tolerated}\n",
            3,
            "False read as a bool: quote it",
        ),
        ("services: [github-copilot]\n", 1, "expected a mapping (key: value)"),
        (
            "default: tolerated\nservices:\n  github-copilot: sanctioned\n  github-copilot: unsanctioned\n",
            4,
            "services.github-copilot: duplicate key (first on line 3)",
        ),
        (
            "risk:\n  severity:\n    low: 50\n",
            2,
            "risk.severity: severity thresholds must increase: low (50) < medium (40)",
        ),
        ("risk:\n  status: {unsanctioned: 10}\n", 2, "unsanctioned (10) is below unreviewed (15)"),
        (
            "risk:\n  service:\n    jurisdictions: {China: 10}\n",
            3,
            "'China' is not an ISO 3166-1 alpha-2 code",
        ),
        (
            "risk:\n  large_uploads:\n    floor: {unreviewed: high, unsanctioned: medium}\n",
            3,
            "unsanctioned (medium) is below unreviewed (high)",
        ),
        ("risk:\n  confidence: {low: 0.9}\n", 2, "medium (0.8) is below low (0.9)"),
        (
            "risk:\n  blocked_only: 2\n",
            2,
            "risk.blocked_only: Input should be less than or equal to 1",
        ),
        ("version: 2\n", 1, "version: Input should be 1"),
    ],
)
def test_problems_are_located_and_say_what_to_do(
    tmp_path: Path, catalogue: Catalogue, text: str, line: int, expected: str
) -> None:
    path = write(tmp_path, text)
    [problem] = problems_of(path, catalogue)
    assert problem.startswith(f"{path}:{line}: "), problem
    assert expected in problem, problem


def test_every_problem_is_reported_in_line_order(tmp_path: Path, catalogue: Catalogue) -> None:
    text = """\
default: unreviewed
services:
  chatgtp: unsanctioned
  github-copilot:
    status: sanctioned
    departments: {Sales: nope}
categories: {coding: tolerated}
risk: {blocked_only: -1}
"""
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_policy(path, catalogue)
    lines = [int(re.match(r".*?:(\d+): ", p).group(1)) for p in info.value.problems]  # type: ignore[union-attr]
    assert lines == [3, 6, 7, 8]
    assert str(info.value).startswith(f"4 problems in {path}: {path}:3: ")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ":1: a policy is a mapping"),
        ("- openai-chatgpt\n", ":1: a policy is a mapping"),
        ("services:\n  a: [b\n", ":3: invalid YAML"),
    ],
)
def test_unusable_files(tmp_path: Path, catalogue: Catalogue, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match=re.escape(f"{path}{expected}")):
        load_policy(path, catalogue)


def test_missing_file(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_policy(tmp_path / "nope.yaml", catalogue)


# --- the example policy ----------------------------------------------------------------


def test_example_policy(catalogue: Catalogue) -> None:
    policy = load_policy(EXAMPLE, catalogue)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"user": "asmith", "service_id": "openai-chatgpt"}, "tolerated"),
        ({"user": "kpatel", "service_id": "openai-chatgpt"}, "unsanctioned"),  # expired
        ({"department": "Engineering", "service_id": "github-copilot"}, "sanctioned"),
        ({"department": "Finance", "service_id": "github-copilot"}, "unsanctioned"),
        ({"department": "Finance", "service_id": "cursor"}, "tolerated"),
        ({"service_id": "anthropic-claude"}, "tolerated"),
        ({"service_id": "deepseek-chat"}, "unsanctioned"),
        ({"service_id": "microsoft-365-copilot"}, "sanctioned"),
        ({"department": "Customer Support", "service_id": "deepl-translator"}, "sanctioned"),
        ({"department": "Sales", "service_id": "deepl-translator"}, "tolerated"),
        ({"department": "Sales", "service_id": "otter-ai"}, "tolerated"),
        ({"department": "Legal", "service_id": "fireflies-ai"}, "unsanctioned"),
        ({"service_id": "perplexity"}, "unreviewed"),
    ]
    for row, status in cases:
        assert decide(policy, **row)[0] == status, row
    [warning] = policy.expired(TODAY)
    assert warning.startswith(f"{EXAMPLE}:39: the exception for user kpatel")
    assert policy.risk.service.jurisdictions == {"CN": 15, "RU": 15}
    assert policy.risk.large_uploads.floor == {"unreviewed": "medium", "unsanctioned": "high"}


def test_evaluate_fills_policy_and_risk(catalogue: Catalogue) -> None:
    policy = load_policy(EXAMPLE, catalogue)
    frame = fixture_findings()
    out = evaluate(frame, policy, catalogue, TODAY)
    assert out.columns == frame.columns
    assert out.schema == frame.schema
    chatgpt = out.row(0, named=True)
    assert (chatgpt["policy"], chatgpt["policy_rule"]) == (
        "unsanctioned",
        "service:openai-chatgpt",
    )
    assert chatgpt["severity"] in ("high", "critical")
    assert chatgpt["risk_factors"][0] == "unsanctioned +30"
    assert out["policy_rule"].to_list()[2] == "vendor:Anthropic"
    deepseek = finding_frame(
        [{"user": "x", "service_id": "deepseek-chat", "confidence": "high", "active_days": 1}]
    )
    factors = evaluate(deepseek, policy, catalogue, TODAY)["risk_factors"][0].to_list()
    assert "jurisdiction CN +15" in factors


# --- precedence as a property ----------------------------------------------------------

LEVELS = ("user", "department", "service", "vendor", "category")
maybe_status = st.none() | st.sampled_from(STATUSES)


@given(
    levels=st.fixed_dictionaries(dict.fromkeys(LEVELS, maybe_status)),
    default=st.sampled_from(STATUSES),
    same_user=st.booleans(),
    same_department=st.booleans(),
    expired=st.booleans(),
)
def test_the_first_applicable_level_decides(
    levels: dict[str, str | None],
    default: str,
    same_user: bool,
    same_department: bool,
    expired: bool,
) -> None:
    """Reference model: the first level (user, department, service, vendor, category) that
    has a status and applies to the finding decides, else the default."""
    until = TODAY - dt.timedelta(days=1) if expired else TODAY
    service: dict[str, Any] = {}
    if levels["service"]:
        service["status"] = levels["service"]
    if levels["user"]:
        service["users"] = [{"user": "Pat", "status": levels["user"], "until": until}]
    categories: dict[str, Any] = {}
    if levels["department"]:
        # Department exceptions on the category still beat the service's own status.
        categories["coding_assistant"] = {"departments": {"R&D": levels["department"]}}
    if levels["category"]:
        categories.setdefault("coding_assistant", {})["status"] = levels["category"]
    policy = Policy.model_validate(
        {
            "default": default,
            "services": {"github-copilot": service} if service else {},
            "vendors": {"GitHub": levels["vendor"]} if levels["vendor"] else {},
            "categories": categories,
        }
    )
    applies = {
        "user": same_user and not expired,
        "department": same_department,
        "service": True,
        "vendor": True,
        "category": True,
    }
    expected = next(
        (levels[lv] for lv in LEVELS if levels[lv] and applies[lv]),
        default,
    )
    status, rule = decide(
        policy,
        user="pat" if same_user else "sam",
        department="r&d" if same_department else "Sales",
        service_id="github-copilot",
    )
    assert status == expected
    decided_by = next((lv for lv in LEVELS if levels[lv] and applies[lv]), "default")
    assert rule.startswith(decided_by)
