"""Aggregation: partials fold the same whichever way events are batched, and large
uploads are counted per finding against the threshold."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.engine import empty_matches
from shadowscan.findings import aggregate, finalise, merge_partials, partial
from shadowscan.schema import conform

T = dt.datetime(2026, 11, 19, 9, tzinfo=dt.UTC)


def events(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = empty_matches()
    filled = [
        {
            "log_type": "proxy",
            "service_id": "openai-chatgpt",
            "service": "ChatGPT",
            "vendor": "OpenAI",
            "category": "chat_assistant",
            "confidence": "high",
            "match_rule": "domain:chatgpt.com",
            "host": "chatgpt.com",
            "action": "allowed",
            **r,
        }
        for r in rows
    ]
    frame = pl.DataFrame(filled, schema={k: base.schema[k] for k in filled[0]})
    return conform(frame, dict(base.schema))


def test_large_uploads_count_requests_over_the_threshold() -> None:
    frame = events(
        [
            {"ts": T, "user": "jdoe", "src_ip": "10.0.0.1", "bytes_out": 2_000_000},
            {"ts": T, "user": "jdoe", "src_ip": "10.0.0.1", "bytes_out": 1_000_000},  # not over
            {"ts": T, "user": "jdoe", "src_ip": "10.0.0.1", "bytes_out": None},
            # a DNS lookup never is an upload, whatever a format put in bytes_out
            {
                "ts": T,
                "user": "jdoe",
                "src_ip": "10.0.0.1",
                "bytes_out": 9_000_000,
                "log_type": "dns",
            },
        ]
    )
    (row,) = aggregate(frame).to_dicts()
    assert (row["requests"], row["queries"], row["large_uploads"]) == (3, 1, 1)
    (low,) = finalise(merge_partials([partial(frame, upload_threshold=500_000)])).to_dicts()
    assert low["large_uploads"] == 2


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["jdoe", None]),
            st.sampled_from(["10.0.0.1", "10.0.0.2"]),
            st.integers(0, 3 * 86_400),
            st.one_of(st.none(), st.integers(0, 3_000_000)),
            st.sampled_from(["proxy", "dns", "firewall"]),
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(1, 5),
)
def test_batching_does_not_change_findings(rows, parts) -> None:  # type: ignore[no-untyped-def]
    frame = events(
        [
            {
                "user": u,
                "src_ip": ip,
                "ts": T + dt.timedelta(seconds=s),
                "bytes_out": b,
                "log_type": lt,
            }
            for u, ip, s, b, lt in rows
        ]
    )
    whole = aggregate(frame)
    size = -(-frame.height // parts)
    pieces = [partial(frame.slice(i, size)) for i in range(0, frame.height, size)]
    assert finalise(merge_partials(pieces[::-1])).equals(whole)
