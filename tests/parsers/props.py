"""Property checks every parser test uses (with Hypothesis-generated lines).

- :func:`check_accounting`: parsing never raises (except the documented "no line parses"
  error) and every line is parsed, skipped or unparsed exactly once.
- :func:`check_fast_path_agrees`: for stateless formats, the prefiltered fast path (which
  only *validates* most lines) counts exactly what a full parse counts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import strategies as st

from shadowscan.api import build_matcher, parse_files, scan
from shadowscan.errors import InputError
from shadowscan.parsers import PARSERS

MATCHER = build_matcher()

#: Arbitrary single-line text (no line breaks of any kind).
NOISE = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    ),
    max_size=120,
)


def _write(lines: list[str], suffix: str = ".log") -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="shadowscan-prop-"))
    path = tmp / f"x{suffix}"
    path.write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")
    return path


def check_accounting(log_format: str, lines: list[str], mapping: Path | None = None) -> None:
    """Parse ``lines`` as ``log_format``: no exception but the documented one, and
    ``parsed + skipped + unparsed == lines``."""
    path = _write(lines)
    error = ""
    try:
        _, stats = parse_files([str(path)], log_format=log_format, mapping=mapping)
    except InputError as exc:
        error = str(exc)
    if error:
        assert "no line parses as" in error, error
        return
    f = stats.files[0]
    assert f.lines == len(lines)
    assert f.parsed + f.skipped + f.unparsed_total == f.lines


def check_fast_path_agrees(log_format: str, lines: list[str]) -> None:
    """The prefiltered scan and the full parse account for the lines identically."""
    parser = PARSERS.get(log_format)
    if not parser.is_stateless():
        pytest.skip(f"{log_format} is header-driven: it has no fast path")
    path = _write(lines)
    try:
        _, full = parse_files([str(path)], log_format=log_format)
    except InputError:
        with pytest.raises(InputError):
            scan([str(path)], log_format=log_format, matcher=MATCHER)
        return
    fast = scan([str(path)], log_format=log_format, matcher=MATCHER).stats
    a, b = full.files[0], fast.files[0]
    assert (a.lines, a.parsed, a.skipped, dict(a.unparsed)) == (
        b.lines,
        b.parsed,
        b.skipped,
        dict(b.unparsed),
    )
