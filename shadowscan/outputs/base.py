"""What a sink is, and the conversions most sinks share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import IO, TYPE_CHECKING, Any, ClassVar

import polars as pl

if TYPE_CHECKING:
    from shadowscan.api import ScanResult


class Sink(ABC):
    """Writes findings (or matched events) to a stream."""

    name: ClassVar[str]
    summary: ClassVar[str]
    #: File name extensions that select this sink for ``--output FILE``.
    extensions: ClassVar[tuple[str, ...]] = ()
    #: True when the sink writes bytes (parquet, xlsx) rather than text.
    binary: ClassVar[bool] = False

    #: True when the sink wants the whole scan (stats, warnings) through ``write_result``:
    #: reports need the data-quality account, not only the findings.
    wants_result: ClassVar[bool] = False

    @abstractmethod
    def write(self, frame: pl.DataFrame, stream: IO[Any], *, kind: str) -> None:
        """Write ``frame``; ``kind`` is ``findings`` or ``events``."""

    def write_result(
        self, result: ScanResult, stream: IO[Any], *, daily: pl.DataFrame | None = None
    ) -> None:
        """Write a whole scan; ``daily`` holds (day, service_id, requests, queries) partials.

        Sinks that set ``wants_result`` override this; the others write the findings.
        """
        self.write(result.findings, stream, kind="findings")


def iso_timestamps(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetimes as ISO 8601 UTC strings (``2024-05-01T10:00:00.123Z``) for text formats."""
    conv = [
        pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    ]
    return frame.with_columns(conv) if conv else frame


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return iso_timestamps(frame).to_dicts()
