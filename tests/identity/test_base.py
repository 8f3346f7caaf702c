"""The helpers every identity reader shares: point events to intervals, merging runs,
and the normalisation of MACs, host names and addresses."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.identity.base import (
    POINT_SCHEMA,
    intervals_from_points,
    merge_runs,
    normalise_device,
    normalise_ip,
    normalise_mac,
)

T0 = dt.datetime(2026, 11, 19, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def points(rows: list[tuple[float, str, str, str | None, str | None]]) -> pl.DataFrame:
    """(hour, op, ip, mac, key) rows in POINT_SCHEMA, one line each."""
    return pl.DataFrame(
        [
            {
                "ts": T0 + h * HOUR,
                "op": op,
                "ip": ip,
                "user": None,
                "mac": mac,
                "device": None,
                "key": key,
                "line_no": i + 1,
            }
            for i, (h, op, ip, mac, key) in enumerate(rows)
        ],
        schema=POINT_SCHEMA,
    )


def spans(frame: pl.DataFrame) -> list[tuple[str | None, float, float]]:
    return [
        (r["mac"], (r["start"] - T0) / HOUR, (r["end"] - T0) / HOUR)
        for r in frame.sort("start").iter_rows(named=True)
    ]


def build(pts: pl.DataFrame, cut: bool = True, hours: float = 12) -> pl.DataFrame:
    return intervals_from_points(
        pts,
        kind="lease",
        source="t",
        source_file="t",
        default_duration=dt.timedelta(hours=hours),
        cut_on_change=cut,
    )


def test_renewals_merge_and_another_client_cuts_the_lease() -> None:
    out = build(
        points(
            [
                (0, "start", "10.0.0.5", "aa", None),
                (1, "start", "10.0.0.5", "aa", None),  # renewal
                (4, "start", "10.0.0.5", "bb", None),  # the address goes to another client
                (5, "end", "10.0.0.5", "bb", None),  # released
                (8, "start", "10.0.0.5", "aa", None),
            ]
        )
    )
    assert spans(out) == [("aa", 0, 4), ("bb", 4, 5), ("aa", 8, 20)]
    assert out["line_no"].to_list() == [1, 3, 5]


def test_an_end_logged_before_a_start_in_the_same_second_does_not_close_it() -> None:
    out = build(
        points(
            [
                (0, "start", "10.8.0.6", "aa", "s1"),
                (2, "end", "10.8.0.6", "aa", "s1"),  # disconnect ...
                (2, "start", "10.8.0.6", "aa", "s1"),  # ... and reconnect, same second
                (3, "end", "10.8.0.6", "aa", "s1"),
            ]
        ),
        cut=False,
    )
    assert spans(out) == [("aa", 0, 3)]  # [0, 2) and [2, 3) touch, so they merge


def test_without_cut_overlaps_stay_for_attribution_to_report() -> None:
    out = build(
        points([(0, "start", "10.0.0.8", "aa", None), (1, "start", "10.0.0.8", "bb", None)]),
        cut=False,
        hours=8,
    )
    assert spans(out) == [("aa", 0, 8), ("bb", 1, 9)]


def test_addresses_do_not_cut_each_other() -> None:
    out = build(
        points([(0, "start", "10.0.0.1", "aa", None), (1, "start", "10.0.0.2", "bb", None)])
    )
    assert spans(out) == [("aa", 0, 12), ("bb", 1, 13)]


@given(
    st.lists(
        st.tuples(st.sampled_from("ab"), st.integers(0, 50), st.integers(1, 10)),
        min_size=1,
        max_size=30,
    )
)
def test_merge_runs_agrees_with_a_naive_union(rows: list[tuple[str, int, int]]) -> None:
    frame = pl.DataFrame(
        {
            "k": [r[0] for r in rows],
            "start": [r[1] for r in rows],
            "end": [r[1] + r[2] for r in rows],
        }
    )
    got = sorted(merge_runs(frame, ["k"]).select("k", "start", "end").iter_rows())
    expected = []
    for key in sorted({r[0] for r in rows}):
        spans_ = sorted((s, s + n) for k, s, n in rows if k == key)
        cur_s, cur_e = spans_[0]
        for s, e in spans_[1:]:
            if s <= cur_e:
                cur_e = max(cur_e, e)
            else:
                expected.append((key, cur_s, cur_e))
                cur_s, cur_e = s, e
        expected.append((key, cur_s, cur_e))
    assert got == sorted(expected)


def test_normalisers() -> None:
    frame = pl.DataFrame(
        {
            "mac": [
                "00-1A-2B-3C-4D-5E",
                "001a.2b3c.4d5e",
                "001A2B3C4D5E",
                "zz",
                "-",
                "00:1a:2b:3c:4d:5g",
            ],
            "device": ['"LT-0142.corp.example"', "LT-0142", "-", "", " ws-9 ", None],
            "ip": ["::ffff:10.0.0.5", "[2001:DB8::1]", "fe80::1%eth0", "-", "127.0.0.1", "0.0.0.0"],
        }
    )
    out = frame.select(
        normalise_mac(pl.col("mac")), normalise_device(pl.col("device")), normalise_ip(pl.col("ip"))
    )
    assert out.to_dict(as_series=False) == {
        "mac": ["00:1a:2b:3c:4d:5e"] * 3 + [None, None, None],
        "device": ["lt-0142", "lt-0142", None, None, "ws-9", None],
        "ip": ["10.0.0.5", "2001:db8::1", "fe80::1", None, None, None],
    }
