"""Shared fixtures, and Hypothesis profiles picked by SHADOWSCAN_HYPOTHESIS_PROFILE
(``fast`` by default for local runs, ``ci`` in CI for more examples)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
GOLDEN = Path(__file__).resolve().parent / "golden"

settings.register_profile(
    "fast", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("SHADOWSCAN_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "fast")
)


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def squid_line() -> str:
    return "1730707200.000    412 10.20.1.15 TCP_TUNNEL/200 48211 CONNECT chatgpt.com:443 CORP%5Cjdoe HIER_DIRECT/104.18.32.47 -"
