"""Zeek ``conn.log``, JSON-lines writer (``LogAscii::use_json``).

``{"ts":1730707262.008115,"uid":"CMsGcXPYkUO1c0DIzO","id.orig_h":"10.20.1.15","id.orig_p":52232,"id.resp_h":"160.79.104.10","id.resp_p":443,"proto":"tcp","service":"ssl","duration":31.402116,"orig_bytes":18544,"resp_bytes":3987,"conn_state":"SF",...}``

Records are recognised by ``ts``, ``uid`` and ``id.orig_h`` plus a key only conn.log has
(``conn_state``, ``history``, ``orig_bytes``/``resp_bytes``, ``orig_ip_bytes``/
``resp_ip_bytes``, ``missed_bytes``, ``orig_pkts``/``resp_pkts``), so http, ssl, dns and
socks records are never taken (and this parser's records are none of theirs). Unset
fields are absent: ``service``, ``duration``, ``orig_bytes``/``resp_bytes`` are missing
for connections without payload or analyser. Mapping (``orig_bytes`` -> ``bytes_out``,
``resp_bytes`` -> ``bytes_in``, ``service`` -> ``app``, ``conn_state`` -> ``action``) as
in :mod:`shadowscan.parsers.zeek_conn`; JSON reading as in
:mod:`shadowscan.parsers._zeek` (dotted/nested keys, epoch or ISO ``ts``, Splunk
``_raw`` exports).
"""

from __future__ import annotations

from shadowscan.parsers import PARSERS
from shadowscan.parsers._zeek import ZeekJsonParser
from shadowscan.parsers.zeek_conn import CONN


@PARSERS.register("zeek_conn_json")
class ZeekConnJsonParser(ZeekJsonParser):
    name = "zeek_conn_json"
    log_type = "flow"
    summary = "Zeek conn.log (connections with byte counts, service and state) as JSON lines."
    example = '{"ts":1730707262.008115,"uid":"CMsGcXPYkUO1c0DIzO","id.orig_h":"10.20.1.15","id.orig_p":52232,"id.resp_h":"160.79.104.10","id.resp_p":443,"proto":"tcp","service":"ssl","duration":31.402116,"orig_bytes":18544,"resp_bytes":3987,"conn_state":"SF","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADadFf","orig_pkts":38,"orig_ip_bytes":20532,"resp_pkts":31,"resp_ip_bytes":5611}'
    log = CONN
