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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from shadowscan.attribution import EVIDENCE_WINDOW, METHODS, Attributor, merge_evidence
from shadowscan.crashpoints import crashpoint
from shadowscan.detect import Detection, detect_lines
from shadowscan.dns import BurstFilter
from shadowscan.engine import (
    FileResult,
    FileScanner,
    ProgressCallback,
    Resume,
    ScanOptions,
    empty_matches,
    fold_matched,
)
from shadowscan.errors import UsageError
from shadowscan.findings import (
    DEFERRED_SCHEMA,
    UPLOAD_THRESHOLD,
    enrich,
    finalise,
    merge_partials,
    places,
    settle,
)
from shadowscan.match import Matcher
from shadowscan.outputs.base import records
from shadowscan.parsers import PARSERS
from shadowscan.policy import Policy, evaluate
from shadowscan.pseudonymize import Pseudonymizer
from shadowscan.readers import InputSource, head_lines, open_binary, read_head, resolve_inputs
from shadowscan.schema import ATTRIBUTION_SCHEMA, EVENT_SCHEMA
from shadowscan.signatures import Catalogue, load_catalogue
from shadowscan.stats import FileStats, ScanStats

if TYPE_CHECKING:
    from shadowscan.distributed import DaskEngine
    from shadowscan.state import State


@dataclass
class ScanResult:
    findings: pl.DataFrame
    events: pl.DataFrame  # matched events
    stats: ScanStats
    catalogue: Catalogue
    warnings: list[str] = field(default_factory=list)
    #: Stretches of time in which several holders claimed one address.
    conflicts: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: True when users (and maybe addresses) were replaced by tokens (``pseudonymise``).
    pseudonymized: bool = False
    #: Use per UTC day and service (``day``, ``service_id``, ``requests``, ``queries``):
    #: the report's timeline.
    daily: pl.DataFrame = field(default_factory=pl.DataFrame)


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
    attributor: Attributor | None = None,
    evidence_window: dt.timedelta | None = EVIDENCE_WINDOW,
    upload_threshold: int = UPLOAD_THRESHOLD,
    policy: Policy | None = None,
    today: dt.date | None = None,
    state: State | None = None,
    engine: DaskEngine | None = None,
) -> ScanResult:
    """Read ``paths`` (files, directories, globs, ``-``), match, attribute, and aggregate
    findings.

    ``keep_events=False`` keeps only partial aggregates (flat memory on any input size);
    ``ScanResult.events`` is then empty. ``attributor`` (:func:`build_attributor`) holds
    the identity sources, directory and sites; ``evidence_window=None`` stops the logs'
    own (address, user) pairs from attributing other events. ``policy``
    (:func:`shadowscan.policy.load_policy`) decides each finding's status, evaluated as of
    ``today`` (default: the current UTC date); every finding gets a risk score either way.
    ``state`` (:func:`shadowscan.state.open_state`) makes the scan incremental: only what
    earlier runs have not read is read, and the run is committed to the state at the end.
    ``engine`` (:class:`shadowscan.distributed.DaskEngine`) runs the same scan on a Dask
    cluster; the findings are the same as the local engine's.
    """
    log_format, loaded = _mapping_format(log_format, mapping)
    if since is not None and until is not None and since >= until:
        raise UsageError(
            f"--since ({since.isoformat()}) must be before --until ({until.isoformat()})"
        )
    matcher = matcher or build_matcher(signatures)
    attributor = attributor or Attributor.empty()
    options = ScanOptions(
        log_format=log_format,
        timezone=timezone,
        since=since,
        until=until,
        use_prefilter=prefilter,
        keep_events=keep_events,
        mapping=loaded,
        dns_suffixes=tuple(dns_suffixes),
        evidence_window=evidence_window,
        defer_unnamed=evidence_window is not None or not attributor.bindings.is_empty(),
        upload_threshold=upload_threshold,
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
    deferred: list[pl.DataFrame] = []
    evidence: list[pl.DataFrame] = []
    sources = resolve_inputs(paths)
    file_stats: dict[int, FileStats] = {}
    order, detections, n_dns = dns_first(sources, log_format)
    plans = state.plan(sources) if state is not None else None
    crashpoint("plan")
    record = state.new_run(list(paths), matcher.catalogue.version) if state is not None else None
    resumes = {i: (plan.resume if not plan.skip else None) for i, plan in enumerate(plans or [])}
    skipped = {i for i, plan in enumerate(plans or []) if plan.skip}
    if engine is None:
        results = _local_results(
            scanner, matcher, sources, order, n_dns, detections, resumes, skipped, progress
        )
    else:
        options.dns_to_driver = True
        results = engine.results(
            sources, order, n_dns, detections, resumes, skipped, options, signatures, progress
        )
    bursts = BurstFilter()
    for i, result in results:
        if result is None:  # unchanged since the last run (--state)
            assert plans is not None
            file_stats[i] = FileStats(path=sources[i].path, incremental=plans[i].note)
            continue
        crashpoint("file")
        plan = plans[i] if plans is not None else None
        if plan is not None and record is not None:
            resume = plan.resume
            result.stats.incremental = plan.note
            first = resume.lines if resume is not None else 0
            result.stats.first_line = first + 1
            record.files.append((sources[i], plan, result.end_offset, first + result.stats.lines))
            record.lines += result.stats.lines
            record.new_bytes += result.end_offset - (resume.offset if resume is not None else 0)
        if result.dns_events is not None and result.dns_events.height:
            # Distributed: lookup bursts are marked here, in file order, across tasks.
            marked = bursts.mark(result.dns_events)
            folded = fold_matched(marked, options)
            partials.append(folded.partials)
            if folded.deferred is not None:
                deferred.append(folded.deferred)
            if keep_events:
                frames.append(marked)
        frames.extend(result.events)
        if result.partials is not None:
            partials.append(result.partials)
        if result.deferred is not None:
            deferred.append(result.deferred)
        if result.evidence is not None:
            evidence.append(result.evidence)
        file_stats[i] = result.stats
    stats.files.extend(file_stats[i] for i in sorted(file_stats))
    events = pl.concat(frames, how="diagonal_relaxed") if frames else empty_matches()
    attributor.evidence_window = evidence_window
    attributor.prepare(merge_evidence(evidence, evidence_window or EVIDENCE_WINDOW))
    settled = settle(
        merge_partials(partials),
        pl.concat(deferred, rechunk=False) if deferred else pl.DataFrame(schema=DEFERRED_SCHEMA),
        attributor,
        matcher.service_names(),
    )
    findings = enrich(finalise(settled), attributor)
    today = today or dt.datetime.now(dt.UTC).date()
    findings = evaluate(findings, policy, matcher.catalogue, today)
    if state is not None and record is not None:
        findings = findings.with_columns(state.new_flags(findings))
        record.findings = findings.height
        history = settled.with_columns(
            places(settled["user"], settled["_src_key"], attributor)
        ).rename({"_src_key": "src_key", "_akey": "akey"})
        crashpoint("settled")
        stats.run_id = state.commit(record, history)
    if events.height:
        events = attributor.attribute_events(events.drop(ATTRIBUTION_SCHEMA, strict=False))
    stats.findings = findings.height
    stats.identity = [f.to_dict() for f in attributor.files]
    stats.attribution = attribution_summary(findings)
    warnings = [
        *matcher.catalogue.warnings,
        *attributor.warnings,
        *(policy.expired(today) if policy is not None else []),
    ]
    conflicts = attributor.conflicts_report()
    stats.conflicts = records(conflicts)
    daily = (
        settled.group_by("day", "service_id")
        .agg(pl.col("requests").sum(), pl.col("queries").sum())
        .sort("day", "service_id")
    )
    return ScanResult(findings, events, stats, matcher.catalogue, warnings, conflicts, daily=daily)


def _local_results(
    scanner: FileScanner,
    matcher: Matcher,
    sources: Sequence[InputSource],
    order: Sequence[int],
    n_dns: int,
    detections: dict[int, Detection],
    resumes: dict[int, Resume | None],
    skipped: set[int],
    progress: ProgressCallback | None,
) -> Iterator[tuple[int, FileResult | None]]:
    """The local engine: files one after another (chunks of one file in parallel), DNS
    logs first; once every DNS log has been read, the addresses AI hosts resolved to
    match the connections in the rest (the same whatever the order of the DNS files)."""
    learned: list[pl.DataFrame] = []
    for position, i in enumerate(order):
        if position == n_dns and learned:
            matcher.learn(pl.concat(learned))
            if scanner.prefilter is not None:
                scanner.prefilter = matcher.prefilter()
        if i in skipped:
            yield i, None
            continue
        result = scanner.scan(sources[i], progress, detections.get(i), resume=resumes.get(i))
        if position < n_dns and result.learned is not None and result.learned.height:
            learned.append(result.learned)
        yield i, result


def build_attributor(
    identity: Sequence[str] = (),
    directory: Sequence[str] = (),
    sites: str | Path | None = None,
    *,
    timezone: str = "UTC",
    lease_time: dt.timedelta = dt.timedelta(hours=12),
    session_time: dt.timedelta = dt.timedelta(hours=8),
) -> Attributor:
    """Load ``--identity``, ``--directory`` and ``--sites`` files for a scan."""
    from shadowscan.identity.load import load_identity

    data = load_identity(
        identity, timezone=timezone, lease_time=lease_time, session_time=session_time
    )
    people = None
    if directory:
        from shadowscan.directory.load import load_directory

        people = load_directory(directory)
    places = None
    if sites is not None:
        from shadowscan.sites import load_sites

        places = load_sites(Path(sites))
    attributor = Attributor(data.bindings, data.assets, people, places)
    attributor.files = [*data.files, *(people.files if people is not None else [])]
    attributor.warnings = list(people.warnings) if people is not None else []
    return attributor


#: Columns that name a person (or their device), per frame, and the token kind for each.
_PERSONAL = {
    "user": "user",
    "log_user": "user",
    "candidates": "user",
    "device": "device",
    "devices": "device",
}
_ADDRESSES = {"src_ip": "ip", "src_ips": "ip"}


def pseudonymise(result: ScanResult, pseudonymizer: Pseudonymizer, ips: bool = False) -> None:
    """Replace users and devices (and, with ``ips``, client addresses) by keyed tokens
    in everything the result will write: findings, events and the conflicts report.
    Departments, services and counts stay readable."""
    columns = {**_PERSONAL, **(_ADDRESSES if ips else {})}

    def apply(frame: pl.DataFrame) -> pl.DataFrame:
        present = {c: k for c, k in columns.items() if c in frame.columns}
        return pseudonymizer.apply(frame, present) if present and frame.height else frame

    result.findings = apply(result.findings)
    result.events = apply(result.events)
    if result.conflicts.height:
        result.conflicts = pseudonymizer.apply(
            result.conflicts, {"holders": "user", **({"ip": "ip"} if ips else {})}
        )
        result.stats.conflicts = records(result.conflicts)
    if ips:
        # Subnets and sites would give the addresses back; the department stays.
        result.findings = result.findings.with_columns(pl.lit(None, pl.String).alias("subnet"))
    result.pseudonymized = True


def attribution_summary(findings: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Requests, lookups and findings by attribution method (the data-quality account)."""
    out: dict[str, dict[str, int]] = {}
    for method in METHODS:
        rows = findings.filter(pl.col("attribution") == method)
        out[method] = {
            "findings": rows.height,
            "requests": int(rows["requests"].sum() or 0),
            "queries": int(rows["queries"].sum() or 0),
        }
    return out


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
) -> tuple[list[int], dict[int, Detection], int]:
    """Indices of ``sources`` with DNS logs first (in their order), then the rest; the
    detections made on the way (so that scanning does not sniff the files again); and how
    many of them are DNS logs.

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
    return order, detections, sum(flags)


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
