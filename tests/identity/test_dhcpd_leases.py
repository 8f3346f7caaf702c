"""ISC dhcpd.leases: appended blocks become one binding per client and address, rejected
blocks are accounted line by line, other declarations are ignored."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.identity import IDENTITY_READERS
from tests.identity.helpers import (
    any_lines,
    assert_claims_only_own_samples,
    check_accounting,
    read,
    sample_lines,
)

NAME = "dhcpd_leases"
SAMPLE = sample_lines(NAME, "dhcpd.leases")
UTC = dt.UTC


def block(ip: str, *body: str) -> list[str]:
    return [f"lease {ip} {{", *(f"  {line}" for line in body), "}"]


def rows(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    return list(frame.select("ip", "start", "end", "mac", "device").iter_rows())


def test_renewal_release_and_next_client_make_two_bindings() -> None:
    lines = [
        *block(
            "10.0.0.5",
            "starts 4 2026/11/19 08:00:00;",
            "ends 4 2026/11/19 20:00:00;",
            "binding state active;",
            "hardware ethernet 00:1a:2b:3c:4d:5e;",
            'client-hostname "LAPTOP-JDOE";',
        ),
        *block(
            "10.0.0.5",
            "starts 4 2026/11/19 14:00:00;",
            "ends 5 2026/11/20 02:00:00;",
            "binding state active;",
            "hardware ethernet 00:1a:2b:3c:4d:5e;",
        ),
        *block(
            "10.0.0.5",
            "starts 4 2026/11/19 14:00:00;",
            "ends 4 2026/11/19 17:30:00;",
            "binding state released;",
            "hardware ethernet 00:1a:2b:3c:4d:5e;",
        ),
        *block(
            "10.0.0.5",
            "starts 4 2026/11/19 18:00:00;",
            "ends 5 2026/11/20 06:00:00;",
            "binding state active;",
            "hardware ethernet 00:1a:2b:99:88:77;",
        ),
    ]
    batch = read(NAME, lines)
    assert rows(batch.frame) == [
        (
            "10.0.0.5",
            dt.datetime(2026, 11, 19, 8, tzinfo=UTC),
            dt.datetime(2026, 11, 19, 17, 30, tzinfo=UTC),
            "00:1a:2b:3c:4d:5e",
            "laptop-jdoe",
        ),
        (
            "10.0.0.5",
            dt.datetime(2026, 11, 19, 18, tzinfo=UTC),
            dt.datetime(2026, 11, 20, 6, tzinfo=UTC),
            "00:1a:2b:99:88:77",
            None,
        ),
    ]
    assert (batch.parsed, batch.ignored, batch.rejected.height) == (len(lines), 0, 0)
    assert batch.frame["line_no"].to_list() == [1, 20]


def test_later_client_cuts_an_earlier_lease_still_running() -> None:
    lines = [
        *block(
            "10.0.0.5",
            "starts 4 2026/11/19 08:00:00;",
            "ends 4 2026/11/19 20:00:00;",
            "hardware ethernet 00:1a:2b:3c:4d:5e;",
        ),
        *block(
            "10.0.0.5",
            "starts 4 2026/11/19 09:00:00;",
            "ends 4 2026/11/19 21:00:00;",
            "hardware ethernet 00:1a:2b:3c:4d:5f;",
        ),
    ]
    ends = read(NAME, lines).frame["end"].to_list()
    assert ends == [
        dt.datetime(2026, 11, 19, 9, tzinfo=UTC),
        dt.datetime(2026, 11, 19, 21, tzinfo=UTC),
    ]


def test_epoch_times_comments_and_ends_never() -> None:
    lines = [
        "# db-time-format local",
        *block(
            "10.0.1.10",
            "starts epoch 1795075200; # Thu Nov 19 09:00:00 2026",
            "ends never;",
            "binding state active;",
            "hardware ethernet 0:1a:2b:3:4d:60;",
        ),
    ]
    batch = read(NAME, lines)
    assert rows(batch.frame) == [
        (
            "10.0.1.10",
            dt.datetime(2026, 11, 19, 8, tzinfo=UTC),
            dt.datetime(2026, 11, 19, 20, tzinfo=UTC),  # + the default 12 h
            "00:1a:2b:03:4d:60",
            None,
        )
    ]
    assert (batch.parsed, batch.ignored) == (6, 1)


def test_a_bad_block_rejects_every_line_of_it() -> None:
    bad_time = block(
        "10.0.1.15", "starts 4 2026/11/31 08:00:00;", "hardware ethernet 00:1a:2b:3c:4d:63;"
    )
    no_starts = block("10.0.1.16", "ends epoch 1795118400;", "hardware ethernet 00:1a:2b:3c:4d:64;")
    bad_ip = block("10.0.1.300", "starts epoch 1795075200;", "hardware ethernet 00:1a:2b:3c:4d:65;")
    bad_mac = block("10.0.1.17", "starts epoch 1795075200;", "hardware ethernet 00:1a:2b;")
    backwards = block(
        "10.0.1.18",
        "starts epoch 1795075200;",
        "ends epoch 1795070000;",
        "hardware ethernet 00:1a:2b:3c:4d:66;",
    )
    batch = read(NAME, [*bad_time, *no_starts, *bad_ip, *bad_mac, *backwards])
    reasons = batch.rejected.sort("line_no")["reason"].to_list()
    assert reasons == [
        *["bad timestamp"] * 4,
        *["missing starts"] * 4,
        *["bad address"] * 4,
        *["bad MAC"] * 4,
        *["ends before starts"] * 5,
    ]
    assert batch.frame.is_empty()
    assert batch.parsed == batch.ignored == 0


def test_a_missing_brace_spoils_only_its_own_block() -> None:
    lines = [
        "lease 10.0.0.5 {",
        "  starts epoch 1795075200;",
        "  hardware ethernet 00:1a:2b:3c:4d:5e;",
        *block("10.0.0.6", "starts epoch 1795075200;", "hardware ethernet 00:1a:2b:3c:4d:5f;"),
        "}",
        *block("10.0.0.7", "starts epoch 1795075200;", "hardware ethernet 00:1a:2b:3c:4d:60;"),
    ]
    batch = read(NAME, lines)
    assert batch.frame["ip"].to_list() == ["10.0.0.6", "10.0.0.7"]
    rejected = batch.rejected.sort("line_no")
    assert rejected["line_no"].to_list() == [1, 2, 3, 8]
    assert rejected["reason"].to_list() == [
        *["unterminated block"] * 3,
        "malformed line",  # the stray '}' at top level
    ]


def test_quoted_braces_and_hashes_do_not_confuse_blocks() -> None:
    lines = block(
        "10.0.0.5",
        "starts epoch 1795075200;",
        "hardware ethernet 00:1a:2b:3c:4d:5e;",
        'uid "\\001}{#x";',
        'client-hostname "desk{7}";',
    )
    batch = read(NAME, lines)
    assert batch.frame["device"].to_list() == ["desk{7}"]
    assert batch.parsed == len(lines)


def test_abandoned_backup_hardwareless_and_other_declarations_are_ignored() -> None:
    lines = [
        "authoring-byte-order little-endian;",
        'server-duid "\\000\\001";',
        'failover peer "dhcp-failover" state {',
        "  my state normal at 4 2026/11/19 07:55:02;",
        "}",
        *block(
            "10.0.0.8",
            "starts epoch 1795075200;",
            "binding state abandoned;",
            "hardware ethernet 00:1a:2b:3c:4d:5e;",
        ),
        *block("10.0.0.9", "starts epoch 1795075200;", "binding state backup;"),
        *block("10.0.0.10", "starts epoch 1795075200;", "binding state free;"),
        'ia-na "\\001\\000" {',
        "  iaaddr 2001:db8::5 {",
        "    binding state active;",
        "  }",
        "}",
    ]
    batch = read(NAME, lines)
    assert batch.frame.is_empty()
    assert (batch.ignored, batch.rejected.height) == (len(lines), 0)


#: What a near miss of a lease file puts in: the characters its block syntax turns on.
SYNTAX = st.sampled_from(["", "{", "}", ";", "#", '"', "x"])


@given(any_lines(SAMPLE, max_size=60, insert=SYNTAX))
def test_every_line_is_accounted_for(lines: list[str]) -> None:
    batch = check_accounting(NAME, lines)
    assert (batch.frame["end"] > batch.frame["start"]).all()


def test_sniff_claims_only_lease_files() -> None:
    assert_claims_only_own_samples(IDENTITY_READERS.get(NAME), NAME)
