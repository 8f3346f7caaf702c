"""The SIEM and IDS exports (splunk, kql, zeek-intel, suricata): goldens for the fixture
services, the whole catalogue accounted for (exported or skipped with a reason), and each
format checked for syntax (CSV header, .conf stanzas, Zeek intel columns, Suricata rules)."""

from __future__ import annotations

import configparser
import csv
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.exports import EXPORTERS
from shadowscan.exports.base import Export, ExportContext
from shadowscan.exports.splunk import HEADER as SPLUNK_HEADER
from shadowscan.exports.suricata import SID_BASE, SID_SPAN, rule
from shadowscan.exports.zeek_intel import HEADER as ZEEK_HEADER
from shadowscan.signatures import Service
from tests.exports import fixtures
from tests.outputs.golden import check_golden

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "exports"
FORMATS = ("splunk", "kql", "zeek-intel", "suricata")


def _export(fmt: str, services: list[Service] | None = None) -> Export:
    chosen = fixtures.services() if services is None else services
    return EXPORTERS.get(fmt)().export(chosen, fixtures.context())


def _catalogue_export(fmt: str) -> tuple[Export, list[Service]]:
    services = fixtures.catalogue().active()
    context = ExportContext(
        version="0.0.0-test",
        catalogue_version=fixtures.catalogue().version,
        level={s.id: "medium" for s in services},
    )
    return EXPORTERS.get(fmt)().export(services, context), services


# --- goldens -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt: str) -> None:
    export = _export(fmt)
    for name, text in export.files.items():
        check_golden(text, GOLDEN / fmt / name)
    assert EXPORTERS.get(fmt).multi_file == (len(export.files) > 1)


@pytest.mark.parametrize(
    ("fmt", "skipped"),
    [
        ("splunk", []),
        ("kql", ["example-url-only"]),
        ("zeek-intel", ["example-url-only"]),
        ("suricata", ["example-url-only"]),
    ],
)
def test_url_only_service_is_skipped_with_a_reason_where_inexpressible(
    fmt: str, skipped: list[str]
) -> None:
    export = _export(fmt)
    assert [service_id for service_id, _ in export.skipped] == skipped
    assert all(reason for _, reason in export.skipped)


@pytest.mark.parametrize("fmt", FORMATS)
def test_whole_catalogue_every_service_exported_or_skipped(fmt: str) -> None:
    export, services = _catalogue_export(fmt)
    skipped = {service_id for service_id, _ in export.skipped}
    lines = "\n".join(export.files.values()).splitlines()
    text = "\n".join(line for line in lines if not line.startswith(("#", "//")))
    words = set(re.findall(r"[\w-]+", text))
    for service in services:
        exported = service.id in words
        assert exported != (service.id in skipped), service.id
    assert len(skipped) == len(export.skipped), "a service is skipped twice"


# --- splunk --------------------------------------------------------------------------


def _conf(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(delimiters=("=",), strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def _splunk_wildcard(pattern: str, value: str) -> bool:
    """Splunk's WILDCARD match: ``*`` is any run of characters, case-insensitive here."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.IGNORECASE) is not None


def _splunk_lookup(rows: list[dict[str, str]], field: str, value: str) -> str | None:
    """The first matching row's service (``max_matches = 1``, file order)."""
    for row in rows:
        if row[field] and _splunk_wildcard(row[field], value):
            return row["service_id"]
    return None


def test_splunk_files_parse_and_reference_each_other() -> None:
    export, _ = _catalogue_export("splunk")
    rows = list(csv.DictReader(io.StringIO(export.files["shadowscan_ai_services.csv"])))
    assert rows
    assert list(rows[0]) == list(SPLUNK_HEADER)
    assert all(bool(row["domain"]) != bool(row["url_pattern"]) for row in rows)
    transforms = _conf(export.files["transforms.conf"])
    lookup = transforms["shadowscan_ai_services"]
    assert lookup["filename"] == "shadowscan_ai_services.csv"
    assert lookup["match_type"] == "WILDCARD(domain), WILDCARD(url_pattern)"
    searches = _conf(export.files["savedsearches.conf"])
    assert searches.sections() == [
        "shadowscan - AI service use",
        "shadowscan - AI service use (URL patterns)",
    ]
    for name in searches.sections():
        stanza = searches[name]
        assert stanza["dispatch.earliest_time"] == "-24h"
        assert len(stanza["cron_schedule"].split()) == 5
        assert stanza["search"].startswith("| tstats ")
        assert "from datamodel=Web " in stanza["search"]
        assert "| lookup shadowscan_ai_services " in stanza["search"]
        assert "\n" not in stanza["search"]


def test_splunk_lookup_matches_subdomains_but_not_lookalikes() -> None:
    export = _export("splunk")
    rows = list(csv.DictReader(io.StringIO(export.files["shadowscan_ai_services.csv"])))
    assert _splunk_lookup(rows, "domain", "chatgpt.com") == "openai-chatgpt"
    assert _splunk_lookup(rows, "domain", "ab.chatgpt.com") == "openai-chatgpt"
    assert _splunk_lookup(rows, "domain", "evilchatgpt.com") is None
    assert _splunk_lookup(rows, "domain", "copilot-api.acme.ghe.com") == "github-copilot"
    url = "https://www.example.com/ai-assistant/chat"
    assert _splunk_lookup(rows, "url_pattern", url) == "example-url-only"
    assert _splunk_lookup(rows, "url_pattern", "https://github.com/copilot?x=1") == (
        "github-copilot"
    )
    assert _splunk_lookup(rows, "url_pattern", "https://github.com/copilotx") is None


# --- kql -----------------------------------------------------------------------------


def test_kql_watchlist_and_query() -> None:
    export, _ = _catalogue_export("kql")
    watchlist = export.files["shadowscan_ai_services_watchlist.csv"]
    rows = list(csv.reader(io.StringIO(watchlist)))
    assert rows[0] == ["domain", "service_id", "service", "vendor", "category", "status", "level"]
    assert all(len(row) == 7 and "*" not in row[0] and row[0] for row in rows[1:])
    query = export.files["shadowscan_ai_services.kql"]
    assert "_GetWatchlist('shadowscan_ai_services')" in query
    assert query.count("(") == query.count(")")
    assert "bedrock.*.amazonaws.com" in query  # left out, and said so


# --- zeek-intel ----------------------------------------------------------------------


def test_zeek_intel_header_and_columns() -> None:
    export, _ = _catalogue_export("zeek-intel")
    (text,) = export.files.values()
    lines = text.splitlines()
    body = [line for line in lines if not line.startswith("#")]
    assert ZEEK_HEADER == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    assert lines.count(ZEEK_HEADER) == 1
    assert lines.index(ZEEK_HEADER) < lines.index(body[0])
    for line in body:
        fields = line.split("\t")
        assert len(fields) == 5, line
        assert all(fields) and all(f == f.strip() for f in fields), line
        assert fields[1] in {"Intel::DOMAIN", "Intel::URL"}
        assert "*" not in fields[0]
        if fields[1] == "Intel::DOMAIN":
            assert "/" not in fields[0]
    assert len(body) == len(set(body))


# --- suricata ------------------------------------------------------------------------

_RULE = re.compile(r"alert (?P<proto>dns|tls) \$HOME_NET any -> any any \((?P<options>.*)\)")
_OPTION = re.compile(
    r'\s*(?P<key>[a-z][a-z0-9_.]*)(?::(?P<value>(?:"(?:[^"\\]|\\.)*"|[^;"\\])+))?;'
)
_KEYWORDS = {
    "msg", "flow", "dns.query", "tls.sni", "dotprefix", "content", "nocase", "endswith",
    "pcre", "classtype", "priority", "sid", "rev", "metadata",
}  # fmt: skip
_BUFFER = {"dns": "dns.query", "tls": "tls.sni"}


def parse_rule(line: str) -> dict[str, str]:
    """The options of one rule, checked strictly: the header we write, every option a
    known keyword ending in ``;``, a quoted ``msg`` with ``\\``, ``"`` and ``;`` escaped."""
    header = _RULE.fullmatch(line)
    assert header, line
    options, position = {}, 0
    text = header["options"]
    while position < len(text):
        option = _OPTION.match(text, position)
        assert option, f"bad option at {text[position:]!r}"
        assert option["key"] in _KEYWORDS, option["key"]
        options[option["key"]] = option["value"] or ""
        position = option.end()
    msg = options["msg"]
    assert msg.startswith('"') and msg.endswith('"')
    assert re.fullmatch(r'(?:[^"\\;]|\\[\\";])*', msg[1:-1]), msg
    assert _BUFFER[header["proto"]] in options
    assert re.fullmatch(r'"[^"\\;]+"', options["content"]), options["content"]
    assert options["classtype"] == "policy-violation"
    assert options["rev"] == "1"
    return options


def _rules(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_suricata_rules_parse_with_unique_sids_in_range() -> None:
    export, services = _catalogue_export("suricata")
    (text,) = export.files.values()
    sids = [int(parse_rule(line)["sid"]) for line in _rules(text)]
    assert len(sids) == len(set(sids))
    assert all(SID_BASE <= sid < SID_BASE + SID_SPAN for sid in sids)
    domains = sum(len(set(s.domains)) for s in services)
    assert len(sids) == 2 * domains


def test_suricata_sids_do_not_depend_on_the_selection() -> None:
    (whole,) = _export("suricata").files.values()
    (alone,) = _export("suricata", [fixtures.catalogue().get("deepseek-chat")]).files.values()
    assert set(_rules(alone)) <= set(_rules(whole))


@given(st.text(min_size=1, max_size=40).filter(lambda s: "\n" not in s and "\r" not in s))
def test_suricata_msg_escaping_round_trips(name: str) -> None:
    service = fixtures.catalogue().get("deepseek-chat").model_copy(update={"name": name})
    line = rule(service, "chat.deepseek.com", "dns", fixtures.context())
    msg = parse_rule(line)["msg"][1:-1]
    assert re.sub(r"\\(.)", r"\1", msg) == f"shadowscan: {name} DNS lookup (chat.deepseek.com)"


_SURICATA_YAML = """\
%YAML 1.1
---
vars:
  address-groups:
    HOME_NET: "[10.0.0.0/8]"
    EXTERNAL_NET: "!$HOME_NET"
classification-file: {classification}
reference-config-file: {reference}
app-layer:
  protocols:
    tls:
      enabled: yes
    dns:
      tcp:
        enabled: yes
      udp:
        enabled: yes
"""


@pytest.mark.skipif(shutil.which("suricata") is None, reason="suricata is not installed")
def test_suricata_accepts_the_catalogue_rules(tmp_path: Path) -> None:
    export, _ = _catalogue_export("suricata")
    rules = tmp_path / "shadowscan.rules"
    rules.write_text(export.files["shadowscan.rules"], encoding="utf-8")
    (tmp_path / "classification.config").write_text(
        "config classification: policy-violation,Potential Corporate Privacy Violation,1\n"
    )
    (tmp_path / "reference.config").write_text("config reference: url http://\n")
    config = tmp_path / "suricata.yaml"
    config.write_text(
        _SURICATA_YAML.format(
            classification=tmp_path / "classification.config",
            reference=tmp_path / "reference.config",
        )
    )
    result = subprocess.run(
        ["suricata", "-T", "-S", str(rules), "-c", str(config), "-l", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
