"""What a parser is, and the helpers most parsers share.

A parser turns a batch of raw lines into a polars frame in the canonical schema
(:mod:`shadowscan.schema`), with vectorised string expressions, never a Python loop per
line. Each batch comes as a frame with ``line_no`` and ``line``; the parser returns the
events it read (keeping ``line_no``), the lines it rejected with a reason, and how many it
skipped as headers or comments. Every line is exactly one of the three.

Parsers whose lines stand alone declare ``line_pattern``: a regex every valid data line
matches. The scan engine then fully parses only the lines the signature prefilter picked
and counts the others as parsed or unparsed with ``line_pattern`` alone, which is what
keeps the common case near ``grep`` speed. A property test checks that ``parse`` and
``line_pattern`` agree.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from shadowscan.schema import UTC_TS


@dataclass(frozen=True)
class ParseContext:
    """What a parser may need to know about the file it reads."""

    source_file: str
    timezone: str = "UTC"
    #: When the file was last written (its mtime, UTC); timestamps without a year (syslog
    #: headers) take the year that puts them at or before this time. None for stdin: now.
    file_time: dt.datetime | None = None
    #: A user-defined field mapping (``--mapping FILE``) for the ``mapped`` format.
    mapping: Any = None


@dataclass
class ParsedBatch:
    """The outcome of parsing one batch; ``events`` carries ``line_no``."""

    events: pl.DataFrame
    rejected: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"line_no": pl.UInt64, "reason": pl.String})
    )
    skipped: int = 0


@dataclass(frozen=True)
class Sniff:
    """How well a parser recognises the head of a file (``score`` in 0..1) and why."""

    score: float
    evidence: str


class Parser(ABC):
    """Base class for one log format. Subclasses register with ``@PARSERS.register(name)``."""

    #: Registry name, also the ``--log-format`` value and the sample/golden folder name.
    name: ClassVar[str]
    #: ``proxy``, ``dns``, ``firewall`` or ``flow``.
    log_type: ClassVar[str]
    #: One line for ``shadowscan formats`` and the README.
    summary: ClassVar[str]
    #: One typical line of the format, for the README.
    example: ClassVar[str]
    #: Regex (Python ``re`` and Rust ``regex`` compatible) every valid data line matches;
    #: None when lines cannot be judged alone (header-driven formats).
    line_pattern: ClassVar[str | None] = None
    #: True when every line can be judged and parsed on its own (no headers that change
    #: the meaning of later lines). Such formats get the prefiltered fast path and parallel
    #: chunks. Defaults to "``line_pattern`` is set"; JSON-lines formats set it and
    #: override :meth:`validate`.
    stateless: ClassVar[bool | None] = None
    #: False when the raw line does not contain the host as text (Windows DNS debug logs
    #: write ``(7)chatgpt(3)com(0)``), so the literal prefilter would miss it: every line
    #: is then fully parsed (still in parallel when ``stateless``).
    prefilterable: ClassVar[bool] = True
    #: For formats whose records span lines (Sysmon event XML): the bytes that close a
    #: record. Chunks are then cut after a closing line, so no record is split.
    record_end: ClassVar[bytes | None] = None
    #: Regex for lines to skip as headers/comments (counted as skipped, not unparsed).
    skip_pattern: ClassVar[str | None] = r"^\s*$"
    #: Higher wins when two parsers recognise a file equally well (specific beats generic).
    priority: ClassVar[int] = 0
    #: Minimum share of sample lines that must be recognised for auto-detection.
    sniff_threshold: ClassVar[float] = 0.6

    def __init__(self, context: ParseContext) -> None:
        self.context = context

    @classmethod
    def is_stateless(cls) -> bool:
        return cls.line_pattern is not None if cls.stateless is None else cls.stateless

    @classmethod
    def validate(cls, text: pl.Series) -> pl.Series:
        """True for each line that :meth:`parse` would turn into an event. Must agree with
        ``parse`` exactly (a property test checks it): the fast path counts lines it does
        not parse with this alone."""
        if cls.line_pattern is None:
            raise NotImplementedError(
                f"{cls.name}: stateless parsers need line_pattern or validate()"
            )
        return text.str.contains(cls.line_pattern)

    @classmethod
    def mismatch_reason(cls) -> str:
        """The reason recorded for a line that does not fit the format at all."""
        return f"does not match the {cls.name} layout"

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        """Score the first lines of a file. The default counts ``line_pattern`` matches."""
        if cls.line_pattern is None:
            return None
        data = [ln for ln in lines if not (cls.skip_pattern and re.search(cls.skip_pattern, ln))]
        if not data:
            return None
        rx = re.compile(cls.line_pattern)
        hits = sum(1 for ln in data if rx.search(ln))
        if not hits:
            return None
        return Sniff(
            hits / len(data), f"{hits}/{len(data)} sample lines match the {cls.name} layout"
        )

    @abstractmethod
    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        """Parse ``batch`` (columns ``line_no``: UInt64, ``line``: String)."""


# --- shared building blocks ---------------------------------------------------------

#: An optional syslog header in front of the message (RFC 3164 or RFC 5424, with or
#: without ``<PRI>``, host and ``tag[pid]:``). Non-capturing, to be prefixed to a pattern.
SYSLOG_PREFIX = (
    r"(?:<\d{1,3}>\d?\s*)?"
    r"(?:(?:[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s+)?"
    r"(?:[A-Za-z0-9_.\-]+\s+)?"
    r"(?:[A-Za-z0-9_.()/\-]+(?:\[\d+\])?:\s+)"
)


def not_matching(batch: pl.DataFrame, ok: pl.Series, reason: str) -> pl.DataFrame:
    """Rejected-lines frame for the rows of ``batch`` where ``ok`` is false."""
    return batch.filter(~ok).select(pl.col("line_no"), pl.lit(reason).alias("reason"))


def split_skipped(batch: pl.DataFrame, pattern: str | None) -> tuple[pl.DataFrame, int]:
    """Drop lines matching ``pattern`` (blank lines, comments) and count them."""
    if pattern is None or batch.is_empty():
        return batch, 0
    skip = batch["line"].str.contains(pattern)
    n = int(skip.sum())
    return (batch.filter(~skip), n) if n else (batch, 0)


def epoch_seconds_to_ts(expr: pl.Expr) -> pl.Expr:
    """``"1157689312.049"`` -> UTC datetime (microsecond precision)."""
    return (
        (expr.cast(pl.Float64, strict=False) * 1_000_000)
        .round(0)
        .cast(pl.Int64)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .cast(UTC_TS)
    )


def dash_to_null(expr: pl.Expr) -> pl.Expr:
    """Logs write ``-`` (or nothing) for a missing value."""
    return pl.when(expr.is_in(["-", ""])).then(None).otherwise(expr)


def to_int(expr: pl.Expr, dtype: pl.DataType | None = None) -> pl.Expr:
    """A number column from text; ``-``, empty and non-numbers become null."""
    return dash_to_null(expr).cast(dtype or pl.Int64(), strict=False)
