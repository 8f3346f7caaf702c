"""OpenVPN server status file (``--status``, versions 1, 2 and 3): who held which virtual
address when the file was written.

``CLIENT_LIST,jdoe,203.0.113.7:51234,10.8.0.6,,1234,5678,2026-11-19 08:00:00,1795075200,UNDEF,3,0,AES-256-GCM``

- **Version 1**: ``OpenVPN CLIENT LIST`` / ``Updated,<time>`` / ``Common Name,Real
  Address,Bytes Received,Bytes Sent,Connected Since`` rows / ``ROUTING TABLE`` /
  ``Virtual Address,Common Name,Real Address,Last Ref`` rows / ``GLOBAL STATS`` / ``END``.
  Client rows carry no address: the routing table, joined on common name and real
  address, gives it.
- **Version 2** (comma) and **3** (tab): ``TITLE``, ``TIME,<time>,<epoch>``,
  ``HEADER,...`` lines naming the columns (read from the file, so the older layout
  without ``Virtual IPv6 Address`` works too), ``CLIENT_LIST`` and ``ROUTING_TABLE`` rows,
  ``GLOBAL_STATS``, ``END``.

A client holds each of its addresses (``Virtual Address``, ``Virtual IPv6 Address`` and
its routing-table host addresses; learned subnets, MAC addresses and cached routes to
hosts behind the client, flagged ``C``, are ignored) from ``Connected Since`` until the snapshot time
(``Updated``/``TIME``) or the route's ``Last Ref``, whichever is later: the session is
known to be live then, and nothing is claimed after it. The user is the client's
``Username`` when it has one, else its common name (``UNDEF``, a client still
authenticating, holds nothing). Text times are local (``--timezone``); the epoch columns
of versions 2 and 3 are preferred. Several snapshots in one file (appended copies) give
one binding per session, ending at its last snapshot.

Rejected: rows too short or with a bad time or address, a client connected after its
snapshot, a route whose client is not listed, and unrecognised lines.
"""

from __future__ import annotations

import polars as pl

from shadowscan.identity import IDENTITY_READERS
from shadowscan.identity._vpn import (
    NOT_A_HOST,
    address,
    clean_user,
    lines_frame,
    openvpn_ts,
    tally,
)
from shadowscan.identity.base import BINDING_SCHEMA, IdentityBatch, IdentityReader
from shadowscan.parsers.common import epoch_ts, split_item

#: ``CLIENT_LIST`` columns (0-based, the row's first column being ``CLIENT_LIST``) when the
#: file has no ``HEADER,CLIENT_LIST`` line: the layout of OpenVPN 2.4 and later.
_V2_CLIENT_COLUMNS = {
    "Common Name": 1,
    "Real Address": 2,
    "Virtual Address": 3,
    "Virtual IPv6 Address": 4,
    "Connected Since": 7,
    "Connected Since (time_t)": 8,
    "Username": 9,
}
#: Lines that only frame the data (compared after trimming).
_V1_MARKERS = ("OpenVPN CLIENT LIST", "ROUTING TABLE", "GLOBAL STATS", "END")
_V1_CLIENT_HEADER = "Common Name,Real Address"
_V1_ROUTE_HEADER = "Virtual Address,Common Name"
_V2_FRAME = ("TITLE", "HEADER", "GLOBAL_STATS", "END")


def _v2_client_columns(fields: pl.DataFrame) -> dict[str, int]:
    """Column positions from the first ``HEADER,CLIENT_LIST`` line (shifted by one: the
    header line starts with ``HEADER``), else :data:`_V2_CLIENT_COLUMNS`."""
    header = fields.filter(
        (pl.col("_f").list.get(0, null_on_oob=True) == "HEADER")
        & (pl.col("_f").list.get(1, null_on_oob=True) == "CLIENT_LIST")
    )
    if header.is_empty():
        return _V2_CLIENT_COLUMNS
    names = [str(name).strip() for name in header["_f"][0]]
    return {name: names.index(name) - 1 for name in _V2_CLIENT_COLUMNS if name in names}


def _item(columns: dict[str, int], name: str) -> pl.Expr:
    """A v2 client column by name; null when the layout has no such column."""
    if name not in columns:
        return pl.lit(None, pl.String)
    return split_item(columns[name])


def _time(text: pl.Expr, epoch: pl.Expr, tz: str) -> pl.Expr:
    """The epoch column when it holds digits, else the local text time."""
    return pl.coalesce(
        epoch_ts(pl.when(epoch.str.contains(r"^\d{9,11}$")).then(epoch)), openvpn_ts(text, tz)
    )


@IDENTITY_READERS.register("openvpn_status")
class OpenVpnStatusReader(IdentityReader):
    name = "openvpn_status"
    kind = "session"
    summary = (
        "OpenVPN status file (versions 1-3): each connected client's virtual address from "
        "Connected Since until the snapshot time."
    )
    example = (
        "TITLE,OpenVPN 2.6.12 x86_64-pc-linux-gnu\n"
        "TIME,2026-11-19 09:00:00,1795078800\n"
        "HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Virtual IPv6 Address,...\n"
        "CLIENT_LIST,jdoe,203.0.113.7:51234,10.8.0.6,,1234,5678,2026-11-19 08:00:00,"
        "1795075200,UNDEF,3,0,AES-256-GCM"
    )

    @classmethod
    def sniff(cls, head: list[str]) -> float:
        """The version 1 title, or version 2/3 ``TITLE,OpenVPN`` / ``HEADER,CLIENT_LIST``
        lines; ``CLIENT_LIST`` rows alone are a weaker sign."""
        for line in head:
            text = line.strip().replace("\t", ",")
            if text == "OpenVPN CLIENT LIST" or text.startswith(
                ("TITLE,OpenVPN", "HEADER,CLIENT_LIST,")
            ):
                return 0.95
        return (
            0.7 if any(line.startswith(("CLIENT_LIST,", "CLIENT_LIST\t")) for line in head) else 0.0
        )

    def read(self, lines: list[str]) -> IdentityBatch:
        c = pl.col
        tz = self.context.timezone
        f = lines_frame(lines).with_columns(
            pl.when(c("line").str.contains("\t"))
            .then(c("line").str.split("\t"))
            .otherwise(c("line").str.split(","))
            .alias("_f"),
            c("line").str.strip_chars().alias("_text"),
        )
        columns = _v2_client_columns(f)
        text, first, n = c("_text"), split_item(0), c("_f").list.len()
        snapshot = first.is_in(["Updated", "TIME"]).fill_null(False)
        v1_client_header = text.str.starts_with(_V1_CLIENT_HEADER)
        v1_route_header = text.str.starts_with(_V1_ROUTE_HEADER)
        framing = (
            text.is_in(list(_V1_MARKERS))
            | v1_client_header
            | v1_route_header
            | first.is_in(list(_V2_FRAME)).fill_null(False)
        )
        # Version 1 rows belong to the section the last marker opened.
        section = (
            pl.when((text == "OpenVPN CLIENT LIST") | v1_client_header)
            .then(pl.lit("clients"))
            .when((text == "ROUTING TABLE") | v1_route_header)
            .then(pl.lit("routes"))
            .when(text == "GLOBAL STATS")
            .then(pl.lit("stats"))
            .when(framing | snapshot)
            .then(pl.lit("none"))
        )
        f = f.with_columns(
            snapshot.cum_sum().alias("snap"),
            pl.when(first == "TIME")
            .then(_time(split_item(1), split_item(2), tz))
            .when(first == "Updated")
            .then(openvpn_ts(split_item(1), tz))
            .alias("_snap_time"),
            section.forward_fill().alias("_section"),
        ).with_columns(c("_snap_time").drop_nulls().first().over("snap").alias("snap_ts"))
        data = ~framing & ~snapshot & (text != "")
        v2_client = first == "CLIENT_LIST"
        v2_route = first == "ROUTING_TABLE"
        v1_client = data & (c("_section") == "clients") & ~v2_client & ~v2_route
        v1_route = data & (c("_section") == "routes") & ~v2_client & ~v2_route
        stats = data & (c("_section") == "stats")
        f = f.with_columns(
            (v1_client | v2_client).fill_null(False).alias("_client"),
            (v1_route | v2_route).fill_null(False).alias("_route"),
            pl.when(v1_client)
            .then(split_item(0))
            .when(v1_route)
            .then(split_item(1))
            .when(v2_client)
            .then(_item(columns, "Common Name"))
            .when(v2_route)
            .then(split_item(2))
            .alias("cn"),
            pl.when(v1_client)
            .then(split_item(1))
            .when(v1_route)
            .then(split_item(2))
            .when(v2_client)
            .then(_item(columns, "Real Address"))
            .when(v2_route)
            .then(split_item(3))
            .alias("real"),
            pl.when(v2_client)
            .then(_item(columns, "Virtual Address"))
            .when(v1_route)
            .then(split_item(0))
            .when(v2_route)
            .then(split_item(1))
            .alias("virt"),
            pl.when(v2_client).then(_item(columns, "Virtual IPv6 Address")).alias("virt6"),
            pl.when(v2_client).then(_item(columns, "Username")).alias("username"),
            pl.when(v1_client)
            .then(openvpn_ts(split_item(4), tz))
            .when(v2_client)
            .then(
                _time(
                    _item(columns, "Connected Since"),
                    _item(columns, "Connected Since (time_t)"),
                    tz,
                )
            )
            .alias("since"),
            pl.when(v1_route)
            .then(split_item(3))
            .when(v2_route)
            .then(pl.coalesce(split_item(4), split_item(5)))
            .alias("_last_ref_text"),
            pl.when(v1_route)
            .then(openvpn_ts(split_item(3), tz))
            .when(v2_route)
            .then(_time(split_item(4), split_item(5), tz))
            .alias("last_ref"),
            pl.when(v1_client)
            .then(n < 5)
            .when(v2_client)
            .then(n <= max(columns.values(), default=0))
            .when(v1_route)
            .then(n < 3)
            .when(v2_route)
            .then(n < 4)
            .otherwise(False)
            .alias("_short"),
            stats.fill_null(False).alias("_stats"),
        )
        virt = c("virt")
        ip, bad_ip = address(pl.when(~virt.str.contains(NOT_A_HOST)).then(virt))
        ip6, bad_ip6 = address(c("virt6"))
        row = c("_client") | c("_route")
        f = f.with_columns(
            ip.alias("ip"),
            ip6.alias("ip6"),
            pl.coalesce(clean_user(c("username")), clean_user(c("cn"))).alias("user"),
            pl.when(row & c("_short"))
            .then(pl.lit("missing fields"))
            .when(c("_client") & c("since").is_null())
            .then(pl.lit("bad timestamp"))
            .when(c("_route") & c("_last_ref_text").is_not_null() & c("last_ref").is_null())
            .then(pl.lit("bad timestamp"))
            .when(row & (bad_ip | bad_ip6).fill_null(False))
            .then(pl.lit("bad address"))
            .when(row & c("snap_ts").is_null())
            .then(pl.lit("no snapshot time"))
            .when(c("_client") & (c("since") > c("snap_ts")))
            .then(pl.lit("connected after snapshot"))
            .when(snapshot & c("_snap_time").is_null())
            .then(pl.lit("bad timestamp"))
            .when(data & ~row & ~c("_stats"))
            .then(pl.lit("unrecognised line"))
            .alias("reason"),
        )
        # A route belongs to the client row with its common name and real address in the
        # same snapshot; a route with no such row at all is rejected.
        listed = f.filter(c("_client")).select("snap", "cn", "real").unique()
        orphans = (
            f.filter(c("_route") & c("reason").is_null() & c("ip").is_not_null())
            .join(listed, on=["snap", "cn", "real"], how="anti", nulls_equal=True)
            .get_column("line_no")
        )
        f = f.with_columns(
            pl.when(c("line_no").is_in(orphans.implode()))
            .then(pl.lit("route without client"))
            .otherwise(c("reason"))
            .alias("reason")
        )
        clients = f.filter(c("_client") & c("reason").is_null() & c("user").is_not_null()).select(
            "line_no", "snap", "cn", "real", "user", "since", "snap_ts", "ip", "ip6"
        )
        routes = f.filter(c("_route") & c("reason").is_null() & c("ip").is_not_null()).select(
            "snap",
            "cn",
            "real",
            c("ip").alias("route_ip"),
            "last_ref",
            c("line_no").alias("route_line"),
        )
        routed = clients.join(routes, on=["snap", "cn", "real"], nulls_equal=True)
        found = pl.concat(
            [
                clients.select("ip", "since", c("snap_ts").alias("end"), "user", "line_no"),
                clients.select(
                    c("ip6").alias("ip"), "since", c("snap_ts").alias("end"), "user", "line_no"
                ),
                routed.select(
                    c("route_ip").alias("ip"),
                    "since",
                    pl.max_horizontal("snap_ts", "last_ref").alias("end"),
                    "user",
                    "line_no",
                ),
            ]
        ).filter(c("ip").is_not_null())
        used = f["line_no"].is_in(pl.concat([found["line_no"], routed["route_line"]]).implode())
        bindings = (
            found.group_by("ip", "user", "since")
            .agg(c("end").max(), c("line_no").min())
            .select(
                "ip",
                c("since").alias("start"),
                "end",
                "user",
                pl.lit(None, pl.String).alias("mac"),
                pl.lit(None, pl.String).alias("device"),
                pl.lit("session").alias("kind"),
                pl.lit(self.name).alias("source"),
                pl.lit(self.context.source_file).alias("source_file"),
                "line_no",
            )
            .select([c(k).cast(t) for k, t in BINDING_SCHEMA.items()])
            .sort("ip", "start", "user")
        )
        return tally(f.select("line_no", "reason"), used, bindings)
