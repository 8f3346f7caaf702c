"""The canonical event and finding schemas.

Every parser produces frames in ``EVENT_SCHEMA``; :func:`conform` adds the columns a
format does not have (as nulls), casts, and puts them in order. Fields that only one
format has go in columns prefixed with the format name (``squid_result_code``), which
:func:`conform` keeps after the shared ones.

The descriptions here are the single source for the README's schema tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class Field:
    name: str
    dtype: pl.DataType
    description: str


EVENT_FIELDS: tuple[Field, ...] = (
    Field("ts", UTC_TS, "Event time, UTC."),
    Field("log_format", pl.String(), "Parser that read the line (`squid`, ...)."),
    Field("log_type", pl.String(), "`proxy`, `dns`, `firewall` or `flow`."),
    Field("source_file", pl.String(), "Path of the file the line came from (`-` for stdin)."),
    Field("line_no", pl.UInt64(), "1-based line number in that file (after decompression)."),
    Field("src_ip", pl.String(), "Client address."),
    Field("src_port", pl.Int32(), "Client port."),
    Field(
        "user",
        pl.String(),
        "Authenticated user as logged (`DOMAIN\\user`, `user@domain`), null when none.",
    ),
    Field(
        "host",
        pl.String(),
        "Destination host name: lower case, no port, no trailing dot, IDNA (punycode); "
        "an IP literal when the request named an address.",
    ),
    Field("dst_ip", pl.String(), "Destination (server or upstream) address."),
    Field("dst_port", pl.Int32(), "Destination port."),
    Field("url", pl.String(), "`scheme://host[:port]/path` without query string or fragment."),
    Field("method", pl.String(), "HTTP method (`GET`, `POST`, `CONNECT`, ...)."),
    Field("status", pl.Int32(), "HTTP status code (or the DNS response code for DNS logs)."),
    Field("action", pl.String(), "`allowed`, `blocked` or `unknown`."),
    Field(
        "bytes_out",
        pl.Int64(),
        "Bytes sent by the client towards the server (upload); null when the format does not log it.",
    ),
    Field("bytes_in", pl.Int64(), "Bytes received by the client from the server (download)."),
    Field("user_agent", pl.String(), "HTTP User-Agent."),
    Field(
        "app",
        pl.String(),
        "Application id the device assigned (PAN-OS App-ID, Zscaler app name, ...).",
    ),
    Field("dns_qtype", pl.String(), "DNS query type (`A`, `AAAA`, `HTTPS`, ...)."),
    Field(
        "dns_answers",
        pl.List(pl.String()),
        "Addresses (and names) a DNS answer returned, where the log has them.",
    ),
    Field(
        "dns_rcode",
        pl.String(),
        "DNS response code name (`NOERROR`, `NXDOMAIN`, `REFUSED`, ...), where the log has it.",
    ),
    Field(
        "process", pl.String(), "Process image that made the connection, where the log names it."
    ),
    Field(
        "dns_answer_only",
        pl.Boolean(),
        "True for a DNS line that only carries an answer (no client query): it teaches addresses but is not a lookup.",
    ),
)

EVENT_SCHEMA: dict[str, pl.DataType] = {f.name: f.dtype for f in EVENT_FIELDS}

#: Columns the matcher adds to each matched event.
MATCH_FIELDS: tuple[Field, ...] = (
    Field("service_id", pl.String(), "Stable id of the AI service matched."),
    Field("service", pl.String(), "Service display name."),
    Field("vendor", pl.String(), "Vendor."),
    Field("category", pl.String(), "Service category."),
    Field(
        "match_rule",
        pl.String(),
        "Rule that matched: `domain:chatgpt.com`, `url:github.com/copilot*`, ...",
    ),
    Field("confidence", pl.String(), "`high`, `medium` or `low`."),
    Field(
        "model",
        pl.String(),
        "Model named in the API path (Azure OpenAI deployment, Bedrock model id, Gemini model), where the URL shows it.",
    ),
    Field(
        "repeat",
        pl.Boolean(),
        "True for a DNS query repeating an identical one (same client, name and type) in the same minute: shown, not counted.",
    ),
)
#: Columns attribution adds to each matched event (``user`` becomes the attributed one).
ATTRIBUTION_FIELDS: tuple[Field, ...] = (
    Field("log_user", pl.String(), "The user exactly as the log spelled it (null when none)."),
    Field("department", pl.String(), "The attributed user's department (`--directory`)."),
    Field(
        "attribution",
        pl.String(),
        "`log_user`, `ip_session`, `ip_lease+asset`, `ambiguous` or `unattributed` (see the findings' field).",
    ),
    Field(
        "candidates",
        pl.List(pl.String()),
        "For `ambiguous` events, who claimed the address at that moment.",
    ),
    Field("device", pl.String(), "The device a DHCP lease gave the address to at that moment."),
)
ATTRIBUTION_SCHEMA: dict[str, pl.DataType] = {f.name: f.dtype for f in ATTRIBUTION_FIELDS}
MATCH_SCHEMA: dict[str, pl.DataType] = {f.name: f.dtype for f in MATCH_FIELDS}

FINDING_FIELDS: tuple[Field, ...] = (
    Field(
        "user",
        pl.String(),
        "User, or null when the traffic carried none (then `src_ips` identifies it).",
    ),
    Field(
        "department",
        pl.String(),
        "The user's department from `--directory`; for traffic nobody could be named for, the department `--sites` gives the source address; else null.",
    ),
    Field(
        "attribution",
        pl.String(),
        "How the user was found, strongest of the finding's events: `log_user` (the log names them), `ip_session` (a logon, VPN session, session file or a logged user on that address within `--evidence-window`), `ip_lease+asset` (DHCP lease to a device, asset inventory to its owner), `ambiguous` (several holders at once: see `candidates`) or `unattributed`.",
    ),
    Field("src_ips", pl.List(pl.String()), "Distinct client addresses, sorted."),
    Field(
        "candidates",
        pl.List(pl.String()),
        "For `ambiguous` findings, the users (or devices) that claimed the address at that time.",
    ),
    Field(
        "devices",
        pl.List(pl.String()),
        "Devices (host name, else MAC) the DHCP leases name for these events, sorted.",
    ),
    Field(
        "site",
        pl.String(),
        "For findings keyed by source address: the `--sites` site of that address.",
    ),
    Field(
        "subnet",
        pl.String(),
        "For findings keyed by source address: the `--sites` CIDR holding it, else its /24 (IPv6: /64).",
    ),
    Field("service_id", pl.String(), "Stable id of the AI service."),
    Field("service", pl.String(), "Service display name."),
    Field("vendor", pl.String(), "Vendor."),
    Field("category", pl.String(), "Service category."),
    Field(
        "policy",
        pl.String(),
        "`sanctioned`, `tolerated`, `unsanctioned` or `unreviewed` under `--policy` (`unreviewed` without one).",
    ),
    Field(
        "severity",
        pl.String(),
        "`info`, `low`, `medium`, `high` or `critical`, from `risk_score`.",
    ),
    Field(
        "risk_score",
        pl.UInt8(),
        "0-100: service risk, policy status, data sent, large uploads, breadth and confidence (see Risk score).",
    ),
    Field("first_seen", UTC_TS, "Earliest matched event, UTC."),
    Field("last_seen", UTC_TS, "Latest matched event, UTC."),
    Field("active_days", pl.UInt32(), "Distinct UTC days with at least one event."),
    Field(
        "requests",
        pl.UInt64(),
        "Matched proxy requests and firewall/flow connections (DNS lookups are counted in `queries`, never here); a connection logged at its start and its end counts once.",
    ),
    Field(
        "queries",
        pl.UInt64(),
        "Matched DNS lookups, a lookup burst (identical queries in the same minute) counted once.",
    ),
    Field(
        "blocked",
        pl.UInt64(),
        "Of those requests and queries, how many the device blocked: a blocked attempt is still demand for the service.",
    ),
    Field(
        "bytes_out", pl.Int64(), "Sum of bytes sent to the service (null when no source logged it)."
    ),
    Field("bytes_in", pl.Int64(), "Sum of bytes received from the service."),
    Field(
        "large_uploads",
        pl.UInt64(),
        "Requests that each sent more than `--upload-threshold` (default 1 MB) to the service.",
    ),
    Field(
        "log_types",
        pl.List(pl.String()),
        "Kinds of log that gave evidence (`proxy`, `dns`, ...), sorted.",
    ),
    Field("hosts", pl.List(pl.String()), "Distinct matched hosts, sorted."),
    Field("confidence", pl.String(), "Highest confidence among the matched events."),
    Field(
        "match_rules",
        pl.List(pl.String()),
        "Distinct rules that matched (`domain:chatgpt.com`, `app:openai-chatgpt`, ...), sorted: why this is a finding.",
    ),
    Field(
        "models",
        pl.List(pl.String()),
        "Distinct models named in API paths, sorted (empty when the logs do not show them).",
    ),
    Field(
        "new_service",
        pl.Boolean(),
        "With `--state`: true when the organisation had never been seen using this service before this run (null without `--state`).",
    ),
    Field(
        "new_for_department",
        pl.Boolean(),
        "With `--state`: true when this department had never used this service before this run.",
    ),
    Field(
        "new_for_user",
        pl.Boolean(),
        "With `--state`: true when this user had never used this service before this run.",
    ),
    Field(
        "policy_rule",
        pl.String(),
        "Which policy rule decided `policy`: `user:asmith (service:github-copilot, until 2027-03-31)`, `department:Engineering (service:github-copilot)`, `service:github-copilot`, `vendor:OpenAI`, `category:coding_assistant` or `default`.",
    ),
    Field(
        "risk_factors",
        pl.List(pl.String()),
        "What made `risk_score`, one entry per contribution: `unsanctioned +30`, `trains on user data +15`, `2.4 MB sent +12`, `1 large upload +10`, `confidence low x0.6`, ...",
    ),
)
FINDING_SCHEMA: dict[str, pl.DataType] = {f.name: f.dtype for f in FINDING_FIELDS}

CONFIDENCE_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3}


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType] = EVENT_SCHEMA) -> pl.DataFrame:
    """Return ``frame`` with every column of ``schema`` (missing ones as nulls), cast and in
    schema order; extra (format-prefixed) columns follow, in their original order."""
    missing = [
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in schema.items()
        if name not in frame.columns
    ]
    if missing:
        frame = frame.with_columns(missing)
    casts = [
        pl.col(name).cast(dtype) for name, dtype in schema.items() if frame.schema[name] != dtype
    ]
    if casts:
        frame = frame.with_columns(casts)
    extra = [c for c in frame.columns if c not in schema]
    return frame.select([*schema, *extra])


def empty_events() -> pl.DataFrame:
    return pl.DataFrame(schema=EVENT_SCHEMA)


def _type_name(dtype: Any) -> str:
    if isinstance(dtype, type):
        dtype = dtype()
    if isinstance(dtype, pl.Datetime):
        return "datetime (UTC)"
    if isinstance(dtype, pl.List):
        return f"list of {_type_name(dtype.inner)}"
    if dtype.is_integer():
        return "integer"
    if dtype == pl.Boolean():
        return "boolean"
    return "string" if dtype == pl.String() else str(dtype).lower()


def markdown_table(fields: tuple[Field, ...]) -> str:
    """The README's table for ``fields`` (a test keeps the README in step with this module)."""
    rows = ["| Field | Type | Meaning |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {_type_name(f.dtype)} | {f.description} |" for f in fields]
    return "\n".join(rows)
