"""The AI signature catalogue: load, validate, and overlay.

One YAML file per vendor under ``signatures/``, services inside, each with an ``id`` that
stays stable forever (findings, state and exports refer to it). Files are read with
``yaml.safe_load`` and validated with pydantic; every problem is reported with
``file:service-id`` and all problems are collected before failing, so a signature author
fixes them in one go.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shadowscan.errors import SignatureError

CATEGORIES: dict[str, str] = {
    "chat_assistant": "General-purpose chat assistants",
    "model_api": "Model APIs and inference platforms",
    "coding_assistant": "Coding assistants",
    "image_generation": "Image generation and editing",
    "video_generation": "Video generation",
    "audio_voice": "Audio, voice and transcription",
    "meeting_assistant": "Meeting assistants and note takers",
    "writing": "Writing and paraphrasing",
    "translation": "Translation",
    "ai_search": "AI search and research",
    "agent_platform": "Agent and automation platforms",
    "model_hub": "Model hubs and ML platforms",
    "companion": "Companion and character chat",
    "embedded_saas": "AI features embedded in mainstream SaaS",
    "productivity": "AI productivity tools (slides, documents, summaries)",
}

Confidence = Literal["high", "medium", "low"]

#: Domains that mostly carry non-AI traffic (platforms, clouds, CDNs, telemetry, identity).
#: They are never a signature domain on their own: use a specific subdomain or a URL pattern.
SHARED_DOMAINS = frozenset(
    [
        "google.com",
        "googleapis.com",
        "gstatic.com",
        "googleusercontent.com",
        "googlevideo.com",
        "youtube.com",
        "github.com",
        "githubusercontent.com",
        "github.io",
        "gitlab.com",
        "amazon.com",
        "amazonaws.com",
        "aws.amazon.com",
        "cloudfront.net",
        "awsstatic.com",
        "microsoft.com",
        "bing.com",
        "office.com",
        "office365.com",
        "office.net",
        "live.com",
        "microsoftonline.com",
        "sharepoint.com",
        "azure.com",
        "azure.net",
        "windows.net",
        "azurewebsites.net",
        "azureedge.net",
        "msedge.net",
        "cloud.microsoft",
        "skype.com",
        "linkedin.com",
        "apple.com",
        "icloud.com",
        "facebook.com",
        "fbcdn.net",
        "meta.com",
        "instagram.com",
        "whatsapp.com",
        "x.com",
        "twitter.com",
        "cloudflare.com",
        "cloudflare.net",
        "workers.dev",
        "pages.dev",
        "akamai.net",
        "akamaized.net",
        "akamaihd.net",
        "edgekey.net",
        "edgesuite.net",
        "fastly.net",
        "fastly.com",
        "jsdelivr.net",
        "unpkg.com",
        "datadoghq.com",
        "datadoghq.eu",
        "sentry.io",
        "statsig.com",
        "segment.io",
        "segment.com",
        "mixpanel.com",
        "amplitude.com",
        "launchdarkly.com",
        "intercom.io",
        "zendesk.com",
        "hubspot.com",
        "auth0.com",
        "okta.com",
        "onelogin.com",
        "salesforce.com",
        "force.com",
        "slack.com",
        "slack-edge.com",
        "zoom.us",
        "zoom.com",
        "notion.so",
        "atlassian.net",
        "atlassian.com",
        "adobe.com",
        "canva.com",
        "figma.com",
        "dropbox.com",
        "box.com",
        "vercel.app",
        "vercel.com",
        "herokuapp.com",
        "netlify.app",
        "digitaloceanspaces.com",
    ]
)

_ID = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
_DOMAIN = r"^(\*\.)?([a-z0-9*]([a-z0-9\-*]{0,61}[a-z0-9*])?\.)+[a-z0-9\-]{2,63}$"


class Risk(BaseModel):
    """What makes a service riskier to use with company data. Unknown stays null."""

    model_config = ConfigDict(extra="forbid")

    trains_on_user_data: bool | None = Field(
        None, description="Trains on user content by default (consumer tier)."
    )
    enterprise_tier: bool | None = Field(
        None, description="Offers an enterprise tier with contractual data protection."
    )
    data_retention: str | None = Field(
        None, description="Retention of prompts/content, in the vendor's words."
    )
    certifications: list[str] = Field(default_factory=list)
    hq_country: str | None = Field(
        None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country of the vendor."
    )


class Examples(BaseModel):
    """Hosts or URLs the service must match, and look-alikes it must not."""

    model_config = ConfigDict(extra="forbid")

    match: list[str] = Field(min_length=1)
    no_match: list[str] = Field(default_factory=list)


class Service(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    vendor: str = ""
    category: str
    description: str | None = None
    domains: list[str] = Field(default_factory=list)
    url_patterns: list[str] = Field(default_factory=list)
    ip_ranges: list[str] = Field(default_factory=list)
    app_ids: list[str] = Field(default_factory=list)
    user_agents: list[str] = Field(default_factory=list)
    #: Regex with a named group ``model`` over the URL path, for APIs that name the model
    #: in the path (``/openai/deployments/(?P<model>[^/]+)/``).
    model_path: str | None = None
    #: Confidence of a match on ``ip_ranges`` alone: ``low`` unless the vendor publishes the
    #: range as dedicated to this service (then ``medium``).
    ip_confidence: Confidence = "low"
    #: Confidence of a domain match: ``medium`` where the domain also carries non-AI use.
    confidence: Confidence = "high"
    risk: Risk = Field(default_factory=Risk)
    references: list[str] = Field(min_length=1)
    last_verified: dt.date | None = None
    examples: Examples
    disabled: bool = False

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r} (known: {', '.join(CATEGORIES)})")
        return value

    @field_validator("domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        from shadowscan.domains import is_public_suffix

        for v in values:
            if v != v.lower() or not re.match(_DOMAIN, v):
                raise ValueError(
                    f"invalid domain {v!r}: lower-case host name, optional leading '*.'"
                )
            if "*" not in v and is_public_suffix(v):
                raise ValueError(f"domain {v!r} is a public suffix: it would match unrelated sites")
            if v.removeprefix("*.") in SHARED_DOMAINS:
                raise ValueError(
                    f"domain {v!r} mostly carries non-AI traffic: use a specific subdomain or a url_pattern"
                )
        return values

    @field_validator("url_patterns")
    @classmethod
    def _url_patterns(cls, values: list[str]) -> list[str]:
        for v in values:
            host, _, path = v.partition("/")
            if not path or "://" in v or not re.match(_DOMAIN, host):
                raise ValueError(
                    f"invalid url pattern {v!r}: write host/path (glob '*' allowed), no scheme"
                )
        return values

    @field_validator("ip_ranges")
    @classmethod
    def _ip_ranges(cls, values: list[str]) -> list[str]:
        for v in values:
            try:
                ipaddress.ip_network(v, strict=True)
            except ValueError as exc:
                raise ValueError(f"invalid ip range {v!r}: {exc}") from None
        return values

    @field_validator("model_path")
    @classmethod
    def _model_path(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                rx = re.compile(value)
            except re.error as exc:
                raise ValueError(f"model_path is not a valid regex: {exc}") from None
            if "model" not in rx.groupindex:
                raise ValueError("model_path needs a named group (?P<model>...)")
            _check_rust_regex(value, "model_path")
        return value

    @field_validator("references")
    @classmethod
    def _refs(cls, values: list[str]) -> list[str]:
        for v in values:
            if not v.startswith("https://"):
                raise ValueError(f"reference {v!r} must be an https:// URL")
        return values


def _check_rust_regex(pattern: str, what: str) -> None:
    """Matching runs in polars (Rust ``regex``): no look-around, no back-references."""
    import polars as pl

    try:
        pl.Series([""]).str.contains(pattern)
    except pl.exceptions.ComputeError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(
            f"{what} is not supported by the matcher's regex engine: {first}"
        ) from None


class VendorFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor: str
    homepage: str | None = None
    services: list[Service] = Field(min_length=1)


@dataclass
class Catalogue:
    """The validated, overlaid set of services, in a stable order."""

    services: dict[str, Service]
    sources: dict[str, str] = field(default_factory=dict)  # service id -> file
    warnings: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        """A short content hash: two catalogues with the same services have the same version."""
        digest = hashlib.sha256()
        for sid in sorted(self.services):
            digest.update(self.services[sid].model_dump_json().encode())
        return digest.hexdigest()[:12]

    def active(self) -> list[Service]:
        return [s for s in self.services.values() if not s.disabled]

    def get(self, service_id: str) -> Service:
        try:
            return self.services[service_id]
        except KeyError:
            raise SignatureError(
                f"no service with id {service_id!r}; `shadowscan signatures list --search` finds ids"
            ) from None


def bundled_dir() -> Path:
    """The signatures shipped with shadowscan (inside the wheel, or the checkout's symlink)."""
    root = resources.files("shadowscan") / "_signatures"
    return Path(str(root))


def _format_validation(path: str, sid: str, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        out.append(f"{path}:{sid}: {loc}: {err['msg']}")
    return out


def load_file(path: Path, problems: list[str]) -> list[tuple[Service, str]]:
    """Load one vendor file, appending problems instead of raising."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problems.append(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}")
        return []
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping with 'vendor' and 'services'")
        return []
    raw_services = data.get("services")
    if not isinstance(raw_services, list):
        problems.append(f"{path}: 'services' must be a list")
        return []
    header = {k: v for k, v in data.items() if k != "services"}
    try:
        VendorFile.model_validate({**header, "services": [_placeholder()]})
    except ValidationError as exc:
        problems.extend(_format_validation(str(path), "(file)", exc))
        return []
    out = []
    for i, raw in enumerate(raw_services):
        sid = raw.get("id", f"#{i + 1}") if isinstance(raw, dict) else f"#{i + 1}"
        if isinstance(raw, dict):
            raw = {"vendor": header["vendor"], **raw}
        try:
            out.append((Service.model_validate(raw), str(path)))
        except ValidationError as exc:
            problems.extend(_format_validation(str(path), str(sid), exc))
    return out


def _placeholder() -> dict[str, Any]:
    return {
        "id": "xx",
        "name": "x",
        "category": "chat_assistant",
        "references": ["https://x"],
        "examples": {"match": ["x"]},
    }


def yaml_files(directory: Path) -> list[Path]:
    if not directory.exists():
        raise SignatureError(f"{directory}: signature directory does not exist")
    if directory.is_file():
        return [directory]
    return sorted(p for p in directory.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def load_directory(
    directory: Path, collect_errors: bool = False
) -> tuple[list[tuple[Service, str]], list[str]]:
    problems: list[str] = []
    services: list[tuple[Service, str]] = []
    for path in yaml_files(directory):
        services.extend(load_file(path, problems))
    seen: dict[str, str] = {}
    for svc, src in services:
        if svc.id in seen:
            problems.append(f"{src}:{svc.id}: duplicate id (also in {seen[svc.id]})")
        seen[svc.id] = src
    if problems and not collect_errors:
        raise SignatureError(f"{len(problems)} problem(s) in signatures: {problems[0]}", problems)
    return services, problems


def load_catalogue(overlays: Sequence[Path] = (), include_bundled: bool = True) -> Catalogue:
    """The bundled catalogue with organisation overlays applied in order.

    An overlay service with a new id is added; one with a bundled id replaces it (and says
    so in ``warnings``); ``disabled: true`` switches a bundled one off.
    """
    catalogue = Catalogue(services={})
    layers: list[Path] = ([bundled_dir()] if include_bundled else []) + list(overlays)
    for layer_no, directory in enumerate(layers):
        services, _ = load_directory(directory)
        for svc, src in services:
            if svc.id in catalogue.services and layer_no > 0:
                old = catalogue.sources[svc.id]
                action = "disables" if svc.disabled else "overrides"
                catalogue.warnings.append(f"{src}:{svc.id}: {action} the service defined in {old}")
            catalogue.services[svc.id] = svc
            catalogue.sources[svc.id] = src
    if overlays:
        # An overlay that claims what a bundled service claims contradicts it: say so.
        pairs = [(svc, catalogue.sources[sid]) for sid, svc in catalogue.services.items()]
        catalogue.warnings.extend(
            f"{c} (overlay contradicts the catalogue; the more specific or first-listed rule wins)"
            for c in conflicts(pairs)
        )
    return catalogue


def conflicts(services: Iterable[tuple[Service, str]]) -> list[str]:
    """The same domain, URL pattern or App-ID claimed by two services (ambiguous)."""
    owners: dict[str, tuple[str, str]] = {}
    out = []
    for svc, src in services:
        if svc.disabled:
            continue
        keys = [f"domain {d}" for d in svc.domains] + [f"url pattern {u}" for u in svc.url_patterns]
        keys += [f"app id {a.lower()}" for a in svc.app_ids]
        for key in keys:
            if key in owners and owners[key][0] != svc.id:
                other, other_src = owners[key]
                out.append(f"{src}:{svc.id}: {key} is also claimed by {other} ({other_src})")
            owners.setdefault(key, (svc.id, src))
    return out


def all_domains(services: Iterable[Service]) -> list[str]:
    return sorted({d for s in services for d in s.domains})
