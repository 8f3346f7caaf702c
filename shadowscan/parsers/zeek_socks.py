"""Zeek ``socks.log`` (SOCKS 4/5 proxy requests), ASCII (TSV) writer with its ``#fields``
header.

``1730707320.205110	CsK2nB7xQ4vT1mZ8	10.20.4.31	50321	10.20.0.5	1080	5	asmith	-	succeeded	-	claude.ai	443	10.20.0.5	-	50321``

Header-driven (see :mod:`shadowscan.parsers._zeek`). Mapping as in
:mod:`shadowscan.parsers.zeek_socks_json`: ``request.name`` or ``request.host`` ->
``host``, ``request.host``/``request_p`` -> ``dst_ip``/``dst_port``, the SOCKS server in
``zeek_socks_proxy_ip``/``_port``; the ``password`` column is never read. No byte counts:
join to ``conn.log`` on ``uid`` (``zeek_uid``).
"""

from __future__ import annotations

from shadowscan.parsers import PARSERS
from shadowscan.parsers._zeek import ZeekTsvParser
from shadowscan.parsers.zeek_socks_json import SOCKS


@PARSERS.register("zeek_socks")
class ZeekSocksParser(ZeekTsvParser):
    name = "zeek_socks"
    log_type = "proxy"
    summary = "Zeek socks.log (SOCKS proxy requests), ASCII TSV with #fields header."
    example = "1730707320.205110\tCsK2nB7xQ4vT1mZ8\t10.20.4.31\t50321\t10.20.0.5\t1080\t5\tasmith\t-\tsucceeded\t-\tclaude.ai\t443\t10.20.0.5\t-\t50321"
    log = SOCKS
