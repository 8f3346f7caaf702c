"""Squid ``access.log`` in the ``common`` and ``combined`` logformats (Apache CLF style),
bare or inside a syslog header.

``10.0.0.1 - jdoe [04/Nov/2024:08:00:00 +0000] "CONNECT chatgpt.com:443 HTTP/1.1" 200 4821 TCP_TUNNEL:HIER_DIRECT``

Fields (``logformat common %>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st %Ss:%Sh``):
client, ident (ignored), user (``-`` when none, escaped like the native layout), local
time with UTC offset, request line (method, URL, protocol), HTTP status, reply bytes,
result code:hierarchy code. A line whose date does not exist (``31/Feb``) is rejected. ``combined`` adds ``"referer" "user-agent"`` before the codes;
the user agent goes in ``user_agent``. The trailing ``%Ss:%Sh`` is what tells these lines
from a web server's CLF log; anything after it (``log_mime_hdrs`` blobs) is ignored.

The URL may be absolute, ``host:port`` (CONNECT) or a bare path (accelerator mode: then
``host`` and ``url`` are null). No request size and no server address are logged.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS
from shadowscan.parsers._squid import CODE, METHOD, decode_users, squid_events
from shadowscan.parsers.base import (
    SYSLOG_PREFIX,
    ParsedBatch,
    Parser,
    not_matching,
    split_skipped,
)
from shadowscan.parsers.common import strptime_ts

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = (
    rf"(?:0[1-9]|[12][0-9]|3[01])/{_MONTH}/[0-9]{{4}}"
    r":(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] [+-][0-9]{4}"
)
_QUOTED = r'(?:[^"\\]|\\.)*'

PATTERN = (
    rf"^(?:{SYSLOG_PREFIX})?"
    r"(?P<src>[^\s\[\]\"]+)\s+"
    r"\S+\s+"  # ident
    r"(?P<user>\S+)\s+"
    rf"\[(?P<time>{_TIME})\]\s+"
    rf'"(?P<method>{METHOD}) (?P<url>[^\s"]+)(?: [^\s"]+)?"\s+'
    r"(?P<status>[0-9]{1,3}|-)\s+"
    r"(?P<bytes>[0-9]+|-)\s+"
    rf'(?:"{_QUOTED}"\s+"(?P<ua>{_QUOTED})"\s+)?'
    rf"(?P<code>{CODE}):(?P<hier>{CODE})"
    r"(?:\s.*)?$"
)


def _ts(time: pl.Expr) -> pl.Expr:
    return strptime_ts(time, "%d/%b/%Y:%H:%M:%S %z")


@PARSERS.register("squid_common")
class SquidCommonParser(Parser):
    name = "squid_common"
    log_type = "proxy"
    summary = "Squid access.log in the common/combined (Apache CLF-style) logformats."
    example = '10.0.0.1 - jdoe [04/Nov/2024:08:00:00 +0000] "CONNECT chatgpt.com:443 HTTP/1.1" 200 4821 TCP_TUNNEL:HIER_DIRECT'
    line_pattern = PATTERN
    # More specific than a web server's CLF/combined log (it needs ``%Ss:%Sh`` at the end).
    priority = 1

    @classmethod
    def validate(cls, text: pl.Series) -> pl.Series:
        """The layout matches and the date exists (``31/Feb`` matches the pattern only)."""
        time = pl.col("line").str.extract_groups(PATTERN).struct.field("time")
        return pl.DataFrame({"line": text}).select(_ts(time).is_not_null()).to_series()

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        fields = batch.select(
            pl.col("line_no"), pl.col("line").str.extract_groups(PATTERN).alias("f")
        ).unnest("f")
        ok = fields.select(_ts(pl.col("time")).is_not_null()).to_series()
        fields = fields.filter(ok).with_columns(
            pl.col("ua").str.replace_all(r'\\(["\\])', "$1").alias("user_agent")
        )
        events = squid_events(fields, _ts(pl.col("time")), "squid_common")
        events = decode_users(events)
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
