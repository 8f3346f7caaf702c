"""The Sigma export: goldens for the fixture services, and the whole catalogue loaded by
pySigma without errors and converted to Splunk SPL (plain and CIM data model)."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sigma.backends.splunk.splunk import SplunkBackend
from sigma.collection import SigmaCollection
from sigma.pipelines.splunk.splunk import splunk_cim_data_model
from sigma.rule import SigmaRule
from sigma.validators.core import validators as core_validators

from shadowscan.exports import EXPORTERS
from shadowscan.exports.base import Export, domain_names
from shadowscan.exports.run import run_export
from shadowscan.exports.sigma import rule_id
from shadowscan.signatures import Service
from tests.exports import fixtures
from tests.outputs.golden import check_golden

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "exports" / "sigma"

#: Validators left out: ``shadowscan.*`` is our own tag namespace, and the ATT&CK and
#: D3FEND tag validators download MITRE data at run time (tests make no network calls).
SKIPPED_VALIDATORS = {"namespace_tag", "attacktag", "d3_fendtag"}


def _export(services: list[Service] | None = None) -> Export:
    return EXPORTERS.get("sigma")().export(
        fixtures.services() if services is None else services, fixtures.context()
    )


def _load(export: Export) -> SigmaCollection:
    """Every file of ``export`` as one pySigma collection, in file order."""
    collections = [
        SigmaCollection.from_yaml(text, collect_errors=True) for text in export.files.values()
    ]
    return SigmaCollection.merge(collections)


@pytest.fixture(scope="module")
def catalogue_export() -> Export:
    export, _ = run_export(fixtures.catalogue(), "sigma")
    return export


@pytest.fixture(scope="module")
def catalogue_rules(catalogue_export: Export) -> SigmaCollection:
    return _load(catalogue_export)


@pytest.mark.parametrize("name", sorted(_export().files))
def test_golden(name: str) -> None:
    check_golden(_export().files[name], GOLDEN / name)


def test_no_stale_golden_files() -> None:
    on_disk = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.yml")}
    assert on_disk == set(_export().files)


def test_fixture_rules_pass_pysigma_validators() -> None:
    rules = _load(_export())
    checks = [
        cls() for name, cls in sorted(core_validators.items()) if name not in SKIPPED_VALIDATORS
    ]
    issues = [
        f"{rule.title}: {issue}"
        for rule in rules.rules
        if isinstance(rule, SigmaRule)
        for check in checks
        for issue in [*check.validate(rule), *check.finalize()]
    ]
    assert issues == []


def test_url_pattern_only_service_is_a_proxy_rule_and_skipped_for_dns() -> None:
    url_only = fixtures.url_only()
    export = _export([url_only])
    assert list(export.files) == [f"proxy/{url_only.id}.yml"]
    assert export.skipped == [(url_only.id, "dns: URL patterns only (exported as a proxy rule)")]
    (rule,) = _load(export).rules
    assert isinstance(rule, SigmaRule)
    assert rule.logsource.category == "proxy"
    (query,) = SplunkBackend().convert(_load(export))
    assert '"cs-host"="www.example.com"' in query
    assert '"c-uri"="*/ai-assistant/*"' in query


def test_subdomains_match_but_lookalikes_do_not() -> None:
    """``example.com`` is an exact name plus ``*.example.com``, never ``*example.com``."""
    export = _export([fixtures.catalogue().get("openai-chatgpt")])
    for query in SplunkBackend().convert(_load(export)):
        assert '"chatgpt.com"' in query
        assert '"*.chatgpt.com"' in query
        assert '"*chatgpt.com"' not in query


def test_whole_catalogue_loads_without_errors(catalogue_rules: SigmaCollection) -> None:
    assert catalogue_rules.errors == []
    assert [r for r in catalogue_rules.rules if r.errors] == []


def test_whole_catalogue_every_service_exported_or_skipped(catalogue_export: Export) -> None:
    services = fixtures.catalogue().active()
    exported = {name.split("/")[1].removesuffix(".yml") for name in catalogue_export.files}
    skipped = {service_id for service_id, _ in catalogue_export.skipped}
    for service in services:
        assert service.id in exported, service.id
        has_dns = f"dns/{service.id}.yml" in catalogue_export.files
        assert has_dns or service.id in skipped, service.id
        assert has_dns == bool(service.domains)


def test_whole_catalogue_ids_unique_and_stable(
    catalogue_export: Export, catalogue_rules: SigmaCollection
) -> None:
    ids = [str(rule.id) for rule in catalogue_rules.rules]
    assert len(ids) == len(set(ids)) == len(catalogue_export.files)
    again, _ = run_export(fixtures.catalogue(), "sigma")
    assert again.files == catalogue_export.files
    for name in catalogue_export.files:
        logsource, file_name = name.split("/")
        assert (
            f"id: {rule_id(file_name.removesuffix('.yml'), logsource)}\n"
            in (catalogue_export.files[name])
        )


def test_whole_catalogue_converts_to_splunk(
    catalogue_export: Export, catalogue_rules: SigmaCollection
) -> None:
    queries = SplunkBackend().convert(catalogue_rules)
    assert len(queries) == len(catalogue_export.files)
    by_id = {service.id: service for service in fixtures.catalogue().active()}
    for name, query in zip(catalogue_export.files, queries, strict=True):
        logsource, file_name = name.split("/")
        service = by_id[file_name.removesuffix(".yml")]
        field = "cs-host" if logsource == "proxy" else "query"
        assert field in query, name
        for domain in domain_names(service):
            assert f'"{domain}"' in query, (name, domain)


def test_proxy_rules_convert_with_splunk_cim_data_model(
    catalogue_rules: SigmaCollection,
) -> None:
    proxy = SigmaCollection(
        [
            r
            for r in catalogue_rules.rules
            if isinstance(r, SigmaRule) and r.logsource.category == "proxy"
        ]
    )
    pipeline = splunk_cim_data_model()  # type: ignore[no-untyped-call]
    queries = SplunkBackend(pipeline).convert(proxy, "data_model")
    assert len(queries) == len(proxy.rules) > 0
    assert all("datamodel=Web.Proxy" in q and "Web.dest" in q for q in queries)


_LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)


@given(
    names=st.lists(
        st.tuples(_LABEL, _LABEL).map(lambda parts: f"{parts[0]}.{parts[1]}ai"),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    wildcard=st.booleans(),
)
def test_any_domain_list_loads_and_converts(names: list[str], wildcard: bool) -> None:
    base = fixtures.catalogue().get("openai-chatgpt")
    domains = [f"*.{n}" if wildcard else n for n in names]
    service = base.model_copy(update={"id": "generated", "domains": domains, "url_patterns": []})
    export = _export([service])
    rules = _load(export)
    assert rules.errors == []
    assert sorted(str(r.id) for r in rules.rules) == sorted(
        [rule_id("generated", "dns"), rule_id("generated", "proxy")]
    )
    for query in SplunkBackend().convert(rules):
        for name in names:
            assert f'"{name}"' in query
            assert f'"*.{name}"' in query
