"""Every sample of every format, parsed, compared with its golden file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import GOLDEN, ROOT, SAMPLES
from tests.golden import compare, render


def _samples() -> list[tuple[str, Path]]:
    out = []
    for fmt_dir in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        for sample in sorted(
            p for p in fmt_dir.rglob("*") if p.is_file() and not p.name.endswith(".mapping.yaml")
        ):
            out.append((fmt_dir.name, sample))
    return out


@pytest.mark.parametrize(
    ("log_format", "sample"), _samples(), ids=lambda v: v if isinstance(v, str) else v.name
)
def test_golden(log_format: str, sample: Path) -> None:
    golden = GOLDEN / log_format / (sample.relative_to(SAMPLES / log_format).as_posix() + ".golden")
    compare(render(sample, log_format, ROOT), golden)


def _detectable() -> list[tuple[str, Path]]:
    return [
        (f, p)
        for f, p in _samples()
        if p.stat().st_size
        and not p.name.startswith(("malformed", "empty"))
        and f != "mapped"  # chosen, never guessed
    ]


@pytest.mark.parametrize(
    ("log_format", "sample"), _detectable(), ids=lambda v: v if isinstance(v, str) else v.name
)
def test_samples_are_detected_as_their_format(log_format: str, sample: Path) -> None:
    """Auto-detection picks the right parser for every well-formed sample: sniffers of
    different formats must not steal each other's files."""
    from shadowscan.detect import detect_lines
    from shadowscan.readers import InputSource, head_lines, open_binary, read_head

    stream = open_binary(InputSource(str(sample)))
    try:
        head = read_head(stream, str(sample))
    finally:
        stream.close()
    detection = detect_lines(head_lines(head))
    assert detection.format == log_format, (
        f"{sample}: {detection.evidence}; candidates {detection.candidates}"
    )
