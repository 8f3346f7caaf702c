"""Which Windows Security events say a person was at an address, and the sessions they
give (shared by ``windows_logon``, JSON lines, and ``windows_logon_csv``).

Three events name a user and the address they came from: **4624** (an account logged
on: ``TargetUserName``, ``TargetDomainName``, ``IpAddress``, ``LogonType``), **4768** (a
Kerberos TGT was requested: ``TargetUserName`` ``jdoe``, ``TargetDomainName`` the realm,
``IpAddress`` ``::ffff:10.0.0.5``, ``Status``) and **4769** (a service ticket was
requested: ``TargetUserName`` ``jdoe@CORP.EXAMPLE``). Exporters spell the fields
differently (Splunk's ``Account_Name``, ``Source_Network_Address``, ``Client_Address``,
``Supplied_Realm_Name``, ``Result_Code``/``Failure_Code``) and Splunk gives the two
``Account Name`` lines of a 4624 message as one multi-valued field (a JSON array, or
lines of one CSV cell); the last value is the logged-on account. Exports that carry only
the rendered ``Message`` text are read from its ``Account Name:``, ``Source Network
Address:``... lines (English messages).

The user is spelled ``DOMAIN\\user`` when the event gives a domain (a realm for Kerberos
events: ``CORP.EXAMPLE\\jdoe``); a name that already holds a domain (``jdoe@CORP.EXAMPLE``)
is kept as is. Events that put no person at an address are ignored: other event ids,
failed ticket requests (status not ``0x0``), logon types 0, 4 and 5 (system, batch,
service), machine and service accounts (:func:`~shadowscan.identity._tabular.not_a_person`),
and no, ``-`` or loopback addresses. Each remaining event opens a session of
``context.session_time``; a user's repeated logons from one address merge, and two users
on one address at once stay as overlapping sessions (attribution reports the conflict).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from shadowscan.identity._tabular import (
    IGNORED,
    PARSED,
    account,
    not_a_person,
    valid_ip,
)
from shadowscan.identity.base import (
    POINT_SCHEMA,
    IdentityBatch,
    IdentityContext,
    intervals_from_points,
    normalise_ip,
)
from shadowscan.parsers._winevent import nonempty

LOGON_EVENTS = (4624, 4768, 4769)
#: Logon types no person is behind: 0 system, 4 batch (scheduled task), 5 service.
NO_PERSON_LOGON_TYPES = (0, 4, 5)

#: The event fields read, in the spellings of the event schema and of Splunk.
FIELDS: Mapping[str, Sequence[str]] = {
    "user": ("TargetUserName", "Account_Name"),
    "domain": ("TargetDomainName", "Account_Domain", "Supplied_Realm_Name"),
    "ip": ("IpAddress", "Source_Network_Address", "Client_Address"),
    "logon_type": ("LogonType", "Logon_Type"),
    "status": ("Status", "Result_Code", "Failure_Code"),
}

#: The labels of the same fields in the rendered message text.
MESSAGE_LABELS: Mapping[str, Sequence[str]] = {
    "user": ("Account Name",),
    "domain": ("Account Domain", "Supplied Realm Name"),
    "ip": ("Source Network Address", "Client Address"),
    "logon_type": ("Logon Type",),
    "status": ("Result Code", "Failure Code"),
}

_OK_STATUS = ("0x0", "0", "0x00000000")


def message_field(message: pl.Expr, field: str) -> pl.Expr:
    """The value of ``field`` in a rendered event message: the last line labelled with
    one of its labels (the ``New Logon`` account of a 4624 comes after the ``Subject``)."""
    labels = "|".join(MESSAGE_LABELS[field])
    pattern = rf"(?m)^[ \t]*(?:{labels}):[ \t]*(.*?)[ \t\r]*$"
    return message.str.extract_all(pattern).list.last().str.extract(pattern, 1)


def last_value(expr: pl.Expr) -> pl.Expr:
    """The last value of a possibly multi-valued field (a JSON array, or lines of a CSV
    cell, as Splunk exports them); null for blanks and ``-``."""
    text = expr.str.strip_chars()
    last = (
        pl.when(text.str.starts_with("["))
        .then(text.str.json_path_match("$[-1]"))
        .otherwise(text.str.extract(r"([^\n]*)$", 1))
    )
    return nonempty(last)


def spelled_user(user: pl.Expr, domain: pl.Expr) -> pl.Expr:
    """``DOMAIN\\user`` when there is a domain and the name holds none."""
    return (
        pl.when(user.str.contains(r"[@\\]") | domain.is_null())
        .then(user)
        .otherwise(pl.concat_str([domain, pl.lit("\\"), user]))
    )


def judge(rows: pl.DataFrame) -> pl.DataFrame:
    """Judge a row frame with ``event_id``, ``user``, ``domain``, ``ip``, ``logon_type``,
    ``status`` (text, null when absent) and ``ts`` (UTC): ``_fate`` set, ``user`` spelled
    and ``ip`` normalised."""
    # Values go to columns before they are tested: an expression used in several tests
    # would be evaluated once per use.
    values = rows.with_columns(
        pl.col("event_id").str.strip_chars().cast(pl.Int64, strict=False).alias("_event_id"),
        last_value(pl.col("user")).alias("_user"),
        last_value(pl.col("domain")).alias("_domain"),
        normalise_ip(last_value(pl.col("ip"))).alias("ip"),
        last_value(pl.col("logon_type")).alias("_logon_text"),
        last_value(pl.col("status")).str.to_lowercase().alias("_status"),
    ).with_columns(
        pl.col("_logon_text").cast(pl.Int64, strict=False).alias("_logon_type"),
        (pl.col("_user").is_null() | not_a_person(pl.col("_user"))).alias("_nobody"),
    )
    event_id, logon_type, status = pl.col("_event_id"), pl.col("_logon_type"), pl.col("_status")
    ip = pl.col("ip")
    fate = (
        pl.when(pl.col("_fate").is_not_null())
        .then(pl.col("_fate"))
        .when(event_id.is_null())
        .then(pl.lit("missing event id"))
        .when(~event_id.is_in(LOGON_EVENTS))
        .then(pl.lit(IGNORED))
        .when(pl.col("ts").is_null())
        .then(pl.lit("bad timestamp"))
        .when(status.is_not_null() & ~status.is_in(_OK_STATUS))
        .then(pl.lit(IGNORED))
        .when(pl.col("_logon_text").is_not_null() & logon_type.is_null())
        .then(pl.lit("bad logon type"))
        .when(logon_type.is_in(NO_PERSON_LOGON_TYPES))
        .then(pl.lit(IGNORED))
        .when(pl.col("_nobody"))
        .then(pl.lit(IGNORED))
        .when(ip.is_null())
        .then(pl.lit(IGNORED))
        .when(~valid_ip(ip))
        .then(pl.lit("bad address"))
        .otherwise(pl.lit(PARSED))
    )
    return values.with_columns(
        fate.alias("_fate"),
        spelled_user(pl.col("_user"), pl.col("_domain")).alias("user"),
    )


def logon_batch(
    rows: pl.DataFrame, lines: int, context: IdentityContext, source: str
) -> IdentityBatch:
    """Sessions from a row frame of events (see :func:`judge`), with the accounting of
    the file's ``lines`` lines."""
    judged = judge(rows)
    points = judged.filter(pl.col("_fate") == PARSED).select(
        pl.col("ts"),
        pl.lit("start").alias("op"),
        pl.col("ip"),
        pl.col("user"),
        pl.lit(None, pl.String()).alias("mac"),
        pl.lit(None, pl.String()).alias("device"),
        pl.lit(None, pl.String()).alias("key"),
        pl.col("_first").alias("line_no"),
    )
    frame = intervals_from_points(
        points.select([pl.col(c).cast(t) for c, t in POINT_SCHEMA.items()]),
        kind="session",
        source=source,
        source_file=context.source_file,
        default_duration=context.session_time,
        cut_on_change=False,
    )
    parsed, ignored, rejected = account(judged, lines)
    return IdentityBatch(frame, lines=lines, parsed=parsed, ignored=ignored, rejected=rejected)
