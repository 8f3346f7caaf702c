"""The report's numbers: totals, sections and the timeline agree with the findings."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from shadowscan.api import scan
from shadowscan.report.model import TOP_FINDINGS, build_report, build_report_from_frames
from tests.outputs.fixtures import T, findings
from tests.report.scenario import big_daily, big_findings


def test_totals_match_the_fixture_findings() -> None:
    report = build_report_from_frames(findings())
    t = report.totals
    assert (t.findings, t.services, t.users, t.unnamed_sources, t.departments) == (3, 3, 1, 2, 2)
    assert (t.requests, t.queries, t.blocked, t.large_uploads) == (32, 7, 5, 1)
    assert t.bytes_out_unsanctioned == 2_358_474
    assert t.bytes_unknown_findings == 1
    assert report.top_risks.frame["risk_score"].to_list() == [72, 41, 5]
    assert report.top_risks.frame["who"].to_list() == ["jdoe", "10.1.0.8", "2001:db8:20::15"]
    assert report.quality is None
    assert report.window_start == T


def test_sections_hold_the_right_rows() -> None:
    report = build_report_from_frames(findings())
    assert report.large_uploads.frame["who"].to_list() == ["jdoe"]
    assert report.blocked.frame["blocked"].to_list() == [4, 1]
    matrix = report.matrix.frame
    assert matrix.filter(pl.col("department") == "Engineering")["ChatGPT"].item() == 34
    assert matrix.filter(pl.col("department") == "(none)")["Perplexity"].item() == 1
    cp = report.category_policy.frame
    assert cp.filter(pl.col("category") == "chat_assistant")["unsanctioned"].item() == 1
    # Unknown byte counts stay unknown, never zero.
    services = report.services.frame
    assert services.filter(pl.col("service") == "Perplexity")["bytes_out"].item() is None
    assert "not available" in report.new_services.note.lower()


def test_limitations_count_dns_only_and_ip_only_findings() -> None:
    text = " ".join(build_report_from_frames(findings()).limitations)
    assert "1 finding(s) rest on DNS lookups alone" in text
    assert "1 finding(s) rest on destination addresses alone" in text
    assert "not pseudonymised" in text


def test_timeline_without_per_day_data_is_coarse_and_keeps_the_totals_roughly() -> None:
    report = build_report_from_frames(findings())
    assert report.timeline_note.startswith("Coarse")
    assert report.timeline["day"].to_list() == [
        dt.date(2026, 11, 19),
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 21),
    ]
    assert abs(int(report.timeline["requests"].sum()) - 32) <= 3


def test_timeline_from_daily_partials_is_exact_and_fills_gaps() -> None:
    daily = pl.DataFrame(
        {
            "day": [dt.date(2026, 11, 1), dt.date(2026, 11, 4), dt.date(2026, 11, 4)],
            "service_id": ["a", "a", "b"],
            "requests": [3, 4, 5],
            "queries": [1, 0, 2],
        }
    )
    report = build_report_from_frames(findings(), None, daily)
    assert report.timeline.rows() == [
        (dt.date(2026, 11, 1), 3, 1),
        (dt.date(2026, 11, 2), 0, 0),
        (dt.date(2026, 11, 3), 0, 0),
        (dt.date(2026, 11, 4), 9, 2),
    ]
    assert not report.timeline_note.startswith("Coarse")


def test_large_sections_are_capped_and_say_how_many_more() -> None:
    report = build_report_from_frames(big_findings(), None, big_daily())
    assert report.top_risks.frame.height == TOP_FINDINGS
    assert report.top_risks.more == 10_000 - TOP_FINDINGS
    assert report.timeline.height == 30
    assert report.totals.users == 500 and report.totals.services == 100


@pytest.fixture(scope="module")
def squid_result():  # type: ignore[no-untyped-def]
    return scan(["sample_logs/squid"])


def test_report_of_a_scan_has_data_quality_and_an_exact_timeline(squid_result) -> None:  # type: ignore[no-untyped-def]
    report = build_report(squid_result)
    q = report.quality
    assert q is not None
    stats = squid_result.stats
    assert q.lines == stats.total("lines") and q.parsed == stats.total("parsed")
    assert q.files.height == len(stats.files)
    assert set(q.attribution["method"]) >= {"log_user", "unattributed"}
    assert q.catalogue_version == stats.catalogue_version
    assert not report.timeline_note.startswith("Coarse")
    timeline_use = int(report.timeline.select(pl.sum("requests") + pl.sum("queries")).item())
    assert timeline_use == report.totals.requests + report.totals.queries
