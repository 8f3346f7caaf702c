"""The local scan engine: stream each file in chunks, prefilter, parse, match.

Chunks of one file are processed on a small thread pool (polars and Hyperscan release the
GIL), and their results are consumed in order so line numbers stay exact. Only *matched*
events are kept, so memory stays flat however large the input.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import polars as pl

from shadowscan.attribution import EVIDENCE_WINDOW, evidence_of, merge_evidence
from shadowscan.crashpoints import crashpoint
from shadowscan.detect import Detection, detect_lines
from shadowscan.dns import BurstFilter, strip_search_suffixes
from shadowscan.errors import InputError
from shadowscan.findings import UPLOAD_THRESHOLD, defer, merge_partials, partial
from shadowscan.hosts import normalise_hosts
from shadowscan.match import Matcher, Prefilter
from shadowscan.parsers import PARSERS, ParseContext, Parser
from shadowscan.readers import (
    Chunk,
    InputSource,
    Prefixed,
    chunk_to_lines,
    compression_of,
    head_lines,
    iter_chunks,
    open_binary,
    open_raw,
    read_head,
    rewind_with,
)
from shadowscan.schema import ATTRIBUTION_SCHEMA, MATCH_SCHEMA, UTC_TS, conform
from shadowscan.stats import SAMPLE_LINES, FileStats

ProgressCallback = Callable[[str, int, int | None], None]

#: After this many unparsed lines with nothing parsed, a file is in the wrong format.
WRONG_FORMAT_AFTER = 1000


@dataclass
class ScanOptions:
    log_format: str = "auto"
    timezone: str = "UTC"
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    use_prefilter: bool = True
    #: Keep every parsed event, matched or not (``parse_files``, golden tests).
    keep_unmatched: bool = False
    #: Keep matched events (``--events``); otherwise only partial aggregates are kept.
    keep_events: bool = True
    #: Loaded ``--mapping`` for the ``mapped`` format.
    mapping: Any = None
    #: The organisation's DNS search suffixes (``--dns-suffix corp.local``).
    dns_suffixes: tuple[str, ...] = ()
    #: Half-width of the window a logged (address, user) pair attributes around it;
    #: None: do not use the logs' own users as identity evidence.
    evidence_window: dt.timedelta | None = EVIDENCE_WINDOW
    #: Keep events without a logged user per second until the end of the scan, to be
    #: attributed by address and time; False when nothing could attribute them.
    defer_unnamed: bool = True
    #: A request sending more than this many bytes is a large upload.
    upload_threshold: int = UPLOAD_THRESHOLD
    #: Distributed tasks: return matched DNS events whole, for the driver to mark bursts
    #: across tasks (see :mod:`shadowscan.distributed`).
    dns_to_driver: bool = False


@dataclass(frozen=True)
class Resume:
    """Where an incremental run takes up a file (``--state``): skip ``offset`` bytes
    (decompressed) already read, number lines from ``lines + 1``, and stop at ``end``
    (the end of the last complete line when the run started; None: read to the end).

    Formats whose lines need the file's header (a Zeek ``#fields`` block, a CSV header)
    get it replayed before the new bytes; it is not counted again.
    """

    offset: int = 0
    lines: int = 0
    end: int | None = None


@dataclass
class FileResult:
    """What one file yielded: matched events (when kept), partial aggregates, accounting."""

    events: list[pl.DataFrame]
    #: Aggregates of the events whose log names the user.
    partials: pl.DataFrame | None
    stats: FileStats
    #: Addresses matched DNS answers returned (``client, address, service_id, host, ts``).
    learned: pl.DataFrame | None = None
    #: Aggregates (per second) of the events still to attribute by address and time.
    deferred: pl.DataFrame | None = None
    #: (address, user) sightings in this file, identity evidence for the others.
    evidence: pl.DataFrame | None = None
    #: Decompressed bytes consumed, from the start of the file (the next run's offset).
    end_offset: int = 0
    #: With ``dns_to_driver``: the matched DNS events, not yet burst-marked or aggregated.
    dns_events: pl.DataFrame | None = None


@dataclass
class _ChunkResult:
    """What a worker found in one chunk. Line numbers are 0-based within the chunk."""

    lines: int = 0
    parsed: int = 0
    skipped: int = 0
    latin1: int = 0
    rejected: pl.DataFrame | None = None  # line_no, reason
    line_text: pl.Series | None = (
        None  # kept only when something was rejected (for the error message)
    )
    events: pl.DataFrame | None = None  # matched events
    evidence: pl.DataFrame | None = None  # (address, user) sightings among parsed events
    pending: pl.DataFrame | None = (
        None  # prefiltered candidate lines still to parse (line_no, line)
    )


_NO_REJECTS = pl.DataFrame(schema={"line_no": pl.UInt64, "reason": pl.String})

#: Candidate lines are parsed in batches of about this many rows (fewer, larger polars calls).
PARSE_BATCH = 16_384


class FileScanner:
    """Scans one input with one parser."""

    def __init__(self, matcher: Matcher, prefilter: Prefilter | None, options: ScanOptions) -> None:
        self.matcher = matcher
        self.prefilter = prefilter
        self.options = options
        #: Lookup bursts span batches and files, so the filter lives as long as the scan.
        self.bursts = BurstFilter()

    # --- parsing and matching --------------------------------------------------------------

    def _finish(
        self, parser: Parser, events: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        # A parser may set log_type per row (Suricata EVE mixes http, dns and flow events).
        log_type = (
            pl.col("log_type").fill_null(pl.lit(parser.log_type))
            if "log_type" in events.columns
            else pl.lit(parser.log_type)
        )
        events = conform(
            events.with_columns(
                pl.lit(parser.name).alias("log_format"),
                log_type.alias("log_type"),
                pl.lit(parser.context.source_file).alias("source_file"),
            )
        )
        events = normalise_hosts(events)
        events = strip_search_suffixes(events, self.options.dns_suffixes)
        if self.options.keep_unmatched:
            return events, None
        # Every parsed line naming a user at an address is evidence, matched or not.
        window = self.options.evidence_window
        evidence = evidence_of(events, window) if window is not None else None
        matched = self.matcher.match_frame(events)
        if self.options.since is not None:
            matched = matched.filter(pl.col("ts") >= self.options.since)
        if self.options.until is not None:
            matched = matched.filter(pl.col("ts") < self.options.until)
        return matched, evidence

    def _parse(self, parser: Parser, batch: pl.DataFrame) -> _ChunkResult:
        """Fully parse and match ``batch``; every row is counted exactly once."""
        result = parser.parse(batch)
        rejected = result.rejected.cast({"line_no": pl.UInt64})
        events, evidence = self._finish(parser, result.events)
        return _ChunkResult(
            lines=batch.height,
            parsed=batch.height - result.skipped - rejected.height,
            skipped=result.skipped,
            rejected=rejected,
            line_text=batch["line"] if rejected.height else None,
            events=events,
            evidence=evidence,
        )

    def scan_chunk(self, parser: Parser, chunk: Chunk) -> _ChunkResult:
        """Runs on a worker thread: cut, prefilter, and account for one chunk."""
        lines = chunk_to_lines(chunk)
        text = lines.text
        if self.prefilter is None or not parser.is_stateless() or not parser.prefilterable:
            batch = pl.DataFrame(
                {"line_no": pl.int_range(0, len(text), eager=True, dtype=pl.UInt64), "line": text}
            )
            out = self._parse(parser, batch)
            out.latin1 = lines.latin1_lines
            out.line_text = text if out.line_text is not None else None
            return out
        cand = self.prefilter.candidates(chunk, lines.ends, text)
        is_cand = np.zeros(len(text), dtype=bool)
        is_cand[cand] = True
        others = pl.Series(~is_cand)
        bad = others & ~parser.validate(text)
        out = _ChunkResult(lines=len(text), latin1=lines.latin1_lines, rejected=_NO_REJECTS)
        n_bad = int(bad.sum())
        if n_bad:
            idx = bad.arg_true()
            skip = (
                text.gather(idx).str.contains(parser.skip_pattern)
                if parser.skip_pattern
                else pl.Series([False] * n_bad)
            )
            out.skipped = int(skip.sum())
            bad_idx = idx.filter(~skip).cast(pl.UInt64)
            if bad_idx.len():
                out.rejected = pl.DataFrame(
                    {
                        "line_no": bad_idx,
                        "reason": pl.repeat(parser.mismatch_reason(), bad_idx.len(), eager=True),
                    }
                )
                out.line_text = text
        out.parsed = len(text) - len(cand) - n_bad
        # ``+ ""`` copies the few candidate lines out of the chunk's buffer; a bare gather
        # would keep every 8 MiB chunk alive until the batch is parsed.
        out.pending = pl.DataFrame(
            {"line_no": pl.Series(cand, dtype=pl.UInt64), "line": text.gather(cand) + ""}
        )
        return out

    # --- per file -----------------------------------------------------------------------

    def scan(
        self,
        source: InputSource,
        progress: ProgressCallback | None = None,
        detection: Detection | None = None,
        resume: Resume | None = None,
    ) -> FileResult:
        """Scan one input; ``detection`` is the result of sniffing its head, when the
        caller already did so (then it is not repeated); ``resume`` reads only what an
        earlier run has not (see :class:`Resume`)."""
        stats = FileStats(path=source.path)
        # Before the stream is opened: some fsspec filesystems (memory://) hand out one
        # shared file object per path, so a second open would move the first one.
        stats.compression = _compression(source)
        stream = open_binary(source)
        try:
            head = read_head(stream, source.path)
            fmt = self.options.log_format
            if fmt == "auto":
                detection = detection or detect_lines(head_lines(head))
                stats.detection = detection.evidence
                if detection.format is None:
                    return self._unrecognised(
                        source, stats, rewind_with(head, stream), detection.evidence, head
                    )
                fmt = detection.format
            parser_cls = PARSERS.get(fmt)
            stats.format = fmt
            parser = parser_cls(
                ParseContext(
                    source.path, self.options.timezone, _file_time(source), self.options.mapping
                )
            )
            if resume is None:
                return _FileRun(self, parser, source, stats).run(
                    rewind_with(head, stream), progress
                )
            end = resume.end
            if end is not None and parser.record_end:
                end = _record_boundary(source.path, resume.offset, end, parser.record_end)
            body = _skip(stream, head, resume.offset)
            if end is not None:
                body = io.BufferedReader(_Limited(body, end - resume.offset))
            # Formats whose lines need the file's header (Zeek #fields, a CSV header)
            # read it again before the new lines; it is not counted twice.
            header = (
                _header_of(parser_cls, parser.context, head)
                if resume.offset and not parser.is_stateless()
                else b""
            )
            if header:
                body = io.BufferedReader(Prefixed(header, body), buffer_size=1 << 20)
            skipped_header = header.count(b"\n")
            run = _FileRun(self, parser, source, stats)
            result = run.run(body, progress, base=resume.lines - skipped_header)
            stats.lines -= skipped_header
            stats.skipped -= skipped_header
            result.end_offset = resume.offset + run.bytes_read - len(header)
            return result
        finally:
            stream.close()

    def _unrecognised(
        self, source: InputSource, stats: FileStats, stream: IO[bytes], why: str, head: bytes
    ) -> FileResult:
        if not head.strip():
            stats.lines = head.count(b"\n") + (1 if head and not head.endswith(b"\n") else 0)
            stats.skipped = stats.lines
            return FileResult([], None, stats)
        if source.explicit:
            raise InputError(
                f"{source.path}: format not recognised: {why}. Name it with --log-format (see `shadowscan formats`)"
            )
        lines = 0
        for chunk in iter_chunks(stream, source.path):
            lines += chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
        stats.lines = lines
        stats.error = f"format not recognised: {why}"
        stats.reject("format not recognised", lines, list(range(1, min(lines, SAMPLE_LINES) + 1)))
        return FileResult([], None, stats)

    def results(
        self, parser: Parser, chunks: Iterator[Chunk]
    ) -> Iterator[tuple[int, _ChunkResult]]:
        """Chunk results in file order; stateless formats are processed in parallel."""
        first = next(chunks, None)
        if first is None:
            return
        second = next(chunks, None)
        if second is None or not parser.is_stateless() or self.options.workers <= 1:
            # One chunk (most files), or order matters: no thread pool.
            for chunk in itertools.chain([first], [] if second is None else [second], chunks):
                yield len(chunk), self.scan_chunk(parser, chunk)
            return
        with ThreadPoolExecutor(self.options.workers, thread_name_prefix="shadowscan") as pool:
            pending: deque[tuple[int, Future[_ChunkResult]]] = deque()
            for chunk in itertools.chain([first, second], chunks):
                pending.append((len(chunk), pool.submit(self.scan_chunk, parser, chunk)))
                if len(pending) >= self.options.workers:
                    n, fut = pending.popleft()
                    yield n, fut.result()
            while pending:
                n, fut = pending.popleft()
                yield n, fut.result()


class _FileRun:
    """Accounting for one file while its chunk results arrive in order."""

    def __init__(
        self, scanner: FileScanner, parser: Parser, source: InputSource, stats: FileStats
    ) -> None:
        self.scanner, self.parser, self.source, self.stats = scanner, parser, source, stats
        self.frames: list[pl.DataFrame] = []
        self.partials: list[pl.DataFrame] = []
        self.learned: list[pl.DataFrame] = []
        self.deferred: list[pl.DataFrame] = []
        self.evidence: list[pl.DataFrame] = []
        self.dns_events: list[pl.DataFrame] = []
        self.first_bad: tuple[int, str] | None = None
        self.pending: list[pl.DataFrame] = []
        self.pending_rows = 0
        self.bytes_read = 0

    def _account(self, res: _ChunkResult, base: int) -> None:
        """Add a result whose 0-based line numbers start at ``base``."""
        st = self.stats
        st.parsed += res.parsed
        st.skipped += res.skipped
        if res.rejected is not None and res.rejected.height:
            rej = res.rejected.sort("line_no")
            for (reason,), grp in rej.group_by(["reason"], maintain_order=True):
                st.reject(
                    str(reason),
                    grp.height,
                    [base + n + 1 for n in grp["line_no"].head(SAMPLE_LINES).to_list()],
                )
            if self.first_bad is None and res.line_text is not None:
                first = int(rej["line_no"][0])
                self.first_bad = (base + first + 1, str(res.line_text[first]))
        if res.evidence is not None and res.evidence.height:
            self.evidence.append(res.evidence)
        if res.events is not None and res.events.height:
            opts = self.scanner.options
            events = res.events
            if opts.dns_to_driver and not opts.keep_unmatched:
                # A distributed task hands DNS events to the driver, which marks lookup
                # bursts across tasks in file order, as the local engine does.
                is_dns = pl.col("log_type") == "dns"
                dns = events.filter(is_dns)
                self.dns_events.append(dns.with_columns(pl.col("line_no") + (base + 1)))
                self.learned.append(learned_answers(dns))
                st.matched += dns.height
                events = events.filter(~is_dns)
            elif not opts.keep_unmatched:
                events = self.scanner.bursts.mark(events)
            if opts.keep_events or opts.keep_unmatched:
                self.frames.append(events.with_columns(pl.col("line_no") + (base + 1)))
            if not opts.keep_unmatched:
                st.matched += events.height
                folded = fold_matched(events, opts)
                self.partials.append(folded.partials)
                if folded.deferred is not None:
                    self.deferred.append(folded.deferred)
                self.learned.append(folded.learned)
                if len(self.partials) >= 64:
                    self.partials = [merge_partials(self.partials)]
                    if self.evidence:
                        self.evidence = [merge_evidence(self.evidence, self._window())]

    def _flush(self) -> None:
        if not self.pending:
            return
        crashpoint("parse")
        batch = pl.concat(self.pending)
        self.pending, self.pending_rows = [], 0
        res = self.scanner._parse(self.parser, batch)
        # line numbers in ``batch`` are already absolute and 0-based; the batch holds no
        # line_text by position, so find the rejected line's text by its number.
        if res.rejected is not None and res.rejected.height and self.first_bad is None:
            first = int(res.rejected["line_no"].min())  # type: ignore[arg-type]
            text = batch.filter(pl.col("line_no") == first)["line"]
            self.first_bad = (first + 1, str(text[0]) if text.len() else "")
        res.line_text = None
        self._account(res, 0)

    def run(
        self, stream: IO[bytes], progress: ProgressCallback | None, base: int = 0
    ) -> FileResult:
        st = self.stats
        done = 0
        total = _size(self.source, st.compression)
        for chunk_len, res in self.scanner.results(
            self.parser, iter_chunks(stream, self.source.path, record_end=self.parser.record_end)
        ):
            crashpoint("chunk")
            st.lines += res.lines
            st.latin1_lines += res.latin1
            self._account(res, base)
            if res.pending is not None and res.pending.height:
                self.pending.append(res.pending.with_columns(pl.col("line_no") + base))
                self.pending_rows += res.pending.height
                if self.pending_rows >= PARSE_BATCH:
                    self._flush()
            base += res.lines
            done += chunk_len
            self.bytes_read += chunk_len
            if progress is not None:
                progress(self.source.path, done, total)
            if st.parsed == 0 and st.unparsed_total >= WRONG_FORMAT_AFTER and self.source.explicit:
                self._flush()
                if st.parsed == 0:
                    break
        self._flush()
        if (
            st.parsed == 0
            and st.unparsed_total > 0
            and (self.source.explicit or self.scanner.options.log_format != "auto")
        ):
            line_no, text = self.first_bad or (1, "")
            raise InputError(
                f"{self.source.path}: no line parses as {self.parser.name} ({st.unparsed_total:,} tried); "
                f"line {line_no}: {text[:160]!r}. Check --log-format, or run `shadowscan detect {self.source.path}`"
            )
        learned = pl.concat(self.learned) if self.learned else None
        partials = merge_partials(self.partials) if self.partials else None
        # Deferred rows of different batches rarely share a key (a key holds the second),
        # so they are only stacked, never re-hashed: settling sums duplicates anyway.
        deferred = pl.concat(self.deferred, rechunk=False) if self.deferred else None
        evidence = merge_evidence(self.evidence, self._window()) if self.evidence else None
        return FileResult(
            self.frames,
            partials,
            st,
            learned,
            deferred,
            evidence,
            end_offset=self.bytes_read,
            dns_events=pl.concat(self.dns_events) if self.dns_events else None,
        )

    def _window(self) -> dt.timedelta:
        return self.scanner.options.evidence_window or EVIDENCE_WINDOW


@dataclass
class Folded:
    """Matched events folded into what a scan keeps: partials (events whose log names
    the user, or all when nothing is deferred), deferred rows, learned DNS answers."""

    partials: pl.DataFrame
    deferred: pl.DataFrame | None
    learned: pl.DataFrame


def fold_matched(events: pl.DataFrame, options: ScanOptions) -> Folded:
    """Fold matched (burst-marked) events: the one place both engines aggregate."""
    limit = options.upload_threshold
    if options.defer_unnamed:
        named = pl.col("user").is_not_null()
        return Folded(
            partial(events.filter(named), limit),
            defer(events.filter(~named), limit),
            learned_answers(events),
        )
    return Folded(partial(events, limit), None, learned_answers(events))


def learned_answers(events: pl.DataFrame) -> pl.DataFrame:
    """The addresses that matched DNS events resolved to, one row per (client, address)."""
    schema = {
        "client": pl.String(),
        "address": pl.String(),
        "service_id": pl.String(),
        "host": pl.String(),
        "ts": UTC_TS,
    }
    if "dns_answers" not in events.columns:
        return pl.DataFrame(schema=schema)
    rows = events.filter(
        (pl.col("log_type") == "dns") & pl.col("dns_answers").is_not_null()
    ).select(
        pl.col("src_ip").alias("client"),
        pl.col("dns_answers").alias("address"),
        "service_id",
        "host",
        "ts",
    )
    rows = rows.explode("address").filter(
        pl.col("address").str.contains(r"^(?:\d{1,3}\.){3}\d{1,3}$|^[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*$")
        & pl.col("ts").is_not_null()
    )
    return rows.select(pl.col(n).cast(t) for n, t in schema.items())


def _header_of(parser_cls: type[Parser], context: ParseContext, head: bytes) -> bytes:
    """The leading lines of a file that its parser reads as header (before the first
    line that gives an event or is rejected), to replay when resuming mid-file."""
    lines = head.split(b"\n")[:-1][:200]
    if not lines:
        return b""
    text = [ln.decode("utf-8", "replace") for ln in lines]
    batch = pl.DataFrame({"line_no": pl.Series(range(len(text)), dtype=pl.UInt64), "line": text})
    out = parser_cls(context).parse(batch)
    data = set(out.events["line_no"].to_list()) | set(out.rejected["line_no"].to_list())
    first = min(data, default=len(lines))
    return b"".join(ln + b"\n" for ln in lines[:first])


def _record_boundary(path: str, start: int, end: int, record_end: bytes) -> int:
    """The end of the last whole record (``record_end`` and its line) in ``[start, end)``."""
    with open(path, "rb") as fh:
        pos = end
        while pos > start:
            step = min(pos - start, 1 << 20)
            fh.seek(pos - step)
            block = fh.read(step + len(record_end))[: end - (pos - step)]
            i = block.rfind(record_end)
            if i >= 0:
                nl = block.find(b"\n", i)
                return pos - step + (nl + 1 if nl >= 0 else i + len(record_end))
            pos -= step
    return start


def _skip(stream: IO[bytes], head: bytes, offset: int) -> IO[bytes]:
    """``stream`` (of which ``head`` was already read) positioned at ``offset``."""
    if offset < len(head):
        return rewind_with(head[offset:], stream)
    if stream.seekable():
        stream.seek(offset)
        return stream
    left = offset - len(head)
    while left:
        got = stream.read(min(left, 1 << 20))
        if not got:
            break
        left -= len(got)
    return stream


class _Limited(io.RawIOBase):
    """At most ``limit`` bytes of ``stream``: a run reads what was there when it started."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._left = max(0, limit)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._left:
            return 0
        view = memoryview(buffer)[: self._left]
        data = self._stream.read(len(view))
        view[: len(data)] = data
        self._left -= len(data)
        return len(data)


def _compression(source: InputSource) -> str | None:
    if source.is_stdin:
        return None
    with open_raw(source) as fh:
        return compression_of(fh.read(6))


def _size(source: InputSource, compression: str | None) -> int | None:
    """Bytes to read, for the progress bar (unknown for stdin and compressed files)."""
    if source.is_stdin or source.is_url or compression:
        return None
    try:
        return os.path.getsize(source.path)
    except OSError:
        return None


def _file_time(source: InputSource) -> dt.datetime | None:
    if source.is_stdin or source.is_url:
        return None
    try:
        return dt.datetime.fromtimestamp(os.path.getmtime(source.path), dt.UTC)
    except OSError:
        return None


def empty_matches() -> pl.DataFrame:
    from shadowscan.schema import EVENT_SCHEMA

    return pl.DataFrame(schema={**EVENT_SCHEMA, **MATCH_SCHEMA, **ATTRIBUTION_SCHEMA})
