"""Building blocks shared by the Squid-family parsers (``squid``, ``squid_common``,
``bluecoat_squid``): field patterns, the result-code to action mapping, user decoding and
the canonical columns built from the named groups every Squid-style layout has.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import polars as pl

from shadowscan.hosts import default_port, host_expr, url_expr, url_parts
from shadowscan.parsers.base import dash_to_null, to_int

#: Epoch seconds with optional fraction (``1157689312.049``).
TS = r"[0-9]{9,11}(?:\.[0-9]{1,6})?"
#: Elapsed milliseconds.
ELAPSED = r"-?[0-9]+"
#: Squid result / hierarchy codes (``TCP_MISS``, ``TCP_NC_MISS``, ``HIER_DIRECT``, ``DIRECT``).
CODE = r"[A-Z][A-Z_]*"
#: HTTP method as Squid logs it (``-`` and ``NONE`` for invalid requests).
METHOD = r"[A-Za-z_\-]+"

_IP = r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)$"


def strip_group_names(pattern: str) -> str:
    """``(?P<x>...)`` -> ``(?:...)``, so that patterns with the same group names can be
    joined into one alternation (for ``line_pattern``)."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


def squid_action(code: pl.Expr) -> pl.Expr:
    """``*DENIED*`` -> blocked, ``NONE*`` (no request made) -> unknown, else allowed."""
    return (
        pl.when(code.str.contains("DENIED"))
        .then(pl.lit("blocked"))
        .when(code.str.starts_with("NONE"))
        .then(pl.lit("unknown"))
        .otherwise(pl.lit("allowed"))
    )


def decode_users(frame: pl.DataFrame) -> pl.DataFrame:
    """Squid URL-escapes user names (``CORP%5Cjdoe``); decode the distinct ones."""
    odd = frame.select(
        pl.col("user").filter(pl.col("user").str.contains("%", literal=True)).unique()
    ).to_series()
    mapping = {u: unquote(u) for u in odd.to_list() if u is not None}
    return frame.with_columns(pl.col("user").replace(mapping)) if mapping else frame


def _opt(fields: pl.DataFrame, name: str) -> pl.Expr:
    """Column ``name`` if the layout has it, else a null string."""
    return pl.col(name) if name in fields.columns else pl.lit(None, pl.String)


def squid_events(
    fields: pl.DataFrame,
    ts: pl.Expr,
    prefix: str,
    extra: dict[str, pl.Expr] | None = None,
) -> pl.DataFrame:
    """Canonical columns from the named groups of a Squid-style layout.

    Needs ``line_no, src, user, method, url, status, code, hier, bytes``; uses ``peer``,
    ``elapsed``, ``mime``, ``src_port``, ``bytes_out``, ``user_agent`` and ``server_port``
    when the layout has them. ``prefix`` names the format-specific columns
    (``{prefix}_result_code``, ...); ``extra`` adds more of them.
    """
    parts = url_parts(pl.col("url"))
    connect = pl.col("method").str.to_uppercase() == "CONNECT"
    hier = pl.col("hier")
    peer = _opt(fields, "peer")
    direct = hier.str.contains("DIRECT")
    frame = fields.with_columns(parts.alias("_u")).with_columns(
        host_expr(pl.col("_u").struct.field("host")).alias("host")
    )
    url_port = to_int(pl.col("_u").struct.field("port"), pl.Int32()).fill_null(
        default_port(pl.col("_u").struct.field("scheme"), connect)
    )
    server_port = to_int(_opt(fields, "server_port"), pl.Int32())
    columns = [
        pl.col("line_no"),
        ts.alias("ts"),
        pl.col("src").alias("src_ip"),
        to_int(_opt(fields, "src_port"), pl.Int32()).alias("src_port"),
        dash_to_null(pl.col("user")).alias("user"),
        pl.col("host"),
        pl.when(direct & peer.str.contains(_IP)).then(peer).otherwise(None).alias("dst_ip"),
        pl.when(direct & server_port.is_not_null())
        .then(server_port)
        .otherwise(url_port)
        .alias("dst_port"),
        pl.when(connect).then(None).otherwise(url_expr(pl.col("_u"), pl.col("host"))).alias("url"),
        pl.col("method").str.to_uppercase().alias("method"),
        pl.col("status").cast(pl.Int32, strict=False).alias("status"),
        squid_action(pl.col("code")).alias("action"),
        to_int(_opt(fields, "bytes_out")).alias("bytes_out"),
        to_int(pl.col("bytes")).alias("bytes_in"),
        dash_to_null(_opt(fields, "user_agent")).alias("user_agent"),
        pl.col("code").alias(f"{prefix}_result_code"),
        hier.alias(f"{prefix}_hierarchy"),
    ]
    if "elapsed" in fields.columns:
        columns.append(to_int(pl.col("elapsed")).alias(f"{prefix}_elapsed_ms"))
    if "mime" in fields.columns:
        columns.append(dash_to_null(pl.col("mime")).alias(f"{prefix}_content_type"))
    for name, expr in (extra or {}).items():
        columns.append(expr.alias(f"{prefix}_{name}"))
    return frame.select(columns)
