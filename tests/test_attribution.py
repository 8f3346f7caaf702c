"""The as-of join against a naive reference, the precedence of methods, spellings that
are one person, and evidence from the logs themselves."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.attribution import Attributor, evidence_of, holder_key, merge_evidence
from shadowscan.identity.base import ASSET_SCHEMA, BINDING_SCHEMA

T0 = dt.datetime(2026, 11, 19, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def bindings(rows: list[tuple[str, float, float, str | None, str | None, str]]) -> pl.DataFrame:
    """(ip, start min, end min, user, mac, kind) rows in BINDING_SCHEMA."""
    return pl.DataFrame(
        [
            {
                "ip": ip,
                "start": at(s),
                "end": at(e),
                "user": user,
                "mac": mac,
                "device": None,
                "kind": kind,
                "source": "test",
                "source_file": "t",
                "line_no": i + 1,
            }
            for i, (ip, s, e, user, mac, kind) in enumerate(rows)
        ],
        schema=BINDING_SCHEMA,
    )


def assets(rows: list[tuple[str | None, str | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"device": d, "mac": m, "user": u, "source": "t", "source_file": "t", "line_no": 1}
            for d, m, u in rows
        ],
        schema=ASSET_SCHEMA,
    )


def attribute(att: Attributor, points: list[tuple[str | None, float]]) -> list[dict[str, object]]:
    frame = pl.DataFrame(
        {"ip": [p[0] for p in points], "ts": [at(p[1]) for p in points]},
        schema={"ip": pl.String, "ts": pl.Datetime("us", "UTC")},
    )
    return att.attribute_points(frame).to_dicts()


# --- against a naive reference ---------------------------------------------------------

IPS = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
USERS = ["jdoe", "CORP\\jdoe", "asmith", "bwong@corp.example"]
MACS = ["00:00:00:00:00:01", "00:00:00:00:00:02", "00:00:00:00:00:03"]
OWNERS = {MACS[0]: ["jdoe"], MACS[1]: ["asmith", "bwong"], MACS[2]: []}


def naive(sessions, leases, ip, ts):  # type: ignore[no-untyped-def]
    """Per event, straight from the definition: who covers [start, end) at ts."""
    users = {holder_key_py(u) for (i, s, n, u) in sessions if i == ip and s <= ts < s + n}
    if len(users) == 1:
        return "ip_session", users.pop()
    if len(users) > 1:
        return "ambiguous", None
    macs = {m for (i, s, n, m) in leases if i == ip and s <= ts < s + n}
    if len(macs) > 1:
        return "ambiguous", None
    if len(macs) == 1:
        owners = OWNERS[macs.pop()]
        if len(owners) == 1:
            return "ip_lease+asset", owners[0]
        if len(owners) > 1:
            return "ambiguous", None
    return "unattributed", None


def holder_key_py(user: str) -> str:
    return user.lower().rsplit("\\", 1)[-1].split("@", 1)[0]


@given(
    sessions=st.lists(
        st.tuples(
            st.sampled_from(IPS), st.integers(0, 100), st.integers(1, 60), st.sampled_from(USERS)
        ),
        max_size=8,
    ),
    leases=st.lists(
        st.tuples(
            st.sampled_from(IPS), st.integers(0, 100), st.integers(1, 60), st.sampled_from(MACS)
        ),
        max_size=8,
    ),
    events=st.lists(st.tuples(st.sampled_from(IPS), st.integers(0, 170)), min_size=1, max_size=20),
)
def test_vectorised_join_agrees_with_the_definition(sessions, leases, events) -> None:  # type: ignore[no-untyped-def]
    rows = [(i, s, s + n, u, None, "session") for (i, s, n, u) in sessions]
    rows += [(i, s, s + n, None, m, "lease") for (i, s, n, m) in leases]
    owners = [(None, mac, user) for mac, users in OWNERS.items() for user in users]
    att = Attributor(bindings(rows), assets(owners))
    got = attribute(att, [(ip, float(ts)) for ip, ts in events])
    for (ip, ts), row in zip(events, got, strict=True):
        method, user = naive(sessions, leases, ip, ts)
        assert row["attribution"] == method, (ip, ts, row)
        if method == "ip_session":
            assert holder_key_py(str(row["user"])) == user
        elif method == "ip_lease+asset":
            assert row["user"] == user
        else:
            assert row["user"] is None
        if method == "ambiguous":
            assert len(row["candidates"]) >= 2  # type: ignore[arg-type]


# --- rules -----------------------------------------------------------------------------


def test_session_beats_lease_and_an_expired_lease_is_not_used() -> None:
    att = Attributor(
        bindings(
            [
                ("10.0.0.1", 0, 60, None, MACS[0], "lease"),
                ("10.0.0.1", 30, 45, "asmith", None, "session"),
            ]
        ),
        assets([(None, MACS[0], "jdoe")]),
    )
    rows = attribute(att, [("10.0.0.1", 10), ("10.0.0.1", 30), ("10.0.0.1", 45), ("10.0.0.1", 60)])
    assert [(r["user"], r["attribution"]) for r in rows] == [
        ("jdoe", "ip_lease+asset"),
        ("asmith", "ip_session"),  # the session starts: [start, end)
        ("jdoe", "ip_lease+asset"),  # the session has ended
        (None, "unattributed"),  # the lease has expired
    ]
    assert rows[0]["device"] == MACS[0]


def test_one_device_with_two_owners_is_ambiguous_not_guessed() -> None:
    att = Attributor(
        bindings([("10.0.0.1", 0, 60, None, MACS[1], "lease")]),
        assets([(None, MACS[1], "asmith"), ("ws-1", MACS[1], "bwong")]),
    )
    (row,) = attribute(att, [("10.0.0.1", 5)])
    assert (row["user"], row["attribution"], row["candidates"]) == (
        None,
        "ambiguous",
        ["asmith", "bwong"],
    )


def test_lease_owner_found_by_host_name_when_the_mac_is_unknown() -> None:
    frame = bindings([("10.0.0.1", 0, 60, None, MACS[2], "lease")]).with_columns(
        pl.lit("lt-0142").alias("device")
    )
    att = Attributor(frame, assets([("lt-0142", None, "jdoe")]))
    (row,) = attribute(att, [("10.0.0.1", 5)])
    assert (row["user"], row["attribution"], row["device"]) == ("jdoe", "ip_lease+asset", "lt-0142")


def test_spellings_of_one_person_are_not_a_conflict() -> None:
    att = Attributor(
        bindings(
            [
                ("10.0.0.1", 0, 60, "CORP\\jdoe", None, "session"),
                ("10.0.0.1", 10, 50, "jdoe@corp.example", None, "session"),
                ("10.0.0.1", 20, 30, "JDoe", None, "session"),
            ]
        ),
        assets([]),
    )
    rows = attribute(att, [("10.0.0.1", 25), ("10.0.0.1", 55)])
    assert [r["attribution"] for r in rows] == ["ip_session", "ip_session"]
    assert rows[0]["user"] == rows[1]["user"]


def test_conflicts_report_lists_who_claimed_what_when() -> None:
    att = Attributor(
        bindings(
            [
                ("10.0.0.8", 0, 480, "jdoe", None, "session"),
                ("10.0.0.8", 30, 510, "bwong", None, "session"),
            ]
        ),
        assets([]),
    )
    att.prepare()
    report = att.conflicts_report()
    assert report.select("ip", "from", "until", "holders", "kind").to_dicts() == [
        {
            "ip": "10.0.0.8",
            "from": at(30),
            "until": at(480),
            "holders": ["bwong", "jdoe"],
            "kind": "session",
        }
    ]


# --- evidence from the logs ------------------------------------------------------------


def test_logged_users_attribute_their_address_within_the_window() -> None:
    events = pl.DataFrame(
        {
            "src_ip": ["10.0.0.9", "10.0.0.9", "10.0.0.7"],
            "user": ["jdoe", "jdoe", None],
            "ts": [at(60), at(62), at(60)],
        }
    )
    window = dt.timedelta(minutes=15)
    att = Attributor(bindings([]), assets([]), evidence_window=window)
    att.prepare(evidence_of(events, window))
    rows = attribute(
        att,
        [("10.0.0.9", 44), ("10.0.0.9", 46), ("10.0.0.9", 76), ("10.0.0.9", 78), ("10.0.0.7", 60)],
    )
    assert [r["attribution"] for r in rows] == [
        "unattributed",
        "ip_session",
        "ip_session",
        "unattributed",
        "unattributed",
    ]


@given(
    st.lists(
        st.tuples(st.sampled_from(IPS), st.sampled_from(USERS), st.integers(0, 10_000)),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 5),
)
def test_evidence_merges_in_any_order(sightings, parts) -> None:  # type: ignore[no-untyped-def]
    """Per-batch evidence folds to the same thing however the batches were cut."""
    frame = pl.DataFrame(
        {
            "src_ip": [s[0] for s in sightings],
            "user": [s[1] for s in sightings],
            "ts": [at(s[2]) for s in sightings],
        },
        schema={"src_ip": pl.String, "user": pl.String, "ts": pl.Datetime("us", "UTC")},
    )
    whole = evidence_of(frame).sort(pl.all())
    size = -(-frame.height // parts)
    pieces = [evidence_of(frame.slice(i, size)) for i in range(0, frame.height, size)]
    assert merge_evidence(pieces[::-1]).sort(pl.all()).equals(whole)


def test_holder_key_ignores_domain_and_case() -> None:
    frame = pl.DataFrame({"u": ["CORP\\JDoe", "jdoe@CORP.EXAMPLE", "corp.example\\jdoe", "jdoe"]})
    assert frame.select(holder_key(pl.col("u"))).to_series().unique().to_list() == ["jdoe"]
