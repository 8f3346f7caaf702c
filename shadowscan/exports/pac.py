"""A proxy auto-config (PAC) file: ``isShadowAI(url, host)`` plus a ``FindProxyForURL``
that sends AI traffic to ``SHADOW_AI_ACTION`` and everything else ``DIRECT``.

Names use ``dnsDomainIs``; wildcard hosts and URL patterns become regular expressions
with the matcher's meaning (``*`` is one DNS label in a host, anything in a path; the
query and fragment are ignored). Browsers hand a PAC script only the scheme and host of
an ``https://`` URL, so the URL patterns catch plain ``http://`` requests only; the
header says so.
"""

from __future__ import annotations

from collections.abc import Callable

from shadowscan.exports import EXPORTERS
from shadowscan.exports._lists import NO_NAMES, describe, header, names
from shadowscan.exports.base import Export, ExportContext, Exporter
from shadowscan.signatures import Service

#: The default action blocks: nothing answers on the loopback discard port, so the
#: browser fails the request at once instead of going direct.
DEFAULT_ACTION = "PROXY 127.0.0.1:9"

USAGE = [
    "",
    "To merge into an existing PAC file: copy everything above FindProxyForURL and make",
    "    if (isShadowAI(url, host)) return SHADOW_AI_ACTION;",
    "the first statement of your FindProxyForURL.",
    "Browsers pass a PAC script only the scheme and host of an https:// URL, so the URL",
    "patterns (SHADOW_AI_URLS) catch plain http:// requests only.",
]

FUNCTIONS = r"""function isShadowAI(url, host) {
  var name = host.toLowerCase().replace(/\.$/, "");
  var i;
  for (i = 0; i < SHADOW_AI_DOMAINS.length; i++) {
    if (name == SHADOW_AI_DOMAINS[i] || dnsDomainIs(name, "." + SHADOW_AI_DOMAINS[i])) {
      return true;
    }
  }
  for (i = 0; i < SHADOW_AI_SUBDOMAINS.length; i++) {
    if (dnsDomainIs(name, "." + SHADOW_AI_SUBDOMAINS[i])) {
      return true;
    }
  }
  for (i = 0; i < SHADOW_AI_HOSTS.length; i++) {
    if (SHADOW_AI_HOSTS[i].test(name)) {
      return true;
    }
  }
  var bare = url.replace(/[?#].*$/, "");
  for (i = 0; i < SHADOW_AI_URLS.length; i++) {
    if (SHADOW_AI_URLS[i].test(bare)) {
      return true;
    }
  }
  return false;
}

function FindProxyForURL(url, host) {
  if (isShadowAI(url, host)) {
    return SHADOW_AI_ACTION;
  }
  return "DIRECT";
}
"""

_LABEL = "[a-z0-9-]+"


def _escape(text: str) -> str:
    """A JavaScript regex literal body for ``text`` taken literally."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "\\" + ch for ch in text)


def _glob(text: str, star: str) -> str:
    return star.join(_escape(part) for part in text.split("*"))


def host_regex(host: str) -> str:
    """``*.x`` (no other ``*``): any subdomain of x; otherwise ``*`` is one label."""
    if host.startswith("*.") and "*" not in host[2:]:
        return f"(?:{_LABEL}\\.)+{_escape(host[2:])}"
    return _glob(host, _LABEL)


def url_regex(pattern: str) -> str:
    host, _, path = pattern.partition("/")
    scheme = "[A-Za-z][A-Za-z0-9+.\\-]*:\\/\\/"
    return f"/^{scheme}{host_regex(host)}(?::[0-9]+)?{_glob('/' + path, '.*')}$/"


def js_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def js_array(
    name: str,
    comment: str,
    services: list[Service],
    context: ExportContext,
    values: Callable[[Service], list[str]],
) -> list[str]:
    """``var name = [...]`` with a comment naming each service before its entries;
    an entry already listed for an earlier service is written once."""
    body: list[str] = []
    listed: set[str] = set()
    for service in services:
        fresh = [v for v in values(service) if v not in listed]
        listed.update(fresh)
        if fresh:
            body.append(f"  // {describe(service, context)}")
            body += [f"  {v}," for v in fresh]
    last = max((i for i, line in enumerate(body) if not line.lstrip().startswith("//")), default=-1)
    if last >= 0:
        body[last] = body[last].removesuffix(",")
    return [f"// {comment}", f"var {name} = [", *body, "];", ""]


@EXPORTERS.register("pac")
class PacExporter(Exporter):
    name = "pac"
    summary = "A proxy auto-config file: isShadowAI(url, host) and a FindProxyForURL."

    def export(self, services: list[Service], context: ExportContext) -> Export:
        skipped = [(s.id, NO_NAMES) for s in services if not s.domains and not s.url_patterns]
        kept = [s for s in services if s.domains or s.url_patterns]
        lines = [f"// {line}".rstrip() for line in [*header(context, "shadowscan AI PAC"), *USAGE]]
        lines += [
            "",
            "// Returned for AI traffic. The default blocks (nothing answers on the loopback",
            '// discard port); set your reviewing proxy instead, e.g. "PROXY proxy.corp:3128".',
            f"var SHADOW_AI_ACTION = {js_string(DEFAULT_ACTION)};",
            "",
        ]
        lines += js_array(
            "SHADOW_AI_DOMAINS",
            "Names blocked with all their subdomains.",
            kept,
            context,
            lambda s: [js_string(n) for n in names(s).whole],
        )
        lines += js_array(
            "SHADOW_AI_SUBDOMAINS",
            "Subdomains only (catalogue *.x).",
            kept,
            context,
            lambda s: [js_string(n) for n in names(s).subdomains],
        )
        lines += js_array(
            "SHADOW_AI_HOSTS",
            "Host patterns; * is one DNS label.",
            kept,
            context,
            lambda s: [f"/^{host_regex(d)}$/" for d in names(s).inner],
        )
        lines += js_array(
            "SHADOW_AI_URLS",
            "URL patterns over scheme, host and path (http:// only in browsers, see above).",
            kept,
            context,
            lambda s: sorted({url_regex(p) for p in s.url_patterns}),
        )
        text = "\n".join(lines) + "\n" + FUNCTIONS
        return Export(files={"shadowscan.pac": text}, skipped=skipped)
