"""Inputs: compression by magic bytes, stdin, directories, globs, odd encodings."""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path

import pytest
import zstandard

from shadowscan.api import scan
from shadowscan.errors import InputError
from shadowscan.readers import chunk_to_lines, iter_chunks, resolve_inputs

LINES = (
    b"1730707200.000    412 10.20.1.15 TCP_TUNNEL/200 48211 CONNECT chatgpt.com:443 - HIER_DIRECT/104.18.32.47 -\n"
    b"1730707201.000     35 10.20.1.15 TCP_MISS/200 912 GET http://www.example.com/a - HIER_DIRECT/93.184.215.14 text/html\n"
)

COMPRESSORS = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_compressed_inputs_by_magic_not_name(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "access.log"  # no telling extension on purpose
    path.write_bytes(COMPRESSORS[kind](LINES * 1000))
    result = scan([str(path)])
    f = result.stats.files[0]
    assert (f.compression, f.lines, f.parsed, f.format) == (kind, 2000, 2000, "squid")
    assert result.findings["requests"].to_list() == [1000]


def test_stdin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(LINES))))
    result = scan(["-"])
    assert result.stats.files[0].path == "-"
    assert result.stats.files[0].parsed == 2
    assert result.findings.height == 1


def test_chunks_end_on_line_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_bytes(LINES * 50)
    with open(path, "rb") as fh:
        chunks = list(iter_chunks(fh, str(path), chunk_size=300))
    assert b"".join(chunks) == LINES * 50
    assert all(c.endswith(b"\n") for c in chunks)


def test_lines_crlf_latin1_and_missing_final_newline() -> None:
    lines = chunk_to_lines(b"caf\xe9 au lait\r\nok\n\nlast")
    assert lines.text.to_list() == ["café au lait", "ok", "", "last"]
    assert lines.latin1_lines == 1


def test_directories_are_walked_and_globs_expanded(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.log").write_bytes(LINES)
    (tmp_path / "a" / ".hidden").write_bytes(LINES)
    (tmp_path / "two.log").write_bytes(LINES)
    assert [Path(s.path).name for s in resolve_inputs([str(tmp_path)])] == [
        "two.log",
        "one.log",
    ] or sorted(Path(s.path).name for s in resolve_inputs([str(tmp_path)])) == [
        "one.log",
        "two.log",
    ]
    assert [Path(s.path).name for s in resolve_inputs([str(tmp_path / "*.log")])] == ["two.log"]


def test_missing_inputs_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.log: no such file"):
        resolve_inputs([str(tmp_path / "nope.log")])
    with pytest.raises(InputError, match="matches no file"):
        resolve_inputs([str(tmp_path / "*.nothing")])


def test_corrupt_gzip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(LINES * 100)[:60])
    with pytest.raises(InputError, match=r"bad\.gz"):
        scan([str(path)], log_format="squid")
