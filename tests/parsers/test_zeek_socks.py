"""Zeek socks.log (TSV): fields, unset request name/address, sniffing and properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS
from shadowscan.parsers.zeek_socks import ZeekSocksParser
from tests.parsers.props import NOISE, check_accounting
from tests.parsers.test_zeek_http import parse_batches, zeek_header

FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "version",
    "user",
    "password",
    "status",
    "request.host",
    "request.name",
    "request_p",
    "bound.host",
    "bound.name",
    "bound_p",
]
TYPES = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "count",
    "string",
    "string",
    "string",
    "addr",
    "string",
    "port",
    "addr",
    "string",
    "port",
]
HEADER = zeek_header(path="socks", fields=FIELDS, types=TYPES)


def socks_line(
    name: str = "claude.ai",
    addr: str = "-",
    status: str = "succeeded",
    user: str = "asmith",
    port: int = 443,
    ts: str = "1730707320.205110",
) -> str:
    values = [ts, "CsK2nB7xQ4vT1mZ8aa", "10.30.4.31", "50321", "10.30.0.5", "1080", "5", user]
    values += ["s3cret", status, addr, name, str(port), "10.30.0.5", "-", "50321"]
    return "\t".join(values)


def parse(lines: list[str]) -> list[dict[str, object]]:
    return parse_batches([[*HEADER, *lines]], ZeekSocksParser)[0].to_dicts()


def test_fields() -> None:
    name, addr, refused = parse(
        [
            socks_line(),
            socks_line(name="-", addr="104.18.32.47", user="-"),
            socks_line(name="chat.deepseek.com", status="connection not allowed by ruleset"),
        ]
    )
    assert (name["host"], name["dst_ip"], name["dst_port"], name["user"], name["action"]) == (
        "claude.ai",
        None,
        443,
        "asmith",
        "allowed",
    )
    assert (name["zeek_socks_proxy_ip"], name["zeek_socks_proxy_port"]) == ("10.30.0.5", 1080)
    assert (name["zeek_socks_bound_host"], name["zeek_socks_bound_port"]) == ("10.30.0.5", 50321)
    assert "s3cret" not in str(name)  # the password column is never read
    assert (addr["host"], addr["dst_ip"], addr["user"]) == ("104.18.32.47", "104.18.32.47", None)
    assert refused["action"] == "blocked"


def test_sniff_positive_and_negative() -> None:
    assert detect_lines([*HEADER, socks_line()]).format == "zeek_socks"
    cls = PARSERS.get("zeek_socks")
    assert cls.sniff(zeek_header(path="http")) is None
    assert cls.sniff([socks_line()]) is None  # no header: not recognisable


# --- properties ----------------------------------------------------------------------


@st.composite
def socks_records(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    ts = draw(st.integers(946684800, 2_000_000_000)) + draw(st.integers(0, 999999)) / 1e6
    name = draw(st.sampled_from(["chatgpt.com", "claude.ai", "-"]))
    addr = "203.0.113.5" if name == "-" else "-"
    port = draw(st.integers(1, 65535))
    user = draw(st.sampled_from(["bob", "-"]))
    line = socks_line(name=name, addr=addr, user=user, port=port, ts=f"{ts:.6f}")
    expected = {
        "host": addr if name == "-" else name,
        "dst_port": port,
        "user": None if user == "-" else user,
    }
    return line, expected


@given(st.lists(st.one_of(socks_records().map(lambda t: t[0]), NOISE), max_size=40))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("zeek_socks", [*HEADER, *lines])


@given(socks_records())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse([line])[0]
    for key, value in expected.items():
        assert row[key] == value, key
