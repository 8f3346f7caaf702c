"""Attribution: who was behind each address *at the time of each event*.

Most DNS and firewall logs, and many proxy logs, carry only a source address; in a DHCP
network one address belongs to different people on different days. Attribution joins
each event to the identity sources as of the event's time:

1. ``log_user``: the log itself names the user.
2. ``ip_session``: a logon, VPN session, generic session row, or *evidence in the
   scanned logs* (a line with both an address and a user attributes that address for
   ``evidence_window`` around it) covers the event.
3. ``ip_lease+asset``: a DHCP lease gives the device, the asset inventory its owner.
4. ``ambiguous``: two holders claim the address at that moment. Never guessed; the
   claimants are listed in ``candidates``.
5. ``unattributed``: nothing covers it; the finding stays keyed by source address and
   rolls up by site or subnet.

The join is vectorised. Intervals are cut into *segments* per address (stretches in
which the set of holders does not change; a running sum of +1/-1 at each start/end gives
how many holders there are, and a running sum of +code/-code which one when there is
exactly one), and every event finds its segment with one ``join_asof``. Spellings of one
person resolve through the directory first, so ``CORP\\jdoe`` and ``jdoe@corp.example``
holding one address is not a conflict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from shadowscan.identity.base import merge_runs
from shadowscan.schema import UTC_TS

#: Attribution methods, strongest first; a finding reports the strongest of its events.
METHODS = ("log_user", "ip_session", "ip_lease+asset", "ambiguous", "unattributed")
METHOD_RANK: dict[str, int] = {m: len(METHODS) - 1 - i for i, m in enumerate(METHODS)}
RANK_METHOD: dict[int, str] = {v: k for k, v in METHOD_RANK.items()}

#: Default half-width of the window a logged (address, user) pair attributes around it.
EVIDENCE_WINDOW = dt.timedelta(minutes=15)

_INTERVALS = {"ip": pl.String(), "start": UTC_TS, "end": UTC_TS, "holder": pl.String()}
EVIDENCE_SCHEMA: dict[str, pl.DataType] = {
    "ip": pl.String(),
    "user": pl.String(),
    "bin": UTC_TS,
    "first": UTC_TS,
    "last": UTC_TS,
}


class UserResolver(Protocol):
    """What attribution needs of the people directory."""

    def resolve(self, users: pl.Series) -> pl.DataFrame:
        """Per spelling: ``person`` (canonical id or null), ``department``."""
        ...


class SiteResolver(Protocol):
    def lookup(self, ips: pl.Series) -> pl.DataFrame:
        """Per address: ``site``, ``department``, ``subnet``."""
        ...


def holder_key(expr: pl.Expr) -> pl.Expr:
    """A spelling-insensitive key for "is this the same holder" when no directory says:
    lower case, no ``DOMAIN\\`` prefix, no ``@domain`` suffix."""
    return expr.str.to_lowercase().str.replace(r"^.*\\", "").str.replace(r"@.*$", "")


@dataclass
class Attributor:
    """Identity data for one scan, ready to attribute (build once, share with workers)."""

    bindings: pl.DataFrame  # BINDING_SCHEMA: sessions and leases
    assets: pl.DataFrame  # ASSET_SCHEMA
    directory: UserResolver | None = None
    sites: SiteResolver | None = None
    evidence_window: dt.timedelta | None = EVIDENCE_WINDOW
    #: Address conflicts found while attributing (for the data-quality report).
    conflicts: pl.DataFrame = field(default_factory=lambda: _empty_conflicts())
    #: Accounting of the files the identity data came from (``to_dict()`` each).
    files: list[Any] = field(default_factory=list)
    #: Problems worth telling the user (aliases naming two people, ...).
    warnings: list[str] = field(default_factory=list)
    _sessions: pl.DataFrame | None = None
    _leases: pl.DataFrame | None = None
    _session_claims: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_CLAIMS))
    _lease_claims: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_CLAIMS))
    _owners: pl.DataFrame | None = None

    @classmethod
    def empty(cls) -> Attributor:
        """No identity files: only the logs' own users (and their evidence) attribute."""
        from shadowscan.identity.base import ASSET_SCHEMA, BINDING_SCHEMA

        return cls(pl.DataFrame(schema=BINDING_SCHEMA), pl.DataFrame(schema=ASSET_SCHEMA))

    # --- users ---------------------------------------------------------------------------

    def canonical(self, users: pl.Series) -> pl.DataFrame:
        """``user`` (the directory's id, else the spelling as given) and ``department``
        for each spelling in ``users``."""
        if self.directory is None or users.is_empty():
            return pl.DataFrame(
                {
                    "user": users.cast(pl.String),
                    "department": pl.Series([None] * len(users), dtype=pl.String),
                }
            )
        found = self.directory.resolve(users.cast(pl.String))
        return pl.DataFrame(
            {
                "user": found["person"].fill_null(users.cast(pl.String)),
                "department": found["department"].cast(pl.String),
            }
        )

    def canonicalise(self, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        """``frame`` with ``column`` replaced by canonical ids (resolved on unique values)."""
        unique = frame.select(pl.col(column).drop_nulls().unique()).to_series()
        if unique.is_empty():
            return frame
        table = pl.DataFrame({column: unique, "_canon": self.canonical(unique)["user"]})
        return (
            frame.join(table, on=column, how="left", nulls_equal=False)
            .with_columns(pl.coalesce("_canon", column).alias(column))
            .drop("_canon")
        )

    # --- preparing the interval indexes --------------------------------------------------

    def prepare(self, evidence: pl.DataFrame | None = None) -> None:
        """Build the segment indexes from the bindings plus in-log ``evidence``
        (``EVIDENCE_SCHEMA``, from :func:`evidence_of` / :func:`merge_evidence`)."""
        sessions = self.bindings.filter(pl.col("kind") == "session").select(
            "ip", "start", "end", pl.col("user").alias("holder")
        )
        if evidence is not None and evidence.height and self.evidence_window is not None:
            window = pl.lit(self.evidence_window)
            sessions = pl.concat(
                [
                    sessions,
                    evidence.select(
                        "ip",
                        (pl.col("first") - window).alias("start"),
                        (pl.col("last") + window).alias("end"),
                        pl.col("user").alias("holder"),
                    ),
                ],
                how="vertical_relaxed",
            )
        sessions = self.canonicalise(sessions.cast(_INTERVALS), "holder")  # type: ignore[arg-type]
        leases = self.bindings.filter(pl.col("kind") == "lease").select(
            "ip",
            "start",
            "end",
            pl.coalesce("mac", "device").alias("holder"),
            "mac",
            "device",
        )
        self._sessions, self._session_claims = _Index.build(
            sessions.with_columns(holder_key(pl.col("holder")).alias("_key"))
        )
        self._leases, self._lease_claims = _Index.build(
            leases.with_columns(pl.col("holder").alias("_key")),
            extra=("mac", "device"),
        )
        self._owners = self._asset_owners()

    def _asset_owners(self) -> pl.DataFrame:
        """Device key (MAC, else host name) -> distinct canonical owners."""
        assets = self.assets
        if assets.is_empty():
            return pl.DataFrame(schema={"_dev": pl.String, "owners": pl.List(pl.String)})
        assets = self.canonicalise(assets.select("device", "mac", "user"), "user")
        by_mac = assets.filter(pl.col("mac").is_not_null()).select(
            pl.col("mac").alias("_dev"), "user"
        )
        by_name = assets.filter(pl.col("device").is_not_null()).select(
            pl.col("device").alias("_dev"), "user"
        )
        return (
            pl.concat([by_mac, by_name])
            .group_by("_dev")
            .agg(pl.col("user").unique().sort().alias("owners"))
        )

    # --- attributing ---------------------------------------------------------------------

    def attribute_points(self, points: pl.DataFrame) -> pl.DataFrame:
        """For ``points`` (``ip``, ``ts``), add ``user``, ``attribution``, ``candidates``
        and ``device``. One row out per row in, same order."""
        if self._sessions is None:
            self.prepare()
        assert self._sessions is not None and self._leases is not None
        keyed = points.select("ip", "ts").with_row_index("_row")
        unique = (
            keyed.select("ip", "ts")
            .unique()
            .filter(pl.col("ip").is_not_null() & pl.col("ts").is_not_null())
        )
        sess = _Index.lookup(self._sessions, self._session_claims, unique, "s")
        lease = _Index.lookup(self._leases, self._lease_claims, unique, "l")
        found = unique.join(sess, on=["ip", "ts"], how="left").join(
            lease, on=["ip", "ts"], how="left"
        )
        owners = self._owners
        assert owners is not None
        lease_dev = pl.coalesce("l_mac", "l_device")
        found = found.with_columns(lease_dev.alias("_dev")).join(owners, on="_dev", how="left")
        # Lease holders' owners by MAC did not match: try the device name.
        by_name = owners.rename({"_dev": "l_device", "owners": "_owners_by_name"})
        found = found.join(by_name, on="l_device", how="left").with_columns(
            pl.when(pl.col("owners").list.len() > 0)
            .then(pl.col("owners"))
            .otherwise(pl.col("_owners_by_name"))
            .alias("owners")
        )
        n_owner = pl.col("owners").list.len().fill_null(0)
        s_n = pl.col("s_n").fill_null(0)
        l_n = pl.col("l_n").fill_null(0)
        method = (
            pl.when(s_n == 1)
            .then(pl.lit("ip_session"))
            .when(s_n > 1)
            .then(pl.lit("ambiguous"))
            .when((l_n == 1) & (n_owner == 1))
            .then(pl.lit("ip_lease+asset"))
            .when((l_n == 1) & (n_owner > 1))
            .then(pl.lit("ambiguous"))
            .when(l_n > 1)
            .then(pl.lit("ambiguous"))
            .otherwise(pl.lit("unattributed"))
        )
        user = (
            pl.when(s_n == 1)
            .then(pl.col("s_holder"))
            .when((s_n == 0) & (l_n == 1) & (n_owner == 1))
            .then(pl.col("owners").list.first())
            .otherwise(None)
        )
        candidates = (
            pl.when(s_n > 1)
            .then(pl.col("s_candidates"))
            .when((s_n == 0) & (l_n == 1) & (n_owner > 1))
            .then(pl.col("owners"))
            .when((s_n == 0) & (l_n > 1))
            .then(pl.col("l_candidates"))
            .otherwise(pl.lit([], dtype=pl.List(pl.String)))
        )
        device = pl.when(l_n == 1).then(pl.coalesce("l_device", "l_mac")).otherwise(None)
        found = found.select(
            "ip",
            "ts",
            user.alias("user"),
            method.alias("attribution"),
            candidates.alias("candidates"),
            device.alias("device"),
        )
        out = keyed.join(found, on=["ip", "ts"], how="left").sort("_row")
        return out.select(
            "user",
            pl.col("attribution").fill_null("unattributed"),
            pl.col("candidates").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            "device",
        )

    def attribute_events(self, events: pl.DataFrame) -> pl.DataFrame:
        """Matched events with ``user`` attributed (the logged spelling moves to
        ``log_user``), plus ``department``, ``attribution``, ``candidates``, ``device``."""
        if events.is_empty():
            return events.with_columns(
                pl.col("user").alias("log_user"),
                pl.lit(None, pl.String).alias("department"),
                pl.lit(None, pl.String).alias("attribution"),
                pl.lit(None, pl.List(pl.String)).alias("candidates"),
                pl.lit(None, pl.String).alias("device"),
            )
        found = self.attribute_points(events.select(pl.col("src_ip").alias("ip"), "ts"))
        named = events["user"].is_not_null()
        canon = self.canonicalise(events.select("user"), "user")["user"]
        user = pl.select(pl.when(named).then(canon).otherwise(found["user"])).to_series()
        method = pl.select(
            pl.when(named).then(pl.lit("log_user")).otherwise(found["attribution"])
        ).to_series()
        candidates = pl.select(
            pl.when(named).then(pl.lit([], dtype=pl.List(pl.String))).otherwise(found["candidates"])
        ).to_series()
        return events.with_columns(
            events["user"].alias("log_user"),
            user.alias("user"),
            self.canonical(user)["department"].alias("department"),
            method.alias("attribution"),
            candidates.alias("candidates"),
            found["device"].alias("device"),
        )

    def conflicts_report(self, limit: int = 50) -> pl.DataFrame:
        """Stretches of time in which two or more holders claimed one address."""
        frames = []
        indexes = (
            ("session", self._sessions, self._session_claims),
            ("lease", self._leases, self._lease_claims),
        )
        for kind, index, claims in indexes:
            if index is None or index.is_empty():
                continue
            first = (
                index.filter(pl.col("n") > 1)
                .sort(["ip", "seg_start"])
                .head(limit)
                .select("ip", pl.col("seg_start").alias("ts"), "seg_end")
            )
            frames.append(
                first.join(
                    _claimants(first.select("ip", "ts"), claims), on=["ip", "ts"], how="left"
                ).select(
                    "ip",
                    pl.col("ts").alias("from"),
                    pl.col("seg_end").alias("until"),
                    "holders",
                    pl.lit(kind).alias("kind"),
                )
            )
        if not frames:
            return _empty_conflicts()
        return pl.concat(frames).sort(["ip", "from"]).head(limit)


def _empty_conflicts() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "ip": pl.String,
            "from": UTC_TS,
            "until": UTC_TS,
            "holders": pl.List(pl.String),
            "kind": pl.String,
        }
    )


_CLAIMS: dict[str, Any] = {"ip": pl.String, "start": UTC_TS, "end": UTC_TS, "holder": pl.String}


def _claimants(points: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    """Per (ip, ts) of ``points``: the holders whose claim covers that moment, sorted."""
    return (
        points.join(claims, on="ip")
        .filter((pl.col("start") <= pl.col("ts")) & (pl.col("ts") < pl.col("end")))
        .group_by("ip", "ts")
        .agg(pl.col("holder").unique().sort().alias("holders"))
    )


class _Index:
    """Segments of one interval kind: ``ip, seg_start, seg_end, n, code`` plus, per code,
    the holder's display value (and extra columns)."""

    @staticmethod
    def build(
        intervals: pl.DataFrame, extra: tuple[str, ...] = ()
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """``intervals``: ip, start, end, holder (display), _key (identity) [, extra...].
        Returns the segments and the merged claims (ip, start, end, holder)."""
        cols = ["ip", "start", "end", "holder", "_key", *extra]
        iv = intervals.select(cols).filter(
            pl.col("ip").is_not_null()
            & pl.col("_key").is_not_null()
            & pl.col("start").is_not_null()
            & pl.col("end").is_not_null()
            & (pl.col("end") > pl.col("start"))
        )
        if iv.is_empty():
            segments = pl.DataFrame(
                schema={
                    "ip": pl.String,
                    "seg_start": UTC_TS,
                    "seg_end": UTC_TS,
                    "n": pl.Int64,
                    "holder": pl.String,
                    "holders": pl.List(pl.String),
                    **dict.fromkeys(extra, pl.String),
                }
            )
            return segments, pl.DataFrame(schema=_CLAIMS)
        # One code per holder identity; its display value is the smallest spelling seen.
        holders = (
            iv.group_by("_key")
            .agg(pl.col("holder").min(), *(pl.col(c).drop_nulls().max() for c in extra))
            .sort("_key")
            .with_row_index("code", offset=1)
            .with_columns(pl.col("code").cast(pl.Int64))
        )
        iv = iv.drop("holder", *extra).join(holders.select("_key", "code"), on="_key")
        # Merge one holder's overlapping or touching intervals on one address.
        iv = merge_runs(iv, ["ip", "code"])
        edges = pl.concat(
            [
                iv.select("ip", pl.col("start").alias("t"), pl.lit(1).alias("d"), "code"),
                iv.select("ip", pl.col("end").alias("t"), pl.lit(-1).alias("d"), -pl.col("code")),
            ]
        ).sort(["ip", "t", "d"])
        # Every address's +1/-1 (and +code/-code) net to zero, so running sums over the
        # sorted whole are the running sums per address (no per-group window needed).
        edges = edges.with_columns(
            pl.col("d").cum_sum().alias("n"),
            pl.col("code").cum_sum().alias("sum"),
        )
        # The state after every change at one instant, until the next instant.
        seg = edges.group_by(["ip", "t"], maintain_order=True).agg(
            pl.col("n").last(), pl.col("sum").last()
        )
        same_ip = pl.col("ip") == pl.col("ip").shift(-1)
        seg = (
            seg.with_columns(pl.when(same_ip).then(pl.col("t").shift(-1)).alias("seg_end"))
            .rename({"t": "seg_start"})
            .filter(pl.col("n") > 0)
        )
        seg = seg.join(
            holders.select(pl.col("code").alias("sum"), "holder", *extra), on="sum", how="left"
        )
        # Who claimed a contested address is worked out only where it is asked for (an
        # ambiguous event, the conflicts report): listing it for every contested segment
        # is an interval join per address, quadratic on a shared machine.
        claims = iv.select("ip", "start", "end", "code").join(
            holders.select("code", "holder"), on="code"
        )
        seg = seg.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("holders"))
        seg = seg.with_columns(
            pl.when(pl.col("n") == 1).then(pl.col("holder")).otherwise(None).alias("holder"),
            *(pl.when(pl.col("n") == 1).then(pl.col(c)).otherwise(None).alias(c) for c in extra),
        ).select("ip", "seg_start", "seg_end", "n", "holder", "holders", *extra)
        return seg, claims.drop("code")

    @staticmethod
    def lookup(
        index: pl.DataFrame, claims: pl.DataFrame, points: pl.DataFrame, prefix: str
    ) -> pl.DataFrame:
        """Per distinct (ip, ts): ``{prefix}_n`` holders, the holder when one, and the
        candidates when several."""
        extra = [
            c
            for c in index.columns
            if c not in {"ip", "seg_start", "seg_end", "n", "holder", "holders"}
        ]
        names = {
            "n": f"{prefix}_n",
            "holder": f"{prefix}_holder",
            "holders": f"{prefix}_candidates",
            **{c: f"{prefix}_{c}" for c in extra},
        }
        schema: dict[str, Any] = {
            "ip": pl.String,
            "ts": UTC_TS,
            names["n"]: pl.Int64,
            names["holder"]: pl.String,
            names["holders"]: pl.List(pl.String),
            **{names[c]: pl.String for c in extra},
        }
        if index.is_empty() or points.is_empty():
            return pl.DataFrame(schema=schema)
        joined = points.sort("ts").join_asof(
            index.sort("seg_start"),
            left_on="ts",
            right_on="seg_start",
            by="ip",
            strategy="backward",
            check_sortedness=False,
        )
        inside = pl.col("seg_end").is_null() | (pl.col("ts") < pl.col("seg_end"))
        covered = pl.col("n").is_not_null() & inside
        contested = joined.filter(covered & (pl.col("n") > 1)).select("ip", "ts")
        if contested.height:
            joined = joined.drop("holders").join(
                _claimants(contested, claims), on=["ip", "ts"], how="left"
            )
        return joined.select(
            "ip",
            "ts",
            pl.when(covered).then(pl.col("n")).otherwise(0).alias(names["n"]),
            *(
                pl.when(covered).then(pl.col(c)).otherwise(None).alias(names[c])
                for c in ("holder", "holders", *extra)
            ),
        ).cast(schema)  # type: ignore[arg-type]


# --- in-log evidence -------------------------------------------------------------------


def evidence_of(events: pl.DataFrame, window: dt.timedelta = EVIDENCE_WINDOW) -> pl.DataFrame:
    """Compact (address, user) evidence from events that carry both: the first and last
    sighting per address, user and time bin of one window."""
    if events.is_empty() or "user" not in events.columns:
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    rows = events.filter(
        pl.col("user").is_not_null() & pl.col("src_ip").is_not_null() & pl.col("ts").is_not_null()
    ).select(
        pl.col("src_ip").alias("ip"),
        "user",
        pl.col("ts").dt.truncate(_bin(window)).alias("bin"),
        pl.col("ts").alias("first"),
        pl.col("ts").alias("last"),
    )
    return merge_evidence([rows], window)


def merge_evidence(
    parts: list[pl.DataFrame], window: dt.timedelta = EVIDENCE_WINDOW
) -> pl.DataFrame:
    """Fold evidence rows (associative and commutative, so per-batch evidence merges in
    any order): one row per address, user and bin."""
    frames = [p for p in parts if p.height]
    if not frames:
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    rows = pl.concat(frames, how="vertical_relaxed")
    return (
        rows.group_by(["ip", "user", "bin"])
        .agg(pl.col("first").min(), pl.col("last").max())
        .select(list(EVIDENCE_SCHEMA))
    )


def _bin(window: dt.timedelta) -> str:
    """A polars duration string of the evidence bin (the window, at least a minute)."""
    return f"{max(60, int(window.total_seconds()))}s"
