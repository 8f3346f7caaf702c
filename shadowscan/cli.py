"""The ``shadowscan`` command: a thin layer over :mod:`shadowscan.api`.

Each command parses its options, calls one library function, and turns library errors
into one-line messages and exit codes. Machine output goes to stdout untouched; the
summary, progress and errors go to stderr.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console

from shadowscan import __version__
from shadowscan.crashpoints import crashpoint
from shadowscan.errors import ExitStatus, ShadowscanError, UsageError

app = typer.Typer(
    name="shadowscan",
    help="Find shadow AI in proxy, DNS and firewall logs: who used which AI service, when, how much, "
    "and how much data went out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

stderr = Console(stderr=True, highlight=False)


@contextlib.contextmanager
def _errors(debug: bool = False) -> Iterator[None]:
    """Library errors become one line on stderr and the right exit code."""
    try:
        yield
    except ShadowscanError as exc:
        if debug:
            traceback.print_exc()
        stderr.print(f"[bold red]shadowscan: error:[/] {exc}", markup=True, soft_wrap=True)
        raise typer.Exit(int(exc.exit_status)) from None
    except BrokenPipeError:  # `shadowscan scan ... | head`
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        raise typer.Exit(0) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        if debug:
            traceback.print_exc()
        stderr.print(
            f"[bold red]shadowscan: internal error:[/] {type(exc).__name__}: {exc}. "
            "Run again with --debug for the traceback, and please report it.",
            markup=True,
            soft_wrap=True,
        )
        raise typer.Exit(int(ExitStatus.INTERNAL)) from None


# --- scan -----------------------------------------------------------------------------

SCAN_HELP = """Scan logs for AI services and report findings per user x service.

PATHS are files, directories (read recursively), globs or - for stdin; gzip, bz2, xz and zstd files are read as they are.

[bold]Examples[/]

  shadowscan scan /var/log/squid/access.log

  shadowscan scan logs/ --since 7d --output-format csv -o findings.csv

  zcat access.log.1.gz | shadowscan scan - --log-format squid --events

  shadowscan scan logs/ --stats-json stats.json | jq .service

  shadowscan scan dns/ fw/ --identity dhcpd.leases --identity assets.csv --directory ad.ldif

  shadowscan scan logs/ --directory users.csv --group-by department -F table

  shadowscan scan logs/ --pseudonymize /secure/shadowscan.key --pseudonymize-ips
"""


def _pick_sink(output_format: str | None, output: Path | None) -> str:
    from shadowscan.outputs import SINKS

    if output_format:
        SINKS.get(output_format)
        return output_format
    if output is not None:
        for name, sink in SINKS.items():
            if output.suffix.lower() in sink.extensions:
                return name
        return "ndjson"
    return "table" if sys.stdout.isatty() else "ndjson"


@app.command(help=SCAN_HELP)
def scan(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Log files, directories, globs, or - for stdin (or `inputs:` in the config file).",
            show_default=False,
        ),
    ] = None,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            "-f",
            help="Format name (see `shadowscan formats`) or auto to detect per file.",
        ),
    ] = "auto",
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            "-m",
            help="YAML field mapping for an export in no known format (CSV, JSON lines, key=value or regex); implies --log-format mapped.",
        ),
    ] = None,
    signatures: Annotated[
        list[Path] | None,
        typer.Option(
            "--signatures",
            "-s",
            help="Extra signature directory or file, overlaid on the bundled set (repeatable).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--output-format",
            "-F",
            help="table, ndjson, json, csv, parquet, cef, leef, ocsf or ecs. Default: table on a terminal, else NDJSON (or from the --output extension: .csv, .json, .ndjson, .parquet, .cef, .leef).",
        ),
    ] = None,
    events: Annotated[
        bool, typer.Option("--events", help="Emit the matched events instead of findings.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only events at or after this time: ISO date/time (UTC unless given) or an age like 24h, 7d."
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only events before this time (same forms as --since).")
    ] = None,
    dns_suffix: Annotated[
        list[str] | None,
        typer.Option(
            "--dns-suffix",
            help="The organisation's DNS search suffix (repeatable): chatgpt.com.corp.local is read as chatgpt.com.",
        ),
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="Time zone of logs whose timestamps carry none (syslog headers).")
    ] = "UTC",
    identity: Annotated[
        list[str] | None,
        typer.Option(
            "--identity",
            "-i",
            help="Identity source [TYPE:]FILE (repeatable): DHCP leases, logons, VPN sessions, asset inventory; see `shadowscan identity types`.",
        ),
    ] = None,
    directory: Annotated[
        list[str] | None,
        typer.Option(
            "--directory",
            "-d",
            help="People directory [TYPE:]FILE (repeatable): CSV, LDIF, Entra ID or Okta JSON; resolves every spelling of a user and gives departments.",
        ),
    ] = None,
    sites: Annotated[
        Path | None,
        typer.Option(
            "--sites", help="CSV cidr,site,department: rolls up traffic nobody could be named for."
        ),
    ] = None,
    lease_time: Annotated[
        str,
        typer.Option(
            help="How long a DHCP lease lasts when the source does not say (a DHCPACK line)."
        ),
    ] = "12h",
    session_time: Annotated[
        str,
        typer.Option(
            help="How long a logon or VPN connect holds its address when no end is logged."
        ),
    ] = "8h",
    evidence_window: Annotated[
        str,
        typer.Option(
            help="A log line naming a user at an address attributes that address this long before and after it; 0 turns it off."
        ),
    ] = "15m",
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="YAML policy: which services, vendors and categories are sanctioned, tolerated or unsanctioned, with department and expiring user exceptions.",
        ),
    ] = None,
    upload_threshold: Annotated[
        str,
        typer.Option(
            help="A request sending more than this is a large upload (counted in large_uploads; raises severity): 1MB, 500KB, 2MiB."
        ),
    ] = "1MB",
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when any finding reaches this severity (info, low, medium, high, critical), or with new-service when --state sees an AI service for the first time.",
        ),
    ] = None,
    min_severity: Annotated[
        str | None,
        typer.Option("--min-severity", help="Only output findings at or above this severity."),
    ] = None,
    send: Annotated[
        list[str] | None,
        typer.Option(
            "--send",
            help="Also deliver each finding (or event) to a SIEM (repeatable): syslog+udp://, syslog+tcp://, syslog+tls://HOST[:PORT] or hec+https://HOST[:PORT] (token from SHADOWSCAN_HEC_TOKEN or SHADOWSCAN_HEC_TOKEN_FILE).",
        ),
    ] = None,
    send_format: Annotated[
        str,
        typer.Option(help="Record format for --send: ndjson, cef, leef, ecs or ocsf."),
    ] = "ndjson",
    spool_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where records a --send destination did not take wait for the next run (default ~/.local/state/shadowscan/spool)."
        ),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            help="PEM CA bundle to verify syslog+tls and HEC servers (default: the system's)."
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="State database (DuckDB file) for nightly runs: read only what is new since the last run, keep the history and first-seen dates.",
        ),
    ] = None,
    retain_days: Annotated[
        int | None,
        typer.Option("--retain-days", help="With --state: drop history older than this many days."),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="local (this machine; the default) or dask (a Dask cluster: --scheduler, or a local cluster of --dask-workers processes)."
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="With --engine dask: the scheduler address (tcp://host:8786)."),
    ] = None,
    dask_workers: Annotated[
        int | None,
        typer.Option(
            "--dask-workers",
            help="With --engine dask and no --scheduler: worker processes of a local cluster (default: one per core).",
        ),
    ] = None,
    group_by: Annotated[
        str,
        typer.Option(
            "--group-by",
            help="finding (one row per user x service), department (users, requests, bytes out, services per department) or subnet (traffic nobody could be named for).",
        ),
    ] = "finding",
    pseudonymize: Annotated[
        Path | None,
        typer.Option(
            "--pseudonymize",
            help="Key file (mode 600; make one with `shadowscan keygen`): replace users and devices by keyed tokens in every output.",
        ),
    ] = None,
    pseudonymize_ips: Annotated[
        bool,
        typer.Option(
            "--pseudonymize-ips", help="With --pseudonymize, tokenise client addresses too."
        ),
    ] = False,
    stats_json: Annotated[
        Path | None,
        typer.Option(
            "--stats-json",
            help="Write the per-file line accounting (parsed, skipped, unparsed by reason) as JSON.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
    progress: Annotated[
        bool, typer.Option(help="Progress bar on stderr (only ever shown on a terminal).")
    ] = True,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="YAML file of scan options (default: $SHADOWSCAN_CONFIG, else ./shadowscan.yaml if present); options given here override it, a list given here replaces the file's.",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    options = dict(locals())
    options.pop("ctx")
    options.pop("config")
    with _errors(debug):
        from shadowscan.config import find_config, load_config, merge

        found = find_config(config)
        if found is not None:
            given = {
                name
                for name in options
                if (source := ctx.get_parameter_source(name)) is not None
                and source.name == "COMMANDLINE"
            }
            options = merge(options, given, load_config(found))
            if not options["quiet"]:
                stderr.print(f"shadowscan: using config {found}", highlight=False)
        if not options["paths"]:
            raise UsageError(
                "give PATHS (files, directories, globs or -), or `inputs:` in the config file"
            )
    _run_scan(**options)


def _run_scan(
    paths: list[str],
    log_format: str,
    mapping: Path | None,
    signatures: list[Path] | None,
    output: Path | None,
    output_format: str | None,
    events: bool,
    since: str | None,
    until: str | None,
    dns_suffix: list[str] | None,
    timezone: str,
    identity: list[str] | None,
    directory: list[str] | None,
    sites: Path | None,
    lease_time: str,
    session_time: str,
    evidence_window: str,
    policy: Path | None,
    upload_threshold: str,
    fail_on: str | None,
    min_severity: str | None,
    send: list[str] | None,
    send_format: str,
    spool_dir: Path | None,
    ca_file: Path | None,
    state: Path | None,
    retain_days: int | None,
    engine: str,
    scheduler: str | None,
    dask_workers: int | None,
    group_by: str,
    pseudonymize: Path | None,
    pseudonymize_ips: bool,
    stats_json: Path | None,
    quiet: bool,
    progress: bool,
    debug: bool,
) -> None:
    from shadowscan.api import build_attributor, build_matcher, pseudonymise
    from shadowscan.api import scan as run_scan
    from shadowscan.policy import load_policy
    from shadowscan.risk import at_least, check_severity, severity_at_least
    from shadowscan.rollup import GROUPINGS, rollup
    from shadowscan.timeparse import parse_duration, parse_size, parse_time
    from shadowscan.transports import open_transport

    with _errors(debug):
        sink_name = _pick_sink(output_format, output)
        since_t = parse_time(since, option="--since") if since else None
        until_t = parse_time(until, option="--until") if until else None
        if group_by not in GROUPINGS:
            raise UsageError(f"--group-by {group_by!r}: use one of {', '.join(GROUPINGS)}")
        if events and group_by != "finding":
            raise UsageError("--events lists events; drop --group-by, or drop --events")
        if fail_on == "new-service":
            if state is None:
                raise UsageError(
                    "--fail-on new-service needs --state (first-seen dates live there)"
                )
        elif fail_on is not None:
            check_severity(fail_on)
        if retain_days is not None and (state is None or retain_days < 1):
            raise UsageError("--retain-days N needs --state and N >= 1")
        if min_severity is not None:
            check_severity(min_severity)
            if events:
                raise UsageError("--min-severity filters findings; drop it with --events")
        if engine not in {"local", "dask"}:
            raise UsageError(f"--engine {engine!r}: use local or dask")
        if engine == "local" and (scheduler or dask_workers):
            raise UsageError("--scheduler and --dask-workers need --engine dask")
        if engine == "dask" and state is not None:
            raise UsageError(
                "--state runs on the local engine (the ledger reads local files); drop --engine dask"
            )
        runner = None
        if engine == "dask":
            from shadowscan.distributed import DaskEngine

            runner = DaskEngine(scheduler=scheduler, workers=dask_workers)
        if pseudonymize_ips and pseudonymize is None:
            raise UsageError("--pseudonymize-ips needs --pseudonymize KEYFILE")
        pseudonymizer = None
        if pseudonymize is not None:
            from shadowscan.pseudonymize import Pseudonymizer

            pseudonymizer = Pseudonymizer.from_key_file(pseudonymize)
        for url in send or ():
            open_transport(url, ca_file=ca_file).close()  # a bad URL or token fails now
        window = parse_duration(evidence_window, option="--evidence-window")
        threshold = parse_size(upload_threshold, option="--upload-threshold")
        matcher = build_matcher(signatures or ())
        rules = load_policy(policy, matcher.catalogue) if policy is not None else None
        attributor = build_attributor(
            identity or (),
            directory or (),
            sites,
            timezone=timezone,
            lease_time=parse_duration(lease_time, option="--lease-time"),
            session_time=parse_duration(session_time, option="--session-time"),
        )
        opened = None
        if state is not None:
            from shadowscan.state import open_state

            opened = open_state(state)
        with (
            opened if opened is not None else contextlib.nullcontext(),
            _progress(enabled=progress and stderr.is_terminal and not quiet) as on_progress,
        ):
            if opened is not None and retain_days is not None:
                opened.prune(retain_days, dt.datetime.now(dt.UTC).date())
            last = opened.last_run() if opened is not None else None
            result = run_scan(
                paths,
                log_format=log_format,
                since=since_t,
                until=until_t,
                timezone=timezone,
                keep_events=events,
                mapping=mapping,
                dns_suffixes=dns_suffix or (),
                progress=on_progress,
                attributor=attributor,
                evidence_window=window if window else None,
                upload_threshold=threshold,
                matcher=matcher,
                policy=rules,
                state=opened,
                engine=runner,
            )
        if pseudonymizer is not None:
            pseudonymise(result, pseudonymizer, ips=pseudonymize_ips)
        if opened is not None and not quiet:
            from shadowscan.summary import print_changes

            print_changes(stderr, result, last)
        if fail_on == "new-service":
            breached = bool(result.findings["new_service"].fill_null(False).any())
        else:
            breached = fail_on is not None and bool(at_least(result.findings, fail_on).any())
        findings = result.findings
        if min_severity is not None:
            findings = findings.filter(severity_at_least(min_severity))
        frame = result.events if events else rollup(findings, group_by)
        undelivered = _deliver(
            send or (),
            result.events if events else findings,
            send_format,
            kind="events" if events else "findings",
            spool_dir=spool_dir,
            ca_file=ca_file,
            quiet=quiet,
        )
        kind = "events" if events else ("findings" if group_by == "finding" else group_by)
        shown = result if min_severity is None else dataclasses.replace(result, findings=findings)
        _write(frame, sink_name, output, kind=kind, result=shown)
        crashpoint("output")
        if stats_json is not None:
            stats_json.write_text(
                json.dumps(result.stats.to_dict(), indent=2) + "\n", encoding="utf-8"
            )
        if not quiet:
            from shadowscan.summary import print_summary

            print_summary(stderr, result)
        if breached:
            if not quiet:
                stderr.print(
                    "shadowscan: an AI service was seen for the first time: exit 1"
                    if fail_on == "new-service"
                    else f"shadowscan: findings at or above --fail-on {fail_on}: exit 1",
                    highlight=False,
                )
            raise typer.Exit(int(ExitStatus.FINDINGS))
        if undelivered:
            raise typer.Exit(int(ExitStatus.DELIVERY))


def _deliver(
    urls: Sequence[str],
    frame: Any,
    output_format: str,
    *,
    kind: str,
    spool_dir: Path | None,
    ca_file: Path | None,
    quiet: bool,
) -> bool:
    """Send ``frame`` to every destination (their spools first); True when anything
    could not be delivered (it waits in the spool for the next run)."""
    if not urls:
        return False
    from shadowscan.transports import deliver, render_messages

    messages = render_messages(frame, output_format, kind=kind)
    undelivered = False
    for url in urls:
        report = deliver(url, messages, spool_dir=spool_dir, ca_file=ca_file)
        if not report.ok:
            undelivered = True
            stderr.print(
                f"[bold red]shadowscan: delivery failed:[/] {report.summary()}",
                markup=True,
                soft_wrap=True,
            )
        elif not quiet:
            stderr.print(f"shadowscan: {report.summary()}", highlight=False, soft_wrap=True)
    return undelivered


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(path: str, done: int, total: int | None) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(Path(path).name[-40:], total=total)
            bar.update(tasks[path], completed=done)

        yield update


def _write(frame: Any, sink_name: str, output: Path | None, kind: str, result: Any = None) -> None:
    """Write ``frame`` with the sink; report sinks (html, md, xlsx) get the whole scan
    ``result`` when there is one (the data-quality account, the timeline)."""
    from shadowscan.outputs import SINKS

    sink = SINKS.get(sink_name)()

    def emit(stream: IO[Any]) -> None:
        if result is not None and sink.wants_result and kind == "findings":
            sink.write_result(result, stream, daily=result.daily)
        else:
            sink.write(frame, stream, kind=kind)

    if output is None and sink.binary and sys.stdout.isatty():
        raise UsageError(
            f"--output-format {sink_name} is binary: write it to a file with -o findings.{sink_name}"
        )
    if output is None:
        stream: IO[Any] = sys.stdout.buffer if sink.binary else sys.stdout
        emit(stream)
        stream.flush()
        return
    try:
        with open(
            output,
            "wb" if sink.binary else "w",
            encoding=None if sink.binary else "utf-8",
            newline=None if sink.binary else "",
        ) as fh:
            emit(fh)
    except OSError as exc:
        raise UsageError(f"{output}: cannot write: {exc.strerror or exc}") from exc


# --- detect, formats, version ------------------------------------------------------------


@app.command(
    help="""Show which format each file is detected as, with the evidence.

[bold]Examples[/]

  shadowscan detect /var/log/squid/

  shadowscan detect export.csv --json
"""
)
def detect(
    paths: Annotated[
        list[str], typer.Argument(help="Files, directories or globs.", show_default=False)
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per file on stdout.")
    ] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    from shadowscan.api import detect_files

    with _errors(debug):
        results = detect_files(paths)
        undetected = 0
        for path, det in results:
            undetected += det.format is None
            if as_json:
                sys.stdout.write(
                    json.dumps(
                        {
                            "path": path,
                            "format": det.format,
                            "evidence": det.evidence,
                            "candidates": [c.__dict__ for c in det.candidates[:5]],
                        }
                    )
                    + "\n"
                )
            else:
                typer.echo(f"{path}\t{det.format or 'unknown'}\t{det.evidence}")
        if undetected and all(det.format is None for _, det in results):
            raise typer.Exit(int(ExitStatus.INPUT))


@app.command(
    help="""List the log formats shadowscan reads.

[bold]Example[/]

  shadowscan formats
"""
)
def formats(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
) -> None:
    from shadowscan.parsers import PARSERS

    if as_json:
        for name, parser in PARSERS.items():
            sys.stdout.write(
                json.dumps(
                    {
                        "name": name,
                        "log_type": parser.log_type,
                        "summary": parser.summary,
                        "example": parser.example,
                    }
                )
                + "\n"
            )
        return
    from rich.table import Table

    table = Table(header_style="bold")
    table.add_column("Format")
    table.add_column("Type")
    table.add_column("Description")
    for name, parser in PARSERS.items():
        table.add_row(name, parser.log_type, parser.summary)
    Console().print(table)


@app.command(
    help="""Print the shadowscan version and the signature catalogue version.

[bold]Example[/]

  shadowscan version
"""
)
def version() -> None:
    from shadowscan.signatures import load_catalogue

    with _errors():
        cat = load_catalogue()
        typer.echo(
            f"shadowscan {__version__} (signatures {cat.version}, {len(cat.active())} services)"
        )


# --- signatures ---------------------------------------------------------------------------

# --- config, history ------------------------------------------------------------------------

#: Options several commands share.
StateFile = Annotated[Path, typer.Option("--state", help="The state database of nightly scans.")]
FirstDay = Annotated[
    str | None, typer.Option("--since", help="First day (ISO date, or an age like 30d).")
]
LastDay = Annotated[str | None, typer.Option("--until", help="Last day, inclusive.")]
DirectoryFiles = Annotated[
    list[str] | None,
    typer.Option("--directory", "-d", help="People directory [TYPE:]FILE (repeatable)."),
]


def _days(since: str | None, until: str | None) -> tuple[dt.date | None, dt.date | None]:
    """``--since``/``--until`` as UTC days."""
    from shadowscan.timeparse import parse_time

    return (
        parse_time(since, option="--since").date() if since else None,
        parse_time(until, option="--until").date() if until else None,
    )


config_app = typer.Typer(
    help="The configuration file: check it before cron runs it.", no_args_is_help=True
)
app.add_typer(config_app, name="config")


@config_app.command(
    "check",
    help="""Check a config file: syntax, keys, types, that its files exist, the policy and signatures load, --send URLs and tokens, durations, sizes, severities, writable state and output directories. Every problem as FILE:LINE: what: what to do; exit 2 if any.

[bold]Example[/]

  shadowscan config check /etc/shadowscan.yaml
""",
)
def config_check(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Config file (default: $SHADOWSCAN_CONFIG, else ./shadowscan.yaml).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    from shadowscan.config import check_config, find_config

    with _errors(debug):
        found = find_config(path)
        if found is None:
            raise UsageError(
                "no config file: give PATH, set SHADOWSCAN_CONFIG, or create ./shadowscan.yaml"
            )
        problems = check_config(found)
        for problem in problems:
            typer.echo(problem)
        if problems:
            stderr.print(f"[red]{len(problems)} problem(s)[/] in {found}", markup=True)
            raise typer.Exit(int(ExitStatus.USAGE))
        stderr.print(f"{found}: OK", highlight=False)


@app.command(
    help="""Trends from the nightly state: per day, week or month and per service, department or user, with the counters of a finding (summing a history over its periods gives what one scan over all the data reports).

[bold]Examples[/]

  shadowscan history --state /var/lib/shadowscan/state.duckdb --by service --period week

  shadowscan history --state state.duckdb --by department --since 2026-11-01 -F csv -o trend.csv
"""
)
def history(
    state: StateFile,
    since: FirstDay = None,
    until: LastDay = None,
    by: Annotated[str, typer.Option("--by", help="service, department or user.")] = "service",
    period: Annotated[str, typer.Option(help="day, week (ISO, from Monday) or month.")] = "day",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--output-format",
            "-F",
            help="table, ndjson, json, csv or parquet. Default: table on a terminal, else NDJSON.",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    from shadowscan.history import history as read_history

    with _errors(debug):
        sink_name = _pick_sink(output_format, output)
        since_d, until_d = _days(since, until)
        frame = read_history(state, since=since_d, until=until_d, by=by, period=period)  # type: ignore[arg-type]
        _write(frame, sink_name, output, kind=f"{by} per {period}")


@app.command(
    help="""The audit report from the nightly history: HTML (self-contained, printable), Markdown or an Excel workbook.

[bold]Examples[/]

  shadowscan report --state /var/lib/shadowscan/state.duckdb --since 30d -o report.html

  shadowscan report --state state.duckdb --policy policy.yaml --since 2026-11-01 --until 2026-11-30 -o november.xlsx
"""
)
def report(
    state: StateFile,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The report file; .html, .md or .xlsx picks the format."
        ),
    ],
    since: FirstDay = None,
    until: LastDay = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy to judge the findings by (default: all unreviewed)."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--output-format", "-F", help="html, md or xlsx (default: from -o)."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="The report's title.")] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    from shadowscan.history import findings_from_state
    from shadowscan.policy import evaluate, load_policy
    from shadowscan.report.model import DEFAULT_TITLE, build_report_from_frames
    from shadowscan.signatures import load_catalogue

    with _errors(debug):
        sink_name = _pick_sink(output_format, output)
        if sink_name not in {"html", "md", "xlsx"}:
            raise UsageError(f"a report is html, md or xlsx, not {sink_name}: use -o report.html")
        since_d, until_d = _days(since, until)
        findings, daily = findings_from_state(state, since=since_d, until=until_d)
        catalogue = load_catalogue()
        rules = load_policy(policy, catalogue) if policy is not None else None
        findings = evaluate(findings, rules, catalogue, dt.datetime.now(dt.UTC).date())
        data = build_report_from_frames(
            findings,
            None,
            daily,
            title=title or DEFAULT_TITLE,
            since=dt.datetime.combine(since_d, dt.time(), dt.UTC) if since_d else None,
            until=dt.datetime.combine(until_d, dt.time.max, dt.UTC) if until_d else None,
        )
        from shadowscan.outputs import SINKS

        rendered = SINKS.get(sink_name)().render(data)  # type: ignore[attr-defined]
        try:
            if isinstance(rendered, bytes):
                output.write_bytes(rendered)
            else:
                output.write_text(rendered, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{output}: cannot write: {exc.strerror or exc}") from exc
        stderr.print(f"shadowscan: wrote {output} ({findings.height:,} findings)", highlight=False)


# --- identity, keygen, reidentify ---------------------------------------------------------

identity_app = typer.Typer(
    help="Identity sources: the types shadowscan reads, and a check of your files.",
    no_args_is_help=True,
)
app.add_typer(identity_app, name="identity")


@identity_app.command(
    "types",
    help="""List the identity source types (--identity TYPE:FILE) and directory formats (--directory).

[bold]Example[/]

  shadowscan identity types
""",
)
def identity_types(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
) -> None:
    from shadowscan.directory import DIRECTORY_READERS
    from shadowscan.identity import IDENTITY_READERS

    rows = [(n, r.kind, r.summary) for n, r in IDENTITY_READERS.items()]
    rows += [(n, "directory", r.summary) for n, r in DIRECTORY_READERS.items()]
    if as_json:
        for name, kind, summary in rows:
            sys.stdout.write(json.dumps({"name": name, "kind": kind, "summary": summary}) + "\n")
        return
    from rich.table import Table

    table = Table(header_style="bold")
    for header in ("Type", "Kind", "Reads"):
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(soft_wrap=False).print(table)


@identity_app.command(
    "check",
    help="""Read identity and directory files and report what they hold: records per file, lines read, ignored and rejected (with line numbers), address conflicts, and directory warnings. Exits 3 when a file cannot be read.

[bold]Examples[/]

  shadowscan identity check --identity dhcpd.leases --identity assets.csv

  shadowscan identity check --directory ad.ldif --json
""",
)
def identity_check(
    identity: Annotated[
        list[str] | None,
        typer.Option("--identity", "-i", help="Identity source [TYPE:]FILE (repeatable)."),
    ] = None,
    directory: DirectoryFiles = None,
    timezone: Annotated[str, typer.Option(help="Time zone of timestamps that carry none.")] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    from shadowscan.api import build_attributor
    from shadowscan.outputs.base import records

    with _errors(debug):
        if not identity and not directory:
            raise UsageError("give at least one --identity or --directory file")
        attributor = build_attributor(identity or (), directory or (), timezone=timezone)
        attributor.prepare()
        conflicts = attributor.conflicts_report()
        files = [f.to_dict() for f in attributor.files]
        if as_json:
            report = {
                "files": files,
                "conflicts": records(conflicts),
                "warnings": attributor.warnings,
            }
            sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
            return
        for f in files:
            rejected = sum(f.get("rejected", {}).values())
            typer.echo(
                f"{f['path']}\t{f.get('type')}\t{f.get('records', 0):,} record(s) from "
                f"{f.get('lines', 0):,} line(s): {f.get('ignored', 0):,} ignored, {rejected:,} rejected"
            )
            for reason, count in f.get("rejected", {}).items():
                sample = ", ".join(
                    str(n) for n in f.get("rejected_sample_lines", {}).get(reason, [])
                )
                typer.echo(f"  {count:,} rejected: {reason} (line {sample})")
        for row in conflicts.iter_rows(named=True):
            typer.echo(
                f"conflict: {row['ip']} {row['from']:%Y-%m-%d %H:%M} .. "
                f"{row['until']:%Y-%m-%d %H:%M} claimed by {', '.join(row['holders'] or [])} ({row['kind']})"
            )
        for warning in attributor.warnings:
            typer.echo(f"warning: {warning}")


@app.command(
    help="""Create a pseudonymisation key file (32 random bytes, mode 600; never overwrites).

Keep it away from the people who receive pseudonymised reports: whoever holds it can re-identify tokens.

[bold]Example[/]

  shadowscan keygen /secure/shadowscan.key
"""
)
def keygen(
    path: Annotated[Path, typer.Argument(help="Where to create the key file.", show_default=False)],
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    from shadowscan.pseudonymize import generate_key

    with _errors(debug):
        generate_key(path)
        stderr.print(f"shadowscan: created key {path} (mode 600)")


@app.command(
    help="""Find who a pseudonymisation token stands for (for the key holder).

Tokens are tested against every user in the directory (and any --candidate names); exits 1 when none matches.

[bold]Examples[/]

  shadowscan reidentify u-sebwaslvz236xenx --key /secure/shadowscan.key --directory users.csv

  shadowscan reidentify ip-iw2fx5khnutscpaj --key k --candidate 10.20.1.15 --candidate 10.20.1.22
"""
)
def reidentify(
    token: Annotated[
        str, typer.Argument(help="A token from a pseudonymised output.", show_default=False)
    ],
    key: Annotated[Path, typer.Option("--key", help="The key file the token was made with.")],
    directory: DirectoryFiles = None,
    candidate: Annotated[
        list[str] | None,
        typer.Option("--candidate", help="A user, device or address to test too (repeatable)."),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    import polars as pl

    from shadowscan.pseudonymize import Pseudonymizer

    with _errors(debug):
        pseudonymizer = Pseudonymizer.from_key_file(key)
        names: list[str] = list(candidate or [])
        people = None
        if directory:
            from shadowscan.directory.load import load_directory

            people = load_directory(directory)
            names += people.people["user"].drop_nulls().to_list()
        if not names:
            raise UsageError(
                "give --directory FILE (or --candidate NAME) to test the token against"
            )
        found = pseudonymizer.reidentify(token, names)
        if not found:
            stderr.print("shadowscan: no candidate matches this token with this key")
            raise typer.Exit(int(ExitStatus.FINDINGS))
        for name in found:
            line = name
            if people is not None:
                hit = people.people.filter(pl.col("user") == name)
                if hit.height:
                    row = hit.row(0, named=True)
                    line = "\t".join(
                        str(v)
                        for v in (name, row.get("display_name") or "", row.get("department") or "")
                    )
            typer.echo(line)


signatures_app = typer.Typer(
    help="Inspect, validate and test the AI signature catalogue.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(signatures_app, name="signatures")

SignatureDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--signatures",
        "-s",
        help="Overlay directory or file on the bundled catalogue (repeatable).",
    ),
]


def _catalogue(overlays: list[Path] | None) -> Any:
    from shadowscan.signatures import load_catalogue

    cat = load_catalogue(overlays or [])
    for warning in cat.warnings:
        stderr.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False, soft_wrap=True)
    return cat


@signatures_app.command(
    "list",
    help="""List services, optionally by category or a search text.

[bold]Examples[/]

  shadowscan signatures list --category coding_assistant

  shadowscan signatures list --search openai --json
""",
)
def signatures_list(
    category: Annotated[
        str | None, typer.Option(help="Only this category (see `shadowscan signatures stats`).")
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Text to find in id, name, vendor, domains or app ids.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per service on stdout.")
    ] = False,
    signatures: SignatureDirs = None,
) -> None:
    from shadowscan.signatures import CATEGORIES
    from shadowscan.sigtools import search as find

    with _errors():
        if category and category not in CATEGORIES:
            raise UsageError(f"unknown category {category!r} (known: {', '.join(CATEGORIES)})")
        services = find(_catalogue(signatures), category, search)
        if as_json:
            for svc in services:
                sys.stdout.write(svc.model_dump_json(exclude={"examples"}) + "\n")
            return
        from rich.table import Table

        table = Table(
            header_style="bold", title=f"{len(services)} service(s)", title_justify="left"
        )
        for col in ("id", "name", "vendor", "category", "domains"):
            table.add_column(col, overflow="fold")
        for svc in services:
            table.add_row(
                svc.id,
                svc.name,
                svc.vendor,
                svc.category,
                ", ".join(svc.domains + svc.url_patterns),
            )
        Console().print(table)


@signatures_app.command(
    "show",
    help="""Show one service in full (YAML).

[bold]Example[/]

  shadowscan signatures show openai-chatgpt
""",
)
def signatures_show(
    service_id: Annotated[str, typer.Argument(help="Service id.", show_default=False)],
    signatures: SignatureDirs = None,
) -> None:
    import yaml

    with _errors():
        cat = _catalogue(signatures)
        svc = cat.get(service_id)
        data = svc.model_dump(mode="json", exclude_defaults=True)
        data = {"source": cat.sources.get(service_id), **data}
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@signatures_app.command(
    "validate",
    help="""Validate signature files: every problem at once, as file:service-id: field: problem.

Without PATHS, the bundled catalogue is validated.

[bold]Examples[/]

  shadowscan signatures validate

  shadowscan signatures validate /etc/shadowscan/signatures/
""",
)
def signatures_validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Directories or files (default: the bundled catalogue).", show_default=False
        ),
    ] = None,
) -> None:
    from shadowscan.sigtools import validate

    with _errors():
        services, problems = validate(paths or [])
        for problem in problems:
            typer.echo(problem)
        if problems:
            stderr.print(
                f"[red]{len(problems)} problem(s)[/] in {len(services)} valid service(s)",
                markup=True,
            )
            raise typer.Exit(int(ExitStatus.INPUT))
        stderr.print(f"{len(services)} service(s) valid", highlight=False)


@signatures_app.command(
    "test",
    help="""Run every service's match/no_match examples against the whole catalogue.

With PATHS, those files are overlaid on the bundled catalogue and only their services are tested.

[bold]Examples[/]

  shadowscan signatures test

  shadowscan signatures test my-signatures/
""",
)
def signatures_test(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Overlay directories or files to test.", show_default=False),
    ] = None,
) -> None:
    from shadowscan.signatures import load_catalogue, load_directory
    from shadowscan.sigtools import run_examples

    with _errors():
        only: set[str] | None = None
        if paths:
            only = {svc.id for p in paths for svc, _ in load_directory(p)[0]}
        cat = load_catalogue(paths or [])
        failures = run_examples(cat, only)
        for failure in failures:
            typer.echo(str(failure))
        tested = len(only) if only is not None else len(cat.active())
        if failures:
            stderr.print(
                f"[red]{len(failures)} failing example(s)[/] in {tested} service(s)", markup=True
            )
            raise typer.Exit(int(ExitStatus.INPUT))
        stderr.print(f"all examples pass ({tested} service(s))", highlight=False)


@signatures_app.command(
    "stats",
    help="""Counts: services, vendors, domains, and services per category.

[bold]Example[/]

  shadowscan signatures stats --json
""",
)
def signatures_stats(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    signatures: SignatureDirs = None,
) -> None:
    from shadowscan.signatures import CATEGORIES
    from shadowscan.sigtools import stats

    with _errors():
        data = stats(_catalogue(signatures))
        if as_json:
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
            return
        typer.echo(
            f"catalogue {data['version']}: {data['services']} services from {data['vendors']} vendors; "
            f"{data['domains']} domains, {data['url_patterns']} URL patterns, {data['ip_ranges']} IP ranges, "
            f"{data['app_ids']} app ids"
        )
        by_category = data["by_category"]
        assert isinstance(by_category, dict)
        for cat, count in by_category.items():
            typer.echo(f"  {cat:<20} {count:>4}  {CATEGORIES[cat]}")


@signatures_app.command(
    "export",
    help="""Export the catalogue as SIEM detection content or blocklists.

Formats: sigma, splunk, kql, zeek-intel, suricata, hosts, rpz, adblock, pac, csv, json (`shadowscan signatures export --help` lists them). Services a format cannot express (URL patterns in a DNS blocklist) are listed as skipped on stderr, never silently dropped.

[bold]Examples[/]

  shadowscan signatures export --to rpz -o ai-services.rpz

  shadowscan signatures export --to sigma --policy policy.yaml --only unsanctioned -o sigma-rules/

  shadowscan signatures export --to hosts --category chat_assistant > /etc/hosts.d/ai
""",
)
def signatures_export(
    to: Annotated[str, typer.Option("--to", help="Export format (see above).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (a directory for multi-file formats: sigma, splunk, kql); default stdout.",
        ),
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", help="Only services of this category (repeatable)."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Policy file: its statuses set rule levels and --only filters by them."
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="With --policy: only services of this status (repeatable): unsanctioned, unreviewed, tolerated, sanctioned.",
        ),
    ] = None,
    overlays: Annotated[
        list[Path] | None,
        typer.Option("--signatures", "-s", help="Extra signature directory or file (repeatable)."),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    from shadowscan.exports import EXPORTERS
    from shadowscan.exports.run import policy_statuses, run_export, write_export

    with _errors(debug):
        EXPORTERS.get(to)  # an unknown format lists the known ones
        for status in only or ():
            if status not in {"unsanctioned", "unreviewed", "tolerated", "sanctioned"}:
                raise UsageError(
                    f"--only {status!r}: use unsanctioned, unreviewed, tolerated or sanctioned"
                )
        catalogue = _catalogue(overlays)
        statuses = policy_statuses(policy, catalogue) if policy is not None else None
        export, services = run_export(
            catalogue, to, categories=category or (), statuses=statuses, only=only or ()
        )
        written = write_export(export, to, output)
        for service_id, reason in export.skipped:
            stderr.print(f"  skipped {service_id}: {reason}", highlight=False, soft_wrap=True)
        where = ", ".join(str(p) for p in written) if written else "stdout"
        stderr.print(
            f"shadowscan: exported {len(services) - len(export.skipped)} of {len(services)} "
            f"service(s) as {to} to {where}; {len(export.skipped)} skipped",
            highlight=False,
            soft_wrap=True,
        )


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
