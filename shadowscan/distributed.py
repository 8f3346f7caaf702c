"""The same scan on a Dask cluster (``shadowscan scan --engine dask``).

When one machine is not enough, shadowscan runs on an existing distributed engine
instead of a home-made one. Inputs become tasks: a file each, and large uncompressed
files in line-oriented formats are cut into byte ranges aligned to line ends. Each task
runs the same parse -> match -> per-task aggregation as the local engine on a worker
and returns small Arrow-backed frames; the driver combines them into exactly the
findings of the local engine:

- DNS logs run first; the addresses AI hosts resolved to are broadcast once to the
  workers for the connection logs that follow (as the local engine learns them).
- Lookup bursts (repeated identical DNS queries) span tasks, so tasks return their
  matched DNS events and the driver marks bursts in file order, as the local engine does.
- Attribution (leases, sessions, the directory) needs every clue of the scan, so it runs
  on the combined aggregates in the driver: identity data is never shipped to workers.

A task that fails is retried (``retries``) on another worker; if it still fails the scan
fails with the task's error: partial results are never presented as complete. This module
is imported only for ``--engine dask``: the local engine never loads Dask.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from shadowscan.detect import Detection
from shadowscan.engine import FileResult, FileScanner, ProgressCallback, Resume, ScanOptions
from shadowscan.errors import UsageError
from shadowscan.match import Matcher
from shadowscan.parsers import PARSERS
from shadowscan.readers import InputSource, compression_of, open_raw
from shadowscan.signatures import load_catalogue
from shadowscan.stats import SAMPLE_LINES, FileStats

#: Uncompressed files larger than this are cut into byte ranges of about this size.
SPLIT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Task:
    """One unit of work: a file, or a byte range of one (``resume``)."""

    index: int  # the input's position in the scan
    part: int  # the range's position in the file
    path: str
    explicit: bool
    detection: Detection | None
    resume: Resume | None


@dataclass
class DaskEngine:
    """Where and how to run: ``scheduler`` (``tcp://host:8786``) or a local cluster of
    ``workers`` processes; ``split_bytes`` per range; ``retries`` per task."""

    scheduler: str | None = None
    workers: int | None = None
    split_bytes: int = SPLIT_BYTES
    retries: int = 2
    client: Any = None  # an existing distributed.Client (tests, notebooks)

    def results(
        self,
        sources: Sequence[InputSource],
        order: Sequence[int],
        n_dns: int,
        detections: dict[int, Detection],
        resumes: dict[int, Resume | None],
        skipped: set[int],
        options: ScanOptions,
        signatures: Sequence[str | Path],
        progress: ProgressCallback | None,
    ) -> Iterator[tuple[int, FileResult | None]]:
        """Per input, in ``order``, its combined result (None when skipped)."""
        client, owned = self._client()
        try:
            task_options = replace(options, workers=1, dns_to_driver=True)
            signature_dirs = tuple(str(s) for s in signatures)
            dns = [i for i in order[:n_dns] if i not in skipped]
            rest = [i for i in order[n_dns:] if i not in skipped]
            first = self._run(
                client, sources, dns, detections, resumes, task_options, signature_dirs, None
            )
            learned_parts = [r.learned for r in first.values() if r.learned is not None]
            learned = pl.concat(learned_parts) if learned_parts else None
            second = self._run(
                client, sources, rest, detections, resumes, task_options, signature_dirs, learned
            )
            done = {**first, **second}
            for i in order:
                yield i, done.get(i)
        finally:
            if owned:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()

    def _client(self) -> tuple[Any, bool]:
        if self.client is not None:
            return self.client, False
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UsageError(
                "--engine dask needs Dask: pip install 'shadowscan[dask]' (or dask[distributed])"
            ) from None
        if self.scheduler:
            return Client(self.scheduler), True  # type: ignore[no-untyped-call]
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=self.workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        )
        return Client(cluster), True  # type: ignore[no-untyped-call]

    def _run(
        self,
        client: Any,
        sources: Sequence[InputSource],
        indices: Sequence[int],
        detections: dict[int, Detection],
        resumes: dict[int, Resume | None],
        options: ScanOptions,
        signature_dirs: tuple[str, ...],
        learned: pl.DataFrame | None,
    ) -> dict[int, FileResult]:
        if not indices:
            return {}
        tasks = [
            t
            for i in indices
            for t in plan_tasks(
                i, sources[i], detections.get(i), resumes.get(i), options, self.split_bytes
            )
        ]
        # The learned answers go to every worker once, not with every task.
        learned_key = _digest(learned)
        shared = client.scatter(learned, broadcast=True) if learned is not None else None
        futures = [
            client.submit(
                run_task,
                task,
                options,
                signature_dirs,
                shared,
                learned_key,
                retries=self.retries,
                pure=False,
            )
            for task in tasks
        ]
        parts: dict[int, list[tuple[int, FileResult]]] = {}
        for task, future in zip(tasks, futures, strict=True):
            parts.setdefault(task.index, []).append((task.part, future.result()))
        return {i: combine([r for _, r in sorted(p, key=lambda x: x[0])]) for i, p in parts.items()}


def plan_tasks(
    index: int,
    source: InputSource,
    detection: Detection | None,
    resume: Resume | None,
    options: ScanOptions,
    split_bytes: int,
) -> list[Task]:
    """The tasks for one input: the whole file, or byte ranges aligned to line ends for a
    large uncompressed file in a format whose lines stand alone."""
    whole = [Task(index, 0, source.path, source.explicit, detection, resume)]
    fmt = (
        options.log_format
        if options.log_format != "auto"
        else (detection.format if detection else None)
    )
    if resume is not None or source.is_stdin or fmt is None:
        return whole
    parser = PARSERS.get(fmt)
    if not parser.is_stateless() or parser.record_end is not None:
        return whole
    size, compression, boundary = _size_and_boundaries(source, split_bytes)
    if compression or size <= split_bytes:
        return whole
    return [
        Task(index, part, source.path, source.explicit, detection, Resume(start, 0, end))
        for part, (start, end) in enumerate(boundary)
    ]


def _size_and_boundaries(
    source: InputSource, split_bytes: int
) -> tuple[int, str | None, list[tuple[int, int]]]:
    """The file's size, compression, and ranges ``[start, end)`` of about ``split_bytes``
    that each end just after a newline (the last one at the end of the file)."""
    with open_raw(source) as fh:
        compression = compression_of(fh.read(6))
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        cuts = [0]
        pos = split_bytes
        while pos < size:
            fh.seek(pos)
            while True:
                block = fh.read(1 << 16)
                if not block:
                    pos = size
                    break
                nl = block.find(b"\n")
                if nl >= 0:
                    pos += nl + 1
                    break
                pos += len(block)
            if pos >= size:
                break
            cuts.append(pos)
            pos += split_bytes
    bounds = [(cuts[k], cuts[k + 1] if k + 1 < len(cuts) else size) for k in range(len(cuts))]
    return size, compression, bounds


def _digest(learned: pl.DataFrame | None) -> str:
    if learned is None or learned.is_empty():
        return "none"
    return hashlib.sha256(learned.sort(pl.all()).write_ipc(None).getvalue()).hexdigest()


@functools.lru_cache(maxsize=8)
def _catalogue(signature_dirs: tuple[str, ...]) -> Any:
    return load_catalogue([Path(d) for d in signature_dirs])


def run_task(
    task: Task,
    options: ScanOptions,
    signature_dirs: tuple[str, ...],
    learned: pl.DataFrame | None,
    learned_key: str,
) -> FileResult:
    """Runs on a worker: the local engine's scan of one file or range."""
    matcher = _matcher_for(signature_dirs, learned_key, learned)
    scanner = FileScanner(matcher, matcher.prefilter() if options.use_prefilter else None, options)
    source = InputSource(task.path, explicit=task.explicit)
    return scanner.scan(source, None, task.detection, resume=task.resume)


def _matcher_for(
    signature_dirs: tuple[str, ...], learned_key: str, learned: pl.DataFrame | None
) -> Matcher:
    # A DataFrame is not hashable: cache by its digest, keep the frame out of the key.
    cached = _MATCHERS.get((signature_dirs, learned_key))
    if cached is None:
        cached = Matcher(_catalogue(signature_dirs))
        if learned is not None:
            cached.learn(learned)
        _MATCHERS[(signature_dirs, learned_key)] = cached
    return cached


_MATCHERS: dict[tuple[tuple[str, ...], str], Matcher] = {}


def combine(parts: Sequence[FileResult]) -> FileResult:
    """One file's result from its ranges' (in order): line numbers of later ranges move
    by the lines before them, so samples and events name the right lines."""
    if len(parts) == 1:
        return parts[0]
    stats = FileStats(
        path=parts[0].stats.path,
        format=parts[0].stats.format,
        detection=parts[0].stats.detection,
        compression=parts[0].stats.compression,
    )
    reasons: Counter[str] = Counter()
    samples: dict[str, list[int]] = {}
    events: list[pl.DataFrame] = []
    dns: list[pl.DataFrame] = []
    base = 0
    for part in parts:
        st = part.stats
        stats.lines += st.lines
        stats.parsed += st.parsed
        stats.skipped += st.skipped
        stats.matched += st.matched
        stats.latin1_lines += st.latin1_lines
        stats.error = stats.error or st.error
        reasons.update(st.unparsed)
        for reason, nos in st.unparsed_lines.items():
            samples.setdefault(reason, []).extend(n + base for n in nos)
        shift = pl.col("line_no") + base
        events.extend(e.with_columns(shift) for e in part.events)
        if part.dns_events is not None:
            dns.append(part.dns_events.with_columns(shift))
        base += st.lines
    stats.unparsed = reasons
    stats.unparsed_lines = {r: sorted(n)[:SAMPLE_LINES] for r, n in samples.items()}

    def stack(frames: list[pl.DataFrame | None]) -> pl.DataFrame | None:
        present = [f for f in frames if f is not None]
        return pl.concat(present, how="vertical_relaxed") if present else None

    return FileResult(
        events,
        stack([p.partials for p in parts]),
        stats,
        stack([p.learned for p in parts]),
        stack([p.deferred for p in parts]),
        stack([p.evidence for p in parts]),
        end_offset=parts[-1].end_offset,
        dns_events=pl.concat(dns) if dns else None,
    )
