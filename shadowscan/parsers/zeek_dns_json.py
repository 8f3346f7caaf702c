"""Zeek ``dns.log``, JSON-lines writer (``LogAscii::use_json``).

``{"ts":1730707260.104311,"uid":"CdN4nV1kR2bX7qT3","id.orig_h":"10.20.1.15",...,"query":"chatgpt.com","qtype_name":"A","rcode_name":"NOERROR","answers":["104.18.32.47"],...}``

Records are recognised by ``ts``, ``uid`` and ``id.orig_h`` plus a key only dns.log has
(``query``, ``qtype_name``, ``qclass_name``, ``rcode_name``, or the header flags ``AA``,
``RD``, ``RA``: a NetBIOS packet without a question has only those, and is an event with
a null ``host``). ``answers`` is a JSON array (absent when the reply had none);
``rcode``/``rcode_name`` are absent for queries Zeek saw no reply to (``action``
``unknown``). Mapping as in
:mod:`shadowscan.parsers.zeek_dns`; JSON reading as in :mod:`shadowscan.parsers._zeek`
(dotted/nested keys, epoch or ISO ``ts``, Splunk ``_raw`` exports).
"""

from __future__ import annotations

from shadowscan.parsers import PARSERS
from shadowscan.parsers._zeek import ZeekJsonParser
from shadowscan.parsers.zeek_dns import DNS


@PARSERS.register("zeek_dns_json")
class ZeekDnsJsonParser(ZeekJsonParser):
    name = "zeek_dns_json"
    log_type = "dns"
    summary = "Zeek dns.log as JSON lines (dotted keys, epoch or ISO ts, answers array)."
    example = '{"ts":1730707260.104311,"uid":"CdN4nV1kR2bX7qT3","id.orig_h":"10.20.1.15","id.orig_p":53211,"id.resp_h":"10.20.0.53","id.resp_p":53,"proto":"udp","trans_id":41872,"rtt":0.012877,"query":"chatgpt.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["104.18.32.47","172.64.155.209"],"TTLs":[300.0,300.0],"rejected":false}'
    log = DNS
