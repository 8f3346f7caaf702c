"""ISC BIND 9 ``named`` logs: the query log and the security lines (denied queries, zone
transfers), ``query-errors``, RPZ rewrites and response-rate-limiting, standalone
(``named.log`` with ``print-time``/``print-category``/``print-severity`` in any
combination) or inside a syslog header (``named[pid]:``)::

    19-Oct-2022 05:34:02.425 queries: info: client @0x7f65100ee4d8 10.1.2.3#53421 (chatgpt.com): query: chatgpt.com IN A +E(0)K (10.0.0.53)

``host`` is the query name, ``dns_qtype`` its type, ``src_ip``/``src_port`` the client and
``dst_ip`` the server address the query arrived on (query log). The query log does not
say how a query ended, so its ``action`` is ``unknown``; denied queries, zone transfers,
RPZ rewrites and rate-limited responses are ``blocked``. The query flags (``+E(0)K``) go
to ``bind_flags``, the view to ``bind_view``, the message kind (``query``,
``query-denied``, ``xfer-denied``, ``query-failed``, ``rpz``, ``rate-limit``...) to
``bind_event``. Other ``named`` messages are skipped; see
:mod:`shadowscan.parsers._named` for every form.
"""

from __future__ import annotations

import polars as pl

from shadowscan.parsers import PARSERS, Sniff
from shadowscan.parsers._named import BIND_PATTERN, SKIP, parse_named, sniff_named
from shadowscan.parsers.base import ParsedBatch, Parser


@PARSERS.register("bind")
class BindParser(Parser):
    name = "bind"
    log_type = "dns"
    summary = "ISC BIND 9 query log and security/query-errors/RPZ lines, standalone or in syslog."
    example = (
        "19-Oct-2022 05:34:02.425 queries: info: client @0x7f65100ee4d8 10.1.2.3#53421 "
        "(chatgpt.com): query: chatgpt.com IN A +E(0)K (10.0.0.53)"
    )
    line_pattern = BIND_PATTERN
    skip_pattern = SKIP

    @classmethod
    def sniff(cls, lines: list[str]) -> Sniff | None:
        return sniff_named(BIND_PATTERN, SKIP, lines, "BIND", None)

    def parse(self, batch: pl.DataFrame) -> ParsedBatch:
        return parse_named(
            batch,
            BIND_PATTERN,
            SKIP,
            "bind",
            self.mismatch_reason(),
            self.context.timezone,
            self.context.file_time,
        )
