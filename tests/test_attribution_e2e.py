"""End to end, raw logs to attributed findings: DHCP churn (one address, two people on
two days), unauthenticated proxy lines, DNS-only and firewall-only traffic, a logon
session, a logged user's address reused as evidence, an expired lease, a conflict, and
traffic nobody can be named for, rolled up by site."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from shadowscan.api import build_attributor, scan
from shadowscan.cli import app

# 2026-11-19 is a Thursday (dhcpd writes the weekday number before the date).
LEASES = """\
# dhcpd.leases written by ISC dhcpd
authoring-byte-order little-endian;
lease 10.1.0.5 {
  starts 4 2026/11/19 08:00:00;
  ends 4 2026/11/19 20:00:00;
  binding state active;
  hardware ethernet 00:1a:2b:00:00:01;
  client-hostname "LAPTOP-JDOE";
}
lease 10.1.0.5 {
  starts 5 2026/11/20 08:00:00;
  ends 5 2026/11/20 20:00:00;
  binding state active;
  hardware ethernet 00:1a:2b:00:00:02;
  client-hostname "LAPTOP-ASMITH";
}
lease 10.1.0.6 {
  starts 4 2026/11/19 08:00:00;
  ends 4 2026/11/19 12:00:00;
  binding state free;
  hardware ethernet 00:1a:2b:00:00:03;
  client-hostname "LAPTOP-BWONG";
}
"""

ASSETS = """\
hostname,mac,owner
LAPTOP-JDOE,00:1a:2b:00:00:01,CORP\\jdoe
LAPTOP-ASMITH,00-1A-2B-00-00-02,asmith@corp.example
LAPTOP-BWONG,00:1a:2b:00:00:03,bwong
"""


def _logon(ts: str, user: str, ip: str) -> str:
    return json.dumps(
        {
            "@timestamp": ts,
            "winlog": {
                "event_id": 4624,
                "event_data": {
                    "TargetUserName": user,
                    "TargetDomainName": "CORP",
                    "IpAddress": ip,
                    "LogonType": "3",
                },
            },
        }
    )


LOGONS = (
    "\n".join(
        [
            _logon("2026-11-19T08:00:00.000Z", "asmith", "10.1.0.7"),
            # two people on one address at once: a shared machine
            _logon("2026-11-19T08:00:00.000Z", "jdoe", "10.1.0.8"),
            _logon("2026-11-19T08:30:00.000Z", "bwong", "10.1.0.8"),
        ]
    )
    + "\n"
)

DIRECTORY = """\
user,email,display_name,department
jdoe,john.doe@corp.example,John Doe,Engineering
asmith,alice.smith@corp.example,Alice Smith,Finance
bwong,bernard.wong@corp.example,Bernard Wong,Sales
"""

SITES = """\
cidr,site,department
10.2.0.0/16,Lyon,Operations
"""


def _epoch(text: str) -> str:
    return f"{dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp():.3f}"


def _squid(ts: str, ip: str, host: str, user: str = "-") -> str:
    return (
        f"{_epoch(ts)}    120 {ip} TCP_TUNNEL/200 5120 CONNECT {host}:443 {user} "
        f"HIER_DIRECT/104.18.32.47 -"
    )


PROXY = (
    "\n".join(
        [
            _squid("2026-11-19T09:00:00", "10.1.0.5", "chatgpt.com"),  # lease day 1: jdoe
            _squid("2026-11-20T09:00:00", "10.1.0.5", "chatgpt.com"),  # lease day 2: asmith
            _squid("2026-11-19T10:00:00", "10.1.0.9", "claude.ai", "CORP%5Cbwong"),
            _squid("2026-11-19T13:00:00", "10.1.0.6", "chatgpt.com"),  # after the lease ended
        ]
    )
    + "\n"
)


def _bind(ts: str, ip: str, name: str) -> str:
    stamp = dt.datetime.fromisoformat(ts).strftime("%d-%b-%Y %H:%M:%S.000")
    return (
        f"{stamp} queries: info: client @0x7f1c2c0a8b60 {ip}#53211 ({name}): "
        f"query: {name} IN A + (10.0.0.53)"
    )


DNS = (
    "\n".join(
        [
            _bind("2026-11-19T10:05:00", "10.1.0.9", "claude.ai"),  # evidence: bwong at 10:00
            _bind("2026-11-19T09:30:00", "10.1.0.7", "gemini.google.com"),  # asmith's logon
            _bind("2026-11-19T09:30:00", "10.1.0.8", "www.perplexity.ai"),  # two logons
            _bind("2026-11-19T09:40:00", "10.2.0.50", "chatgpt.com"),  # nobody: site Lyon
        ]
    )
    + "\n"
)

FIREWALL = (
    "Nov 20 09:10:00 fw1 kernel: [86400.123456] IN=eth1 OUT=eth0 "
    "MAC=00:16:3e:00:00:01:00:1a:2b:00:00:02:08:00 SRC=10.1.0.5 DST=160.79.104.10 LEN=60 "
    "TOS=0x00 PREC=0x00 TTL=63 ID=54321 DF PROTO=TCP SPT=51234 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0\n"
)


@pytest.fixture
def scenario(tmp_path: Path) -> dict[str, Path]:
    files = {
        "leases": ("dhcpd.leases", LEASES),
        "assets": ("assets.csv", ASSETS),
        "logons": ("logons.json", LOGONS),
        "directory": ("people.csv", DIRECTORY),
        "sites": ("sites.csv", SITES),
        "proxy": ("logs/access.log", PROXY),
        "dns": ("logs/query.log", DNS),
        "firewall": ("logs/kern.log", FIREWALL),
    }
    out = {}
    stamp = dt.datetime(2026, 11, 26, tzinfo=dt.UTC).timestamp()
    for key, (name, text) in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.utime(path, (stamp, stamp))  # year-less syslog stamps take the year from here
        out[key] = path
    out["logs"] = tmp_path / "logs"
    return out


def _findings(scenario: dict[str, Path]) -> pl.DataFrame:
    attributor = build_attributor(
        [str(scenario["leases"]), str(scenario["assets"]), str(scenario["logons"])],
        [str(scenario["directory"])],
        scenario["sites"],
    )
    result = scan([str(scenario["logs"])], attributor=attributor)
    return result.findings


def _row(findings: pl.DataFrame, **where: object) -> dict[str, object]:
    rows = findings
    for column, value in where.items():
        rows = rows.filter(pl.col(column).is_null() if value is None else pl.col(column) == value)
    assert rows.height == 1, (where, rows)
    return rows.row(0, named=True)


def test_each_event_goes_to_the_right_person(scenario: dict[str, Path]) -> None:
    findings = _findings(scenario)
    # DHCP churn: 10.1.0.5 was John's laptop on the 19th and Alice's on the 20th.
    jdoe = _row(findings, user="jdoe", service_id="openai-chatgpt")
    assert (jdoe["attribution"], jdoe["department"], jdoe["requests"]) == (
        "ip_lease+asset",
        "Engineering",
        1,
    )
    assert jdoe["devices"] == ["laptop-jdoe"]
    asmith = _row(findings, user="asmith", service_id="openai-chatgpt")
    assert (asmith["attribution"], asmith["department"], asmith["requests"]) == (
        "ip_lease+asset",
        "Finance",
        1,
    )
    # Firewall-only traffic (an address in Anthropic's range) on the lease of day 2.
    api = _row(findings, user="asmith", service_id="anthropic-api")
    assert (api["attribution"], api["log_types"], api["requests"]) == (
        "ip_lease+asset",
        ["firewall"],
        1,
    )
    # DNS-only traffic during a logon session.
    gemini = _row(findings, user="asmith", service_id="google-gemini")
    assert (gemini["attribution"], gemini["queries"], gemini["requests"]) == ("ip_session", 1, 0)
    # One finding for Bernard's Claude use: the proxy line names him, and the DNS lookup
    # from the same address five minutes later is his too.
    claude = _row(findings, user="bwong", service_id="anthropic-claude")
    assert claude["attribution"] == "log_user"
    assert claude["department"] == "Sales"
    assert claude["log_types"] == ["dns", "proxy"]
    assert (claude["requests"], claude["queries"]) == (1, 1)


def test_conflicts_are_reported_not_guessed(scenario: dict[str, Path]) -> None:
    findings = _findings(scenario)
    shared = _row(findings, service_id="perplexity")
    assert shared["user"] is None
    assert shared["attribution"] == "ambiguous"
    assert shared["candidates"] == ["bwong", "jdoe"]
    assert shared["src_ips"] == ["10.1.0.8"]


def test_unattributed_traffic_rolls_up_by_site_and_subnet(scenario: dict[str, Path]) -> None:
    findings = _findings(scenario)
    nobody = findings.filter(pl.col("attribution") == "unattributed").sort("subnet")
    rows = nobody.select("src_ips", "site", "department", "subnet").to_dicts()
    # An expired lease is not used: 10.1.0.6 at 13:00 is nobody's.
    assert rows == [
        {"src_ips": ["10.1.0.6"], "site": None, "department": None, "subnet": "10.1.0.0/24"},
        {
            "src_ips": ["10.2.0.50"],
            "site": "Lyon",
            "department": "Operations",
            "subnet": "10.2.0.0/16",
        },
    ]
    assert findings.filter(pl.col("user").is_null()).height == 3


def test_without_identity_files_the_same_traffic_stays_by_address(
    scenario: dict[str, Path],
) -> None:
    findings = scan([str(scenario["logs"])]).findings
    # Only the logged user, and the lookup their address made minutes later, are named.
    assert set(findings["user"].drop_nulls()) == {"CORP\\bwong"}
    claude = _row(findings, service_id="anthropic-claude")
    assert claude["log_types"] == ["dns", "proxy"]
    assert set(findings["attribution"]) == {"log_user", "unattributed"}


def test_cli_department_rollup_and_pseudonymised_output(
    scenario: dict[str, Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    common = [
        "scan",
        str(scenario["logs"]),
        "--identity",
        str(scenario["leases"]),
        "--identity",
        f"asset_inventory:{scenario['assets']}",
        "--identity",
        str(scenario["logons"]),
        "--directory",
        str(scenario["directory"]),
        "--sites",
        str(scenario["sites"]),
        "-q",
    ]
    res = runner.invoke(app, [*common, "--group-by", "department", "-F", "ndjson"])
    assert res.exit_code == 0, res.output
    by_dept = {r["department"]: r for r in map(json.loads, res.stdout.splitlines())}
    assert by_dept["Finance"]["users"] == 1
    assert by_dept["Finance"]["services"] == ["Anthropic API", "ChatGPT", "Gemini"]
    assert by_dept["Engineering"]["requests"] == 1
    assert by_dept["Operations"]["users"] == 0

    key = tmp_path / "k.key"
    assert runner.invoke(app, ["keygen", str(key)]).exit_code == 0
    assert key.stat().st_mode & 0o777 == 0o600
    res = runner.invoke(app, [*common, "--pseudonymize", str(key), "-F", "ndjson"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    stats = tmp_path / "stats.json"
    res = runner.invoke(
        app, [*common, "--pseudonymize", str(key), "-F", "ndjson", "--stats-json", str(stats)]
    )
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    for text in (res.stdout, stats.read_text(encoding="utf-8")):
        for name in ("jdoe", "asmith", "bwong", "laptop-jdoe"):
            assert name not in text
    assert json.loads(stats.read_text(encoding="utf-8"))["conflicts"][0]["holders"][0].startswith(
        "u-"
    )
    finance = [r for r in rows if r["department"] == "Finance"]
    token = finance[0]["user"]
    assert token.startswith("u-")
    back = runner.invoke(
        app, ["reidentify", token, "--key", str(key), "--directory", str(scenario["directory"])]
    )
    assert back.exit_code == 0, back.output
    assert back.stdout.split("\t")[0] == "asmith"
    assert "Finance" in back.stdout
