"""Keyed pseudonymisation of users, devices and addresses.

Findings often have to leave the security team (works council, data protection officer,
management) without naming people. Each identity is replaced by a token computed with a
secret key: the same person gets the same token in every report made with that key, so
trends stay visible, and only the key holder can turn a token back into a name, by
testing the candidates of a directory (:meth:`Pseudonymizer.reidentify`).

This is pseudonymisation, not anonymisation (GDPR Art. 4(5), Recital 26): whoever holds
the key can re-identify, and the remaining columns may still single a person out.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from shadowscan.errors import UnknownNameError, UsageError
from shadowscan.secrets import read_private_file

#: Token prefix per kind of value; the prefix tells :meth:`Pseudonymizer.reidentify` the kind.
PREFIXES: dict[str, str] = {"user": "u", "ip": "ip", "device": "d"}
KINDS_BY_PREFIX: dict[str, str] = {prefix: kind for kind, prefix in PREFIXES.items()}

#: A 256-bit key; shorter keys would make the tokens the weakest link.
MIN_KEY_BYTES = 32
#: Key files are tiny; anything larger is almost certainly the wrong file.
MAX_KEY_FILE_BYTES = 4096
#: 10 bytes of the HMAC = 80 bits = exactly 16 base32 characters, no padding.
TOKEN_BYTES = 10

TOKEN_PATTERN = re.compile(r"^(u|ip|d)-([a-z2-7]{16})$")


def _keygen_hint(path: Path) -> str:
    return f"create one with `shadowscan keygen {path}`"


def load_key(path: Path) -> bytes:
    """The key in ``path``: its bytes without surrounding whitespace, at least 32 of them,
    from a file only its owner can read (:func:`shadowscan.secrets.read_private_file`)."""
    return read_private_file(
        path,
        what="key file",
        hint=_keygen_hint(path),
        min_bytes=MIN_KEY_BYTES,
        max_bytes=MAX_KEY_FILE_BYTES,
    )


def generate_key(path: Path) -> None:
    """Write a new random key (32 bytes as 64 hex characters and a newline) to ``path``.

    The file is created with O_CREAT|O_EXCL and mode 0600, so an existing key (and with it
    every token made with it) is never overwritten, and the key is never readable by others,
    not even for a moment.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise UsageError(
            f"key file {path} already exists: refusing to overwrite it, since tokens made "
            "with it could no longer be re-identified; choose another file name"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot create key file {path}: {exc.strerror}") from None
    data = (secrets.token_bytes(MIN_KEY_BYTES).hex() + "\n").encode("ascii")
    try:
        if sys.platform != "win32":
            os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)  # never leave a truncated key behind
        raise UsageError(f"cannot write key file {path}: {exc.strerror}") from None
    os.close(fd)


def canonical(value: str, kind: str) -> str:
    """The form of ``value`` that is tokenised, so that spellings of one identity agree.

    Users: stripped and lower-cased (the attribution layer has already resolved
    ``DOMAIN\\user`` and ``user@domain`` to one canonical id). Addresses: the ``ipaddress``
    compressed form when valid (``2001:DB8:0::1`` and ``2001:db8::1`` agree), else stripped
    and lower-cased. Devices: stripped and lower-cased, as host names are case-insensitive.
    """
    text = value.strip()
    if kind == "ip":
        try:
            return ipaddress.ip_address(text).compressed
        except ValueError:
            return text.lower()
    return text.lower()


def _check_kind(kind: str) -> str:
    if kind not in PREFIXES:
        known = ", ".join(sorted(PREFIXES))
        raise UnknownNameError(f"unknown pseudonym kind {kind!r} (known: {known})")
    return kind


class Pseudonymizer:
    """Replaces identities by keyed tokens; the key stays in a private attribute."""

    __slots__ = ("__key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise UsageError(
                f"a pseudonymisation key needs at least {MIN_KEY_BYTES} bytes, "
                f"got {len(key)}: create one with `shadowscan keygen FILE`"
            )
        self.__key = bytes(key)

    @classmethod
    def from_key_file(cls, path: Path) -> Pseudonymizer:
        """A pseudonymizer with the key in ``path`` (see :func:`load_key`)."""
        return cls(load_key(path))

    @property
    def key_id(self) -> str:
        """A short, non-secret fingerprint of the key, to tell which key made a report.

        Rotating the key changes every token; the id says which key a reader needs.
        """
        return hashlib.sha256(b"shadowscan key id\0" + self.__key).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"Pseudonymizer(key_id={self.key_id!r})"

    def token(self, value: str, kind: str = "user") -> str:
        """The token for ``value``: ``u-``/``ip-``/``d-`` and 16 lower-case base32 characters.

        HMAC-SHA256 over ``kind + "\\0" + canonical(value)``, so a user and an address with
        the same text get unrelated tokens. 80 bits are enough: among a million distinct
        identities the chance that two share a token is about 4e-13 (birthday bound
        n²/2⁸¹). They are not reversible without the key: without it nobody can compute
        the token of a guessed name, so guessing from a directory is useless; with it,
        re-identification still means testing candidates (:meth:`reidentify`), as the
        truncated HMAC cannot be inverted.
        """
        _check_kind(kind)
        message = f"{kind}\0{canonical(value, kind)}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self.__key, message, hashlib.sha256).digest()
        text = base64.b32encode(digest[:TOKEN_BYTES]).decode("ascii").lower()
        return f"{PREFIXES[kind]}-{text}"

    def apply(self, frame: pl.DataFrame, columns: Mapping[str, str]) -> pl.DataFrame:
        """``frame`` with each column in ``columns`` (name -> kind) replaced by tokens.

        Columns are String or List(String); nulls stay null, lists are replaced element by
        element. Tokens are computed once per distinct value and joined back, so a frame of
        millions of rows costs one HMAC per distinct user. A named column missing from the
        frame is an error rather than a no-op: a misspelt name would leave people readable.
        """
        replacements: list[pl.Expr] = []
        for name, kind in columns.items():
            _check_kind(kind)
            if name not in frame.columns:
                raise UsageError(
                    f"cannot pseudonymise column {name!r}: the frame has no such column "
                    f"(columns: {', '.join(frame.columns)})"
                )
            dtype = frame.schema[name]
            column = frame.get_column(name)
            if dtype == pl.String:
                values = column
            elif dtype == pl.List(pl.String):
                values = column.list.explode(keep_nulls=False, empty_as_null=False)
            elif dtype == pl.Null:
                continue  # all null: nothing to replace
            else:
                raise UsageError(
                    f"cannot pseudonymise column {name!r} of type {dtype}: "
                    "expected String or List(String)"
                )
            distinct = values.drop_nulls().unique()
            if distinct.is_empty():
                continue
            tokens = pl.Series([self.token(v, kind) for v in distinct.to_list()], dtype=pl.String)
            if dtype == pl.String:
                expr = pl.col(name).replace_strict(distinct, tokens, return_dtype=pl.String)
            else:
                expr = pl.col(name).list.eval(
                    pl.element().replace_strict(distinct, tokens, return_dtype=pl.String)
                )
            replacements.append(expr)
        return frame.with_columns(replacements) if replacements else frame

    def reidentify(
        self, token: str, candidates: Iterable[str], kind: str | None = None
    ) -> list[str]:
        """The candidates (in order, without repeats) whose token is ``token``.

        The kind comes from the token's prefix; a ``kind`` that contradicts it is an error.
        Several candidates can match when they are spellings of one identity (``Alice``,
        ``alice``).
        """
        wanted = token.strip().lower()
        parsed = TOKEN_PATTERN.match(wanted)
        if parsed is None:
            raise UsageError(
                f"{token!r} is not a shadowscan token: expected u-, ip- or d- "
                "followed by 16 characters a-z and 2-7"
            )
        token_kind = KINDS_BY_PREFIX[parsed.group(1)]
        if kind is not None and _check_kind(kind) != token_kind:
            raise UsageError(
                f"token {wanted} is of kind {token_kind} (prefix {parsed.group(1)}-), not {kind}"
            )
        matches: list[str] = []
        seen: set[str] = set()
        for candidate in candidates:
            if candidate in seen:
                continue
            seen.add(candidate)
            if hmac.compare_digest(self.token(candidate, token_kind), wanted):
                matches.append(candidate)
        return matches
