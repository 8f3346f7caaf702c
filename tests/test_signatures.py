"""The bundled catalogue loads, and every service's own examples hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadowscan.errors import SignatureError
from shadowscan.match import Matcher
from shadowscan.signatures import bundled_dir, load_catalogue, load_directory

CATALOGUE = load_catalogue()
MATCHER = Matcher(CATALOGUE)


def test_catalogue_has_the_core_services() -> None:
    ids = set(CATALOGUE.services)
    for sid in [
        "openai-chatgpt",
        "openai-api",
        "anthropic-claude",
        "anthropic-api",
        "google-gemini",
        "google-gemini-api",
        "microsoft-copilot",
        "github-copilot",
        "perplexity",
        "huggingface-hub",
        "mistral-le-chat",
        "deepseek-chat",
        "poe",
        "character-ai",
        "midjourney",
    ]:
        assert sid in ids
    assert len(ids) >= 25


@pytest.mark.parametrize("service_id", sorted(CATALOGUE.services))
def test_examples(service_id: str) -> None:
    svc = CATALOGUE.services[service_id]
    for value in svc.examples.match:
        rule = MATCHER.match_value(value)
        assert rule is not None and rule.service_id == service_id, (
            f"{service_id}: {value!r} should match, got {rule}"
        )
    for value in svc.examples.no_match:
        rule = MATCHER.match_value(value)
        assert rule is None or rule.service_id != service_id, (
            f"{service_id}: {value!r} must not match ({rule})"
        )


def test_bundled_dir_is_found_through_the_package() -> None:
    assert (bundled_dir() / "openai.yaml").is_file()


def test_invalid_files_report_every_problem_with_file_and_id(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "vendor: X\nservices:\n"
        "  - {id: ok-one, name: A, category: chat_assistant, domains: [a.example], references: ['https://a.example'], examples: {match: [a.example]}}\n"
        "  - {id: Bad_ID, name: B, category: chat_assistant, domains: [b.example], references: ['https://b.example'], examples: {match: [b.example]}}\n"
        "  - {id: three, name: C, category: nonsense, domains: ['UPPER.example'], references: ['http://c'], examples: {match: [c]}}\n",
        encoding="utf-8",
    )
    (tmp_path / "broken.yaml").write_text("vendor: [unclosed\n", encoding="utf-8")
    _, problems = load_directory(tmp_path, collect_errors=True)
    text = "\n".join(problems)
    assert "bad.yaml:Bad_ID: id" in text
    assert "bad.yaml:three: category" in text
    assert "bad.yaml:three: domains" in text
    assert "bad.yaml:three: references" in text
    assert "broken.yaml:2: invalid YAML" in text or "broken.yaml:1: invalid YAML" in text
    with pytest.raises(SignatureError):
        load_directory(tmp_path)


def test_overlay_adds_overrides_and_disables(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(
        "vendor: Contoso\nservices:\n"
        "  - {id: contoso-gpt, name: Contoso GPT, category: chat_assistant, domains: [gpt.contoso.example], references: ['https://contoso.example'], examples: {match: [gpt.contoso.example]}}\n"
        "  - {id: poe, name: Poe, category: chat_assistant, domains: [poe.com], references: ['https://poe.com'], examples: {match: [poe.com]}, disabled: true}\n",
        encoding="utf-8",
    )
    cat = load_catalogue([tmp_path])
    assert "contoso-gpt" in cat.services
    assert cat.services["poe"].disabled
    assert any("poe: disables" in w for w in cat.warnings)
    assert Matcher(cat).match_value("poe.com") is None
    assert cat.version != CATALOGUE.version


def test_public_suffix_domains_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "vendor: X\nservices:\n"
        "  - {id: too-broad, name: A, category: chat_assistant, domains: [co.uk], references: ['https://a.example'], examples: {match: [a.co.uk]}}\n",
        encoding="utf-8",
    )
    _, problems = load_directory(tmp_path, collect_errors=True)
    assert any("too-broad: domains" in p and "public suffix" in p for p in problems)


NEGATIVES = [
    ln.strip()
    for ln in (Path(__file__).parent / "data" / "negative_hosts.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if ln.strip() and not ln.startswith("#")
]


def test_negative_list_is_large_enough() -> None:
    assert len(NEGATIVES) >= 300


def test_no_signature_matches_popular_non_ai_hosts_or_look_alikes() -> None:
    matched = [
        (v, r.service_id, r.text) for v in NEGATIVES if (r := MATCHER.match_value(v)) is not None
    ]
    assert matched == []


def test_shared_domains_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "vendor: X\nservices:\n"
        "  - {id: too-shared, name: A, category: model_api, domains: ['*.googleapis.com'], references: ['https://a.example'], examples: {match: [x.googleapis.com]}}\n",
        encoding="utf-8",
    )
    _, problems = load_directory(tmp_path, collect_errors=True)
    assert any("too-shared: domains" in p and "non-AI traffic" in p for p in problems)
