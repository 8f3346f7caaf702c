"""Sites: ``--sites FILE`` names address ranges (an office, a VPN pool, a data centre),
so a finding nobody can be attributed to still rolls up to somewhere a person can walk
to, and an address range owned by one team gives a department.

The file is CSV with a header: ``cidr,site,department`` (department optional, any column
order, IPv4 and IPv6). The most specific range wins. An address in no range rolls up by
its ``/24`` (IPv4) or ``/64`` (IPv6) network, so unattributed findings still group by
subnet.

IPv4 lookups are integer arithmetic in polars: each address is masked once per prefix
length the file uses and joined to the ranges. IPv6 addresses (fewer, and 128-bit) go
through :mod:`ipaddress`, one per distinct address.
"""

from __future__ import annotations

import csv
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from shadowscan.errors import InputError
from shadowscan.reference import read_lines

SITES_SCHEMA: dict[str, pl.DataType] = {
    "cidr": pl.String(),
    "site": pl.String(),
    "department": pl.String(),
    "line_no": pl.UInt64(),
}
LOOKUP_SCHEMA: dict[str, pl.DataType] = {
    "site": pl.String(),
    "department": pl.String(),
    "subnet": pl.String(),
}
_V4_TABLE: dict[str, pl.DataType] = {
    "prefix": pl.Int64(),
    "net": pl.Int64(),
    "cidr": pl.String(),
    "site": pl.String(),
    "department": pl.String(),
}

#: Accepted header names (lower case, no spaces, ``_`` or ``-``) for each column.
HEADER = {
    "cidr": ("cidr", "subnet", "network", "prefix", "range"),
    "site": ("site", "location", "sitename"),
    "department": ("department", "dept", "team"),
}

_OCTET = r"(0|[1-9][0-9]{0,2})"
_DOTTED = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"

#: (cidr, site, department) for one range.
SiteRow = tuple[str, str | None, str | None]


@dataclass
class Sites:
    """Address ranges and their site and department."""

    #: One row per range, as read (``SITES_SCHEMA``), for reports.
    networks: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SITES_SCHEMA))
    path: str | None = None
    _v4: pl.DataFrame = field(init=False, repr=False)
    #: prefix length -> network (as an int) -> (cidr, site, department), longest first.
    _v6: dict[int, dict[int, SiteRow]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        v4: list[tuple[int, int, str, str | None, str | None]] = []
        v6: dict[int, dict[int, SiteRow]] = {}
        for cidr, site, department in self.networks.select(
            "cidr", "site", "department"
        ).iter_rows():
            net = ipaddress.ip_network(cidr)
            row = (str(net), site, department)
            if net.version == 4:
                v4.append((net.prefixlen, int(net.network_address), *row))
            else:
                v6.setdefault(net.prefixlen, {})[int(net.network_address)] = row
        self._v4 = pl.DataFrame(v4, schema=_V4_TABLE, orient="row")
        self._v6 = dict(sorted(v6.items(), reverse=True))

    @classmethod
    def empty(cls) -> Sites:
        return cls()

    @classmethod
    def from_rows(cls, rows: Sequence[SiteRow], path: str | None = None) -> Sites:
        """Sites from ``(cidr, site, department)`` rows already checked by the caller."""
        frame = pl.DataFrame(
            [(c, s, d, i) for i, (c, s, d) in enumerate(rows, start=1)],
            schema=SITES_SCHEMA,
            orient="row",
        )
        return cls(networks=frame, path=path)

    def lookup(self, ips: pl.Series) -> pl.DataFrame:
        """For each address in ``ips`` (same length and order): ``site`` and
        ``department`` of the most specific range holding it, and ``subnet``: that
        range, else the address's /24 (IPv4) or /64 (IPv6); all null for a null or
        invalid address. Computed on the distinct addresses."""
        given = pl.DataFrame({"ip": ips.cast(pl.String)})
        distinct = given.drop_nulls().unique()
        norm = (
            pl.col("ip")
            .str.strip_chars()
            .str.strip_chars("[]")
            .str.to_lowercase()
            .str.replace(r"%.*$", "")
            .str.replace(r"^::ffff:([0-9.]+)$", "$1")
        )
        distinct = distinct.with_columns(norm.alias("_norm"))
        octets = pl.col("_norm").str.extract_groups(_DOTTED)
        a, b, c, d = (octets.struct.field(str(i)).cast(pl.Int64) for i in range(1, 5))
        v4 = (
            pl.when((a <= 255) & (b <= 255) & (c <= 255) & (d <= 255))
            .then(a * (1 << 24) + b * (1 << 16) + c * (1 << 8) + d)
            .otherwise(None)
        )
        distinct = distinct.with_columns(v4.alias("_v4"))
        other = distinct.filter(
            pl.col("_v4").is_null() & pl.col("_norm").str.contains(":", literal=True)
        )
        mapped, v6_rows = self._lookup_v6(other["ip"].to_list(), other["_norm"].to_list())
        if mapped:
            extra = pl.DataFrame(
                list(mapped.items()), schema={"ip": pl.String, "_mapped": pl.Int64}, orient="row"
            )
            distinct = distinct.join(extra, on="ip", how="left").with_columns(
                pl.coalesce("_v4", "_mapped").alias("_v4")
            )
        found = pl.concat(
            [
                self._lookup_v4(distinct.filter(pl.col("_v4").is_not_null()).select("ip", "_v4")),
                pl.DataFrame(v6_rows, schema={"ip": pl.String, **LOOKUP_SCHEMA}, orient="row"),
            ]
        )
        out = given.join(found, on="ip", how="left", maintain_order="left")
        return out.select(list(LOOKUP_SCHEMA))

    def _lookup_v4(self, addresses: pl.DataFrame) -> pl.DataFrame:
        """``ip, site, department, subnet`` for IPv4 addresses given as ``_v4`` ints."""
        octet = [(pl.col("_v4") // (1 << s)) % 256 for s in (24, 16, 8)]
        fallback = pl.concat_str(
            [*(o.cast(pl.String) for o in octet), pl.lit("0/24")], separator="."
        )
        if self._v4.is_empty() or addresses.is_empty():
            return addresses.select(
                "ip",
                pl.lit(None, pl.String).alias("site"),
                pl.lit(None, pl.String).alias("department"),
                fallback.alias("subnet"),
            )
        lengths = sorted(set(self._v4["prefix"].to_list()))
        prefixes = pl.DataFrame(
            {"prefix": lengths, "_size": [1 << (32 - n) for n in lengths]},
            schema={"prefix": pl.Int64, "_size": pl.Int64},
        )
        candidates = addresses.join(prefixes, how="cross").with_columns(
            ((pl.col("_v4") // pl.col("_size")) * pl.col("_size")).alias("net")
        )
        best = (
            candidates.join(self._v4, on=["prefix", "net"], how="inner")
            .sort("prefix", descending=True)
            .unique(subset="ip", keep="first")
            .select("ip", "cidr", "site", "department")
        )
        return addresses.join(best, on="ip", how="left").select(
            "ip", "site", "department", pl.coalesce("cidr", fallback).alias("subnet")
        )

    def _lookup_v6(
        self, ips: list[str], norms: list[str]
    ) -> tuple[dict[str, int], list[tuple[str, str | None, str | None, str]]]:
        """IPv4-mapped addresses (``ip`` -> IPv4 int, for the IPv4 path) and
        ``(ip, site, department, subnet)`` rows for the other IPv6 addresses."""
        mapped: dict[str, int] = {}
        rows: list[tuple[str, str | None, str | None, str]] = []
        for ip, norm in zip(ips, norms, strict=True):
            try:
                address = ipaddress.IPv6Address(norm)
            except ValueError:
                continue
            if address.ipv4_mapped is not None:
                mapped[ip] = int(address.ipv4_mapped)
                continue
            value = int(address)
            hit = next(
                (
                    table[net]
                    for prefix, table in self._v6.items()
                    if (net := value >> (128 - prefix) << (128 - prefix)) in table
                ),
                None,
            )
            if hit is not None:
                rows.append((ip, hit[1], hit[2], hit[0]))
            else:
                subnet = ipaddress.IPv6Network((value >> 64 << 64, 64))
                rows.append((ip, None, None, str(subnet)))
        return mapped, rows


def _normalise_header(name: str) -> str:
    return "".join(ch for ch in name.strip().lower() if ch not in " _-")


def load_sites(path: str | Path) -> Sites:
    """Read a sites CSV; a bad line is an error naming ``file:line`` and the fix."""
    path = str(path)
    if not Path(path).is_file():
        raise InputError(f"{path}: sites file not found; check the --sites path")
    numbered = [
        (no, line)
        for no, line in enumerate(read_lines(path), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise InputError(f"{path}: the sites file is empty; add a header `cidr,site,department`")
    header_no, header_line = numbered[0]
    header = [_normalise_header(h) for h in next(csv.reader([header_line]))]
    columns = {
        name: next((header.index(a) for a in aliases if a in header), None)
        for name, aliases in HEADER.items()
    }
    if columns["cidr"] is None or (columns["site"] is None and columns["department"] is None):
        first = header_line.split(",", 1)[0].strip()
        hint = f" (line {header_no} looks like data)" if _is_network(first) else ""
        raise InputError(
            f"{path}:{header_no}: the first line must be a header naming the columns "
            f"`cidr,site,department`{hint}; add one"
        )
    rows: list[SiteRow] = []
    line_of: dict[str, int] = {}
    for no, line in numbered[1:]:
        fields = next(csv.reader([line]))
        if len(fields) > len(header) and any(f.strip() for f in fields[len(header) :]):
            raise InputError(
                f"{path}:{no}: {len(fields)} fields where the header has {len(header)}; "
                "quote values that contain commas"
            )
        fields += [""] * (len(header) - len(fields))  # a missing last column is empty
        cidr_text = _field(fields, columns["cidr"]) or ""
        network = _parse_network(path, no, cidr_text)
        site = _field(fields, columns["site"])
        department = _field(fields, columns["department"])
        if site is None and department is None:
            raise InputError(f"{path}:{no}: {cidr_text} has no site or department; give it one")
        key = str(network)
        if key in line_of:
            raise InputError(
                f"{path}:{no}: {key} is already listed on line {line_of[key]}; list each range once"
            )
        line_of[key] = no
        rows.append((key, site, department))
    frame = pl.DataFrame(
        [(c, s, d, line_of[c]) for c, s, d in rows], schema=SITES_SCHEMA, orient="row"
    )
    return Sites(networks=frame, path=path)


def _field(fields: list[str], index: int | None) -> str | None:
    return (fields[index].strip() or None) if index is not None else None


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _parse_network(path: str, no: int, text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text)
    except ValueError:
        pass
    if _is_network(text):
        fixed = ipaddress.ip_network(text, strict=False)
        raise InputError(f"{path}:{no}: {text} has host bits set; write {fixed}")
    raise InputError(
        f"{path}:{no}: {text!r} is not a CIDR; write a range like 10.1.0.0/16 or 2001:db8::/48"
    )
