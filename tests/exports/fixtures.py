"""A fixed handful of catalogue services for the export goldens: domains, a wildcard
domain, IP ranges, App-IDs, and a service known only by a URL pattern."""

from __future__ import annotations

from shadowscan.exports.base import ExportContext
from shadowscan.signatures import Catalogue, Service, load_catalogue

_CATALOGUE: Catalogue | None = None

#: openai-chatgpt (domains, wildcard), anthropic-api (IP range), github-copilot (URL
#: patterns and domains), deepseek-chat (a high-risk jurisdiction vendor).
IDS = ("openai-chatgpt", "anthropic-api", "github-copilot", "deepseek-chat")


def catalogue() -> Catalogue:
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = load_catalogue()
    return _CATALOGUE


def url_only() -> Service:
    """A service whose only signature is a URL pattern (DNS blocklists cannot hold it)."""
    base = catalogue().get("openai-chatgpt")
    return base.model_copy(
        update={
            "id": "example-url-only",
            "name": "Example URL-only assistant",
            "vendor": "Example",
            "domains": [],
            "ip_ranges": [],
            "app_ids": [],
            "user_agents": [],
            "url_patterns": ["www.example.com/ai-assistant/*"],
        }
    )


def services() -> list[Service]:
    return [*(catalogue().get(i) for i in IDS), url_only()]


def context() -> ExportContext:
    return ExportContext(
        version="0.0.0-test",
        catalogue_version="cafecafe0000",
        status={"openai-chatgpt": "unsanctioned", "github-copilot": "sanctioned"},
        level={
            "openai-chatgpt": "high",
            "anthropic-api": "low",
            "github-copilot": "informational",
            "deepseek-chat": "medium",
            "example-url-only": "medium",
        },
    )
