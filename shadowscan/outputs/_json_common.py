"""What the OCSF and ECS sinks share: a finding's stable id, the severity scale, time
formats, account names, URL parts, and writing one JSON object per line; and the refusal
of rollups, which the CEF and LEEF sinks share too.

Both formats are read by SIEMs that index every key, so records leave out what is unknown
(null, empty lists) instead of writing ``null``; counts of zero are kept.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import urllib.parse
import uuid
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from typing import IO, Any, NamedTuple

import polars as pl

from shadowscan.errors import UsageError
from shadowscan.outputs.base import Sink

#: Our severities on OCSF's ``severity_id`` scale (1 Informational ... 5 Critical); the ECS
#: sink uses the same numbers for ``event.severity``.
SEVERITY_ID: dict[str, int] = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

#: DNS response code names (RFC 1035, 2136, 2845, 6891, 7873) and their numbers.
DNS_RCODES: dict[str, int] = {
    "NOERROR": 0,
    "FORMERR": 1,
    "SERVFAIL": 2,
    "NXDOMAIN": 3,
    "NOTIMP": 4,
    "REFUSED": 5,
    "YXDOMAIN": 6,
    "YXRRSET": 7,
    "NXRRSET": 8,
    "NOTAUTH": 9,
    "NOTZONE": 10,
    "DSOTYPENI": 11,
    "BADVERS": 16,
    "BADSIG": 16,
    "BADKEY": 17,
    "BADTIME": 18,
    "BADMODE": 19,
    "BADNAME": 20,
    "BADALG": 21,
    "BADTRUNC": 22,
    "BADCOOKIE": 23,
}

#: uuid5 namespace of finding ids: the same user (or address) and service give the same id
#: run after run, so a SIEM updates one alert instead of piling up copies.
FINDING_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:shadowscan:finding")

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_BATCH = 10_000


def finding_uid(row: dict[str, Any]) -> str:
    """Who (the user, else the source addresses) and which service: what makes a finding."""
    who = row.get("user") or ",".join(row.get("src_ips") or [])
    return str(uuid.uuid5(FINDING_NAMESPACE, f"{who}\x1f{row.get('service_id') or ''}"))


def epoch_ms(value: dt.datetime) -> int:
    """Milliseconds since the epoch, in integers (no float rounding)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - _EPOCH) // dt.timedelta(milliseconds=1)


def iso_ms(value: dt.datetime) -> str:
    """ISO 8601 UTC with milliseconds, as the other text sinks write times."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def plain(value: Any) -> Any:
    """A value for a free-form field (OCSF ``unmapped``, ECS ``shadowscan.*``): times as ISO
    8601, containers converted inside."""
    if isinstance(value, dt.datetime):
        return iso_ms(value)
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def unmapped(row: dict[str, Any], mapped: frozenset[str]) -> dict[str, Any]:
    """The columns of ``row`` the format has no field for (OCSF ``unmapped``, ECS
    ``shadowscan.*``), as plain values."""
    return {k: plain(v) for k, v in row.items() if k not in mapped}


def split_account(name: str) -> tuple[str, str | None]:
    """``DOMAIN\\user`` -> (``user``, ``DOMAIN``); ``user@realm`` keeps its name whole (the
    UPN is the login) and gives ``realm`` as the domain; a bare name has no domain."""
    if "\\" in name:
        domain, _, short = name.rpartition("\\")
        if domain and short:
            return short, domain
    if "@" in name:
        _, _, realm = name.rpartition("@")
        if realm:
            return name, realm
    return name, None


def account(user: str | None, log_user: str | None = None) -> tuple[str | None, str | None]:
    """The name and domain to report: the attributed user, with the domain the log gave
    when the log spelled the same person as ``DOMAIN\\user``."""
    if not user:
        return None, None
    name, domain = split_account(user)
    if domain is None and log_user:
        logged, logged_domain = split_account(log_user)
        if logged == name:
            domain = logged_domain
    return name, domain


def is_ip(value: Any) -> bool:
    """An address a SIEM's ``ip`` type accepts (a bad one would reject the whole record)."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return "%" not in value


def answer_type(answer: str) -> str | None:
    """The record type of a DNS answer that is an address; other answers are not typed."""
    if not is_ip(answer):
        return None
    return "AAAA" if ":" in answer else "A"


class UrlParts(NamedTuple):
    """A URL's parts, in the order the OCSF and ECS URL objects list them."""

    full: str
    scheme: str | None
    host: str | None
    port: int | None
    path: str | None


def split_url(url: str | None, host: str | None) -> UrlParts | None:
    """The parts of a URL (``scheme://host[:port]/path``) for a format's URL object; the
    event's ``host`` stands in for a host the URL lacks, and a URL Python cannot split
    (a bad port) keeps only itself and the host."""
    if not url:
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return UrlParts(url, None, host, None, None)
    return UrlParts(url, parts.scheme or None, parts.hostname or host, port, parts.path or None)


def compact(value: Any) -> Any:
    """Drop nulls, empty strings, empty lists and empty objects, recursively."""
    if isinstance(value, dict):
        out = {k: compact(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != "" and v != [] and v != {}}
    if isinstance(value, list):
        items = [compact(v) for v in value]
        return [v for v in items if v is not None and v != "" and v != {}]
    return value


def distinct(values: Iterable[Any]) -> list[Any]:
    """Values without nulls or repeats, first occurrence first."""
    seen: dict[Any, None] = {}
    for value in values:
        if value is not None and value != "":
            seen.setdefault(value, None)
    return list(seen)


def rows(frame: pl.DataFrame) -> Iterator[dict[str, Any]]:
    """Rows as dicts, a batch at a time, so ``--events`` on millions of lines stays flat."""
    for chunk in frame.iter_slices(_BATCH):
        yield from chunk.iter_rows(named=True)


#: Characters JSON leaves raw that some line readers (Python's ``splitlines``, JavaScript
#: before ES2019) take for line breaks; they only ever occur inside strings, so escaping
#: them keeps the JSON identical.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def write_lines(stream: IO[Any], records: Iterable[dict[str, Any]]) -> None:
    """One compact JSON object per line, UTF-8 as is (JSON escapes the control characters)."""
    for record in records:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        stream.write(line.translate(_LINE_BREAKS) + "\n")


class JsonLinesSink(Sink):
    """A sink writing one JSON record per finding (or event) per line; a format says how
    a row becomes a record. ``now`` is the time of writing, for records that need a time
    and whose log had none."""

    @abstractmethod
    def finding(self, row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        """The record for one finding."""

    @abstractmethod
    def event(self, row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        """The record for one matched event."""

    def write(self, frame: pl.DataFrame, stream: IO[Any], *, kind: str) -> None:
        check_kind(self.name, kind)
        convert = self.finding if kind == "findings" else self.event
        now = dt.datetime.now(dt.UTC)
        write_lines(stream, (convert(row, now) for row in rows(frame)))


def check_kind(sink: str, kind: str) -> None:
    """SIEM formats (these and ``cef``, ``leef``) carry findings and events; a rollup is a
    report, not a detection."""
    if kind not in ("findings", "events"):
        raise UsageError(
            f"--output-format {sink} writes findings or --events, not a --group-by {kind} "
            "rollup: drop --group-by (the SIEM can aggregate the findings), or use json, "
            "ndjson, csv, parquet or table for the rollup"
        )


def finding_summary(row: dict[str, Any]) -> str:
    """One line a person reads in an alert list: who, which service, policy, how much."""
    if row.get("user"):
        who = row["user"]
    else:
        addresses = ", ".join(row.get("src_ips") or []) or "unknown address"
        if row.get("attribution") == "ambiguous" and row.get("candidates"):
            who = f"{addresses} (one of {', '.join(row['candidates'])})"
        else:
            who = addresses
    parts = []
    if row.get("requests") or not row.get("queries"):
        parts.append(_count(row.get("requests"), "request"))
    if row.get("queries"):
        parts.append(_count(row["queries"], "DNS lookup"))
    if row.get("blocked"):
        parts.append(f"{row['blocked']} blocked")
    if row.get("bytes_out") is not None:
        parts.append(f"{row['bytes_out']} bytes sent")
    if row.get("large_uploads"):
        parts.append(_count(row["large_uploads"], "large upload"))
    service = row.get("service") or row.get("service_id") or "an AI service"
    return (
        f"{who} used {service_label(service, row.get('vendor'))}, "
        f"{row.get('policy') or 'unreviewed'}: "
        f"{', '.join(parts)} on {_count(row.get('active_days'), 'day')}"
    )


def service_label(service: str | None, vendor: str | None) -> str | None:
    """``ChatGPT (OpenAI)``; the vendor is left out when it is the service's own name."""
    return f"{service} ({vendor})" if service and vendor and vendor != service else service


def finding_reason(row: dict[str, Any]) -> str:
    """Why it matters: the policy entry that decided it and what raised the score."""
    factors = "; ".join(row.get("risk_factors") or []) or "no risk factors"
    return (
        f"Policy {row.get('policy') or 'unreviewed'} ({row.get('policy_rule') or 'default'}); "
        f"risk {row.get('risk_score')} ({row.get('severity')}): {factors}."
    )


def finding_details(row: dict[str, Any]) -> str:
    return f"{finding_summary(row)}. {finding_reason(row)}"


def _count(value: Any, noun: str) -> str:
    n = int(value or 0)
    return f"{n} {noun}{'' if n == 1 else 's'}"
