"""Load ``--identity [TYPE:]FILE`` arguments: detect each file's type, read it, and keep
the line accounting for the data-quality report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity.base import (
    ASSET_SCHEMA,
    BINDING_SCHEMA,
    IdentityBatch,
    IdentityContext,
    IdentityReader,
)
from shadowscan.reference import (
    HEAD_LINES,
    ReferenceFileStats,
    head_of,
    read_lines,
    read_reference,
)
from shadowscan.reference import detect_type as _detect

__all__ = ["HEAD_LINES", "IdentityData", "detect_type", "head_of", "load_identity", "read_lines"]


@dataclass
class IdentityData:
    """Everything the identity files said: bindings (IP -> user or device over time),
    assets (device -> user), and the accounting."""

    bindings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=BINDING_SCHEMA))
    assets: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ASSET_SCHEMA))
    files: list[ReferenceFileStats] = field(default_factory=list)


def detect_type(path: str, head: list[str]) -> type[IdentityReader]:
    """The identity source type of a file starting with ``head``."""
    return _detect(path, head, IDENTITY_READERS, "identity source")


def load_identity(
    specs: Sequence[str],
    *,
    timezone: str = "UTC",
    lease_time: dt.timedelta = dt.timedelta(hours=12),
    session_time: dt.timedelta = dt.timedelta(hours=8),
) -> IdentityData:
    """Read every ``[TYPE:]FILE`` in ``specs``."""

    def read(reader_cls: type[IdentityReader], path: str, lines: list[str]) -> IdentityBatch:
        mtime = dt.datetime.fromtimestamp(Path(path).stat().st_mtime, tz=dt.UTC)
        context = IdentityContext(path, timezone, mtime, lease_time, session_time)
        return reader_cls(context).read(lines)

    data = IdentityData()
    bindings: list[pl.DataFrame] = []
    assets: list[pl.DataFrame] = []
    for spec in specs:
        batch, stats = read_reference(
            spec,
            IDENTITY_READERS,
            what="identity file",
            option="--identity",
            kind=lambda reader: reader.kind,
            read=read,
        )
        data.files.append(stats)
        (assets if stats.kind == "asset" else bindings).append(batch.frame)
    if bindings:
        data.bindings = pl.concat(bindings, how="vertical_relaxed")
    if assets:
        data.assets = pl.concat(assets, how="vertical_relaxed")
    return data
