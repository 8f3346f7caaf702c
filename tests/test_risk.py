"""The risk score: every documented factor, the large-upload rule, severities, and the
properties the formula promises (bounded, monotone, severity from thresholds)."""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.errors import UsageError
from shadowscan.risk import (
    SEVERITIES,
    STATUSES,
    RiskModel,
    SeverityThresholds,
    Usage,
    assess,
    at_least,
    human_bytes,
    parameters_table,
    score,
)
from shadowscan.schema import FINDING_SCHEMA, conform
from shadowscan.signatures import Catalogue, Risk, Service
from tests.outputs.fixtures import findings as fixture_findings


def service(sid: str, **risk: Any) -> Service:
    return Service.model_validate(
        {
            "id": sid,
            "name": sid.title(),
            "vendor": "Example",
            "category": "chat_assistant",
            "domains": [f"{sid}.example"],
            "references": ["https://example.com/docs"],
            "examples": {"match": [f"{sid}.example"]},
            "risk": risk,
        }
    )


#: Services with every combination of the attributes the score reads.
SERVICES = {
    "plain": service("plain", trains_on_user_data=False, enterprise_tier=True, hq_country="US"),
    "trains": service("trains", trains_on_user_data=True, enterprise_tier=True),
    "unknown": service("unknown"),
    "consumer": service("consumer", trains_on_user_data=True, enterprise_tier=False),
    "abroad": service("abroad", trains_on_user_data=True, enterprise_tier=False, hq_country="CN"),
}
CATALOGUE = Catalogue(services=SERVICES)
#: A finding that scores only its status (tolerated +5): tests add what they measure.
QUIET = {"service_id": "plain", "policy": "tolerated", "confidence": "high"}


def usage(**changes: Any) -> Usage:
    base = Usage(
        policy="unreviewed",
        confidence="high",
        bytes_out=None,
        large_uploads=0,
        active_days=0,
        requests=0,
        queries=0,
        blocked=0,
    )
    return dataclasses.replace(base, **changes)


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows, schema_overrides=FINDING_SCHEMA), FINDING_SCHEMA)


def factors_of(model: RiskModel | None = None, **row: Any) -> list[str]:
    out = score(frame([{**QUIET, "service_id": "plain", **row}]), CATALOGUE, model)
    factors: list[str] = out["risk_factors"][0].to_list()
    return factors


# --- factors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("sanctioned", ["sanctioned x0.25"]),
        ("tolerated", ["tolerated +5"]),
        ("unreviewed", ["unreviewed +15"]),
        ("unsanctioned", ["unsanctioned +30"]),
        (None, ["unreviewed +15"]),
    ],
)
def test_status_points(status: str | None, expected: list[str]) -> None:
    assert factors_of(policy=status) == expected


def test_sanctioned_use_is_scaled_down() -> None:
    row = {"policy": "sanctioned", "bytes_out": 10_000_000, "active_days": 5}
    out = score(frame([{**QUIET, **row}]), CATALOGUE)
    assert out["risk_factors"][0].to_list() == [
        "10.0 MB sent +15",
        "5 active days +5",
        "sanctioned x0.25",
    ]
    assert out["risk_score"][0] == 5  # (15 + 5) x 0.25


@pytest.mark.parametrize(
    ("service_id", "expected"),
    [
        ("plain", []),
        ("trains", ["trains on user data +15"]),
        ("unknown", ["training on user data unknown +5"]),
        ("consumer", ["trains on user data +15", "no enterprise tier +10"]),
        (
            "abroad",
            ["trains on user data +15", "no enterprise tier +10"],
        ),  # no jurisdiction by default
        ("not-in-catalogue", []),
    ],
)
def test_service_attributes(service_id: str, expected: list[str]) -> None:
    assert factors_of(service_id=service_id)[1:] == expected


def test_jurisdiction_unknown_tier_and_the_service_cap() -> None:
    model = RiskModel.model_validate(
        {"service": {"jurisdictions": {"CN": 15, "RU": 15}, "enterprise_tier_unknown": 4}}
    )
    assert factors_of(model, service_id="abroad")[1:] == [
        "trains on user data +15",
        "no enterprise tier +10",
        "jurisdiction CN +15",
        "service risk capped at 30 -10",
    ]
    assert factors_of(model, service_id="unknown")[1:] == [
        "training on user data unknown +5",
        "enterprise tier unknown +4",
    ]
    assert factors_of(model, service_id="plain") == ["tolerated +5"]  # US is not listed
    assert (
        score(frame([{**QUIET, "service_id": "abroad", "policy": "tolerated"}]), CATALOGUE, model)[
            "risk_score"
        ][0]
        == 35
    )  # tolerated 5 + service 30 (capped)


@pytest.mark.parametrize(
    ("bytes_out", "expected"),
    [
        (None, []),
        (0, []),
        (10_000, []),
        (100_000, ["100.0 kB sent +5"]),
        (1_000_000, ["1.0 MB sent +10"]),
        (2_358_474, ["2.4 MB sent +12"]),
        (10_000_000, ["10.0 MB sent +15"]),
        (100_000_000, ["100.0 MB sent +20"]),
        (50_000_000_000, ["50.0 GB sent +20"]),
    ],
)
def test_data_sent_on_a_log_scale(bytes_out: int | None, expected: list[str]) -> None:
    factors = factors_of(bytes_out=bytes_out)
    assert [f for f in factors if " sent " in f] == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, []),
        (1, ["1 large upload +10"]),
        (2, ["2 large uploads +20"]),
        (7, ["7 large uploads +20"]),
    ],
)
def test_large_uploads(count: int, expected: list[str]) -> None:
    assert factors_of(large_uploads=count)[1:] == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [(0, []), (1, ["1 active day +1"]), (3, ["3 active days +3"]), (45, ["45 active days +10"])],
)
def test_active_days(days: int, expected: list[str]) -> None:
    assert factors_of(active_days=days)[1:] == expected


@pytest.mark.parametrize(
    ("requests", "queries", "expected"),
    [
        (0, 0, []),
        (1, 0, []),
        (10, 0, ["10 requests +3"]),
        (28, 6, ["28 requests +4"]),
        (3, 6, ["6 lookups +2"]),
        (5_000_000, 0, ["5000000 requests +10"]),
    ],
)
def test_requests_on_a_log_scale(requests: int, queries: int, expected: list[str]) -> None:
    assert factors_of(requests=requests, queries=queries)[1:] == expected


@pytest.mark.parametrize(
    ("confidence", "factor", "expected_score"),
    [
        ("high", None, 50),
        ("medium", "confidence medium x0.8", 40),
        ("low", "confidence low x0.6", 30),
    ],
)
def test_confidence_multiplier(confidence: str, factor: str | None, expected_score: int) -> None:
    # unsanctioned 30 + 1 MB 10 + 10 days 10 = 50 points
    row = {
        "policy": "unsanctioned",
        "bytes_out": 1_000_000,
        "active_days": 10,
        "confidence": confidence,
    }
    out = score(frame([{**QUIET, **row}]), CATALOGUE).row(0, named=True)
    assert out["risk_score"] == expected_score
    assert (
        (factor in out["risk_factors"])
        if factor
        else not any(f.startswith("confidence") for f in out["risk_factors"])
    )


@pytest.mark.parametrize(
    ("requests", "queries", "blocked", "blocked_only", "expected"),
    [
        (4, 0, 4, True, 16),  # (30 + 2) x 0.5
        (0, 3, 3, True, 16),  # (30 + 1) x 0.5 = 15.5, rounded half up
        (4, 2, 6, True, 16),
        (4, 2, 5, False, 32),
        (4, 0, 0, False, 32),
        (0, 0, 0, False, 30),
    ],
)
def test_blocked_only_counts_half(
    requests: int, queries: int, blocked: int, blocked_only: bool, expected: int
) -> None:
    row = {"policy": "unsanctioned", "requests": requests, "queries": queries, "blocked": blocked}
    out = score(frame([{**QUIET, **row}]), CATALOGUE).row(0, named=True)
    assert ("all blocked x0.5" in out["risk_factors"]) is blocked_only
    assert out["risk_score"] == expected


def test_large_upload_to_unsanctioned_is_at_least_high() -> None:
    row = {
        "policy": "unsanctioned",
        "large_uploads": 1,
        "confidence": "low",
        "requests": 1,
        "blocked": 1,
    }
    out = score(frame([{**QUIET, **row}]), CATALOGUE).row(0, named=True)
    # (30 + 10) x 0.6 x 0.5 = 12, raised to the least high score
    assert out["risk_score"] == 60
    assert out["severity"] == "high"
    assert out["risk_factors"][-1] == "large upload to unsanctioned service: at least high (60)"
    # Other statuses have no floor by default; a policy may add one.
    unreviewed = {**row, "policy": "unreviewed"}
    assert score(frame([{**QUIET, **unreviewed}]), CATALOGUE)["severity"][0] == "info"
    model = RiskModel.model_validate(
        {"large_uploads": {"floor": {"unreviewed": "medium", "unsanctioned": "high"}}}
    )
    assert score(frame([{**QUIET, **unreviewed}]), CATALOGUE, model)["risk_score"][0] == 40


def test_the_formula_end_to_end() -> None:
    """The fixture's ChatGPT finding, recomputed by hand from the README's table."""
    from shadowscan.signatures import load_catalogue

    chatgpt = fixture_findings().head(1).with_columns(pl.lit("unsanctioned").alias("policy"))
    out = score(chatgpt, load_catalogue()).row(0, named=True)
    assert out["risk_factors"] == [
        "unsanctioned +30",
        "trains on user data +15",
        "2.4 MB sent +12",
        "1 large upload +10",
        "3 active days +3",
        "28 requests +4",
    ]
    assert out["risk_score"] == 74
    assert out["severity"] == "high"


def test_output_columns_and_types() -> None:
    rows = [{**QUIET, "service_id": sid} for sid in SERVICES]
    source = frame(rows)
    out = score(source, CATALOGUE)
    assert out.columns == source.columns
    assert out.schema == source.schema
    assert out["risk_score"].dtype == pl.UInt8
    assert out.filter(pl.col("risk_score").is_null()).is_empty()
    assert score(frame([]), CATALOGUE).schema == source.schema


# --- severities -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        (0, "info"),
        (19, "info"),
        (20, "low"),
        (39, "low"),
        (40, "medium"),
        (59, "medium"),
        (60, "high"),
        (79, "high"),
        (80, "critical"),
        (100, "critical"),
    ],
)
def test_default_thresholds(value: int, severity: str) -> None:
    assert SeverityThresholds().of(value) == severity


def test_custom_thresholds() -> None:
    model = RiskModel.model_validate(
        {"severity": {"low": 10, "medium": 25, "high": 50, "critical": 90}}
    )
    row = {"policy": "unsanctioned"}  # 30 points
    assert score(frame([{**QUIET, **row}]), CATALOGUE, model)["severity"][0] == "medium"


def test_at_least() -> None:
    findings = pl.DataFrame({"severity": ["info", "low", "medium", "high", "critical", None]})
    assert at_least(findings, "high").to_list() == [False, False, False, True, True, False]
    assert at_least(findings, "info").to_list() == [True] * 5 + [False]
    assert at_least(findings.head(0), "critical").to_list() == []
    with pytest.raises(
        UsageError, match=r"unknown severity 'severe': use one of info, low, medium, high, critical"
    ):
        at_least(findings, "severe")


def test_overrides_keep_other_defaults() -> None:
    model = RiskModel.model_validate({"status": {"tolerated": 10}, "data": {"cap": 25}})
    assert (model.status.tolerated, model.status.unsanctioned) == (10, 30)
    assert (model.data.cap, model.data.per_decade) == (25, 5.0)
    assert model.large_uploads.floor == {"unsanctioned": "high"}


def test_parameters_table_lists_every_setting() -> None:
    def leaves(model: type[Any]) -> int:
        fields = model.model_fields.values()
        return sum(
            leaves(f.annotation)
            if isinstance(f.annotation, type) and hasattr(f.annotation, "model_fields")
            else 1
            for f in fields
        )

    rows = parameters_table().splitlines()[2:]
    assert len(rows) == leaves(RiskModel)
    assert "| `risk.large_uploads.floor` | `{unsanctioned: high}` |" in "\n".join(rows)
    assert all(row.count("|") == 4 and not row.endswith("| None |") for row in rows)


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (2_358_474, "2.4 MB"),
        (999_960, "1.0 MB"),
        (3 * 10**12, "3.0 TB"),
    ],
)
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text


# --- properties --------------------------------------------------------------------------

STRICTNESS: dict[str, int] = {s: i for i, s in enumerate(STATUSES)}


@st.composite
def usages(draw: st.DrawFn) -> Usage:
    requests = draw(st.integers(0, 10**7))
    queries = draw(st.integers(0, 10**5))
    return Usage(
        policy=draw(st.sampled_from(STATUSES)),
        confidence=draw(st.sampled_from(("low", "medium", "high"))),
        bytes_out=draw(st.none() | st.integers(0, 10**12)),
        large_uploads=draw(st.integers(0, 50)),
        active_days=draw(st.integers(0, 400)),
        requests=requests,
        queries=queries,
        blocked=draw(st.integers(0, requests + queries)),
    )


risks = st.builds(
    Risk,
    trains_on_user_data=st.none() | st.booleans(),
    enterprise_tier=st.none() | st.booleans(),
    hq_country=st.none() | st.sampled_from(("US", "CN", "RU", "FR")),
)


def sorted_list(elements: st.SearchStrategy[Any], size: int) -> st.SearchStrategy[list[Any]]:
    return st.lists(elements, min_size=size, max_size=size).map(sorted)


@st.composite
def models(draw: st.DrawFn) -> RiskModel:
    """The default model, the example policy's, or any valid set of weights."""
    kind = draw(st.sampled_from(("default", "example", "random")))
    if kind == "default":
        return RiskModel()
    if kind == "example":
        return RiskModel.model_validate(
            {
                "service": {"jurisdictions": {"CN": 15, "RU": 15}},
                "large_uploads": {"floor": {"unreviewed": "medium", "unsanctioned": "high"}},
            }
        )
    unit = st.floats(0, 1, allow_nan=False)
    points = sorted_list(st.integers(0, 60), 4)
    return RiskModel.model_validate(
        {
            "status": dict(zip(STATUSES, draw(points), strict=True)),
            "status_multiplier": dict(zip(STATUSES, draw(sorted_list(unit, 4)), strict=True)),
            "confidence": dict(
                zip(("low", "medium", "high"), draw(sorted_list(unit, 3)), strict=True)
            ),
            "service": {
                "trains_on_user_data": draw(st.integers(0, 40)),
                "no_enterprise_tier": draw(st.integers(0, 40)),
                "jurisdictions": {"CN": draw(st.integers(0, 40))},
                "cap": draw(st.integers(0, 60)),
            },
            "data": {
                "floor_bytes": draw(st.integers(1, 10**7)),
                "per_decade": draw(st.floats(0, 20, allow_nan=False)),
            },
            "breadth": {"requests_per_decade": draw(st.floats(0, 10, allow_nan=False))},
            "blocked_only": draw(unit),
            "severity": dict(
                zip(
                    ("low", "medium", "high", "critical"),
                    sorted(draw(st.sets(st.integers(1, 100), min_size=4, max_size=4))),
                    strict=True,
                )
            ),
        }
    )


@given(u=usages(), risk=risks, model=models(), more=st.integers(0, 10**9))
def test_more_activity_never_lowers_the_score(
    u: Usage, risk: Risk, model: RiskModel, more: int
) -> None:
    before, _ = assess(u, risk, model)
    assert 0 <= before <= 100
    grown = [
        dataclasses.replace(u, bytes_out=(u.bytes_out or 0) + more),
        dataclasses.replace(u, requests=u.requests + more),
        dataclasses.replace(u, queries=u.queries + more),
        dataclasses.replace(u, active_days=u.active_days + more % 500),
        dataclasses.replace(u, large_uploads=u.large_uploads + more % 100),
    ]
    for changed in grown:
        after, _ = assess(changed, risk, model)
        assert before <= after <= 100, changed


@given(
    u=usages(),
    risk=risks,
    model=models(),
    status=st.sampled_from(STATUSES),
    confidence=st.sampled_from(("low", "medium", "high")),
)
def test_stricter_status_or_surer_match_never_lowers_the_score(
    u: Usage, risk: Risk, model: RiskModel, status: str, confidence: str
) -> None:
    before, _ = assess(u, risk, model)
    if STRICTNESS[status] >= STRICTNESS[str(u.policy)]:
        assert assess(dataclasses.replace(u, policy=status), risk, model)[0] >= before
    if ("low", "medium", "high").index(confidence) >= ("low", "medium", "high").index(
        str(u.confidence)
    ):
        assert assess(dataclasses.replace(u, confidence=confidence), risk, model)[0] >= before


@given(
    rows=st.lists(usages(), min_size=1, max_size=8),
    ids=st.lists(st.sampled_from(sorted(SERVICES)), min_size=8, max_size=8),
    model=models(),
)
def test_scores_are_bounded_and_severity_follows_the_thresholds(
    rows: list[Usage], ids: list[str], model: RiskModel
) -> None:
    findings = frame(
        [{**dataclasses.asdict(u), "service_id": sid} for u, sid in zip(rows, ids, strict=False)]
    )
    out = score(findings, CATALOGUE, model)
    t = model.severity
    for value, severity in zip(out["risk_score"], out["severity"], strict=True):
        assert 0 <= value <= 100
        expected = (
            "critical"
            if value >= t.critical
            else "high"
            if value >= t.high
            else "medium"
            if value >= t.medium
            else "low"
            if value >= t.low
            else "info"
        )
        assert severity == expected


@given(u=usages(), risk=risks, model=models())
def test_any_large_upload_to_an_unsanctioned_service_is_at_least_high(
    u: Usage, risk: Risk, model: RiskModel
) -> None:
    u = dataclasses.replace(u, policy="unsanctioned", large_uploads=max(1, u.large_uploads))
    value, factors = assess(u, risk, model)
    assert SEVERITIES.index(model.severity.of(value)) >= SEVERITIES.index("high")
    assert factors  # the reason is always shown
