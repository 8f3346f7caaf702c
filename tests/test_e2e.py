"""End to end: raw Squid logs (plain and gzipped, in a directory) to findings."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from pathlib import Path

from shadowscan.api import scan
from tests.conftest import SAMPLES


def test_raw_logs_to_findings(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "squid" / "access.log", tmp_path / "access.log")
    (tmp_path / "access.log.1.gz").write_bytes(
        gzip.compress((SAMPLES / "squid" / "syslog.log").read_bytes())
    )
    result = scan([str(tmp_path)])
    f = {
        (r["user"] or ",".join(r["src_ips"]), r["service_id"]): r
        for r in result.findings.to_dicts()
    }
    chatgpt = f[("CORP\\jdoe", "openai-chatgpt")]
    # 4 ChatGPT lines in access.log + 2 in the gzipped, syslog-wrapped copy of its first 6 lines
    assert chatgpt["requests"] == 6
    assert chatgpt["bytes_in"] == 48211 + 912344 + 30119 + 22018 + 48211 + 912344
    assert chatgpt["active_days"] == 2
    assert chatgpt["first_seen"] == dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC)
    assert chatgpt["hosts"] == ["chatgpt.com"]
    assert chatgpt["log_types"] == ["proxy"]
    copilot = f[("10.20.3.40", "github-copilot")]
    assert copilot["requests"] == 2
    assert copilot["user"] is None
    # look-alikes never match
    assert not any(
        "evil" in h or h.startswith("notchatgpt")
        for r in result.findings.to_dicts()
        for h in r["hosts"]
    )
    assert ("bwong", "deepseek-chat") in f  # blocked attempts are still findings
    totals = result.stats.to_dict()["totals"]
    assert totals["lines"] == totals["parsed"] + totals["skipped"] + totals["unparsed"]


def test_mixed_formats_in_one_directory_are_each_detected(tmp_path: Path) -> None:
    """A consultant's export folder: several products, compressed and not."""
    picks = {
        "squid/access.log": "squid",
        "zscaler_nss_web/web.log": "zscaler_nss_web",
        "w3c/proxysg.log": "w3c",
        "zeek_ssl/ssl.log": "zeek_ssl",
        "umbrella_proxy/proxylogs.log": "umbrella_proxy",
    }
    for i, rel in enumerate(picks):
        data = (SAMPLES / rel).read_bytes()
        target = tmp_path / f"export{i}.log"
        if i % 2:
            target = target.with_suffix(".gz")
            data = gzip.compress(data)
        target.write_bytes(data)
    (tmp_path / "README.txt").write_text("exported by the SOC on request\n", encoding="utf-8")
    result = scan([str(tmp_path)])
    formats = {Path(f.path).name: f.format for f in result.stats.files}
    assert sorted(v for v in formats.values() if v) == sorted(picks.values())
    assert formats["README.txt"] is None  # reported, not fatal, when found by walking a directory
    readme = next(f for f in result.stats.files if f.path.endswith("README.txt"))
    assert readme.unparsed == {"format not recognised": 1}
    assert {"proxy"} == {t for types in result.findings["log_types"] for t in types}
    assert result.findings.height > 5


def test_dns_answers_plus_ip_only_firewall_log(tmp_path: Path) -> None:
    """A BIND-family (Infoblox named) log with answers plus an iptables log with only
    addresses: connections are attributed to the services resolved just before, with
    medium confidence; a connection into a published range is low; the rest is nothing."""
    import os

    dns = tmp_path / "named.log"
    dns.write_text(
        "<30>Nov  4 09:00:00 ns1 named[4120]: 04-Nov-2024 09:00:00.120 client 10.20.1.15#50312: UDP: query: "
        "chatgpt.com IN A response: NOERROR +ED chatgpt.com. 60 IN A 104.18.32.47; chatgpt.com. 60 IN A 172.64.155.209;\n"
        "<30>Nov  4 09:00:01 ns1 named[4120]: 04-Nov-2024 09:00:01.002 client 10.20.1.22#41877: UDP: query: "
        "gemini.google.com IN A response: NOERROR +ED gemini.google.com. 300 IN A 142.250.74.110;\n",
        encoding="utf-8",
    )
    fw = tmp_path / "kern.log"
    rule = "LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={sport} DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0"
    lines = [
        ("09:00:02", "10.20.1.15", "104.18.32.47", 50001),  # resolved 2 s earlier by this client
        ("09:00:03", "10.20.1.15", "172.64.155.209", 50002),  # the second answer
        ("09:00:04", "10.20.1.99", "104.18.32.47", 50003),  # another client: not its lookup
        ("09:00:05", "10.20.1.22", "142.250.74.110", 50004),  # Gemini, for the client that asked
        ("09:00:06", "10.20.1.30", "160.79.104.10", 50005),  # Anthropic's published range, no DNS
        ("09:00:07", "10.20.1.30", "93.184.215.14", 50006),  # unrelated
    ]
    fw.write_text(
        "".join(
            f"Nov  4 {t} gw01 kernel: [81234.5] [UFW ALLOW] IN=eth1 OUT=eth0 SRC={s} DST={d} "
            + rule.format(sport=p)
            + "\n"
            for t, s, d, p in lines
        ),
        encoding="utf-8",
    )
    when = dt.datetime(2024, 11, 5, tzinfo=dt.UTC).timestamp()  # the files' year for syslog headers
    for path in (dns, fw):
        os.utime(path, (when, when))
    result = scan([str(fw), str(dns)])
    found = {(r["src_ips"][0], r["service_id"]): r for r in result.findings.to_dicts()}
    chatgpt = found[("10.20.1.15", "openai-chatgpt")]
    assert (chatgpt["requests"], chatgpt["queries"], chatgpt["confidence"]) == (2, 1, "medium")
    assert chatgpt["log_types"] == ["dns", "firewall"]
    assert found[("10.20.1.22", "google-gemini")]["requests"] == 1
    anthropic = found[("10.20.1.30", "anthropic-api")]
    assert anthropic["confidence"] in {"low", "medium"}  # published range: never high
    assert anthropic["match_rules"] == ["ip:160.79.104.0/23"]
    assert ("10.20.1.99", "openai-chatgpt") not in found
    fw_events = result.events.filter(result.events["log_type"] == "firewall")
    assert sorted(fw_events["src_port"].to_list()) == [50001, 50002, 50004, 50005]


def test_a_session_logged_at_start_and_end_counts_once(tmp_path: Path) -> None:
    """PAN-OS with "log at session start": two lines, one connection."""
    head = "Nov  4 09:00:{s} PA-3220 1,2024/11/04 09:00:{s},013201001234,TRAFFIC,{phase},2561,2024/11/04 09:00:{s},"
    body = (
        "10.20.1.15,104.18.32.47,198.51.100.7,0.0.0.0,allow-genai,corp\\jdoe,,openai-chatgpt,vsys1,trust,untrust,"
        "ethernet1/2,ethernet1/1,log-fwd,2024/11/04 09:00:{s},4242,1,51234,443,40001,443,0x400053,tcp,allow,"
        "{total},{sent},{recv},20,2024/11/04 09:00:00,10,any,0,7350000000000,0x0,10.0.0.0-10.255.255.255,United States,0,10,10"
    )
    log = tmp_path / "panos.log"
    log.write_text(
        (head + body).format(s="00", phase="start", total=0, sent=0, recv=0)
        + "\n"
        + (head + body).format(s="40", phase="end", total=53331, sent=5120, recv=48211)
        + "\n",
        encoding="utf-8",
    )
    (finding,) = scan([str(log)]).findings.to_dicts()
    assert (finding["service_id"], finding["requests"], finding["bytes_out"]) == (
        "openai-chatgpt",
        1,
        5120,
    )
