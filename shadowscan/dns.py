"""DNS-specific handling: search-suffix appendages and lookup bursts.

A resolver log repeats itself: browsers prefetch, stub resolvers retry, every tab asks
again. Counting each line as a use of a service would inflate DNS evidence next to proxy
requests, so identical queries (same client, name and type) in the same minute count
once: the later ones are kept in ``--events`` with ``repeat = true`` but are not counted
as queries. Rows that only carry an answer (``dns_answer_only``: dnsmasq ``reply`` lines,
Windows DNS ``Snd`` packets) teach addresses but are never counted as lookups.
"""

from __future__ import annotations

import polars as pl

#: Identical queries from one client within the same window count once.
BURST_WINDOW_SECONDS = 60


def strip_search_suffixes(events: pl.DataFrame, suffixes: tuple[str, ...]) -> pl.DataFrame:
    """``chatgpt.com.corp.local`` -> ``chatgpt.com`` for DNS rows when ``corp.local`` is the
    organisation's search suffix (a client appended it before trying the bare name)."""
    if not suffixes or events.is_empty():
        return events
    host = pl.col("host")
    for suffix in suffixes:
        tail = "." + suffix.strip(".").lower()
        host = (
            pl.when((pl.col("log_type") == "dns") & pl.col("host").str.ends_with(tail))
            .then(pl.col("host").str.strip_suffix(tail))
            .otherwise(host)
        )
    return events.with_columns(host.alias("host"))


class BurstFilter:
    """Marks repeats within a lookup burst, across batches and files (stateful, ordered)."""

    def __init__(self, window_seconds: int = BURST_WINDOW_SECONDS) -> None:
        self.window_us = window_seconds * 1_000_000
        self._last = pl.DataFrame(schema={"_key": pl.String, "_last_bucket": pl.Int64})

    def mark(self, events: pl.DataFrame) -> pl.DataFrame:
        """Add ``repeat`` (bool): true for a DNS query that repeats one already counted."""
        if events.is_empty():
            return events.with_columns(pl.lit(False).alias("repeat"))
        is_query = (pl.col("log_type") == "dns") & ~pl.col("dns_answer_only").fill_null(False)
        key = pl.concat_str(
            [
                pl.coalesce("src_ip", "user").fill_null(""),
                pl.col("host").fill_null(""),
                pl.col("dns_qtype").fill_null(""),
            ],
            separator="\x1f",
        )
        bucket = pl.col("ts").dt.epoch("us") // self.window_us
        frame = events.with_row_index("_i").with_columns(
            key.alias("_key"), bucket.alias("_bucket"), is_query.alias("_q")
        )
        queries = frame.filter(pl.col("_q") & pl.col("_bucket").is_not_null())
        if queries.is_empty():
            return events.with_columns(pl.lit(False).alias("repeat"))
        queries = queries.sort("_i").join(self._last, on="_key", how="left")
        queries = queries.with_columns(
            (
                (pl.col("_bucket") == pl.col("_last_bucket"))
                | ~pl.struct("_key", "_bucket").is_first_distinct()
            ).alias("repeat")
        )
        latest = queries.group_by("_key").agg(pl.col("_bucket").max().alias("_last_bucket"))
        self._last = (
            pl.concat([self._last, latest]).group_by("_key").agg(pl.col("_last_bucket").max())
        )
        repeats = queries.filter(pl.col("repeat")).select("_i")
        out = frame.with_columns(pl.col("_i").is_in(repeats["_i"].implode()).alias("repeat"))
        return out.drop("_i", "_key", "_bucket", "_q")
