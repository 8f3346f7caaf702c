"""Reading reference files (``--identity`` and ``--directory``): ``[TYPE:]FILE`` specs,
type detection by sniffing, and the per-file accounting both kinds share.

Reference files are small next to the logs they explain, so a reader sees the whole file
as lines; like a log parser it accounts for every line: parsed, ignored, or rejected
with a reason and a line number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import polars as pl

from shadowscan.errors import InputError
from shadowscan.readers import InputSource, open_binary
from shadowscan.registry import Registry
from shadowscan.stats import SAMPLE_LINES

#: A file whose best reader scores below this is not recognised.
MIN_SNIFF = 0.5
HEAD_LINES = 50


class Batch(Protocol):
    frame: pl.DataFrame
    lines: int
    parsed: int
    ignored: int
    rejected: pl.DataFrame


class Sniffer(Protocol):
    name: ClassVar[str]

    @classmethod
    def sniff(cls, head: list[str]) -> float: ...


R = TypeVar("R", bound=Sniffer)


@dataclass
class ReferenceFileStats:
    """The accounting of one identity or directory file."""

    path: str
    type: str
    kind: str
    lines: int = 0
    parsed: int = 0
    ignored: int = 0
    records: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    rejected_lines: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.type,
            "kind": self.kind,
            "lines": self.lines,
            "parsed": self.parsed,
            "ignored": self.ignored,
            "records": self.records,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_sample_lines": dict(sorted(self.rejected_lines.items())),
        }


def split_spec(spec: str, registry: Registry[Any]) -> tuple[str | None, str]:
    """``dhcpd_leases:/var/lib/dhcpd.leases`` -> (type, path); a plain path -> (None, path).

    Only a registered type name counts as a prefix, so a path with a colon still works.
    """
    head, sep, tail = spec.partition(":")
    if sep and head in registry:
        return head, tail
    return None, spec


def read_lines(path: str) -> list[str]:
    """All lines of ``path`` (decompressed; UTF-16 with a BOM as Windows tools export,
    else UTF-8, else Latin-1), line ends stripped."""
    stream = open_binary(InputSource(path))
    try:
        data = stream.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    finally:
        stream.close()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    return text.splitlines()


def head_of(path: str) -> list[str]:
    """The first ``HEAD_LINES`` non-blank lines of ``path``: what readers sniff."""
    return [ln for ln in read_lines(path) if ln.strip()][:HEAD_LINES]


def detect_type(path: str, head: list[str], registry: Registry[type[R]], what: str) -> type[R]:
    """The reader whose ``sniff`` is surest of ``head``; an error naming the types when
    none is sure enough."""
    scores = sorted(((reader.sniff(head), name) for name, reader in registry.items()), reverse=True)
    if not scores or scores[0][0] < MIN_SNIFF:
        raise InputError(
            f"{path}: not a recognised {what}; name its type as TYPE:{path} "
            f"(types: {', '.join(registry.names())})"
        )
    return registry.get(scores[0][1])


def read_reference(
    spec: str,
    registry: Registry[type[R]],
    *,
    what: str,
    option: str,
    kind: Callable[[type[R]], str],
    read: Callable[[type[R], str, list[str]], Batch],
) -> tuple[Batch, ReferenceFileStats]:
    """Read one ``[TYPE:]FILE`` with the reader its type names (or detection picks):
    ``read(reader_class, path, lines)`` runs it; the accounting is checked and kept."""
    type_name, path = split_spec(spec, registry)
    if not Path(path).is_file():
        raise InputError(f"{path}: {what} not found; check the {option} path")
    lines = read_lines(path)
    content = [ln for ln in lines if ln.strip()]
    if not type_name and not content:
        raise InputError(f"{path}: the {what} is empty; check the {option} path or export it again")
    reader_cls = (
        registry.get(type_name)
        if type_name
        else detect_type(path, content[:HEAD_LINES], registry, what)
    )
    batch = read(reader_cls, path, lines)
    stats = ReferenceFileStats(path, reader_cls.name, kind(reader_cls), lines=batch.lines)
    stats.parsed, stats.ignored, stats.records = batch.parsed, batch.ignored, batch.frame.height
    for (reason,), group in batch.rejected.group_by(["reason"], maintain_order=True):
        nos = sorted(group["line_no"].to_list())
        stats.rejected[str(reason)] += len(nos)
        stats.rejected_lines[str(reason)] = nos[:SAMPLE_LINES]
    accounted = stats.parsed + stats.ignored + sum(stats.rejected.values())
    if accounted != stats.lines:
        raise AssertionError(
            f"{path}: {reader_cls.name} accounted for {accounted} of {stats.lines} lines"
        )
    if stats.lines and not stats.parsed and stats.rejected:
        first = min(batch.rejected["line_no"].to_list(), default=1)
        raise InputError(
            f"{path}:{first}: no line reads as {reader_cls.name}; check the file or name its "
            "type as TYPE:FILE"
        )
    return batch, stats
