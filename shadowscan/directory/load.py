"""Load ``--directory [TYPE:]FILE`` arguments into one :class:`Directory`, and resolve
the spellings logs use to the people it lists.

Several files may describe the same people (AD on premises, Entra ID in the cloud): a
person of a later file merges into one of an earlier file when its id is the earlier
person's id or one of their spellings, or an earlier person's id is one of its
spellings. Fields come from the first file that has them, in the order given.

A spelling that two different people claim is never used to resolve (it would be a
guess); it is listed in ``warnings`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from shadowscan.directory import DIRECTORY_READERS
from shadowscan.directory.base import (
    PERSON_FIELDS,
    PERSON_SCHEMA,
    DirectoryContext,
    DirectoryReader,
)
from shadowscan.reference import HEAD_LINES, MIN_SNIFF, ReferenceFileStats, read_reference
from shadowscan.reference import detect_type as _detect

__all__ = ["HEAD_LINES", "MIN_SNIFF", "Directory", "detect_type", "load_directory"]

_LOOKUP_SCHEMA: dict[str, pl.DataType] = {"key": pl.String(), "person": pl.String()}
RESOLVED_SCHEMA: dict[str, pl.DataType] = {
    "person": pl.String(),
    "department": pl.String(),
    "display_name": pl.String(),
}


@dataclass
class Directory:
    """The people of every directory file, merged, ready to resolve spellings."""

    people: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PERSON_SCHEMA))
    files: list[ReferenceFileStats] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _by_alias: pl.DataFrame = field(init=False, repr=False)
    _by_name: pl.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_alias = unique_keys(alias_claims(self.people))
        self._by_name = unique_keys(name_claims(self.people))

    @classmethod
    def empty(cls) -> Directory:
        return cls()

    def resolve(self, users: pl.Series) -> pl.DataFrame:
        """For each spelling in ``users`` (same length and order): ``person`` (the
        canonical id, null when no one or more than one person answers to it),
        ``department`` and ``display_name``.

        Keys tried in order: the whole spelling; the part after the last ``\\``
        (``CORP\\jdoe``); a DN's CN (``CN=John Doe,OU=...``) as a display name, then as
        a spelling; the local part of ``x@realm`` (``jdoe@CORP.EXAMPLE``). Case and
        surrounding spaces do not matter. Computed on the distinct spellings.
        """
        spelling = pl.DataFrame({"spelling": users.cast(pl.String)})
        distinct = spelling.drop_nulls().unique()
        whole = pl.col("spelling").str.strip_chars().str.to_lowercase()
        keys = distinct.with_columns(whole.alias("k_whole")).with_columns(
            pl.when(pl.col("k_whole").str.contains("\\", literal=True))
            .then(pl.col("k_whole").str.extract(r"([^\\]*)$"))
            .alias("k_tail"),
            pl.col("k_whole")
            .str.extract(r"^cn\s*=\s*((?:[^,+\\]|\\.)+)")
            .str.replace_all(r"\\(.)", "$1")
            .str.strip_chars()
            .alias("k_cn"),
        )
        base = pl.coalesce("k_tail", "k_whole")
        keys = keys.with_columns(base.str.extract(r"^([^@]+)@[^@]*$").alias("k_local"))
        steps = [
            ("k_whole", self._by_alias),
            ("k_tail", self._by_alias),
            ("k_cn", self._by_name),
            ("k_cn", self._by_alias),
            ("k_local", self._by_alias),
        ]
        found = []
        for i, (key, table) in enumerate(steps):
            name = f"_p{i}"
            keys = keys.join(
                table.rename({"key": key, "person": name}), on=key, how="left", coalesce=True
            )
            found.append(name)
        details = self.people.select(
            pl.col("user").alias("person"), "department", "display_name"
        ).unique(subset="person", keep="first")
        resolved = keys.select("spelling", pl.coalesce(found).alias("person")).join(
            details, on="person", how="left"
        )
        out = spelling.join(resolved, on="spelling", how="left", maintain_order="left")
        return out.select(list(RESOLVED_SCHEMA)).cast(RESOLVED_SCHEMA)  # type: ignore[arg-type]


def alias_claims(people: pl.DataFrame) -> pl.DataFrame:
    """``key`` (a lower-cased spelling) and the ``person`` it names, one row per claim."""
    return (
        people.select(pl.col("aliases").alias("key"), pl.col("user").alias("person"))
        .explode("key")
        .drop_nulls()
        .unique(maintain_order=True)
    )


def name_claims(people: pl.DataFrame) -> pl.DataFrame:
    """``key`` (a lower-cased display name) and the ``person`` who has it."""
    return (
        people.select(
            pl.col("display_name").str.strip_chars().str.to_lowercase().alias("key"),
            pl.col("user").alias("person"),
        )
        .drop_nulls()
        .unique(maintain_order=True)
    )


def unique_keys(claims: pl.DataFrame) -> pl.DataFrame:
    """The keys exactly one person claims: the only ones that may resolve."""
    return (
        claims.filter(pl.col("person").n_unique().over("key") == 1)
        .unique(subset="key", keep="first")
        .cast(_LOOKUP_SCHEMA)  # type: ignore[arg-type]
    )


def shared_keys(claims: pl.DataFrame) -> list[tuple[str, list[str]]]:
    """Keys two or more people claim, with those people, sorted."""
    shared = (
        claims.group_by("key")
        .agg(pl.col("person").unique().sort())
        .filter(pl.col("person").list.len() > 1)
        .sort("key")
    )
    return [(row["key"], row["person"]) for row in shared.iter_rows(named=True)]


def detect_type(path: str, head: list[str]) -> type[DirectoryReader]:
    """The directory format of a file starting with ``head``."""
    return _detect(path, head, DIRECTORY_READERS, "directory export")


def read_directory_file(spec: str) -> tuple[pl.DataFrame, ReferenceFileStats]:
    """People and accounting of one ``[TYPE:]FILE``."""
    batch, stats = read_reference(
        spec,
        DIRECTORY_READERS,
        what="directory export",
        option="--directory",
        kind=lambda _: "directory",
        read=lambda reader_cls, path, lines: reader_cls(DirectoryContext(path)).read(lines),
    )
    return batch.frame, stats


def load_directory(specs: Sequence[str]) -> Directory:
    """Read every ``[TYPE:]FILE`` in ``specs`` and merge their people."""
    frames: list[pl.DataFrame] = []
    files: list[ReferenceFileStats] = []
    warnings: list[str] = []
    for spec in specs:
        frame, stats = read_directory_file(spec)
        if not frame.height:
            warnings.append(f"{stats.path}: no people found (only groups, computers or OUs?)")
        frames.append(frame)
        files.append(stats)
    people, merge_warnings = merge_people(frames)
    warnings.extend(merge_warnings)
    origin = (
        pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame(schema=PERSON_SCHEMA)
    )
    warnings.extend(_ambiguity_warnings(people, origin))
    return Directory(people=people, files=files, warnings=warnings)


def merge_people(frames: Sequence[pl.DataFrame]) -> tuple[pl.DataFrame, list[str]]:
    """One row per person from per-file frames (in the order the files were given)."""
    merged: list[dict[str, Any]] = []
    by_id: dict[str, int] = {}  # lower-cased canonical ids (a merged person has several)
    by_alias: dict[str, set[int]] = {}  # spellings of the people of earlier files
    warnings: list[str] = []
    for frame in frames:
        earlier = len(merged)
        for row in frame.iter_rows(named=True):
            key = row["user"].lower()
            target = by_id.get(key)
            if target is None:
                owners = by_alias.get(key) or {
                    by_id[a] for a in row["aliases"] if a in by_id and by_id[a] < earlier
                }
                if len(owners) == 1:
                    target = next(iter(owners))
                elif owners:
                    names = ", ".join(sorted(merged[i]["user"] for i in owners))
                    warnings.append(
                        f"{row['source_file']}:{row['line_no']}: {row['user']} matches "
                        f"several people ({names}); kept as a person of its own"
                    )
            if target is None:
                by_id[key] = len(merged)
                merged.append({**row, "aliases": set(row["aliases"])})
                continue
            by_id.setdefault(key, target)
            person = merged[target]
            person["aliases"].update(row["aliases"])
            for name in PERSON_FIELDS:
                if person[name] is None:
                    person[name] = row[name]
        for index in range(len(merged)):
            for alias in merged[index]["aliases"]:
                by_alias.setdefault(alias, set()).add(index)
    rows = [{**p, "aliases": sorted(p["aliases"])} for p in merged]
    return pl.DataFrame(rows, schema=PERSON_SCHEMA), warnings


def _ambiguity_warnings(people: pl.DataFrame, origin: pl.DataFrame) -> list[str]:
    """One warning per spelling or display name two people claim, naming the files."""
    out = []
    aliases = shared_keys(alias_claims(people))
    where = _files_of(
        origin.select(pl.col("aliases").alias("key"), "source_file").explode("key"), aliases
    )
    for key, persons in aliases:
        out.append(
            f"alias {key!r} names {_count(persons)} people ({', '.join(persons)}) in "
            f"{where[key]}; it is not used"
        )
    names = shared_keys(name_claims(people))
    claims = origin.select(
        pl.col("display_name").str.strip_chars().str.to_lowercase().alias("key"), "source_file"
    )
    where = _files_of(claims, names)
    for key, persons in names:
        out.append(
            f"display name {key!r} names {_count(persons)} people ({', '.join(persons)}) in "
            f"{where[key]}; DNs with this CN are not resolved by name"
        )
    return out


def _files_of(claims: pl.DataFrame, shared: list[tuple[str, list[str]]]) -> dict[str, str]:
    """The files (in the order given) in which each shared key appears."""
    keys = [key for key, _ in shared]
    found = (
        claims.filter(pl.col("key").is_in(keys))
        .group_by("key")
        .agg(pl.col("source_file").unique(maintain_order=True))
    )
    return {key: ", ".join(files) for key, files in found.iter_rows()}


def _count(items: list[str]) -> str:
    return "two" if len(items) == 2 else str(len(items))
