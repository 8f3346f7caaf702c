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
