"""Keyed pseudonymisation: tokens, key files, frames and re-identification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.errors import UnknownNameError, UsageError
from shadowscan.pseudonymize import Pseudonymizer, generate_key, load_key

KEY = b"5f0c1e9a7d3b28c4e6a1f09b7d2c3e4a8b6d5f1e0c9a7b3d2e4f6a8c0b1d3e5f"
OTHER_KEY = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
TOKEN_RE = re.compile(r"^(u|ip|d)-[a-z2-7]{16}$")


def write_key(path: Path, data: bytes, mode: int = 0o600) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


def expected_token(key: bytes, message: str, prefix: str) -> str:
    """The token computed straight from the specification, independently of the module."""
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return prefix + "-" + base64.b32encode(digest[:10]).decode().lower()


@pytest.fixture
def pseudo() -> Pseudonymizer:
    return Pseudonymizer(KEY)


# --- tokens -------------------------------------------------------------------------------


def test_token_follows_the_specification(pseudo: Pseudonymizer) -> None:
    assert pseudo.token("jdoe") == expected_token(KEY, "user\0jdoe", "u")
    assert pseudo.token("10.20.1.15", "ip") == expected_token(KEY, "ip\x0010.20.1.15", "ip")
    assert pseudo.token("ws-0142", "device") == expected_token(KEY, "device\0ws-0142", "d")


def test_tokens_are_deterministic(pseudo: Pseudonymizer) -> None:
    assert pseudo.token("jdoe") == pseudo.token("jdoe") == Pseudonymizer(KEY).token("jdoe")


def test_different_key_gives_different_token(pseudo: Pseudonymizer) -> None:
    assert pseudo.token("jdoe") != Pseudonymizer(OTHER_KEY).token("jdoe")


def test_different_kind_gives_different_token(pseudo: Pseudonymizer) -> None:
    user, device, address = (pseudo.token("10.0.0.1", k) for k in ("user", "device", "ip"))
    assert len({user[-16:], device[-16:], address[-16:]}) == 3


def test_users_are_case_and_space_insensitive(pseudo: Pseudonymizer) -> None:
    assert pseudo.token("JDoe") == pseudo.token(" jdoe\t") == pseudo.token("jdoe")
    assert pseudo.token("jdoe") != pseudo.token("jdoe2")


def test_addresses_are_canonicalised(pseudo: Pseudonymizer) -> None:
    assert pseudo.token("2001:DB8:0:0::1", "ip") == pseudo.token("2001:db8::1", "ip")
    assert pseudo.token(" 10.0.0.1 ", "ip") == pseudo.token("10.0.0.1", "ip")
    # Not an address: still tokenised, as stripped lower-case text.
    assert pseudo.token("Proxy-01", "ip") == expected_token(KEY, "ip\0proxy-01", "ip")


def test_unknown_kind_is_refused(pseudo: Pseudonymizer) -> None:
    with pytest.raises(
        UnknownNameError, match=r"unknown pseudonym kind 'email' \(known: device, ip, user\)"
    ):
        pseudo.token("jdoe", "email")


def test_short_key_is_refused_by_the_constructor() -> None:
    with pytest.raises(UsageError, match="at least 32 bytes"):
        Pseudonymizer(b"x" * 31)


@given(value=st.text(), kind=st.sampled_from(["user", "ip", "device"]))
def test_token_format(value: str, kind: str) -> None:
    assert TOKEN_RE.match(Pseudonymizer(KEY).token(value, kind))


# --- key files ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_private_key_file_is_accepted(tmp_path: Path, mode: int) -> None:
    path = write_key(tmp_path / "key", b"  " + KEY + b"\n\n", mode)
    assert load_key(path) == KEY


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_key_file_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_key(tmp_path / "key", KEY, mode)
    with pytest.raises(UsageError) as caught:
        load_key(path)
    message = str(caught.value)
    assert f"key file {path} is accessible by group or others (mode {mode:04o})" in message
    assert f"chmod 600 {path}" in message


def test_key_file_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_key(tmp_path / "key", KEY)
    me = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: me + 1)
    with pytest.raises(UsageError, match=f"key file {re.escape(str(path))} is owned by uid {me}"):
        load_key(path)


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "is empty"), (b" \n\t\n", "is empty"), (KEY[:31] + b"\n", "holds 31 bytes")],
)
def test_empty_or_short_key_is_refused(tmp_path: Path, data: bytes, reason: str) -> None:
    path = write_key(tmp_path / "key", data)
    with pytest.raises(UsageError) as caught:
        load_key(path)
    assert reason in str(caught.value)
    assert f"shadowscan keygen {path}" in str(caught.value)


def test_missing_key_file_says_how_to_create_one(tmp_path: Path) -> None:
    path = tmp_path / "nope"
    with pytest.raises(
        UsageError,
        match=f"does not exist: create one with `shadowscan keygen {re.escape(str(path))}`",
    ):
        load_key(path)


def test_directory_and_oversized_files_are_refused(tmp_path: Path) -> None:
    directory = tmp_path / "dir"
    directory.mkdir(mode=0o700)
    with pytest.raises(UsageError, match="is not a regular file"):
        load_key(directory)
    big = write_key(tmp_path / "big", KEY * 100)
    with pytest.raises(UsageError, match="too large"):
        load_key(big)


@pytest.mark.parametrize("umask", [0, 0o022, 0o277])
def test_generate_key_creates_a_private_hex_key(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "shadowscan.key"
    old_umask = os.umask(umask)  # the mode must not depend on the umask
    try:
        generate_key(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(rb"[0-9a-f]{64}\n", path.read_bytes())
    key = load_key(path)
    assert len(key) == 64
    generate_key(tmp_path / "second.key")
    assert load_key(tmp_path / "second.key") != key


def test_generate_key_never_overwrites(tmp_path: Path) -> None:
    path = write_key(tmp_path / "key", KEY)
    with pytest.raises(UsageError, match="already exists: refusing to overwrite it"):
        generate_key(path)
    assert path.read_bytes() == KEY


def test_generate_key_into_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot create key file"):
        generate_key(tmp_path / "missing" / "key")


def test_the_key_never_shows(tmp_path: Path, pseudo: Pseudonymizer) -> None:
    texts = [repr(pseudo), str(pseudo)]

    def collect(call: Callable[[], object]) -> None:
        with pytest.raises(UsageError) as caught:
            call()
        texts.extend([str(caught.value), repr(caught.value)])

    collect(lambda: load_key(write_key(tmp_path / "open", KEY, 0o644)))
    collect(lambda: load_key(write_key(tmp_path / "short", KEY[:20])))
    collect(lambda: Pseudonymizer(KEY[:20]))
    collect(lambda: generate_key(write_key(tmp_path / "exists", KEY)))
    collect(lambda: pseudo.token("jdoe", "email"))
    collect(lambda: pseudo.reidentify("u-notatoken", ["jdoe"]))
    collect(lambda: pseudo.apply(pl.DataFrame({"a": ["x"]}), {"user": "user"}))
    assert len(texts) == 16
    for text in texts:
        assert KEY.decode() not in text
        assert KEY[:20].decode() not in text
    assert "key_id=" in repr(pseudo)
    assert not hasattr(pseudo, "__dict__")


def test_key_id_is_a_stable_fingerprint(pseudo: Pseudonymizer) -> None:
    assert pseudo.key_id == Pseudonymizer(KEY).key_id
    assert pseudo.key_id != Pseudonymizer(OTHER_KEY).key_id
    assert re.fullmatch(r"[0-9a-f]{12}", pseudo.key_id)


# --- frames -------------------------------------------------------------------------------


def test_apply_replaces_string_and_list_columns(pseudo: Pseudonymizer) -> None:
    frame = pl.DataFrame(
        {
            "user": ["jdoe", None, "JDoe", "asmith"],
            "src_ips": [["10.0.0.1", None], None, [], ["10.0.0.2", "10.0.0.1"]],
            "department": ["Finance", "Finance", None, "Legal"],
            "requests": [3, 1, 4, 1],
        },
        schema={
            "user": pl.String,
            "src_ips": pl.List(pl.String),
            "department": pl.String,
            "requests": pl.UInt64,
        },
    )
    out = pseudo.apply(frame, {"user": "user", "src_ips": "ip"})
    assert out.schema == frame.schema
    t = pseudo.token

    def ip(value: str) -> str:
        return pseudo.token(value, "ip")

    assert out["user"].to_list() == [t("jdoe"), None, t("jdoe"), t("asmith")]
    assert out["src_ips"].to_list() == [
        [ip("10.0.0.1"), None],
        None,
        [],
        [ip("10.0.0.2"), ip("10.0.0.1")],
    ]
    assert out.select("department", "requests").equals(frame.select("department", "requests"))
    assert frame["user"][0] == "jdoe"  # the input frame is left alone


def test_apply_leaves_empty_and_all_null_columns(pseudo: Pseudonymizer) -> None:
    frame = pl.DataFrame(
        {"user": [None, None], "device": [None, None], "src_ips": [[], None]},
        schema={"user": pl.String, "device": pl.Null, "src_ips": pl.List(pl.String)},
    )
    out = pseudo.apply(frame, {"user": "user", "device": "device", "src_ips": "ip"})
    assert out.equals(frame)
    assert pseudo.apply(frame.clear(), {"user": "user"}).equals(frame.clear())


def test_apply_refuses_missing_columns_and_other_types(pseudo: Pseudonymizer) -> None:
    frame = pl.DataFrame({"user": ["jdoe"], "requests": [1]})
    with pytest.raises(UsageError, match=r"no such column \(columns: user, requests\)"):
        pseudo.apply(frame, {"usr": "user"})
    with pytest.raises(UsageError, match="column 'requests' of type Int64"):
        pseudo.apply(frame, {"requests": "user"})
    with pytest.raises(UnknownNameError, match="unknown pseudonym kind 'mail'"):
        pseudo.apply(frame, {"user": "mail"})


@given(
    users=st.lists(st.one_of(st.none(), st.text())),
    lists=st.lists(st.one_of(st.none(), st.lists(st.one_of(st.none(), st.text()), max_size=4))),
    kind=st.sampled_from(["user", "ip", "device"]),
)
def test_apply_equals_token_per_value(
    users: list[str | None], lists: list[list[str | None] | None], kind: str
) -> None:
    pseudo = Pseudonymizer(KEY)
    size = min(len(users), len(lists))
    frame = pl.DataFrame(
        {"one": users[:size], "many": lists[:size]},
        schema={"one": pl.String, "many": pl.List(pl.String)},
    )
    out = pseudo.apply(frame, {"one": kind, "many": kind})

    def tok(value: str | None) -> str | None:
        return None if value is None else pseudo.token(value, kind)

    assert out["one"].to_list() == [tok(v) for v in users[:size]]
    assert out["many"].to_list() == [
        None if row is None else [tok(v) for v in row] for row in lists[:size]
    ]


# --- re-identification --------------------------------------------------------------------


def test_reidentify_round_trip(pseudo: Pseudonymizer) -> None:
    directory = ["asmith", "jdoe", "JDoe", "mmueller", "jdoe"]
    token = pseudo.apply(pl.DataFrame({"user": ["jdoe"]}), {"user": "user"})["user"][0]
    assert pseudo.reidentify(token, directory) == ["jdoe", "JDoe"]
    assert pseudo.reidentify(token.upper() + "\n", directory, kind="user") == ["jdoe", "JDoe"]
    address = pseudo.token("2001:db8::7", "ip")
    assert pseudo.reidentify(address, ["10.0.0.1", "2001:DB8::7"]) == ["2001:DB8::7"]
    device = pseudo.token("WS-0142", "device")
    assert pseudo.reidentify(device, ["ws-0141", "ws-0142"]) == ["ws-0142"]


def test_reidentify_without_the_right_key_or_candidate_finds_nothing(pseudo: Pseudonymizer) -> None:
    token = pseudo.token("jdoe")
    assert Pseudonymizer(OTHER_KEY).reidentify(token, ["jdoe"]) == []
    assert pseudo.reidentify(token, ["asmith", "jdoe2"]) == []
    # The same text as an address has another token.
    assert pseudo.reidentify(pseudo.token("jdoe", "ip"), ["jdoe"], kind="ip") == ["jdoe"]


def test_reidentify_refuses_malformed_tokens_and_contradicting_kinds(pseudo: Pseudonymizer) -> None:
    with pytest.raises(UsageError, match="'x-aaaaaaaaaaaaaaaa' is not a shadowscan token"):
        pseudo.reidentify("x-aaaaaaaaaaaaaaaa", ["jdoe"])
    with pytest.raises(UsageError, match="is not a shadowscan token"):
        pseudo.reidentify("u-aaaaaaaaaaaaaaa1", ["jdoe"])  # 1 is not base32
    with pytest.raises(UsageError, match=r"is of kind user \(prefix u-\), not ip$"):
        pseudo.reidentify(pseudo.token("jdoe"), ["jdoe"], kind="ip")
