"""Blue Coat (Symantec) ProxySG access log in the Squid-compatible export layout.

``1038956400.024 1950 10.0.203.16 TCP_NC_MISS/200 31977 GET http://www.microsoft.com:80/ CN=Agent Smith,OU=fr,O=company DIRECT/www.microsoft.com text/html uncategorized Mozilla/4.76 [en] (X11; U; Linux i686)``

Squid native fields (epoch time, elapsed ms, client, result code/status, reply bytes,
method, URL, user, hierarchy/peer, MIME type) plus two trailing ones: the web-filter
category and the raw User-Agent (with spaces, ``-`` when none). ProxySG differences:

- the user is logged as is, often an LDAP DN with spaces (``CN=Agent Smith,OU=fr,O=x``),
  and is kept as logged (no URL-decoding);
- result codes such as ``TCP_NC_MISS``, ``TCP_TUNNELED``, ``TCP_ERR_MISS``, ``TCP_DENIED``;
- the peer is ``DIRECT/<host name or address>`` (``dst_ip`` only when it is an address);
- URLs carry explicit default ports (``http://host:80/``); a stray space after the scheme
  (``http:// host/``) is removed;
- host names may be UTF-8 (the engine IDNA-encodes them).

Columns: category -> ``bluecoat_squid_category``; User-Agent -> ``user_agent``; the result
code, hierarchy, elapsed time and MIME type go in ``bluecoat_squid_*`` columns. No request
size is logged, so ``bytes_out`` stays null.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS
from shadowscan.parsers._squid import CODE, ELAPSED, METHOD, TS, squid_events
from shadowscan.parsers.base import (
    SYSLOG_PREFIX,
    ParsedBatch,
    Parser,
    dash_to_null,
    epoch_seconds_to_ts,
    not_matching,
    split_skipped,
)

PATTERN = (
    rf"^(?:{SYSLOG_PREFIX})?"
    rf"(?P<ts>{TS})\s+"
    rf"(?P<elapsed>{ELAPSED})\s+"
    r"(?P<src>\S+)\s+"
    rf"(?P<code>{CODE})/(?P<status>[0-9]{{1,3}})\s+"
    r"(?P<bytes>[0-9]+)\s+"
    rf"(?P<method>{METHOD})\s+"
    r"(?P<url>[A-Za-z][A-Za-z0-9+.\-]*:// \S+|\S+)\s+"
    r"(?P<user>\S(?:.*?\S)?)\s+"
    rf"(?P<hier>{CODE})/(?P<peer>\S+)\s+"
    r"(?P<mime>\S+)\s+"
    r'(?P<category>[^\s"]+)\s+'
    r'(?P<ua>[^\s"](?:.*?\S)?)\s*$'
)


@PARSERS.register("bluecoat_squid")
class BluecoatSquidParser(Parser):
    name = "bluecoat_squid"
    log_type = "proxy"
    summary = "Blue Coat ProxySG Squid-compatible access log (LDAP DN users, category and User-Agent fields)."
    example = "1038956400.024 1950 10.0.203.16 TCP_NC_MISS/200 31977 GET http://www.microsoft.com:80/ CN=Agent Smith,OU=fr,O=company DIRECT/www.microsoft.com text/html uncategorized Mozilla/4.76 [en] (X11; U; Linux i686)"
    line_pattern = PATTERN
    # Beats ``squid`` (whose native lines may carry extra trailing fields) on files where
    # both recognise every line, e.g. ProxySG logs without authenticated users.
    priority = 1

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        batch, skipped = split_skipped(batch, self.skip_pattern)
        fields = batch.select(
            pl.col("line_no"), pl.col("line").str.extract_groups(PATTERN).alias("f")
        ).unnest("f")
        ok = fields["ts"].is_not_null()
        fields = fields.filter(ok).with_columns(
            pl.col("url").str.replace(r"://\s+", "://"),
            pl.col("ua").alias("user_agent"),
        )
        events = squid_events(
            fields,
            epoch_seconds_to_ts(pl.col("ts")),
            "bluecoat_squid",
            extra={"category": dash_to_null(pl.col("category"))},
        )
        return ParsedBatch(events, not_matching(batch, ok, self.mismatch_reason()), skipped)
