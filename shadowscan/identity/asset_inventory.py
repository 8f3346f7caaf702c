"""Asset inventories as CSV: which user a device (host name and/or MAC address) belongs
to, as CMDB, MDM (Intune's device export) and spreadsheet lists give it.

Columns are found by header name, compared case-insensitively and ignoring spaces,
underscores and hyphens: device ``hostname``, ``host``, ``device``, ``computer``,
``computername``, ``device_name``, ``machine_name``, ``name``; MAC ``mac``,
``mac_address``, ``hardware_address``, ``ethernet``, ``Ethernet MAC``, ``Wi-Fi MAC``;
user ``user``, ``owner``, ``username``, ``assigned_to``, ``primary_user``, ``email``,
``upn``, ``Primary user UPN``, ``Primary user email address``, ``userPrincipalName``.
When several columns name a device or a user, the first non-blank one in that order
wins; every valid MAC of a row (Wi-Fi and Ethernet) gives an asset, so DHCP leases of
either interface find the owner. The delimiter is the header's (``;`` for European
Excel, ``,``, tab); ``#`` lines are comments.

Host names are normalised (lower case, no domain), MACs to ``aa:bb:cc:dd:ee:ff``; users
are kept as spelled. A device listed twice with different owners keeps both rows
(attribution reports the conflict). Rejected rows: no user, neither a device nor a MAC,
or no device and a MAC that does not read.
"""

from __future__ import annotations

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._tabular import (
    PARSED,
    SESSION_ALIASES,
    account,
    find_columns,
    head_header,
    missing_roles,
    read_table,
    row_frame,
)
from shadowscan.identity.base import (
    ASSET_SCHEMA,
    IdentityBatch,
    IdentityReader,
    normalise_device,
    normalise_mac,
)

#: Role -> header names (as :func:`~shadowscan.identity._tabular.column_key` writes them).
ALIASES: dict[str, tuple[str, ...]] = {
    "device": (
        "hostname",
        "host",
        "device",
        "computer",
        "computername",
        "devicename",
        "machinename",
        "name",
    ),
    "mac": (
        "mac",
        "macaddress",
        "hardwareaddress",
        "ethernet",
        "ethernetmac",
        "ethernetmacaddress",
        "wifimac",
        "wifimacaddress",
    ),
    "user": (
        "user",
        "owner",
        "username",
        "assignedto",
        "primaryuser",
        "email",
        "upn",
        "primaryuserupn",
        "primaryuseremailaddress",
        "userprincipalname",
    ),
}
#: Columns that make a CSV an event log or a session list rather than an inventory.
EVENT_COLUMNS = {"time": ("date", "time", "timestamp", "datetime", "eventid", "eventcode")}


@IDENTITY_READERS.register("asset_inventory")
class AssetInventoryReader(IdentityReader):
    name = "asset_inventory"
    kind = "asset"
    summary = "Asset inventory CSV (CMDB, MDM export): device host name and/or MAC -> owner"
    example = (
        "hostname,mac_address,owner,location\n"
        "LT-0142.corp.example,00:1A:2B:3C:4D:01,jdoe@corp.example,Paris"
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """A header naming a device or MAC column and a user column, and no time or
        session-start column."""
        header = head_header(head)
        columns = find_columns(header, ALIASES)
        if missing_roles(columns, ("device", "mac"), ("user",)):
            return 0.0
        sessions = find_columns(header, {"start": SESSION_ALIASES["start"]})
        return 0.3 if sessions or find_columns(header, EVENT_COLUMNS) else 0.9

    def read(self, lines: list[str]) -> IdentityBatch:
        table = read_table(lines)
        columns = find_columns(table.header, ALIASES)
        problem = missing_roles(columns, ("device", "mac"), ("user",))
        rows = row_frame(table, columns, list(ALIASES), problem, every=("mac",))
        macs = (
            pl.col("mac")
            .str.split("\n")
            .list.eval(normalise_mac(pl.element()))
            .list.drop_nulls()
            .list.unique(maintain_order=True)
        )
        device = normalise_device(pl.col("device"))
        fate = (
            pl.when(pl.col("_fate").is_not_null())
            .then(pl.col("_fate"))
            .when(pl.col("user").is_null())
            .then(pl.lit("missing user"))
            .when(device.is_null() & pl.col("mac").is_null())
            .then(pl.lit("missing device and MAC"))
            .when(device.is_null() & (macs.list.len() == 0))
            .then(pl.lit("bad MAC address"))
            .otherwise(pl.lit(PARSED))
        )
        judged = rows.with_columns(fate.alias("_fate"), device.alias("device"), macs.alias("_macs"))
        frame = (
            judged.filter(pl.col("_fate") == PARSED)
            .explode("_macs", empty_as_null=True, keep_nulls=True)
            .select(
                pl.col("device"),
                pl.col("_macs").alias("mac"),
                pl.col("user"),
                pl.lit(self.name).alias("source"),
                pl.lit(self.context.source_file).alias("source_file"),
                pl.col("_first").alias("line_no"),
            )
            .select([pl.col(c).cast(t) for c, t in ASSET_SCHEMA.items()])
        )
        parsed, ignored, rejected = account(judged, len(lines))
        return IdentityBatch(
            frame, lines=len(lines), parsed=parsed, ignored=ignored, rejected=rejected
        )
