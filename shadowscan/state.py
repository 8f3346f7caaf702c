"""The state of nightly scans (``--state PATH``): an embedded DuckDB database.

It holds what each input has already given (the **ledger**), the findings **history**
per day, and when each AI service was **first seen** for the organisation, for each
department and for each user. A run reads only what the ledger says is new and commits
everything it learnt (ledger, history, first-seen dates, the run itself) in one
transaction, so a run killed at any moment leaves the state as if it had not started:
the rerun reads the same bytes again and the history is the same as if nothing had
happened.

Files are known by their content, not their name: a fingerprint of their first bytes
(decompressed) survives rotation (``access.log`` -> ``access.log.1``) and compression
(``access.log.1.gz``). A file whose fingerprint is known is read from the offset the
ledger records; a known file now shorter than that offset was truncated and is read
from the start (and the run says so). Only complete lines are read from a plain file,
so a line being written at the moment the run starts is read by the next run, whole.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import duckdb
import polars as pl

from shadowscan.crashpoints import crashpoint
from shadowscan.engine import Resume
from shadowscan.errors import InputError
from shadowscan.readers import InputSource, compression_of, open_binary, open_raw

SCHEMA_VERSION = "1"

#: Bytes (decompressed) whose hash identifies a file across renames and compression.
FINGERPRINT_BYTES = 4096

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    run_id BIGINT PRIMARY KEY, started TIMESTAMPTZ, finished TIMESTAMPTZ, host VARCHAR,
    inputs VARCHAR[], files INTEGER, lines BIGINT, new_bytes BIGINT, findings INTEGER,
    catalogue_version VARCHAR
);
CREATE TABLE IF NOT EXISTS ledger (
    fingerprint VARCHAR, fingerprint_len INTEGER, path VARCHAR, device BIGINT, inode BIGINT,
    compression VARCHAR, "offset" BIGINT, lines BIGINT, size_seen BIGINT, first_run BIGINT,
    last_run BIGINT, PRIMARY KEY (fingerprint, fingerprint_len)
);
CREATE TABLE IF NOT EXISTS history (
    run_id BIGINT, day DATE, "user" VARCHAR, src_key VARCHAR, akey VARCHAR,
    service_id VARCHAR, service VARCHAR, vendor VARCHAR, category VARCHAR,
    department VARCHAR, requests UBIGINT, queries UBIGINT, blocked UBIGINT,
    bytes_out BIGINT, bytes_out_known UBIGINT, bytes_in BIGINT, bytes_in_known UBIGINT,
    large_uploads UBIGINT, first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS first_seen (
    scope VARCHAR, key VARCHAR, service_id VARCHAR, first_day DATE, run_id BIGINT,
    PRIMARY KEY (scope, key, service_id)
);
"""

#: History columns, in table order (taken from the settled partials of a run).
HISTORY_COLUMNS = (
    "day",
    "user",
    "src_key",
    "akey",
    "service_id",
    "service",
    "vendor",
    "category",
    "department",
    "requests",
    "queries",
    "blocked",
    "bytes_out",
    "bytes_out_known",
    "bytes_in",
    "bytes_in_known",
    "large_uploads",
    "first_seen",
    "last_seen",
)


@dataclass
class Plan:
    """What this run does with one input."""

    #: None: not tracked (stdin) and read whole.
    resume: Resume | None
    #: ``new``, ``appended``, ``unchanged``, ``truncated``, ``replaced`` or ``untracked``.
    note: str
    fingerprint: str = ""
    fingerprint_len: int = 0
    #: The ledger key this input had before (to replace when the fingerprint grows).
    previous_key: tuple[str, int] | None = None
    device: int | None = None
    inode: int | None = None
    compression: str | None = None
    size: int | None = None

    @property
    def skip(self) -> bool:
        return self.note == "unchanged"


@dataclass
class RunRecord:
    """What a run read and found, to commit with the ledger."""

    started: dt.datetime
    inputs: list[str]
    files: list[tuple[InputSource, Plan, int, int]] = field(default_factory=list)
    #: ^ (source, plan, end offset, lines now read in total)
    lines: int = 0
    new_bytes: int = 0
    findings: int = 0
    catalogue_version: str = ""


class StateLock:
    """One run per state at a time: an exclusive ``flock`` on ``STATE.lock`` for the
    whole run (released by the kernel if the process dies, even by SIGKILL)."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(path.name + ".lock")
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise InputError(
                f"{self.path.with_suffix('')}: the state is in use by {holder}; wait for that "
                "run to finish (two runs at once would count the same lines twice)"
            ) from None
        fh.seek(0)
        fh.truncate()
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        fh.write(f"shadowscan pid {os.getpid()} on {socket.gethostname()} since {started}\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class State:
    """An open state database (``open_state``), locked for this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = StateLock(path)
        self.lock.acquire()
        try:
            self.db = duckdb.connect(str(path))
        except duckdb.Error as exc:
            self.lock.release()
            raise InputError(
                f"{path}: cannot open the state database: {exc}; is it a shadowscan state file?"
            ) from None
        self._init_schema()

    def _init_schema(self) -> None:
        self.db.execute(SCHEMA_SQL)
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            self.db.execute(
                "INSERT INTO meta VALUES ('schema_version', ?), ('created', ?)",
                [SCHEMA_VERSION, now],
            )
        elif row[0] != SCHEMA_VERSION:
            raise InputError(
                f"{self.path}: state schema version {row[0]}, this shadowscan reads "
                f"{SCHEMA_VERSION}; use the shadowscan version that wrote it"
            )

    def close(self) -> None:
        self.db.close()
        self.lock.release()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- planning -----------------------------------------------------------------------

    def last_run(self) -> tuple[int, dt.datetime] | None:
        row = self.db.execute(
            "SELECT run_id, finished FROM runs ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), row[1]) if row else None

    def plan(self, sources: Sequence[InputSource]) -> list[Plan]:
        """What to read of each input: from the offset the ledger knows, or whole."""
        lengths = [
            int(r[0])
            for r in self.db.execute("SELECT DISTINCT fingerprint_len FROM ledger").fetchall()
        ]
        return [self._plan_one(source, lengths) for source in sources]

    def _plan_one(self, source: InputSource, lengths: list[int]) -> Plan:
        if source.is_stdin:
            return Plan(None, "untracked")
        info = os.stat(source.path)
        with open_raw(source) as fh:
            compression = compression_of(fh.read(6))
        head = _head(source)
        digest = _sha(head)
        # Known prefixes of this file's head: the same file, however it grew or moved.
        keys = [(digest, len(head))] + [
            (_sha(head[:n]), n) for n in lengths if n < len(head) and n > 0
        ]
        rows = self.db.execute(
            'SELECT fingerprint, fingerprint_len, "offset", lines, device, inode FROM ledger '
            "WHERE (fingerprint, fingerprint_len) IN (SELECT * FROM (SELECT UNNEST(?) AS f, UNNEST(?) AS n))",
            [[k[0] for k in keys], [k[1] for k in keys]],
        ).fetchall()
        end = None if compression else _last_line_end(source.path, info.st_size)
        plan = Plan(
            None,
            "new",
            digest,
            len(head),
            device=info.st_dev,
            inode=info.st_ino,
            compression=compression,
            size=end,
        )
        if not rows:
            # The same file (path, device, inode) with other first bytes: rewritten. Shorter
            # than what was read of it: truncated (copy-truncate rotation, a reset).
            same_file = self.db.execute(
                'SELECT "offset" FROM ledger WHERE device = ? AND inode = ? AND path = ? '
                "ORDER BY last_run DESC LIMIT 1",
                [info.st_dev, info.st_ino, source.path],
            ).fetchone()
            if same_file is None:
                plan.note = "new"
            elif (end if end is not None else info.st_size) < int(same_file[0]):
                plan.note = "truncated"
            else:
                plan.note = "replaced"
            plan.resume = Resume(0, 0, end)
            return plan
        fp, fp_len, offset, lines, _, _ = max(rows, key=lambda r: int(r[1]))
        plan.previous_key = (fp, int(fp_len))
        if end is not None and end < offset:
            plan.note = "truncated"
            plan.resume = Resume(0, 0, end)
            return plan
        if end is not None and end == offset:
            plan.note = "unchanged"
        else:
            plan.note = "appended"
        plan.resume = Resume(int(offset), int(lines), end)
        return plan

    def new_run(self, inputs: list[str], catalogue_version: str) -> RunRecord:
        return RunRecord(dt.datetime.now(dt.UTC), inputs, catalogue_version=catalogue_version)

    # --- first seen ---------------------------------------------------------------------

    def new_flags(self, findings: pl.DataFrame) -> pl.DataFrame:
        """``new_service``, ``new_for_department``, ``new_for_user`` per finding: true when
        the state had never seen that service (for the organisation, the finding's
        department, its user) before this run."""
        known = self.db.execute("SELECT scope, key, service_id FROM first_seen").fetchall()
        service = {sid for scope, _, sid in known if scope == "service"}
        dept = {(key, sid) for scope, key, sid in known if scope == "department"}
        user = {(key, sid) for scope, key, sid in known if scope == "user"}
        rows = findings.select("service_id", "department", "user").iter_rows()
        flags = [
            (
                sid not in service,
                None if d is None else (d, sid) not in dept,
                None if u is None else (u, sid) not in user,
            )
            for sid, d, u in rows
        ]
        return pl.DataFrame(
            flags,
            schema={
                "new_service": pl.Boolean,
                "new_for_department": pl.Boolean,
                "new_for_user": pl.Boolean,
            },
            orient="row",
        )

    # --- commit -------------------------------------------------------------------------

    def commit(self, run: RunRecord, history: pl.DataFrame) -> int:
        """Write the run, its ledger changes, its history rows and first-seen dates in
        one transaction; returns the run id."""
        db = self.db
        crashpoint("commit:begin")
        db.execute("BEGIN TRANSACTION")
        try:
            row = db.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()
            run_id = int(row[0]) if row else 1
            for source, plan, end_offset, lines in run.files:
                if plan.resume is None:
                    continue
                if plan.previous_key is not None:
                    db.execute(
                        "DELETE FROM ledger WHERE fingerprint = ? AND fingerprint_len = ?",
                        list(plan.previous_key),
                    )
                db.execute(
                    "INSERT OR REPLACE INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "coalesce((SELECT first_run FROM ledger WHERE fingerprint = ? AND "
                    "fingerprint_len = ?), ?), ?)",
                    [
                        plan.fingerprint,
                        plan.fingerprint_len,
                        source.path,
                        plan.device,
                        plan.inode,
                        plan.compression,
                        end_offset,
                        lines,
                        plan.size,
                        plan.fingerprint,
                        plan.fingerprint_len,
                        run_id,
                        run_id,
                    ],
                )
                crashpoint("commit:ledger")
            if history.height:
                rows = history.select(pl.lit(run_id, pl.Int64).alias("run_id"), *HISTORY_COLUMNS)
                db.register("_new_history", rows.to_arrow())
                db.execute("INSERT INTO history SELECT * FROM _new_history")
                crashpoint("commit:history")
                for scope, key in (
                    ("service", pl.lit("")),
                    ("department", pl.col("department")),
                    ("user", pl.col("user")),
                ):
                    firsts = (
                        rows.filter(key.is_not_null())
                        .group_by(key.alias("key"), "service_id")
                        .agg(pl.col("day").min().alias("first_day"))
                        .select(
                            pl.lit(scope).alias("scope"),
                            "key",
                            "service_id",
                            "first_day",
                            pl.lit(run_id, pl.Int64).alias("run_id"),
                        )
                    )
                    db.register("_firsts", firsts.to_arrow())
                    db.execute("INSERT OR IGNORE INTO first_seen SELECT * FROM _firsts")
                    db.unregister("_firsts")
                db.unregister("_new_history")
                crashpoint("commit:first_seen")
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    run.started,
                    dt.datetime.now(dt.UTC),
                    socket.gethostname(),
                    run.inputs,
                    len(run.files),
                    run.lines,
                    run.new_bytes,
                    run.findings,
                    run.catalogue_version,
                ],
            )
            crashpoint("commit:runs")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        crashpoint("commit:done")
        return run_id

    def prune(self, retain_days: int, today: dt.date) -> int:
        """Drop history older than ``retain_days`` days (and ledger rows of files that no
        longer exist and were last read before then); returns history rows removed."""
        cutoff = today - dt.timedelta(days=retain_days)
        row = self.db.execute("SELECT count(*) FROM history WHERE day < ?", [cutoff]).fetchone()
        removed = int(row[0]) if row else 0
        self.db.execute("DELETE FROM history WHERE day < ?", [cutoff])
        old = self.db.execute(
            "SELECT l.fingerprint, l.fingerprint_len, l.path FROM ledger l JOIN runs r "
            "ON r.run_id = l.last_run WHERE r.finished < ?",
            [dt.datetime.combine(cutoff, dt.time(), dt.UTC)],
        ).fetchall()
        for fp, n, path in old:
            if not os.path.exists(path):
                self.db.execute(
                    "DELETE FROM ledger WHERE fingerprint = ? AND fingerprint_len = ?", [fp, n]
                )
        return removed


def open_state(path: Path) -> State:
    """Open (creating if needed) and lock the state at ``path``."""
    if path.exists() and path.is_dir():
        raise InputError(f"{path}: --state must be a file (the DuckDB database), not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    return State(path)


def _head(source: InputSource) -> bytes:
    stream = open_binary(source)
    try:
        return stream.read(FINGERPRINT_BYTES)
    finally:
        stream.close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _last_line_end(path: str, size: int) -> int:
    """The offset just after the last newline at or before ``size``: a run reads only
    complete lines of a plain file (the last one may still be being written)."""
    with open(path, "rb") as fh:
        pos = size
        while pos > 0:
            step = min(pos, 1 << 16)
            fh.seek(pos - step)
            block = fh.read(step)
            i = block.rfind(b"\n")
            if i >= 0:
                return pos - step + i + 1
            pos -= step
    return 0
