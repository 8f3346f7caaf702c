"""The ``parquet`` sink: findings, events and rollups read back identically (types,
lists, UTC datetimes, hostile text), by polars and by pyarrow, through a stream that
cannot seek (stdout); golden files compared by content, since the bytes carry the
writer's version."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from shadowscan import __version__
from shadowscan.outputs import SINKS
from shadowscan.outputs.parquet import ParquetSink
from tests.golden import UPDATE
from tests.outputs import fixtures
from tests.outputs.golden import GOLDEN


class PipeOut(io.RawIOBase):
    """A write-only stream that cannot seek, like stdout into a pipe."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, b: Any) -> int:
        self.data += bytes(b)
        return len(b)


def render(frame: pl.DataFrame, kind: str) -> bytes:
    pipe = PipeOut()
    with io.BufferedWriter(pipe) as out:
        ParquetSink().write(frame, out, kind=kind)
        out.flush()
        return bytes(pipe.data)


def frame_of(kind: str) -> pl.DataFrame:
    if kind == "findings":
        return fixtures.findings()
    if kind == "events":
        return fixtures.events()
    return pl.DataFrame(
        {
            "department": ["Engineering", None],
            "users": [3, 1],
            "services": [["ChatGPT", fixtures.HOSTILE], []],
            "bytes_out": [2_358_474, None],
        },
        schema_overrides={"users": pl.UInt32},
    )


@pytest.mark.parametrize("kind", ["findings", "events", "department"])
def test_reads_back_identically(kind: str) -> None:
    frame = frame_of(kind)
    data = render(frame, kind)
    assert_frame_equal(pl.read_parquet(io.BytesIO(data)), frame)
    table = pq.read_table(io.BytesIO(data))
    assert table.num_rows == frame.height and table.column_names == frame.columns
    meta = pl.read_parquet_metadata(io.BytesIO(data))
    assert (meta["shadowscan.kind"], meta["shadowscan.version"]) == (kind, __version__)


def test_types_survive() -> None:
    back = pl.read_parquet(io.BytesIO(render(fixtures.findings(), "findings")))
    assert back.schema["first_seen"] == pl.Datetime("us", "UTC")
    assert back.schema["hosts"] == pl.List(pl.String)
    assert back.schema["risk_score"] == pl.UInt8
    assert back["hosts"][1].to_list() == [fixtures.HOSTILE]


def test_registered_as_binary() -> None:
    sink = SINKS.get("parquet")
    assert sink is ParquetSink and sink.binary and sink.extensions == (".parquet",)


@pytest.mark.parametrize("kind", ["findings", "events"])
def test_golden(kind: str) -> None:
    """The committed file still reads as the fixtures (readers of old files keep working),
    and what the sink writes now reads the same."""
    path = GOLDEN / "parquet" / f"{kind}.parquet"
    data = render(frame_of(kind), kind)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    assert path.exists(), f"missing golden file {path}; run `make golden` and review it"
    golden = pl.read_parquet(path)
    assert_frame_equal(golden, pl.read_parquet(io.BytesIO(data)))
    assert pl.read_parquet_metadata(path)["shadowscan.kind"] == kind
