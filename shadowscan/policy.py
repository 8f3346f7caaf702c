"""The policy file (``--policy``): which AI services the organisation sanctions.

Each service, vendor or category is ``sanctioned``, ``tolerated``, ``unsanctioned`` or
``unreviewed``, with exceptions for departments and for named users (which expire)::

    default: unreviewed
    services:
      openai-chatgpt: unsanctioned
      github-copilot:
        status: unsanctioned
        departments: {Engineering: sanctioned}
        users:
          - {user: asmith, status: tolerated, until: 2027-03-31, reason: "pilot, SEC-123"}
    vendors: {OpenAI: tolerated}
    categories: {coding_assistant: tolerated}
    risk: {...}   # overrides of shadowscan.risk.RiskModel

The most specific rule decides, in this order: a user exception that has not expired
(service, then vendor, then category entry), a department exception (same order), the
service's status, the vendor's, the category's, then ``default``. An entry may give only
exceptions: findings they do not cover fall through to the next level.

A policy is checked against the signature catalogue when it is loaded: an unknown service
id, vendor or category is an error naming ``FILE:LINE`` with the closest known names,
because a typo there would silently leave a service unreviewed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import shlex
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self, Union, get_args, get_origin

import polars as pl
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from shadowscan.errors import UsageError
from shadowscan.risk import STATUSES, RiskModel, Status, score
from shadowscan.signatures import CATEGORIES, Catalogue, load_catalogue

__all__ = [
    "STATUSES",
    "DepartmentRule",
    "Entry",
    "Policy",
    "PolicyError",
    "UserRule",
    "apply_policy",
    "evaluate",
    "load_policy",
]

_SECTIONS = ("services", "vendors", "categories")
#: The kind of rule an entry of each section is, as ``policy_rule`` names it.
_KIND = {"services": "service", "vendors": "vendor", "categories": "category"}


class PolicyError(UsageError):
    """The policy file is invalid; ``problems`` has every problem, each ``FILE:LINE: ...``."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


def _iso_date(value: Any) -> Any:
    """Only ``YYYY-MM-DD``: YAML would read ``20270331`` as a number, pydantic as seconds."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"{value!r} is not a date: write it as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date: {exc}") from None


def _status_shorthand(value: Any) -> Any:
    """``openai-chatgpt: unsanctioned`` is short for ``{status: unsanctioned}``."""
    return {"status": value} if isinstance(value, str) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DepartmentRule(_Strict):
    """A department's exception to an entry (``departments: {Engineering: sanctioned}``)."""

    status: Status
    until: dt.date | None = None
    reason: str | None = None

    _shorthand = model_validator(mode="before")(_status_shorthand)
    _until = field_validator("until", mode="before")(_iso_date)


class UserRule(_Strict):
    """A named user's exception to an entry; it must expire (``until``, inclusive)."""

    user: str = Field(min_length=1)
    status: Status
    until: dt.date
    reason: str | None = None

    _until = field_validator("until", mode="before")(_iso_date)


class Entry(_Strict):
    """The policy for one service, vendor or category."""

    status: Status | None = None
    reason: str | None = None
    departments: dict[str, DepartmentRule] = Field(default_factory=dict)
    users: list[UserRule] = Field(default_factory=list)

    _shorthand = model_validator(mode="before")(_status_shorthand)

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if self.status is None and not self.departments and not self.users:
            raise ValueError("give a status, departments or users (an empty entry decides nothing)")
        return self


class Policy(_Strict):
    """A loaded policy; ``risk`` holds the risk model with the file's overrides."""

    version: Literal[1] = 1
    default: Status = "unreviewed"
    services: dict[str, Entry] = Field(default_factory=dict)
    vendors: dict[str, Entry] = Field(default_factory=dict)
    categories: dict[str, Entry] = Field(default_factory=dict)
    risk: RiskModel = Field(default_factory=RiskModel)

    _source: str = PrivateAttr("")
    _lines: dict[tuple[str, ...], int] = PrivateAttr(default_factory=dict)

    @field_validator(*_SECTIONS, "risk", mode="before")
    @classmethod
    def _empty_section(cls, value: Any) -> Any:
        """``services:`` with every line commented out is an empty section, not an error."""
        return {} if value is None else value

    def where(self, *path: str | int) -> str:
        """``FILE:LINE`` of the key at ``path`` (or of the closest enclosing one)."""
        return _where(self._source, self._lines, tuple(path))

    def expired(self, today: dt.date) -> list[str]:
        """One warning per exception that expired before ``today`` (it no longer applies)."""
        out = []
        for section in _SECTIONS:
            entries: dict[str, Entry] = getattr(self, section)
            for name, entry in entries.items():
                scope = f"{_KIND[section]}:{name}"
                for i, rule in enumerate(entry.users):
                    if rule.until < today:
                        out.append(
                            f"{self.where(section, name, 'users', i, 'until')}: the exception for "
                            f"user {rule.user} on {scope} expired on {rule.until} and no longer "
                            "applies; renew or remove it"
                        )
                for dept, drule in entry.departments.items():
                    if drule.until is not None and drule.until < today:
                        out.append(
                            f"{self.where(section, name, 'departments', dept, 'until')}: the "
                            f"exception for department {dept} on {scope} expired on "
                            f"{drule.until} and no longer applies; renew or remove it"
                        )
        return out


# --- loading -------------------------------------------------------------------------


class _PolicyLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad date is reported with its line."""


_PolicyLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _where(source: str, lines: dict[tuple[str, ...], int], path: tuple[Any, ...]) -> str:
    parts = tuple(str(p) for p in path)
    while parts:
        if parts in lines:
            return f"{source}:{lines[parts]}"
        parts = parts[:-1]
    return f"{source}:{lines.get((), 1)}"


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _node_lines(
    node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int], dupes: list[str]
) -> None:
    """Line of every key and list item (by path), and duplicate keys YAML would drop."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            line = key.start_mark.line + 1
            if name in seen:
                dupes.append(
                    f"{line}: {_dotted((*path, name))}: duplicate key (first on line {seen[name]})"
                )
            seen.setdefault(name, line)
            lines.setdefault((*path, name), line)
            _node_lines(value, (*path, name), lines, dupes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.setdefault((*path, str(i)), item.start_mark.line + 1)
            _node_lines(item, (*path, str(i)), lines, dupes)


def _suggest(name: str, known: list[str]) -> str:
    """`` (did you mean 'x'?)`` with the closest known names (by spelling, or containing
    ``name``), else nothing."""
    by_fold = {k.casefold(): k for k in known}
    folded = name.casefold()
    close = difflib.get_close_matches(folded, list(by_fold), n=3, cutoff=0.6)
    if not close and len(folded) >= 3:
        close = [k for k in by_fold if folded in k][:3]
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(by_fold[c]) for c in close) + "?)"


def _close_services(name: str, catalogue: Catalogue) -> list[str]:
    """Ids of the services whose id, display name or a word of the id is spelled like
    ``name`` (``chatgtp`` -> ``openai-chatgpt``, ``GitHub Copilot`` -> ``github-copilot``)."""
    folded = name.casefold()
    scored = []
    for svc in catalogue.services.values():
        aliases = [svc.id, svc.name.casefold(), *svc.id.split("-")]
        best = max(difflib.SequenceMatcher(None, folded, a).ratio() for a in aliases)
        if best >= 0.75:
            scored.append((-best, svc.id))
    return [sid for _, sid in sorted(scored)[:3]]


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose keys are valid at ``path`` (for "allowed keys" in an error)."""
    current: Any = Policy
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = _unwrap(field.annotation)
        elif get_origin(current) in (dict, list):
            current = _unwrap(get_args(current)[-1])
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _explain(err: Any) -> str:
    """A pydantic error as one sentence that says what to write instead."""
    kind, loc, value = err["type"], tuple(err["loc"]), err.get("input")
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        hint = _suggest(str(loc[-1]), allowed)
        return f"unknown key {loc[-1]!r}{hint}; allowed here: {', '.join(allowed)}"
    if kind == "literal_error" and isinstance(value, str):
        expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        return f"{value!r} is not one of {', '.join(expected)}{_suggest(value, expected)}"
    if kind == "missing" and loc[-1] == "until" and "users" in loc:
        return "user exceptions must expire: add `until: YYYY-MM-DD`"
    if kind == "missing":
        return f"{message.lower()}: add `{loc[-1]}:`"
    if kind == "string_type" and loc and loc[-1] == "[key]":
        return f"{value!r} read as a {type(value).__name__}: quote it"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping (key: value), got {type(value).__name__} {value!r}"
    return message


def _check_names(data: dict[str, Any], catalogue: Catalogue, problem: Callable[..., None]) -> None:
    """Service ids, vendors and categories that the catalogue does not know, and keys
    that differ only in case (vendors, departments, users); rewrites vendor keys to the
    catalogue's spelling."""
    services = data.get("services")
    if isinstance(services, dict):
        for sid in services:
            if str(sid) in catalogue.services:
                continue
            close = _close_services(str(sid), catalogue)
            hint = " (did you mean " + " or ".join(map(repr, close)) + "?)" if close else ""
            problem(
                ("services", sid),
                f"unknown service id {sid!r}{hint}; `shadowscan signatures list --search "
                f"{shlex.quote(str(sid).split('-')[0])}` finds ids",
            )
    vendors = data.get("vendors")
    if isinstance(vendors, dict):
        known = {s.vendor.casefold(): s.vendor for s in catalogue.services.values() if s.vendor}
        renamed: dict[str, Any] = {}
        for vendor, entry in vendors.items():
            canonical = known.get(str(vendor).casefold())
            if canonical is None:
                hint = _suggest(str(vendor), sorted(known.values()))
                problem(
                    ("vendors", vendor),
                    f"unknown vendor {vendor!r}{hint}; vendors are spelled as in "
                    "`shadowscan signatures list`",
                )
                canonical = str(vendor)
            elif canonical in renamed:
                problem(("vendors", vendor), f"vendor {vendor!r} is listed twice")
            renamed[canonical] = entry
        data["vendors"] = renamed
    categories = data.get("categories")
    if isinstance(categories, dict):
        for category in categories:
            if category not in CATEGORIES:
                hint = _suggest(str(category), list(CATEGORIES))
                problem(
                    ("categories", category),
                    f"unknown category {category!r}{hint}; known: {', '.join(CATEGORIES)}",
                )
    for section in _SECTIONS:
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                continue
            departments = entry.get("departments")
            if isinstance(departments, dict):
                seen: set[str] = set()
                for dept in departments:
                    if str(dept).casefold() in seen:
                        problem(
                            (section, name, "departments", dept),
                            f"department {dept!r} is listed twice (names compare without case)",
                        )
                    seen.add(str(dept).casefold())
            users = entry.get("users")
            if isinstance(users, list):
                seen = set()
                for i, rule in enumerate(users):
                    user = rule.get("user") if isinstance(rule, dict) else None
                    if isinstance(user, str) and user.casefold() in seen:
                        problem(
                            (section, name, "users", i),
                            f"user {user!r} is listed twice (names compare without case)",
                        )
                    if isinstance(user, str):
                        seen.add(user.casefold())


def load_policy(path: Path, catalogue: Catalogue | None = None) -> Policy:
    """Read and check a policy file against ``catalogue`` (default: the bundled one).

    Raises :class:`PolicyError` (a usage error) listing every problem, each as
    ``FILE:LINE: where: what to do``.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--policy {source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--policy {source}: cannot read it: {exc}") from None
    loader = _PolicyLoader(text)
    try:
        node = loader.get_single_node()
        data: Any = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        message = f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}"
        raise PolicyError(message, [message]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        message = (
            f"{source}:1: a policy is a mapping with `default`, `services`, `vendors`, "
            "`categories` and `risk` (README: Policy file)"
        )
        raise PolicyError(message, [message])

    lines: dict[tuple[str, ...], int] = {(): 1}
    duplicates: list[str] = []
    assert node is not None
    _node_lines(node, (), lines, duplicates)
    problems = [f"{source}:{d}" for d in duplicates]

    def problem(path: tuple[Any, ...], message: str) -> None:
        problems.append(f"{_where(source, lines, path)}: {_dotted(path)}: {message}")

    _check_names(data, catalogue or load_catalogue(), problem)
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problem(tuple(err["loc"]), _explain(err))
    if problems or policy is None:
        problems.sort(key=_line_of)
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems in {source}: "
        message = head if len(problems) == 1 else head + "; ".join(problems)
        raise PolicyError(message, problems)
    policy._source = source
    policy._lines = lines
    return policy


def _line_of(problem: str) -> tuple[int, str]:
    match = re.match(r"^.*?:(\d+): ", problem)
    return (int(match.group(1)) if match else 0, problem)


# --- applying --------------------------------------------------------------------------


class Decision(NamedTuple):
    status: Status
    rule: str


class _Resolver:
    """Decides findings' status, comparing names without case and memoising by key."""

    def __init__(self, policy: Policy, catalogue: Catalogue, today: dt.date) -> None:
        self.policy, self.catalogue, self.today = policy, catalogue, today
        self.vendors = {name.casefold(): (name, e) for name, e in policy.vendors.items()}
        self.memo: dict[tuple[str | None, ...], Decision] = {}

    def decide(
        self,
        user: str | None,
        department: str | None,
        service_id: str | None,
        vendor: str | None,
        category: str | None,
    ) -> Decision:
        key = (user, department, service_id, vendor, category)
        if key not in self.memo:
            self.memo[key] = self._decide(*key)
        return self.memo[key]

    def _decide(
        self,
        user: str | None,
        department: str | None,
        service_id: str | None,
        vendor: str | None,
        category: str | None,
    ) -> Decision:
        service = self.catalogue.services.get(service_id or "")
        if service is not None:
            vendor, category = service.vendor or vendor, service.category
        scopes: list[tuple[str, Entry]] = []
        if service_id and service_id in self.policy.services:
            scopes.append((f"service:{service_id}", self.policy.services[service_id]))
        if vendor and vendor.casefold() in self.vendors:
            name, entry = self.vendors[vendor.casefold()]
            scopes.append((f"vendor:{name}", entry))
        if category and category in self.policy.categories:
            scopes.append((f"category:{category}", self.policy.categories[category]))

        if user:
            for scope, entry in scopes:
                for rule in entry.users:
                    if rule.user.casefold() == user.casefold() and rule.until >= self.today:
                        return Decision(
                            rule.status, f"user:{rule.user} ({scope}, until {rule.until})"
                        )
        if department:
            for scope, entry in scopes:
                for name, drule in entry.departments.items():
                    if name.casefold() != department.strip().casefold():
                        continue
                    if drule.until is None:
                        return Decision(drule.status, f"department:{name} ({scope})")
                    if drule.until >= self.today:
                        return Decision(
                            drule.status, f"department:{name} ({scope}, until {drule.until})"
                        )
        for scope, entry in scopes:
            if entry.status is not None:
                return Decision(entry.status, scope)
        return Decision(self.policy.default, "default")


def apply_policy(
    findings: pl.DataFrame, policy: Policy | None, catalogue: Catalogue, today: dt.date
) -> pl.DataFrame:
    """``findings`` with ``policy`` and ``policy_rule`` filled in as of ``today``
    (user and department exceptions that expired before it are ignored).

    Without a policy every finding is ``unreviewed`` by rule ``default``.
    """
    if policy is None:
        return findings.with_columns(
            pl.lit("unreviewed", dtype=pl.String).alias("policy"),
            pl.lit("default", dtype=pl.String).alias("policy_rule"),
        )
    resolver = _Resolver(policy, catalogue, today)
    keys = findings.select("user", "department", "service_id", "vendor", "category")
    decisions = [resolver.decide(*row) for row in keys.iter_rows()]
    return findings.with_columns(
        pl.Series("policy", [d.status for d in decisions], dtype=pl.String),
        pl.Series("policy_rule", [d.rule for d in decisions], dtype=pl.String),
    )


def evaluate(
    findings: pl.DataFrame, policy: Policy | None, catalogue: Catalogue, today: dt.date
) -> pl.DataFrame:
    """Policy, then risk: ``findings`` with ``policy``, ``policy_rule``, ``risk_score``,
    ``severity`` and ``risk_factors`` filled in (the policy's ``risk:`` overrides apply)."""
    decided = apply_policy(findings, policy, catalogue, today)
    return score(decided, catalogue, policy.risk if policy is not None else RiskModel())
