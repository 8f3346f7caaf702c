"""DNS evidence: counted as queries (never as requests), lookup bursts counted once,
search-suffix appendages read as the real name, at most medium confidence, and proxy +
DNS evidence of the same client and service forming one finding."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from shadowscan.api import scan
from shadowscan.dns import BurstFilter
from shadowscan.schema import EVENT_SCHEMA, MATCH_SCHEMA, conform

MAPPING = Path(__file__).parent / "data" / "dns" / "kv-dns.mapping.yaml"
T0 = 1730707200  # a minute boundary


def _dns_log(tmp_path: Path, rows: list[tuple[int, str, str, str]]) -> Path:
    path = tmp_path / "dns.log"
    path.write_text(
        "".join(f"t={t} client={c} q={q} type={ty}\n" for t, c, q, ty in rows), encoding="utf-8"
    )
    return path


def test_bursts_suffixes_and_queries(tmp_path: Path) -> None:
    log = _dns_log(
        tmp_path,
        [
            (T0, "10.0.0.5", "chatgpt.com", "A"),
            (T0 + 1, "10.0.0.5", "chatgpt.com", "A"),  # same minute: a repeat
            (T0 + 30, "10.0.0.5", "chatgpt.com.corp.local", "A"),  # suffix appended by the client
            (T0 + 90, "10.0.0.5", "chatgpt.com", "A"),  # next minute: counted
            (T0 + 91, "10.0.0.5", "chatgpt.com", "AAAA"),  # other type: counted
            (T0 + 92, "10.0.0.6", "chatgpt.com", "A"),  # other client
        ],
    )
    result = scan([str(log)], mapping=MAPPING, dns_suffixes=["corp.local"])
    by_src = {r["src_ips"][0]: r for r in result.findings.to_dicts()}
    assert by_src["10.0.0.5"]["queries"] == 3
    assert by_src["10.0.0.5"]["requests"] == 0
    assert by_src["10.0.0.5"]["confidence"] == "medium"  # DNS alone shows intent, not use
    assert by_src["10.0.0.6"]["queries"] == 1
    assert result.events["repeat"].to_list() == [False, True, True, False, False, False]
    assert set(result.events["host"]) == {"chatgpt.com"}
    without = scan([str(log)], mapping=MAPPING)
    assert "chatgpt.com.corp.local" not in set(
        without.events["host"]
    )  # no suffix given: no match at all


def test_bursts_span_batches() -> None:
    bursts = BurstFilter()
    row = {
        "log_type": ["dns"],
        "src_ip": ["10.0.0.1"],
        "host": ["claude.ai"],
        "dns_qtype": ["A"],
        "line_no": [1],
    }
    first = conform(
        pl.DataFrame({**row, "ts": [T0 * 1_000_000]}).with_columns(
            pl.col("ts").cast(pl.Datetime("us", "UTC"))
        )
    )
    again = first.with_columns(pl.col("ts") + pl.duration(seconds=5))
    later = first.with_columns(pl.col("ts") + pl.duration(seconds=65))
    assert bursts.mark(first)["repeat"].to_list() == [False]
    assert bursts.mark(again)["repeat"].to_list() == [True]
    assert bursts.mark(later)["repeat"].to_list() == [False]


def test_answer_only_rows_are_not_lookups() -> None:
    from shadowscan.findings import aggregate

    events = conform(
        pl.DataFrame(
            {
                "log_type": ["dns", "dns"],
                "src_ip": ["10.0.0.1", None],
                "host": ["claude.ai", "claude.ai"],
                "dns_answer_only": [False, True],
                "service_id": ["anthropic-claude"] * 2,
                "confidence": ["medium"] * 2,
                "line_no": [1, 2],
            }
        ).with_columns(pl.lit(T0 * 1_000_000).cast(pl.Datetime("us", "UTC")).alias("ts")),
        {**EVENT_SCHEMA, **MATCH_SCHEMA},
    )
    findings = aggregate(events)
    assert findings.height == 1 and findings["queries"].to_list() == [1]


def test_proxy_and_dns_evidence_form_one_finding(tmp_path: Path) -> None:
    dns = _dns_log(tmp_path, [(T0, "10.20.1.15", "chatgpt.com", "A")])
    proxy = tmp_path / "access.log"
    proxy.write_text(
        f"{T0 + 1}.000 412 10.20.1.15 TCP_TUNNEL/200 48211 CONNECT chatgpt.com:443 - HIER_DIRECT/104.18.32.47 -\n",
        encoding="utf-8",
    )
    dns_part = scan([str(dns)], mapping=MAPPING)
    proxy_part = scan([str(proxy)])
    from shadowscan.findings import finalise, merge_partials, partial

    both = finalise(merge_partials([partial(dns_part.events), partial(proxy_part.events)]))
    (finding,) = both.to_dicts()
    assert finding["log_types"] == ["dns", "proxy"]
    assert (finding["requests"], finding["queries"]) == (1, 1)
    assert finding["confidence"] == "high"
