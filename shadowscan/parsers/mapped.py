"""A user-defined mapping for any CSV, JSON-lines, ``key=value`` or regex-shaped export,
so that no export is ever unreadable (``--mapping FILE``).

The mapping is a small YAML file::

    name: acme-swg                 # shown in the summary and stats
    log_type: proxy                # proxy | dns | firewall | flow
    shape: csv                     # csv | json | kv | regex
    delimiter: ","                 # csv: one character (\\t for tab)
    header: true                   # csv: the first line names the columns ...
    columns: [when, who, ...]      # ... or name them here (then header: false)
    regex: '^(?P<when>\\S+) (?P<who>\\S+) ...'   # regex: named groups are the source fields
    timestamp: {field: when, format: "%d/%m/%Y %H:%M:%S", timezone: Europe/Berlin}
    #          format: iso | epoch | a strptime format
    fields:                        # schema field: source field (JSON: a/b for nested keys)
      user: who
      src_ip: client
      url: full_url                # host is taken from the URL when not mapped itself
      bytes_out: sent
      bytes_in: received
    values:                        # optional: rewrite values of a schema field
      action: {ALLOW: allowed, DENY: blocked}

A line whose timestamp does not parse is unparsed ("no timestamp"), so the accounting
stays honest. The format is never auto-detected; ``--mapping`` selects it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shadowscan.errors import UsageError
from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers import PARSERS
from shadowscan.parsers.base import ParsedBatch, Parser, Sniff, dash_to_null, split_skipped
from shadowscan.parsers.common import (
    csv_fields,
    epoch_ts,
    iso_ts,
    json_fields,
    json_valid,
    kv_value,
    strptime_ts,
)
from shadowscan.schema import EVENT_SCHEMA

_MAPPABLE = {
    n
    for n in EVENT_SCHEMA
    if n not in {"log_format", "log_type", "source_file", "line_no", "ts", "dns_answers"}
}
_INTS = {n for n, t in EVENT_SCHEMA.items() if t.is_integer()}


class TimestampSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str
    format: str = "iso"
    timezone: str | None = None


class Mapping(BaseModel):
    """A validated ``--mapping`` file."""

    model_config = ConfigDict(extra="forbid")
    name: str = "mapped"
    log_type: Literal["proxy", "dns", "firewall", "flow"] = "proxy"
    shape: Literal["csv", "json", "kv", "regex"]
    delimiter: str = Field(",", min_length=1, max_length=2)
    header: bool = False
    columns: list[str] = Field(default_factory=list)
    regex: str | None = None
    timestamp: TimestampSpec
    fields: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Mapping:
        unknown = sorted(set(self.fields) - _MAPPABLE)
        if unknown:
            raise ValueError(f"unknown schema field(s) {unknown}; mappable: {sorted(_MAPPABLE)}")
        if self.shape == "csv" and not self.header and not self.columns:
            raise ValueError("csv needs header: true or a columns list")
        if self.shape == "regex" and not self.regex:
            raise ValueError("shape regex needs a regex with named groups")
        if self.delimiter == "\\t":
            self.delimiter = "\t"
        return self


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; errors name the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read mapping: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: invalid YAML: {exc}") from exc
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(file)"
        raise UsageError(f"{path}: {loc}: {err['msg']}") from None


@PARSERS.register("mapped")
class MappedParser(Parser):
    name = "mapped"
    log_type = "proxy"
    summary = "Any CSV, JSON-lines, key=value or regex export, through a --mapping YAML file."
    example = (
        '"2024-11-04 08:00:00","jdoe","10.1.2.3","https://chatgpt.com/c/1","ALLOW","5120","98311"'
    )
    line_pattern = None  # a CSV header line changes the meaning of the lines after it

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        mapping = context.mapping
        if not isinstance(mapping, Mapping):
            raise UsageError(
                "the mapped format needs --mapping FILE (see `shadowscan scan --help`)"
            )
        self.mapping = mapping
        self.columns: list[str] = list(mapping.columns)

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        return None  # chosen with --mapping, never guessed

    def _source_fields(self, batch: pl.DataFrame) -> pl.DataFrame:
        m = self.mapping
        wanted = {m.timestamp.field, *m.fields.values()}
        line = pl.col("line")
        if m.shape == "json":
            ok = json_valid(batch["line"])
            return batch.with_columns(*json_fields(line, {f: f for f in wanted}), ok.alias("_ok"))
        if m.shape == "kv":
            return batch.with_columns(
                *(kv_value(line, f).alias(f) for f in wanted), pl.lit(True).alias("_ok")
            )
        if m.shape == "regex":
            assert m.regex is not None
            groups = batch.select("line_no", line.str.extract_groups(m.regex).alias("_g")).unnest(
                "_g"
            )
            present = [f for f in wanted if f in groups.columns]
            return batch.with_columns(
                *(groups[f] for f in present),
                *(pl.lit(None, pl.String).alias(f) for f in wanted - set(present)),
                line.str.contains(m.regex).alias("_ok"),
            )
        split = csv_fields(line) if m.delimiter == "," else line.str.split(m.delimiter)
        cols = self.columns
        return batch.with_columns(
            *(
                split.list.get(cols.index(f), null_on_oob=True).alias(f)
                if f in cols
                else pl.lit(None, pl.String).alias(f)
                for f in wanted
            ),
            (split.list.len() >= max(1, len(cols))).alias("_ok"),
        )

    def _timestamp(self) -> pl.Expr:
        spec = self.mapping.timestamp
        tz = spec.timezone or self.context.timezone
        col = pl.col(spec.field)
        if spec.format == "iso":
            return iso_ts(col, tz)
        if spec.format == "epoch":
            return epoch_ts(col)
        return strptime_ts(col, spec.format, tz)

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        m = self.mapping
        if m.shape == "csv" and m.header and not self.columns and batch.height:
            first = batch.head(1)
            header = first.select(
                csv_fields(pl.col("line"))
                if m.delimiter == ","
                else pl.col("line").str.split(m.delimiter)
            ).item()
            self.columns = [c.strip() for c in header]
            batch = batch.slice(1)
            skipped += 1
        if batch.is_empty():
            return ParsedBatch(batch.select("line_no"), skipped=skipped)
        src = self._source_fields(batch).with_columns(self._timestamp().alias("ts"))
        ok = src["_ok"].fill_null(False) & src["ts"].is_not_null()
        good = src.filter(ok)
        exprs: list[pl.Expr] = [pl.col("line_no"), pl.col("ts")]
        for target, source in m.fields.items():
            value = dash_to_null(pl.col(source).str.strip_chars())
            if target in m.values:
                value = value.replace(m.values[target])
            if target in _INTS:
                value = value.cast(EVENT_SCHEMA[target], strict=False)
            exprs.append(value.alias(target))
        events = good.select(exprs)
        if "url" in events.columns:
            parts = url_parts(pl.col("url"))
            events = events.with_columns(parts.alias("_u"))
            host_from_url = host_expr(pl.col("_u").struct.field("host"))
            events = (
                events.with_columns(
                    (host_expr(pl.col("host")) if "host" in events.columns else host_from_url)
                    .fill_null(host_from_url)
                    .alias("host"),
                )
                .with_columns(
                    url_expr(pl.col("_u"), pl.col("host")).alias("url"),
                    (pl.col("dst_port") if "dst_port" in events.columns else pl.lit(None, pl.Int32))
                    .fill_null(default_port(pl.col("_u").struct.field("scheme")))
                    .alias("dst_port"),
                )
                .drop("_u")
            )
        elif "host" in events.columns:
            events = events.with_columns(host_expr(pl.col("host")).alias("host"))
        events = events.with_columns(
            pl.lit(m.log_type).alias("log_type"), pl.lit(m.name).alias("mapped_name")
        )
        bad = src.filter(~ok)
        reason = (
            pl.when(~pl.col("_ok").fill_null(False))
            .then(pl.lit(f"does not fit the {m.shape} mapping"))
            .otherwise(pl.lit("no timestamp"))
        )
        rejected = bad.select(pl.col("line_no"), reason.alias("reason"))
        return ParsedBatch(events, rejected, skipped)
