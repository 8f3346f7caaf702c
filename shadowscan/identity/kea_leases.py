"""ISC Kea's memfile lease files (``kea-leases4.csv``, ``kea-leases6.csv``): which device
held an address, and when.

::

    address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id
    10.0.2.5,00:1a:2b:3c:4d:5e,01:00:1a:2b:3c:4d:5e,43200,1795118400,1,0,0,laptop-jdoe,0,,0

Kea appends a row each time a lease changes, so one address appears many times (the
lease file cleanup, ``kea-lfc``, rewrites it with one row per lease). Each row says its
client (``hwaddr``, and ``hostname`` when known) held the address from ``expire -
valid_lifetime`` (the client's last transmission time) to ``expire`` (epoch seconds); a
later row for the address overrides an earlier one from its own start on, and a client's
renewals merge into one binding (see :func:`~shadowscan.identity._dhcp.records_batch`).

Columns are found by the header, so both files and the column sets of Kea's versions
read alike (a file without a header is read in the DHCPv4 order). ``state`` 0 (default)
and 2 (expired-reclaimed: still when it was held) are read; 1 (declined: no client holds
it) is ignored, as are DHCPv6 prefix delegations (``lease_type`` 2), rows naming neither a
MAC nor a host name (a DHCPv6 client known only by its DUID), and rows with
``valid_lifetime`` 0: Kea writes a deleted lease that way, stamped with its last renewal
rather than the time of deletion, so it says nothing about when the lease ended (the
lease then runs to its expiry, or until the address goes to another client). An infinite
lifetime (``4294967295``) lasts ``context.lease_time``. Commas in text columns are written
``&#x2c``. Rows too short for the columns, or with a bad address, time or state, are
rejected.
"""

from __future__ import annotations

import re

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._dhcp import IGNORED, PARSED, line_frame, records_batch, valid_ipv4
from shadowscan.identity.base import (
    IdentityBatch,
    IdentityReader,
    normalise_device,
    normalise_ip,
    normalise_mac,
)
from shadowscan.parsers.common import epoch_ts

_V4_COLUMNS = (
    "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state"
)
_HEADER = re.compile(r"^\s*address,(?:hwaddr|duid),")
_SNIFF_ROW = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3},[0-9a-fA-F:]*,[0-9a-fA-F:]*,\d+,\d+,\d+,")
_INFINITE = 0xFFFFFFFF
_DECLINED = 1
_PREFIX_DELEGATION = 2
#: Epoch seconds Kea can have written (1970 to 5138): larger values are not times.
_MAX_EPOCH = 10**11
_IPV6 = r"^[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}$"


@IDENTITY_READERS.register("kea_leases")
class KeaLeasesReader(IdentityReader):
    """ISC Kea memfile lease CSV, DHCPv4 or DHCPv6."""

    name = "kea_leases"
    kind = "lease"
    summary = (
        "ISC Kea memfile lease file (`kea-leases4.csv`, `kea-leases6.csv`; columns by "
        "header): each row is the MAC and host name holding the address from `expire - "
        "valid_lifetime` to `expire`; later rows override earlier ones, renewals merge; "
        "declined leases, prefix delegations and zero-lifetime deletion rows are ignored."
    )
    example = (
        "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,"
        "state,user_context,pool_id\n"
        "10.0.2.5,00:1a:2b:3c:4d:5e,01:00:1a:2b:3c:4d:5e,43200,1795118400,1,0,0,laptop-jdoe,0,,0"
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        if head and _HEADER.match(head[0]):
            return 0.95
        rows = sum(bool(_SNIFF_ROW.match(line)) for line in head)
        return 0.7 if head and rows * 2 >= len(head) else 0.0

    def read(self, lines: list[str]) -> IdentityBatch:
        header = next((ln for ln in lines if _HEADER.match(ln)), _V4_COLUMNS)
        columns = {name.strip(): i for i, name in enumerate(header.split(","))}
        needed = ["address", "valid_lifetime", "expire"]
        width = max(columns.get(c, 0) for c in needed) + 1

        def column(name: str) -> pl.Expr:
            if name not in columns:
                return pl.lit(None, pl.String())
            value = pl.col("_f").list.get(columns[name], null_on_oob=True).str.strip_chars()
            return pl.when(value != "").then(value.str.replace_all("&#x2c", ",", literal=True))

        frame = (
            line_frame(lines)
            .with_columns(pl.col("_line").str.split(",").alias("_f"))
            .with_columns(column("hwaddr").alias("_hwaddr"))
        )
        address = column("address")
        lifetime = column("valid_lifetime").cast(pl.Int64(), strict=False)
        expire = column("expire").cast(pl.Int64(), strict=False)
        cltt = expire - lifetime
        state = column("state").fill_null("0").cast(pl.Int64(), strict=False)
        frame = frame.with_columns(
            normalise_ip(address).alias("ip"),
            normalise_mac(pl.col("_hwaddr")).alias("mac"),
            normalise_device(column("hostname")).alias("device"),
            epoch_ts(cltt).alias("start"),
            pl.when(lifetime == _INFINITE)
            .then(epoch_ts(cltt) + pl.lit(self.context.lease_time))
            .otherwise(epoch_ts(expire))
            .alias("end"),
        )
        line = pl.col("_line")
        frame = frame.with_columns(
            pl.when((line.str.strip_chars() == "") | line.str.contains(_HEADER.pattern))
            .then(pl.lit(IGNORED))
            .when(pl.col("_f").list.len() < width)
            .then(pl.lit("malformed row"))
            .when(~(valid_ipv4(address) | address.str.contains(_IPV6)).fill_null(False))
            .then(pl.lit("bad address"))
            .when(
                lifetime.is_null()
                | expire.is_null()
                | (lifetime < 0)
                | ~cltt.is_between(0, _MAX_EPOCH, closed="left")
            )
            .then(pl.lit("bad timestamp"))
            .when(state.is_null())
            .then(pl.lit("bad state"))
            .when(
                (lifetime == 0)
                | (state == _DECLINED)
                | (column("lease_type") == str(_PREFIX_DELEGATION)).fill_null(False)
                | (pl.col("mac").is_null() & pl.col("device").is_null())
            )
            .then(pl.lit(IGNORED))
            .otherwise(pl.lit(PARSED))
            .alias("_status")
        )
        records = frame.filter(pl.col("_status") == PARSED).select(
            "ip", "mac", "device", "start", "end", "line_no"
        )
        return records_batch(frame, records, self.context, self.name)
