"""DNS-learned addresses: a connection that names no host is attributed to the AI service
an address was resolved for, for the same client, shortly before (medium confidence)."""

from __future__ import annotations

import json
from pathlib import Path

from shadowscan.api import scan


def _eve(ts: str, kind: str, **fields: object) -> str:
    return json.dumps(
        {
            "timestamp": f"2024-11-04T{ts}.000000+0000",
            "event_type": kind,
            "proto": "UDP" if kind == "dns" else "TCP",
            **fields,
        }
    )


def _write(tmp_path: Path) -> None:
    dns = _eve(
        "08:00:00",
        "dns",
        src_ip="10.20.1.15",
        src_port=5353,
        dest_ip="10.20.0.53",
        dest_port=53,
        dns={
            "version": 2,
            "type": "answer",
            "id": 1,
            "rrname": "chatgpt.com",
            "rrtype": "A",
            "rcode": "NOERROR",
            "answers": [
                {"rrname": "chatgpt.com", "rrtype": "A", "ttl": 60, "rdata": "104.18.32.47"}
            ],
        },
    )
    flow = {"app_proto": "tls", "flow": {"bytes_toserver": 5000, "bytes_toclient": 90000}}
    flows = [
        _eve(
            "08:00:05",
            "flow",
            src_ip="10.20.1.15",
            src_port=50000,
            dest_ip="104.18.32.47",
            dest_port=443,
            **flow,
        ),
        _eve(
            "08:10:00",
            "flow",
            src_ip="10.20.1.15",
            src_port=50001,
            dest_ip="104.18.32.47",
            dest_port=443,
            **flow,
        ),
        _eve(
            "08:45:00",
            "flow",
            src_ip="10.20.1.15",
            src_port=50002,
            dest_ip="104.18.32.47",
            dest_port=443,
            **flow,
        ),  # too late
        _eve(
            "08:00:06",
            "flow",
            src_ip="10.20.9.9",
            src_port=50003,
            dest_ip="104.18.32.47",
            dest_port=443,
            **flow,
        ),  # other client
        _eve(
            "07:59:00",
            "flow",
            src_ip="10.20.1.15",
            src_port=50004,
            dest_ip="104.18.32.47",
            dest_port=443,
            **flow,
        ),  # before the lookup
    ]
    # The flow file sorts first: DNS files are read first whatever the order given.
    (tmp_path / "a-flows.json").write_text("\n".join(flows) + "\n", encoding="utf-8")
    (tmp_path / "b-dns.json").write_text(dns + "\n", encoding="utf-8")


def test_connections_are_matched_by_dns_answers(tmp_path: Path) -> None:
    _write(tmp_path)
    result = scan([str(tmp_path)])
    flows = result.events.filter(result.events["log_type"] == "flow")
    assert flows["src_port"].to_list() == [50000, 50001]
    assert set(flows["match_rule"]) == {"dns-answer:chatgpt.com"}
    assert set(flows["confidence"]) == {"medium"}
    (finding,) = result.findings.to_dicts()
    assert finding["service_id"] == "openai-chatgpt"
    assert finding["log_types"] == ["dns", "flow"]
    assert (finding["requests"], finding["queries"], finding["bytes_out"]) == (2, 1, 10000)
    # Stats stay in the order the files were given.
    assert [Path(f.path).name for f in result.stats.files] == ["a-flows.json", "b-dns.json"]


def test_without_dns_logs_nothing_is_guessed(tmp_path: Path) -> None:
    _write(tmp_path)
    result = scan([str(tmp_path / "a-flows.json")])
    assert result.findings.is_empty()
