"""Signature matching: exact and subdomain only, never by substring."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from shadowscan.api import build_matcher
from shadowscan.match import Matcher, Prefilter
from shadowscan.readers import chunk_to_lines
from shadowscan.schema import conform
from shadowscan.signatures import load_catalogue


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return build_matcher()


@pytest.mark.parametrize(
    ("value", "service"),
    [
        ("chatgpt.com", "openai-chatgpt"),
        ("ab.chatgpt.com", "openai-chatgpt"),
        ("CHATGPT.COM.", "openai-chatgpt"),
        ("sora.chatgpt.com", "openai-sora"),  # most specific suffix wins
        ("https://api.github.com/copilot_internal/v2/token", "github-copilot"),
        ("us-central1-aiplatform.googleapis.com", "google-vertex-ai"),
        ("contoso.openai.azure.com", "azure-openai"),
        ("app:claude-upload", "anthropic-claude"),
    ],
)
def test_matches(matcher: Matcher, value: str, service: str) -> None:
    rule = matcher.match_value(value)
    assert rule is not None, value
    assert rule.service_id == service


@pytest.mark.parametrize(
    "value",
    [
        "notchatgpt.com",
        "chatgpt.com.evil.example",
        "huggingface.co.uk",
        "gemini.com",
        "claude-monet.example",
        "openai.com.evil.example",
        "openai.azure.com",  # "*.openai.azure.com" means subdomains only
        "github.com",
        "https://api.github.com/repos/x/y",
        "googleapis.com",
        "",
    ],
)
def test_no_substring_matches(matcher: Matcher, value: str) -> None:
    assert matcher.match_value(value) is None


def test_match_frame_joins_back_and_explains(matcher: Matcher) -> None:
    events = conform(
        pl.DataFrame(
            {
                "host": [
                    "chatgpt.com",
                    "notchatgpt.com",
                    "chatgpt.com",
                    "api.github.com",
                    "api.github.com",
                ],
                "url": [
                    None,
                    None,
                    None,
                    "https://api.github.com/copilot_internal/x",
                    "https://api.github.com/repos",
                ],
                "line_no": [1, 2, 3, 4, 5],
            }
        )
    )
    out = matcher.match_frame(events)
    assert out["line_no"].to_list() == [1, 3, 4]
    assert out["match_rule"].to_list() == [
        "domain:chatgpt.com",
        "domain:chatgpt.com",
        "url:api.github.com/copilot_internal/*",
    ]
    assert set(out["confidence"]) == {"high"}


def test_prefilter_finds_lines_case_insensitively(matcher: Matcher) -> None:
    chunk = b"a ChatGPT.com x\nnothing here\nhttps://api.openai.com/v1\n"
    lines = chunk_to_lines(chunk)
    pre = Prefilter(matcher.prefilter_literals())
    assert pre.candidates(chunk, lines.ends, lines.text).tolist() == [0, 2]


def test_prefilter_polars_fallback_agrees(matcher: Matcher) -> None:
    chunk = b"a ChatGPT.com x\nnothing here\nhttps://api.openai.com/v1"
    lines = chunk_to_lines(chunk)
    pre = Prefilter(matcher.prefilter_literals())
    pre._db = None  # force the fallback
    assert pre.engine == "polars"
    assert pre.candidates(chunk, lines.ends, lines.text).tolist() == [0, 2]


def _overlay(tmp_path: Path, body: str) -> Matcher:
    (tmp_path / "org.yaml").write_text("vendor: Contoso\nservices:\n" + body, encoding="utf-8")
    return Matcher(load_catalogue([tmp_path]))


def test_ip_ranges_user_agents_and_models(tmp_path: Path) -> None:
    m = _overlay(
        tmp_path,
        "  - {id: contoso-llm, name: Contoso LLM, category: model_api, domains: [llm.contoso.example],\n"
        "     ip_ranges: [198.51.100.0/24, '2001:db8:aa::/48'], user_agents: [ContosoSDK/], \n"
        "     model_path: '/v1/models/(?P<model>[^/:]+)', references: ['https://contoso.example'],\n"
        "     examples: {match: [llm.contoso.example, 'ip:198.51.100.7', 'ip:2001:db8:aa::5', 'ua:ContosoSDK/1.2 python']}}\n",
    )
    events = conform(
        pl.DataFrame(
            {
                "line_no": [1, 2, 3, 4, 5],
                "host": ["llm.contoso.example", None, None, None, None],
                "url": [
                    "https://llm.contoso.example/v1/models/big-7b:generate",
                    None,
                    None,
                    None,
                    None,
                ],
                "dst_ip": [None, "198.51.100.9", "2001:db8:aa::1", "198.51.101.1", None],
                "user_agent": [None, None, None, None, "contososdk/2.0 (linux)"],
            }
        )
    )
    out = m.match_frame(events)
    assert out["line_no"].to_list() == [1, 2, 3, 5]
    assert out["match_rule"].to_list() == [
        "domain:llm.contoso.example",
        "ip:198.51.100.0/24",
        "ip:2001:db8:aa::/48",
        "ua:ContosoSDK/",
    ]
    assert out["confidence"].to_list() == ["high", "low", "low", "medium"]
    assert out["model"].to_list() == ["big-7b", None, None, None]
    assert {"198.51.100.", "2001:db8:aa:"} <= set(m.prefilter_literals())


def test_overlay_contradiction_is_reported(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(
        "vendor: Contoso\nservices:\n"
        "  - {id: contoso-chat, name: C, category: chat_assistant, domains: [chatgpt.com], references: ['https://c.example'], examples: {match: [chatgpt.com]}}\n",
        encoding="utf-8",
    )
    cat = load_catalogue([tmp_path])
    assert any(
        "domain chatgpt.com is also claimed by" in w and "contradicts" in w for w in cat.warnings
    )


def test_dns_evidence_is_at_most_medium(matcher: Matcher) -> None:
    events = conform(
        pl.DataFrame(
            {
                "host": ["chatgpt.com", "chatgpt.com"],
                "log_type": ["dns", "proxy"],
                "line_no": [1, 2],
            }
        )
    )
    assert matcher.match_frame(events)["confidence"].to_list() == ["medium", "high"]
