"""Inputs: files, directories, globs and stdin, compressed or not, read as a stream.

Compression is recognised by magic bytes (not by file name), and decompressed as a
stream: a 10 GB ``.gz`` never sits in memory. Text is cut into chunks that end on a line
boundary; :func:`chunk_to_lines` turns a chunk into a polars ``String`` series without a
Python loop over lines.
"""

from __future__ import annotations

import bz2
import codecs
import glob
import gzip
import io
import lzma
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

import numpy as np
import polars as pl
import pyarrow as pa

from shadowscan.errors import InputError

CHUNK_SIZE = 4 << 20

#: A chunk of whole lines, as read (a fresh buffer per chunk, never reused).
Chunk = bytes | bytearray
HEAD_SIZE = 64 << 10

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def _latin1_fallback(err: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 as Latin-1 (what Windows exports usually are)."""
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("shadowscan-latin1", _latin1_fallback)


@dataclass(frozen=True)
class InputSource:
    """One input: a path, or ``-`` for stdin. ``explicit`` is true when the user named it
    (not found by walking a directory): a file the user named must parse."""

    path: str
    explicit: bool = True

    @property
    def is_stdin(self) -> bool:
        return self.path == "-"

    @property
    def is_url(self) -> bool:
        """``s3://``, ``gs://``, ``abfs://``, ``file://``, ``memory://``: read through fsspec."""
        return is_url(self.path)


def is_url(path: str) -> bool:
    return "://" in path and not path.startswith("-")


def open_url(path: str) -> IO[bytes]:
    """A binary stream of an fsspec URL (credentials from each backend's usual
    environment and config); fsspec is imported only for URLs."""
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a dependency
        raise InputError(f"{path}: reading URLs needs fsspec (pip install fsspec)") from None
    try:
        return fsspec.open(path, "rb").open()  # type: ignore[no-any-return]
    except (OSError, ValueError, ImportError) as exc:
        raise InputError(f"{path}: cannot open: {exc}") from exc


def resolve_inputs(paths: Sequence[str]) -> list[InputSource]:
    """Expand directories (recursively) and globs; fail on anything missing."""
    sources: list[InputSource] = []
    for raw in paths:
        if raw == "-":
            sources.append(InputSource("-"))
            continue
        if is_url(raw):
            sources.extend(_expand_url(raw))
            continue
        if glob.has_magic(raw) and not os.path.exists(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                raise InputError(f"{raw}: the pattern matches no file; check the path and quoting")
            for m in matches:
                sources.extend(_expand(Path(m), explicit=False))
            continue
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{raw}: no such file or directory")
        sources.extend(_expand(path, explicit=not path.is_dir()))
    seen: set[str] = set()
    unique = []
    for s in sources:
        if s.path not in seen:
            seen.add(s.path)
            unique.append(s)
    return unique


def _expand_url(url: str) -> list[InputSource]:
    """The files an fsspec URL names: itself, every file under a "directory", or a glob's
    matches (sorted), as URLs with the same protocol."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
        protocol = url.split("://", 1)[0]
        if glob.has_magic(root):
            found = sorted(fs.glob(root))
            explicit = False
        elif fs.isdir(root):
            found = sorted(fs.find(root))
            explicit = False
        elif fs.exists(root):
            found, explicit = [root], True
        else:
            raise InputError(f"{url}: no such file or directory")
    except (OSError, ValueError, ImportError) as exc:
        raise InputError(f"{url}: cannot list: {exc}") from exc
    if not found:
        raise InputError(f"{url}: the pattern matches no file; check the URL and quoting")
    return [
        InputSource(
            p if "://" in p else f"{protocol}://{p.lstrip('/') if protocol == 'memory' else p}",
            explicit=explicit,
        )
        for p in found
        if not p.rsplit("/", 1)[-1].startswith(".")
    ]


def _expand(path: Path, explicit: bool) -> list[InputSource]:
    if path.is_dir():
        files: list[Path] = []
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files.extend(Path(root, n) for n in sorted(names) if not n.startswith("."))
        return [InputSource(str(f), explicit=False) for f in files if f.is_file()]
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
        raise InputError(f"{path}: not a regular file")
    return [InputSource(str(path), explicit=explicit)]


def compression_of(head: bytes) -> str | None:
    """Name of the compression whose magic bytes start ``head``, or None."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


class Prefixed(io.RawIOBase):
    """A stream that first returns already-read bytes, then the rest of ``inner``."""

    def __init__(self, prefix: bytes, inner: IO[bytes]) -> None:
        self._prefix = prefix
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        readinto = getattr(self._inner, "readinto", None)
        if readinto is not None:
            return int(readinto(buffer) or 0)
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def open_raw(source: InputSource) -> IO[bytes]:
    """The bytes of ``source`` as stored (not decompressed): stdin, an fsspec URL or a
    file."""
    try:
        if source.is_stdin:
            return sys.stdin.buffer
        if source.is_url:
            return open_url(source.path)
        return open(source.path, "rb")
    except OSError as exc:
        raise InputError(f"{source.path}: cannot open: {exc.strerror or exc}") from exc


def open_binary(source: InputSource) -> BinaryIO:
    """Open ``source`` for reading as decompressed bytes."""
    raw = open_raw(source)
    try:
        magic = raw.read(6)
        if raw.seekable():
            raw.seek(0)
            stream: IO[bytes] = raw
        else:
            stream = io.BufferedReader(Prefixed(magic, raw), buffer_size=1 << 20)
    except OSError as exc:
        raise InputError(f"{source.path}: cannot read: {exc.strerror or exc}") from exc
    kind = compression_of(magic)
    if kind is None:
        return stream  # type: ignore[return-value]
    if kind == "gzip":
        inner: IO[bytes] = cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    elif kind == "bz2":
        inner = bz2.BZ2File(stream, mode="rb")
    elif kind == "xz":
        inner = lzma.LZMAFile(stream, mode="rb")  # noqa: SIM115
    else:
        import zstandard

        inner = zstandard.ZstdDecompressor().stream_reader(
            stream, read_across_frames=True, closefd=False
        )
    return _Decompressed(inner, stream)  # type: ignore[return-value]


class _Decompressed(io.RawIOBase):
    """A decompressing stream that also closes the file under it (the stdlib's don't)."""

    def __init__(self, inner: IO[bytes], raw: IO[bytes]) -> None:
        self._inner = inner
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        readinto = getattr(self._inner, "readinto", None)
        if readinto is not None:
            return int(readinto(buffer) or 0)
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if self._raw is not sys.stdin.buffer:
                self._raw.close()
            super().close()


def iter_chunks(
    stream: IO[bytes], path: str, chunk_size: int | None = None, record_end: bytes | None = None
) -> Iterator[Chunk]:
    """Yield chunks of whole lines (the last one may lack its newline).

    Each chunk is a fresh ``bytearray`` filled by ``readinto`` (one copy from the OS), so
    worker threads can hold on to it while the next one is read. With ``record_end``
    (``b"</Event>"`` for multi-line XML records), a chunk ends after the last line that
    closes a record, so no record is split between chunks; a block with no such line is
    cut at a line break as usual.
    """
    chunk_size = chunk_size or CHUNK_SIZE
    tail = b""
    seen_records = False
    while True:
        block = bytearray(len(tail) + chunk_size)
        block[: len(tail)] = tail
        try:
            got = _read_into(stream, memoryview(block)[len(tail) :])
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            raise InputError(
                f"{path}: cannot read (corrupt or truncated compressed data?): {exc}"
            ) from exc
        if got == 0:
            if tail:
                yield tail
            return
        filled = len(tail) + got
        cut = block.rfind(b"\n", 0, filled)
        if record_end is not None and got == chunk_size:  # not the end of the input
            closing = block.rfind(record_end, 0, filled)
            if closing >= 0:
                seen_records = True
                line_end = block.find(b"\n", closing)
                cut = line_end if 0 <= line_end < filled else cut
            elif (seen_records or _opens_record(block, record_end)) and filled < 64 * chunk_size:
                tail = bytes(block[:filled])  # inside a long record: read on
                continue
        if cut < 0:
            tail = bytes(block[:filled])
            if len(tail) > 64 * chunk_size:
                raise InputError(
                    f"{path}: no line break in {len(tail) >> 20} MiB; this is not a line-oriented log"
                )
            continue
        tail = bytes(block[cut + 1 : filled])
        del block[cut + 1 :]
        yield block


def _opens_record(block: bytearray, record_end: bytes) -> bool:
    """For an XML closing tag (``</Event>``), whether ``block`` opens such an element."""
    if not record_end.startswith(b"</"):
        return False
    return block.find(b"<" + record_end[2:].rstrip(b">")) >= 0


def _read_into(stream: IO[bytes], view: memoryview) -> int:
    """Fill ``view`` as far as the stream allows (decompressors return short reads)."""
    total = 0
    while total < len(view):
        n = stream.readinto(view[total:])  # type: ignore[attr-defined]
        if not n:
            break
        total += n
    return total


@dataclass
class Lines:
    """The lines of one chunk: ``text`` (without line endings), the byte offset where each
    line ends (for mapping prefilter hits to lines), and how many needed a Latin-1 fallback."""

    text: pl.Series
    ends: np.ndarray
    latin1_lines: int


def chunk_to_lines(chunk: Chunk) -> Lines:
    """Cut a chunk into lines, zero-copy into Arrow where it is valid UTF-8."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    newlines = np.flatnonzero(data == 10)
    ends = newlines if chunk.endswith(b"\n") else np.append(newlines, len(chunk))
    starts = np.empty(len(ends) + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends + 1
    starts[-1] = min(starts[-1], len(chunk))
    latin1 = 0
    if len(chunk) < (1 << 31) - 1:
        offsets = starts.astype(np.int32)
        arr: pa.Array = pa.StringArray.from_buffers(
            len(ends), pa.py_buffer(offsets), pa.py_buffer(chunk)
        )
    else:  # pragma: no cover - chunks are small
        arr = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(starts), pa.py_buffer(chunk))
    try:
        arr.validate(full=True)
        text = pl.Series("line", arr)
    except pa.ArrowInvalid:
        decoded = chunk.decode("utf-8", errors="shadowscan-latin1")
        parts = decoded.split("\n")
        if chunk.endswith(b"\n"):
            parts.pop()
        latin1 = sum(1 for ln in bytes(chunk).split(b"\n") if not _is_utf8(ln))
        text = pl.Series("line", parts, dtype=pl.String)
        text = text + "\n"  # keep the same shape as the zero-copy path before stripping
    text = text.str.strip_chars_end("\r\n")
    return Lines(text=text, ends=ends, latin1_lines=latin1)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def head_lines(head: bytes, limit: int = 200) -> list[str]:
    """Decode the first lines of a file for format sniffing."""
    text = head.decode("utf-8", errors="shadowscan-latin1")
    lines = text.splitlines()
    if len(head) >= HEAD_SIZE and not head.endswith((b"\n", b"\r")) and len(lines) > 1:
        lines.pop()  # a line cut off by the head's size limit would mislead the sniffers
    return lines[:limit]


def read_head(stream: IO[bytes], path: str, size: int = HEAD_SIZE) -> bytes:
    """Read up to ``size`` bytes for sniffing; the caller puts them back with :class:`Prefixed`."""
    try:
        return stream.read(size)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise InputError(
            f"{path}: cannot read (corrupt or truncated compressed data?): {exc}"
        ) from exc


def rewind_with(head: bytes, stream: IO[bytes]) -> IO[bytes]:
    """A stream that yields ``head`` and then the rest of ``stream``."""
    if isinstance(stream, io.BufferedReader) and stream.seekable() and stream.tell() == len(head):
        stream.seek(0)
        return stream
    return io.BufferedReader(Prefixed(head, stream), buffer_size=1 << 20)
