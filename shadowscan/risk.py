"""The risk score: a transparent, additive 0-100 number per finding, and its severity.

Every point a finding gets is listed in ``risk_factors`` (``unsanctioned +30``,
``2.4 MB sent +12``, ``confidence low x0.6``), so an analyst can recompute the score by
hand. The formula, in order:

1. **Points** (each component capped on its own): policy status; service attributes
   (training on user data, no enterprise tier, jurisdiction; capped together); data sent
   (log scale: points per tenfold increase over a floor); large uploads; active days;
   requests (log scale).
2. **Multipliers**: the status multiplier (sanctioned use is mostly expected), the
   confidence multiplier, and the blocked-only multiplier (every attempt was blocked).
3. **Rounding and clamp** to 0-100.
4. **Floors**: a large upload to a service with a status listed in
   ``large_uploads.floor`` (default: ``unsanctioned``) is at least that severity
   (default ``high``), whatever the other factors say.

Every weight is a field of :class:`RiskModel`, overridable under ``risk:`` in the policy
file. The validators keep the score monotone: a stricter status, more data, more
requests, more days or a higher confidence never lowers it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self, get_args

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shadowscan.errors import UsageError
from shadowscan.signatures import Catalogue, Risk

Status = Literal["sanctioned", "tolerated", "unreviewed", "unsanctioned"]
#: Policy statuses, laxest to strictest (the order the risk model ranks them in).
STATUSES: tuple[Status, ...] = get_args(Status)

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}

_CONFIDENCES = ("low", "medium", "high")


class _Weights(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _non_decreasing(
    values: Mapping[str, Any],
    order: tuple[str, ...],
    what: str,
    shown: Mapping[str, Any] | None = None,
) -> None:
    """A stricter status (or higher confidence) must never be scored more leniently."""
    shown = shown or values
    for lax, strict in itertools.pairwise(order):
        if values[strict] < values[lax]:
            raise ValueError(
                f"{what}: {strict} ({shown[strict]}) is below {lax} ({shown[lax]}); "
                f"each of {', '.join(order)} must be at least the one before"
            )


class StatusPoints(_Weights):
    """Points for the finding's policy status."""

    sanctioned: int = Field(0, ge=0, le=100, description="Points for a sanctioned service.")
    tolerated: int = Field(5, ge=0, le=100, description="Points for a tolerated service.")
    unreviewed: int = Field(
        15, ge=0, le=100, description="Points for a service nobody has reviewed yet."
    )
    unsanctioned: int = Field(
        30, ge=0, le=100, description="Points for a service the policy forbids."
    )

    @model_validator(mode="after")
    def _monotone(self) -> Self:
        _non_decreasing(self.model_dump(), STATUSES, "status points")
        return self


class StatusMultipliers(_Weights):
    """Multiplier on the whole score by policy status: use of a sanctioned service is
    expected, so its data volume and breadth matter much less."""

    sanctioned: float = Field(
        0.25, ge=0, le=1, description="Multiplier for findings on a sanctioned service."
    )
    tolerated: float = Field(
        1.0, ge=0, le=1, description="Multiplier for findings on a tolerated service."
    )
    unreviewed: float = Field(
        1.0, ge=0, le=1, description="Multiplier for findings on an unreviewed service."
    )
    unsanctioned: float = Field(
        1.0, ge=0, le=1, description="Multiplier for findings on an unsanctioned service."
    )

    @model_validator(mode="after")
    def _monotone(self) -> Self:
        _non_decreasing(self.model_dump(), STATUSES, "status multipliers")
        return self


class ServiceWeights(_Weights):
    """Points from the catalogue's risk attributes of the service (``risk:`` in its
    signature), capped together."""

    trains_on_user_data: int = Field(
        15, ge=0, le=100, description="The service trains on user content by default."
    )
    training_unknown: int = Field(
        5,
        ge=0,
        le=100,
        description="The catalogue does not say whether the service trains on user content.",
    )
    no_enterprise_tier: int = Field(
        10,
        ge=0,
        le=100,
        description="The service offers no enterprise tier with contractual data protection.",
    )
    enterprise_tier_unknown: int = Field(
        0, ge=0, le=100, description="The catalogue does not say whether it has one."
    )
    jurisdictions: dict[str, int] = Field(
        default_factory=dict,
        description="Points by the vendor's headquarters country (ISO 3166-1 alpha-2), e.g. `{CN: 15, RU: 15}`; none by default (see docs/policy-example.yaml).",
    )
    cap: int = Field(30, ge=0, le=100, description="Most points the service attributes give.")

    @field_validator("jurisdictions")
    @classmethod
    def _countries(cls, value: dict[str, int]) -> dict[str, int]:
        for country, points in value.items():
            if len(country) != 2 or not country.isascii() or not country.isupper():
                raise ValueError(
                    f"jurisdiction {country!r} is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. 'CN')"
                )
            if not 0 <= points <= 100:
                raise ValueError(f"jurisdiction {country}: points must be 0-100, not {points}")
        return value


class DataWeights(_Weights):
    """Points for the bytes sent to the service, on a log scale: each tenfold increase
    over ``floor_bytes`` adds ``per_decade`` points."""

    floor_bytes: int = Field(
        10_000, ge=1, description="Bytes sent below which data scores nothing (a few prompts)."
    )
    per_decade: float = Field(
        5.0, ge=0, le=100, description="Points per tenfold increase of bytes over the floor."
    )
    cap: int = Field(20, ge=0, le=100, description="Most points data sent gives.")


def _default_upload_floor() -> dict[Status, Severity]:
    return {"unsanctioned": "high"}


class UploadWeights(_Weights):
    """Points for requests that each sent more than ``--upload-threshold``."""

    each: int = Field(10, ge=0, le=100, description="Points per large upload.")
    cap: int = Field(20, ge=0, le=100, description="Most points large uploads give.")
    floor: dict[Status, Severity] = Field(
        default_factory=_default_upload_floor,
        description="Least severity of a finding with a large upload, by policy status.",
    )

    @field_validator("floor")
    @classmethod
    def _monotone(cls, value: dict[Status, Severity]) -> dict[Status, Severity]:
        ranks: dict[str, int] = {s: SEVERITY_RANK[value[s]] if s in value else -1 for s in STATUSES}
        shown: dict[str, str] = {s: value.get(s, "none") for s in STATUSES}
        _non_decreasing(ranks, STATUSES, "large upload floors", shown)
        return value


class BreadthWeights(_Weights):
    """Points for how much the service was used: days, and requests on a log scale."""

    per_active_day: int = Field(1, ge=0, le=100, description="Points per active day.")
    active_days_cap: int = Field(10, ge=0, le=100, description="Most points active days give.")
    requests_per_decade: float = Field(
        3.0,
        ge=0,
        le=100,
        description="Points per tenfold increase of requests (DNS lookups when there are more of them).",
    )
    requests_cap: int = Field(10, ge=0, le=100, description="Most points requests give.")


class ConfidenceMultipliers(_Weights):
    """Multiplier by the finding's match confidence: a weak match is weaker evidence."""

    high: float = Field(1.0, ge=0, le=1, description="Multiplier for a high-confidence match.")
    medium: float = Field(0.8, ge=0, le=1, description="Multiplier for a medium-confidence match.")
    low: float = Field(
        0.6, ge=0, le=1, description="Multiplier for a low-confidence match (e.g. IP range only)."
    )

    @model_validator(mode="after")
    def _monotone(self) -> Self:
        _non_decreasing(self.model_dump(), _CONFIDENCES, "confidence multipliers")
        return self


class SeverityThresholds(_Weights):
    """Lowest score of each severity; below ``low`` is ``info``."""

    low: int = Field(20, ge=1, le=100, description="Lowest score that is `low`.")
    medium: int = Field(40, ge=1, le=100, description="Lowest score that is `medium`.")
    high: int = Field(60, ge=1, le=100, description="Lowest score that is `high`.")
    critical: int = Field(80, ge=1, le=100, description="Lowest score that is `critical`.")

    @model_validator(mode="after")
    def _increasing(self) -> Self:
        if not self.low < self.medium < self.high < self.critical:
            raise ValueError(
                f"severity thresholds must increase: low ({self.low}) < medium ({self.medium}) "
                f"< high ({self.high}) < critical ({self.critical})"
            )
        return self

    def lowest(self, severity: Severity) -> int:
        """The lowest score of ``severity``."""
        return 0 if severity == "info" else int(getattr(self, severity))

    def of(self, score: int) -> Severity:
        for severity in reversed(SEVERITIES):
            if score >= self.lowest(severity):
                return severity
        return "info"


class RiskModel(_Weights):
    """Every weight, cap and threshold of the risk score (``risk:`` in the policy file)."""

    status: StatusPoints = Field(default_factory=StatusPoints, description=StatusPoints.__doc__)
    status_multiplier: StatusMultipliers = Field(
        default_factory=StatusMultipliers, description=StatusMultipliers.__doc__
    )
    service: ServiceWeights = Field(
        default_factory=ServiceWeights, description=ServiceWeights.__doc__
    )
    data: DataWeights = Field(default_factory=DataWeights, description=DataWeights.__doc__)
    large_uploads: UploadWeights = Field(
        default_factory=UploadWeights, description=UploadWeights.__doc__
    )
    breadth: BreadthWeights = Field(
        default_factory=BreadthWeights, description=BreadthWeights.__doc__
    )
    confidence: ConfidenceMultipliers = Field(
        default_factory=ConfidenceMultipliers, description=ConfidenceMultipliers.__doc__
    )
    blocked_only: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Multiplier when the device blocked every request and lookup: demand, but no data reached the service.",
    )
    severity: SeverityThresholds = Field(
        default_factory=SeverityThresholds, description=SeverityThresholds.__doc__
    )


@dataclass(frozen=True)
class Usage:
    """What the score reads from one finding."""

    policy: str | None
    confidence: str | None
    bytes_out: int | None
    large_uploads: int
    active_days: int
    requests: int
    queries: int
    blocked: int


def _round(value: float) -> int:
    """Half up, so a score never depends on banker's rounding."""
    return math.floor(value + 0.5)


def human_bytes(count: int) -> str:
    """``2358474`` -> ``2.4 MB`` (decimal units, like ``--upload-threshold``)."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 999.95 or unit == "TB":
            return f"{count} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _log_points(count: float, base: float, per_decade: float, cap: int) -> int:
    if count <= base:
        return 0
    return min(cap, _round(per_decade * math.log10(count / base)))


def _service_points(risk: Risk | None, weights: ServiceWeights) -> tuple[int, list[str]]:
    if risk is None:
        return 0, []
    parts: list[tuple[str, int]] = []
    if risk.trains_on_user_data:
        parts.append(("trains on user data", weights.trains_on_user_data))
    elif risk.trains_on_user_data is None:
        parts.append(("training on user data unknown", weights.training_unknown))
    if risk.enterprise_tier is False:
        parts.append(("no enterprise tier", weights.no_enterprise_tier))
    elif risk.enterprise_tier is None:
        parts.append(("enterprise tier unknown", weights.enterprise_tier_unknown))
    if risk.hq_country in weights.jurisdictions:
        parts.append((f"jurisdiction {risk.hq_country}", weights.jurisdictions[risk.hq_country]))
    factors = [f"{label} +{points}" for label, points in parts if points]
    total = sum(points for _, points in parts)
    if total > weights.cap:
        factors.append(f"service risk capped at {weights.cap} -{total - weights.cap}")
        total = weights.cap
    return total, factors


def assess(usage: Usage, risk: Risk | None, model: RiskModel) -> tuple[int, list[str]]:
    """The score of one finding (0-100) and the factors that make it up, in order."""
    status = usage.policy if usage.policy in STATUSES else "unreviewed"
    factors: list[str] = []
    total = 0

    points = getattr(model.status, status)
    if points:
        factors.append(f"{status} +{points}")
    total += points

    points, service_factors = _service_points(risk, model.service)
    factors += service_factors
    total += points

    if usage.bytes_out is not None:
        data = model.data
        points = _log_points(usage.bytes_out, data.floor_bytes, data.per_decade, data.cap)
        if points:
            factors.append(f"{human_bytes(usage.bytes_out)} sent +{points}")
        total += points

    uploads = model.large_uploads
    points = min(uploads.cap, uploads.each * usage.large_uploads)
    if points:
        factors.append(f"{_plural(usage.large_uploads, 'large upload')} +{points}")
    total += points

    breadth = model.breadth
    points = min(breadth.active_days_cap, breadth.per_active_day * usage.active_days)
    if points:
        factors.append(f"{_plural(usage.active_days, 'active day')} +{points}")
    total += points
    activity, noun = (
        (usage.requests, "request")
        if usage.requests >= usage.queries
        else (usage.queries, "lookup")
    )
    points = _log_points(activity, 1, breadth.requests_per_decade, breadth.requests_cap)
    if points:
        factors.append(f"{_plural(activity, noun)} +{points}")
    total += points

    multiplier = 1.0
    status_multiplier = getattr(model.status_multiplier, status)
    if status_multiplier != 1:
        factors.append(f"{status} x{status_multiplier:g}")
        multiplier *= status_multiplier
    confidence = usage.confidence if usage.confidence in _CONFIDENCES else "low"
    confidence_multiplier = getattr(model.confidence, confidence)
    if confidence_multiplier != 1:
        factors.append(f"confidence {confidence} x{confidence_multiplier:g}")
        multiplier *= confidence_multiplier
    attempts = usage.requests + usage.queries
    if attempts and usage.blocked >= attempts and model.blocked_only != 1:
        factors.append(f"all blocked x{model.blocked_only:g}")
        multiplier *= model.blocked_only

    score = max(0, min(100, _round(total * multiplier)))

    floor = uploads.floor.get(status)
    if usage.large_uploads and floor is not None:
        least = model.severity.lowest(floor)
        if score < least:
            factors.append(f"large upload to {status} service: at least {floor} ({least})")
            score = least
    return score, factors


_COLUMNS = (
    "policy",
    "service_id",
    "confidence",
    "bytes_out",
    "large_uploads",
    "active_days",
    "requests",
    "queries",
    "blocked",
)


def score(
    findings: pl.DataFrame, catalogue: Catalogue, model: RiskModel | None = None
) -> pl.DataFrame:
    """``findings`` with ``risk_score``, ``severity`` and ``risk_factors`` filled in.

    Reads ``policy`` (fill it with :func:`shadowscan.policy.apply_policy` first; null is
    ``unreviewed``) and the service's risk attributes from ``catalogue``.
    """
    model = model or RiskModel()
    scores: list[int] = []
    severities: list[str] = []
    factor_lists: list[list[str]] = []
    for row in findings.select(_COLUMNS).iter_rows(named=True):
        service = catalogue.services.get(row["service_id"] or "")
        usage = Usage(
            policy=row["policy"],
            confidence=row["confidence"],
            bytes_out=row["bytes_out"],
            large_uploads=row["large_uploads"] or 0,
            active_days=row["active_days"] or 0,
            requests=row["requests"] or 0,
            queries=row["queries"] or 0,
            blocked=row["blocked"] or 0,
        )
        value, factors = assess(usage, service.risk if service else None, model)
        scores.append(value)
        severities.append(model.severity.of(value))
        factor_lists.append(factors)
    return findings.with_columns(
        pl.Series("risk_score", scores, dtype=pl.UInt8),
        pl.Series("severity", severities, dtype=pl.String),
        pl.Series("risk_factors", factor_lists, dtype=pl.List(pl.String)),
    )


def check_severity(severity: str) -> Severity:
    """``severity`` if it is one, else a usage error that lists them (``--fail-on``)."""
    if severity not in SEVERITY_RANK:
        raise UsageError(f"unknown severity {severity!r}: use one of {', '.join(SEVERITIES)}")
    return severity  # type: ignore[return-value]


def severity_at_least(severity: str) -> pl.Expr:
    """True where the ``severity`` column is ``severity`` or worse (false where null)."""
    rank = SEVERITY_RANK[check_severity(severity)]
    return (
        pl.col("severity")
        .replace_strict(SEVERITY_RANK, default=-1, return_dtype=pl.Int8)
        .fill_null(-1)
        .ge(rank)
        .alias(f"at_least_{severity}")
    )


def at_least(frame: pl.DataFrame, severity: str) -> pl.Series:
    """Boolean mask of ``frame``'s rows at ``severity`` or worse: ``--fail-on`` is
    ``at_least(findings, x).any()``, ``--min-severity`` filters on it."""
    return frame.select(severity_at_least(severity)).to_series()


def parameters_table(model: type[BaseModel] = RiskModel, prefix: str = "risk") -> str:
    """The README's table of every ``risk:`` setting with its default and meaning."""
    rows = ["| Setting | Default | Meaning |", "|---|---|---|"] if prefix == "risk" else []
    defaults = model()
    for name, info in model.model_fields.items():
        value = getattr(defaults, name)
        key = f"{prefix}.{name}"
        if isinstance(value, BaseModel):
            rows.append(parameters_table(type(value), key))
            continue
        if isinstance(value, dict):
            value = "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
        rows.append(f"| `{key}` | `{value}` | {info.description} |")
    return "\n".join(rows)
