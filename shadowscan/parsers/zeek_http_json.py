"""Zeek ``http.log``, JSON-lines writer (``LogAscii::use_json``).

``{"ts":1730707200.125873,"uid":"CkP3Lm2V9sQ1aB7dE","id.orig_h":"10.20.1.15",...,"method":"POST","host":"chatgpt.com","uri":"/backend-api/conversation",...}``

Keys are dotted (``id.orig_h``; nested ``id`` objects and ``id_orig_h`` are read too),
``ts`` is epoch seconds or ISO 8601, and ``host``, ``uri``, ``method``, ``user_agent``,
``username`` and ``status_code`` are optional (a second request on a connection may
carry only lengths). A record exported from Splunk (``{"result": {"_raw": "..."}}``) is
unwrapped and read the same way. Records are recognised by ``uid``, ``id.orig_h`` and
``trans_depth`` plus an HTTP key, and SIP/SMTP records (which also have ``trans_depth``)
are not taken. Field mapping as in :mod:`shadowscan.parsers.zeek_http`.
"""

from __future__ import annotations

from shadowscan.parsers import PARSERS
from shadowscan.parsers._zeek import ZeekJsonParser
from shadowscan.parsers.zeek_http import HTTP


@PARSERS.register("zeek_http_json")
class ZeekHttpJsonParser(ZeekJsonParser):
    name = "zeek_http_json"
    log_type = "proxy"
    summary = "Zeek http.log as JSON lines (dotted keys, epoch or ISO ts, Splunk _raw exports)."
    example = '{"ts":1730707200.125873,"uid":"CkP3Lm2V9sQ1aB7dE","id.orig_h":"10.20.1.15","id.orig_p":52114,"id.resp_h":"104.18.32.47","id.resp_p":80,"trans_depth":1,"method":"POST","host":"chatgpt.com","uri":"/backend-api/conversation","request_body_len":5120,"response_body_len":88211,"status_code":200}'
    log = HTTP
