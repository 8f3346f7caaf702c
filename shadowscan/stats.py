"""The data-quality account: every line of every file is parsed, skipped, or unparsed
with a reason. Nothing is lost silently."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: How many line numbers to keep per unparsed reason, so the user can look at them.
SAMPLE_LINES = 5


@dataclass
class FileStats:
    path: str
    format: str | None = None
    detection: str | None = None
    compression: str | None = None
    lines: int = 0
    parsed: int = 0
    skipped: int = 0
    unparsed: Counter[str] = field(default_factory=Counter)
    unparsed_lines: dict[str, list[int]] = field(default_factory=dict)
    matched: int = 0
    latin1_lines: int = 0
    error: str | None = None
    #: With ``--state``: what this run did with the file (``new``, ``appended``,
    #: ``unchanged``, ``truncated``, ``replaced``) and from which line it read.
    incremental: str | None = None
    first_line: int | None = None

    def reject(self, reason: str, count: int, line_nos: list[int]) -> None:
        if not count:
            return
        self.unparsed[reason] += count
        sample = self.unparsed_lines.setdefault(reason, [])
        sample.extend(line_nos[: max(0, SAMPLE_LINES - len(sample))])
        sample.sort()

    @property
    def unparsed_total(self) -> int:
        return sum(self.unparsed.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "detection": self.detection,
            "compression": self.compression,
            "lines": self.lines,
            "parsed": self.parsed,
            "skipped": self.skipped,
            "unparsed": dict(sorted(self.unparsed.items())),
            "unparsed_sample_lines": dict(sorted(self.unparsed_lines.items())),
            "matched": self.matched,
            "latin1_lines": self.latin1_lines,
            "error": self.error,
            **(
                {"incremental": self.incremental, "first_line": self.first_line}
                if self.incremental
                else {}
            ),
        }


@dataclass
class ScanStats:
    files: list[FileStats] = field(default_factory=list)
    findings: int = 0
    catalogue_version: str = ""
    prefilter: str = ""
    #: Accounting of the ``--identity`` and ``--directory`` files.
    identity: list[dict[str, Any]] = field(default_factory=list)
    #: Findings, requests and lookups per attribution method.
    attribution: dict[str, dict[str, int]] = field(default_factory=dict)
    #: With ``--state``: the id this run was committed as.
    run_id: int | None = None
    #: Addresses two holders claimed at once (ip, from, until, holders, kind).
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def unparsed_by_reason(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for f in self.files:
            out.update(f.unparsed)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [f.to_dict() for f in self.files],
            "totals": {
                "files": len(self.files),
                "lines": self.total("lines"),
                "parsed": self.total("parsed"),
                "skipped": self.total("skipped"),
                "unparsed": self.total("unparsed_total"),
                "matched": self.total("matched"),
                "findings": self.findings,
            },
            "catalogue_version": self.catalogue_version,
            "prefilter": self.prefilter,
            "identity_files": self.identity,
            "attribution": self.attribution,
            "conflicts": self.conflicts,
            **({"run_id": self.run_id} if self.run_id is not None else {}),
        }
