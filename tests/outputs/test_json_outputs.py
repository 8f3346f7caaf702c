"""The ``ndjson`` and ``json`` sinks: golden output, one object per line for NDJSON (a
hostile value never splits a record), and a round trip through a JSON reader."""

from __future__ import annotations

import json

import pytest

from tests.outputs import fixtures
from tests.outputs.golden import GOLDEN, check_golden, render

KINDS = {"findings": fixtures.findings, "events": fixtures.events}


@pytest.mark.parametrize("sink", ["ndjson", "json"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_golden(sink: str, kind: str) -> None:
    check_golden(render(sink, KINDS[kind](), kind), GOLDEN / sink / f"{kind}.{sink}")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_one_record_per_line_and_values_survive(kind: str) -> None:
    frame = KINDS[kind]()
    lines = render("ndjson", frame, kind).decode("utf-8").splitlines()
    assert len(lines) == frame.height
    rows = [json.loads(line) for line in lines]
    assert rows == json.loads(render("json", frame, kind))
    column = "hosts" if kind == "findings" else "user_agent"
    values = [r[column] for r in rows]
    assert fixtures.HOSTILE in values or [fixtures.HOSTILE] in values
