"""``make conformance``: run shadowscan over real third-party logs (``../shared/corpus``)
and fail unless every file is detected as the right format and at least 99% of its
non-comment lines parse; where Elastic's ``-expected.json`` sits beside a log, the host,
user, source IP and byte fields we produce are compared with it.

The corpus is never copied into the project (its licences differ); this reads it in place.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from shadowscan.api import detect_files, parse_files
from shadowscan.errors import ShadowscanError

#: corpus folder -> the format shadowscan must detect. Log types covered so far.
EXPECTED: dict[str, dict[str, str]] = {
    "proxy": {
        "squid": "squid",
        "bluecoat_squid": "bluecoat_squid",
        "zscaler_nss_web": "zscaler_nss_web",
        "umbrella_proxy": "umbrella_proxy",
        "netskope_transaction": "netskope_transaction",
        "cloudflare_gateway_http": "cloudflare_gateway_http",
        "menlo_web": "menlo_web",
        "forcepoint_web_csv": "forcepoint_web_csv",
        "sophos_utm_http": "sophos_utm_http",
        "meraki_urls": "meraki_urls",
        "proxifier": "proxifier",
        "zeek_http": "zeek_http",
        "zeek_http_json": "zeek_http_json",
        "zeek_ssl": "zeek_ssl",
        "zeek_ssl_json": "zeek_ssl_json",
        "zeek_socks_json": "zeek_socks_json",
    },
    "dns": {
        "bind": "bind",
        "infoblox_bind": "infoblox_bind",
        "unbound": "unbound",
        "dnsmasq": "dnsmasq",
        "pihole": "pihole",
        "zeek_dns": "zeek_dns",
        "zeek_dns_json": "zeek_dns_json",
        "route53_resolver": "route53_resolver",
        "gcp_cloud_dns": "gcp_cloud_dns",
        "umbrella_dns": "umbrella_dns",
        "zscaler_nss_dns": "zscaler_nss_dns",
        "cloudflare_gateway_dns": "cloudflare_gateway_dns",
    },
    "firewall": {
        "panos": "panos",
        "fortigate": "fortigate",
        "cisco_asa": "cisco_asa",
        "checkpoint": "checkpoint",
        "juniper_srx": "juniper_srx",
        "azure_firewall": "azure_firewall",
        "meraki_flows": "meraki_flows",
        "iptables": "iptables",
        "pfsense_filterlog": "pfsense_filterlog",
    },
    "flow": {
        "suricata_eve": "suricata_eve",
        "vpcflow": "vpcflow",
        "zeek_conn": "zeek_conn",
    },
}

NOT_LOGS = ("-expected.json", "parser.assert", "LICENSE", ".md")
MIN_PARSED = 0.99


def is_log(path: Path) -> bool:
    return path.is_file() and not path.name.endswith(NOT_LOGS) and "LICENSE" not in path.name


def _expected_events(path: Path) -> list[dict[str, Any]] | None:
    exp = path.with_name(path.name + "-expected.json")
    if not exp.exists():
        return None
    data = json.loads(exp.read_text(encoding="utf-8"))
    return list(data.get("expected", []))


def _get(doc: dict[str, Any], dotted: str) -> Any:
    cur: Any = doc
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


#: our field -> ECS fields that carry the same value in Elastic's expected output.
ECS_FIELDS = {
    "src_ip": ["source.ip"],
    "user": ["user.name", "source.user.name"],
    "host": ["url.domain", "destination.domain"],
    "bytes_out": ["source.bytes"],
    "bytes_in": ["destination.bytes"],
}


def compare_expected(events: list[dict[str, Any]], expected: list[dict[str, Any]]) -> list[str]:
    """Compare field by field, in order, where Elastic has a value."""
    problems = []
    if len(events) != len(expected):
        problems.append(f"{len(events)} events, expected.json has {len(expected)}")
    for i, (ours, theirs) in enumerate(zip(events, expected, strict=False)):
        for field, ecs_names in ECS_FIELDS.items():
            want = next((v for v in (_get(theirs, n) for n in ecs_names) if v is not None), None)
            if want is None:
                continue
            got = ours.get(field)
            if str(got).lower() != str(want).lower():
                problems.append(f"event {i + 1}: {field} = {got!r}, expected {want!r}")
    return problems


_ASSERT = re.compile(
    r'^results\["s01-parse"\]\["(?P<parser>[^"]+)"\]\[(?P<idx>\d+)\]\.'
    r'(?:Evt\.(?P<kind>Parsed|Meta)\["(?P<key>[^"]+)"\] == "(?P<value>.*)"|Success == (?P<ok>true|false))$'
)

#: our field -> CrowdSec parsed/meta keys with the same value.
CROWDSEC_FIELDS = {
    "src_ip": ["remote_addr", "src_ip", "source_ip"],
    "src_port": ["remote_port", "src_port"],
    "dst_ip": ["dst_ip", "dest_ip"],
    "dst_port": ["dst_port", "dest_port"],
    "user": ["srcuser", "src_user", "user"],
}


def crowdsec_records(path: Path) -> list[dict[str, str]]:
    """The records CrowdSec's ``parser.assert`` beside ``path`` expects for this log."""
    assert_file = path.with_name("parser.assert")
    if not assert_file.exists():
        return []
    records: dict[tuple[str, int], dict[str, str]] = {}
    for line in assert_file.read_text(encoding="utf-8").splitlines():
        m = _ASSERT.match(line.strip())
        if not m:
            continue
        rec = records.setdefault((m["parser"], int(m["idx"])), {})
        if m["ok"]:
            rec["_success"] = m["ok"]
        else:
            rec[m["key"]] = (
                m["value"].encode().decode("unicode_escape") if "\\" in m["value"] else m["value"]
            )
    return [r for r in records.values() if r.get("datasource_path") == path.name]


_RAW = re.compile(
    r'^results\["s00-raw"\]\["[^"]+"\]\[(?P<idx>\d+)\]\.Evt\.'
    r'(?:Parsed\["message"\] == "(?P<message>.*)"|Meta\["datasource_path"\] == "(?P<path>[^"]*)")$'
)
_FAILED = re.compile(r'^results\["s01-parse"\]\["[^"]+"\]\[(?P<idx>\d+)\]\.Success == false$')


def crowdsec_rejects(path: Path) -> list[str]:
    """Messages of the lines of ``path`` that CrowdSec's ``parser.assert`` expects its parser
    to reject (``s01-parse ... Success == false``; the message is in the ``s00-raw`` record
    with the same index): deliberately malformed lines, which must stay unparsed."""
    assert_file = path.with_name("parser.assert")
    if not assert_file.exists():
        return []
    raw: dict[int, dict[str, str]] = {}
    failed: set[int] = set()
    for line in assert_file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if m := _FAILED.match(line):
            failed.add(int(m["idx"]))
        elif m := _RAW.match(line):
            rec = raw.setdefault(int(m["idx"]), {})
            if m["message"] is not None:
                rec["message"] = m["message"]
            else:
                rec["path"] = m["path"]
    return [
        raw[i]["message"]
        for i in sorted(failed)
        if i in raw and raw[i].get("path") == path.name and raw[i].get("message")
    ]


def compare_crowdsec(
    path: Path, events: list[dict[str, Any]], records: list[dict[str, str]]
) -> list[str]:
    """Find each expected record's line by its message and compare the shared fields."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    by_line = {e["line_no"]: e for e in events}
    problems = []
    for rec in records:
        message = rec.get("message")
        if not message or rec.get("_success") == "false":
            continue
        line_no = next((i + 1 for i, ln in enumerate(lines) if message in ln), None)
        if line_no is None:
            continue
        ours = by_line.get(line_no)
        if ours is None:
            problems.append(f"line {line_no}: CrowdSec parses it, we produced no event")
            continue
        for field, keys in CROWDSEC_FIELDS.items():
            want = next((rec[k] for k in keys if rec.get(k)), None)
            if want is not None and str(ours.get(field)) != want:
                problems.append(
                    f"line {line_no}: {field} = {ours.get(field)!r}, parser.assert has {want!r}"
                )
    return problems


def check_file(path: Path, want: str) -> list[str]:
    problems: list[str] = []
    ((_, detection),) = detect_files([str(path)])
    if detection.format != want:
        problems.append(
            f"detected as {detection.format!r}, expected {want!r} ({detection.evidence})"
        )
        return problems
    try:
        events, stats = parse_files([str(path)])
    except ShadowscanError as exc:
        return [f"error: {exc}"]
    f = stats.files[0]
    data_lines = f.lines - f.skipped
    rejects = crowdsec_rejects(path)
    if rejects:
        # Lines CrowdSec's parser.assert marks as malformed must be unparsed, and do not
        # count against the share of parsed lines.
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        bad = {i + 1 for i, ln in enumerate(text) if any(msg in ln for msg in rejects)}
        unparsed = {n for lines in f.unparsed_lines.values() for n in lines}
        parsed_bad = sorted(bad - unparsed)
        if parsed_bad:
            problems.append(f"lines {parsed_bad} are malformed (parser.assert) but parsed")
        data_lines -= len(bad & unparsed)
    share = f.parsed / data_lines if data_lines else 1.0
    if share < MIN_PARSED:
        problems.append(
            f"only {f.parsed}/{data_lines} data lines parsed ({share:.1%}); unparsed: {dict(f.unparsed)} lines {f.unparsed_lines}"
        )
    from shadowscan.outputs.base import records

    expected = _expected_events(path)
    if expected is not None:
        problems.extend(compare_expected(records(events), expected))
    crowdsec = crowdsec_records(path)
    if crowdsec:
        problems.extend(compare_crowdsec(path, records(events), crowdsec))
    return problems


def main(argv: list[str]) -> int:
    corpus = Path(argv[0] if argv else "../shared/corpus")
    if not corpus.is_dir():
        print(f"conformance: corpus not found at {corpus}", file=sys.stderr)
        return 3
    failures = 0
    checked = 0
    for log_type, folders in EXPECTED.items():
        for folder in sorted((corpus / log_type).iterdir()):
            if not folder.is_dir():
                continue
            want = folders.get(folder.name)
            if want is None:
                print(
                    f"FAIL {log_type}/{folder.name}: no format is expected for this folder (add it to EXPECTED)"
                )
                failures += 1
                continue
            for path in sorted(p for p in folder.iterdir() if is_log(p)):
                checked += 1
                problems = check_file(path, want)
                rel = path.relative_to(corpus)
                if problems:
                    failures += 1
                    print(f"FAIL {rel} ({want})")
                    for p in problems[:10]:
                        print(f"     {p}")
                else:
                    print(f"ok   {rel} ({want})")
    print(f"conformance: {checked - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
