"""Zeek ``ssl.log`` (TLS/DTLS handshakes), JSON-lines writer.

``{"ts":1730707260.51422,"uid":"CqA8xB3mW0zT5nP2","id.orig_h":"10.20.1.15",...,"version":"TLSv13","server_name":"chatgpt.com","established":true,...}``

Records are recognised by ``uid`` and ``id.orig_h`` plus an ssl.log key (``server_name``,
``established``, ``resumed``, ``ssl_history``, certificate fingerprints); quic.log
records, which also have ``server_name``, are not taken. ``server_name`` (SNI) is
optional: without it ``host`` is null and ``dst_ip`` identifies the server. No byte
counts: join to ``conn.log`` on ``uid`` (``zeek_uid``). Mapping as in
:mod:`shadowscan.parsers.zeek_ssl`; JSON reading as in
:mod:`shadowscan.parsers._zeek` (dotted/nested keys, epoch or ISO ``ts``, Splunk
``_raw`` exports).
"""

from __future__ import annotations

from shadowscan.parsers import PARSERS
from shadowscan.parsers._zeek import ZeekJsonParser
from shadowscan.parsers.zeek_ssl import SSL


@PARSERS.register("zeek_ssl_json")
class ZeekSslJsonParser(ZeekJsonParser):
    name = "zeek_ssl_json"
    log_type = "proxy"
    summary = "Zeek ssl.log (TLS SNI) as JSON lines."
    example = '{"ts":1730707260.51422,"uid":"CqA8xB3mW0zT5nP2","id.orig_h":"10.20.1.15","id.orig_p":52230,"id.resp_h":"104.18.32.47","id.resp_p":443,"version":"TLSv13","cipher":"TLS_AES_128_GCM_SHA256","server_name":"chatgpt.com","resumed":false,"established":true,"ssl_history":"CsiI"}'
    log = SSL
