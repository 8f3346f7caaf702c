"""Host and URL normalisation, vectorised.

Every host in shadowscan, from any log, goes through :func:`normalise_hosts`, so that
signature matching compares like with like: lower case, no trailing dot, no port, IPv6
brackets removed, international names in IDNA (punycode) form.
"""

from __future__ import annotations

import polars as pl

#: Absolute URLs, scheme-less URLs, ``host:port`` CONNECT targets and IPv6 literals.
#: Rust-``regex`` and Python-``re`` compatible (no look-around).
URL_PATTERN = (
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://)?"
    r"(?:[^@/?#\s]*@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?#\s\[\]]+)"
    r"(?::(?P<port>\d{1,5}))?"
    r"(?P<path>/[^?#\s]*)?"
)


def url_parts(url: pl.Expr) -> pl.Expr:
    """Struct ``{scheme, host, port, path}`` from a URL-ish string column (raw host)."""
    return url.str.extract_groups(URL_PATTERN)


def default_port(scheme: pl.Expr, connect: pl.Expr | None = None) -> pl.Expr:
    """The port a URL without one implies (80 for http, 443 for https and CONNECT)."""
    s = scheme.str.to_lowercase()
    expr = (
        pl.when(s == "https")
        .then(pl.lit(443, pl.Int32))
        .when(s == "http")
        .then(pl.lit(80, pl.Int32))
    )
    if connect is not None:
        expr = expr.when(connect).then(pl.lit(443, pl.Int32))
    return expr.otherwise(pl.lit(None, pl.Int32))


def host_expr(raw: pl.Expr) -> pl.Expr:
    """Normalise a raw host column without the IDNA step (see :func:`normalise_hosts`)."""
    h = raw.str.strip_chars().str.to_lowercase().str.strip_chars_end(".")
    h = pl.when(h.str.starts_with("[")).then(h.str.strip_chars("[]")).otherwise(h)
    return pl.when((h == "") | (h == "-")).then(None).otherwise(h)


def url_expr(parts: pl.Expr, host: pl.Expr, default_scheme: pl.Expr | str = "http") -> pl.Expr:
    """``scheme://host[:port]/path`` (query and fragment dropped) from :func:`url_parts`."""
    scheme_raw = parts.struct.field("scheme").str.to_lowercase()
    port = parts.struct.field("port")
    default = pl.lit(default_scheme) if isinstance(default_scheme, str) else default_scheme
    scheme = pl.coalesce(
        scheme_raw, pl.when(port == "443").then(pl.lit("https")).otherwise(default)
    )
    host_part = (
        pl.when(host.str.contains(":", literal=True)).then(pl.format("[{}]", host)).otherwise(host)
    )
    show_port = port.is_not_null() & ~(
        ((scheme == "http") & (port == "80")) | ((scheme == "https") & (port == "443"))
    )
    port_part = pl.when(show_port).then(pl.format(":{}", port)).otherwise(pl.lit(""))
    path = pl.coalesce(parts.struct.field("path"), pl.lit("/"))
    return (
        pl.when(host.is_null())
        .then(None)
        .otherwise(pl.concat_str([scheme, pl.lit("://"), host_part, port_part, path]))
    )


def idna_host(host: str) -> str:
    """IDNA-encode one host label by label; a label that can't be encoded stays as it is."""
    if host.isascii():
        return host
    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(label.encode("idna").decode("ascii"))
        except UnicodeError:
            labels.append(label)
    return ".".join(labels)


def normalise_hosts(frame: pl.DataFrame, column: str = "host") -> pl.DataFrame:
    """Apply :func:`idna_host` to the (few) distinct non-ASCII values of ``column``."""
    if column not in frame.columns or frame.is_empty():
        return frame
    odd = frame.select(
        pl.col(column).filter(~pl.col(column).str.contains(r"^[\x00-\x7f]*$")).unique()
    )
    values = [v for v in odd.to_series().to_list() if v is not None]
    if not values:
        return frame
    mapping = {v: idna_host(v) for v in values}
    out = frame.with_columns(pl.col(column).replace(mapping).alias(column))
    if column == "host" and "url" in frame.columns:
        # The URL was built from the same host: rewrite it the same way.
        url = pl.col("url")
        for old, new in mapping.items():
            if old != new:
                url = (
                    pl.when(pl.col("host") == old)
                    .then(pl.col("url").str.replace(old, new, literal=True))
                    .otherwise(url)
                )
        out = frame.with_columns(url.alias("url")).with_columns(
            pl.col(column).replace(mapping).alias(column)
        )
    return out
