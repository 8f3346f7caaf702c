"""Format auto-detection from the first lines of a file.

Each parser scores the sample (the share of lines it recognises); the best score above
the parser's threshold wins, and ties go to the more specific parser (``priority``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shadowscan.parsers import PARSERS


@dataclass(frozen=True)
class Candidate:
    name: str
    score: float
    evidence: str


@dataclass(frozen=True)
class Detection:
    """``format`` is None when no parser fits; ``evidence`` says why either way."""

    format: str | None
    evidence: str
    candidates: list[Candidate] = field(default_factory=list)


def detect_lines(lines: list[str]) -> Detection:
    if not any(ln.strip() for ln in lines):
        return Detection(None, "empty file (no data lines)")
    candidates: list[tuple[float, int, Candidate]] = []
    for name, parser in PARSERS.items():
        try:
            sniff = parser.sniff(lines)
        except Exception as exc:  # a sniffer bug must not stop detection of other formats
            sniff = None
            candidates.append((0.0, -1, Candidate(name, 0.0, f"sniffer failed: {exc}")))
        if sniff is not None and sniff.score > 0:
            candidates.append(
                (sniff.score, parser.priority, Candidate(name, sniff.score, sniff.evidence))
            )
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    ranked = [c[2] for c in candidates if c[2].score > 0]
    for score, _prio, cand in candidates:
        if score >= PARSERS.get(cand.name).sniff_threshold:
            return Detection(cand.name, cand.evidence, ranked)
    if ranked:
        best = ranked[0]
        return Detection(
            None,
            f"no format fits well enough; closest: {best.name} ({best.evidence})",
            ranked,
        )
    sample = next(ln for ln in lines if ln.strip())
    return Detection(None, f"no known format recognises line 1: {sample[:120]!r}", ranked)
