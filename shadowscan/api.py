"""The library entry point: ``scan(paths) -> ScanResult``.

The CLI calls this and nothing else for a scan, so everything the command can do, a
Python caller can do too::

    >>> from shadowscan.api import scan
    >>> result = scan(["sample_logs/squid"])          # doctest: +SKIP
    >>> result.findings.select("user", "service", "requests")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from shadowscan.detect import Detection, detect_lines
from shadowscan.engine import FileScanner, ProgressCallback, ScanOptions, empty_matches
from shadowscan.errors import UsageError
from shadowscan.findings import finalise, merge_partials
from shadowscan.match import Matcher
from shadowscan.parsers import PARSERS
from shadowscan.readers import InputSource, head_lines, open_binary, read_head, resolve_inputs
from shadowscan.schema import EVENT_SCHEMA
from shadowscan.signatures import Catalogue, load_catalogue
from shadowscan.stats import FileStats, ScanStats


@dataclass
class ScanResult:
    findings: pl.DataFrame
    events: pl.DataFrame  # matched events
    stats: ScanStats
    catalogue: Catalogue
    warnings: list[str] = field(default_factory=list)


def build_matcher(signature_dirs: Sequence[str | Path] = ()) -> Matcher:
    return Matcher(load_catalogue([Path(d) for d in signature_dirs]))


def scan(
    paths: Sequence[str],
    *,
    log_format: str = "auto",
    signatures: Sequence[str | Path] = (),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    timezone: str = "UTC",
    workers: int | None = None,
    prefilter: bool = True,
    keep_events: bool = True,
    mapping: str | Path | None = None,
    dns_suffixes: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    matcher: Matcher | None = None,
) -> ScanResult:
    """Read ``paths`` (files, directories, globs, ``-``), match, and aggregate findings.

    ``keep_events=False`` keeps only partial aggregates (flat memory on any input size);
    ``ScanResult.events`` is then empty.
    """
    log_format, loaded = _mapping_format(log_format, mapping)
    if since is not None and until is not None and since >= until:
        raise UsageError(
            f"--since ({since.isoformat()}) must be before --until ({until.isoformat()})"
        )
    matcher = matcher or build_matcher(signatures)
    options = ScanOptions(
        log_format=log_format,
        timezone=timezone,
        since=since,
        until=until,
        use_prefilter=prefilter,
        keep_events=keep_events,
        mapping=loaded,
        dns_suffixes=tuple(dns_suffixes),
    )
    if workers is not None:
        options.workers = workers
    pre = matcher.prefilter() if prefilter else None
    scanner = FileScanner(matcher, pre, options)
    stats = ScanStats(
        catalogue_version=matcher.catalogue.version, prefilter=pre.engine if pre else "off"
    )
    frames: list[pl.DataFrame] = []
    partials: list[pl.DataFrame] = []
    sources = resolve_inputs(paths)
    file_stats: dict[int, FileStats] = {}
    order, detections = dns_first(sources, log_format)
    for i in order:
        result = scanner.scan(sources[i], progress, detections.get(i))
        frames.extend(result.events)
        if result.partials is not None:
            partials.append(result.partials)
        file_stats[i] = result.stats
        if result.learned is not None and result.learned.height:
            # Connections in the files still to come can now be matched by these addresses.
            matcher.learn(result.learned)
            if prefilter:
                scanner.prefilter = matcher.prefilter()
    stats.files.extend(file_stats[i] for i in sorted(file_stats))
    events = pl.concat(frames, how="diagonal_relaxed") if frames else empty_matches()
    findings = finalise(merge_partials(partials))
    stats.findings = findings.height
    return ScanResult(findings, events, stats, matcher.catalogue, list(matcher.catalogue.warnings))


def parse_files(
    paths: Sequence[str],
    *,
    log_format: str = "auto",
    timezone: str = "UTC",
    mapping: str | Path | None = None,
) -> tuple[pl.DataFrame, ScanStats]:
    """Every parsed event of ``paths`` (matched or not) and the line accounting.

    What the golden tests compare, and a way to use shadowscan's parsers as a library.
    """
    log_format, loaded = _mapping_format(log_format, mapping)
    matcher = Matcher(Catalogue(services={}))  # nothing is matched: every event is kept
    options = ScanOptions(
        log_format=log_format,
        timezone=timezone,
        use_prefilter=False,
        keep_unmatched=True,
        workers=1,
        mapping=loaded,
    )
    scanner = FileScanner(matcher, None, options)
    stats = ScanStats(prefilter="off")
    frames: list[pl.DataFrame] = []
    for source in resolve_inputs(paths):
        result = scanner.scan(source)
        frames.extend(result.events)
        stats.files.append(result.stats)
    events = (
        pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(schema=EVENT_SCHEMA)
    )
    return events, stats


def sniff_source(source: InputSource) -> tuple[bytes, Detection]:
    """The head of ``source`` and the format it is detected as."""
    stream = open_binary(source)
    try:
        head = read_head(stream, source.path)
    finally:
        stream.close()
    return head, detect_lines(head_lines(head))


def dns_first(
    sources: Sequence[InputSource], log_format: str
) -> tuple[list[int], dict[int, Detection]]:
    """Indices of ``sources`` with DNS logs first (in their order), then the rest, and the
    detections made on the way (so that scanning does not sniff the files again).

    DNS answers teach which addresses AI hosts resolved to; reading them first lets
    firewall and flow logs, which carry only addresses, be matched by them.
    """
    detections: dict[int, Detection] = {}

    def is_dns(i: int, source: InputSource) -> bool:
        if log_format != "auto":
            return PARSERS.get(log_format).log_type == "dns"
        if source.is_stdin:
            return False
        head, detections[i] = sniff_source(source)
        fmt = detections[i].format
        if fmt is None:
            return False
        # Mixed formats (Suricata EVE) count as DNS when their head carries DNS events.
        return PARSERS.get(fmt).log_type == "dns" or bool(_DNS_EVENT.search(head))

    flags = [is_dns(i, s) for i, s in enumerate(sources)]
    order = [i for i, f in enumerate(flags) if f] + [i for i, f in enumerate(flags) if not f]
    return order, detections


_DNS_EVENT = re.compile(rb'"event_type"\s*:\s*"dns"')


def _mapping_format(log_format: str, mapping: str | Path | None) -> tuple[str, object]:
    """``--mapping FILE`` selects the ``mapped`` format; check the format name either way."""
    if mapping is None:
        if log_format == "mapped":
            raise UsageError(
                "--log-format mapped needs --mapping FILE (a YAML field mapping; see the README)"
            )
        if log_format != "auto":
            PARSERS.get(log_format)  # unknown name -> UsageError listing the known ones
        return log_format, None
    if log_format not in ("auto", "mapped"):
        raise UsageError(
            f"--mapping reads files with the mapped format; drop --log-format {log_format}"
        )
    from shadowscan.parsers.mapped import load_mapping

    return "mapped", load_mapping(Path(mapping))


def detect_files(paths: Sequence[str]) -> list[tuple[str, Detection]]:
    """The detected format of each input, with evidence (what ``shadowscan detect`` prints)."""
    return [(source.path, sniff_source(source)[1]) for source in resolve_inputs(paths)]
