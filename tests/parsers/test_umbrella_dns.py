"""Cisco Umbrella DNS logs: fields, ragged rows, identities with commas, sniffing (not the
Umbrella proxy log, both ways), and property tests."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.detect import detect_lines
from shadowscan.parsers import PARSERS, ParseContext
from shadowscan.parsers.umbrella_dns import UmbrellaDnsParser
from tests.conftest import SAMPLES
from tests.parsers.props import NOISE, check_accounting, check_fast_path_agrees


def parse_lines(lines: list[str]) -> pl.DataFrame:
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    return UmbrellaDnsParser(ParseContext("t")).parse(batch).events


def render(cols: list[str], sep: str = ",") -> str:
    return sep.join('"' + c.replace('"', '""') + '"' for c in cols)


JANE = "Doe, Jane (jane.doe@corp.example)"


def dns_row(
    *,
    identity: str = JANE,
    verdict: str = "Allowed",
    qtype: str = "1 (A)",
    domain: str = "chatgpt.com.",
    rcode: str = "NOERROR",
    width: int = 13,
) -> list[str]:
    cols = [
        "2024-11-04 08:00:00",
        identity,
        f"{identity},LAPTOP-7Q2K,HQ-Paris",
        "10.20.1.15",
        "198.51.100.7",
        verdict,
        qtype,
        rcode,
        domain,
        "Generative AI,Application",
        "AD Users",
        "AD Users,Roaming Computers,Networks",
        "",
        "",
        "FR",
        "1234567",
    ]
    return cols[:width]


def test_fields() -> None:
    row = parse_lines([render(dns_row())]).row(0, named=True)
    assert row == {
        "line_no": 0,
        "ts": dt.datetime(2024, 11, 4, 8, 0, tzinfo=dt.UTC),
        "src_ip": "10.20.1.15",
        "user": JANE,
        "host": "chatgpt.com",
        "action": "allowed",
        "dns_qtype": "A",
        "dns_rcode": "NOERROR",
        "umbrella_dns_identity_type": "AD Users",
        "umbrella_dns_categories": "Generative AI,Application",
        "umbrella_dns_external_ip": "198.51.100.7",
    }


def test_ragged_rows_blanks_and_types() -> None:
    rows = parse_lines(
        [
            render(dns_row(width=10, verdict="Blocked", qtype="28 (AAAA)"), sep=", "),
            render(dns_row(width=16, qtype="65 (HTTPS)", domain="Claude.AI.")),
            render(dns_row(width=12, qtype="64 (Unknown)", rcode="NXDOMAIN", identity="WS-01")),
            render(dns_row(identity='Doe, "JJ" Jane', qtype="16")),
        ]
    ).to_dicts()
    assert (rows[0]["action"], rows[0]["dns_qtype"], rows[0]["user"]) == ("blocked", "AAAA", JANE)
    assert rows[0]["umbrella_dns_identity_type"] is None  # 10 columns: no identity type
    assert (rows[1]["host"], rows[1]["dns_qtype"]) == ("claude.ai", "HTTPS")
    assert (rows[2]["dns_qtype"], rows[2]["dns_rcode"], rows[2]["user"]) == (
        "SVCB",
        "NXDOMAIN",
        "WS-01",
    )
    assert (rows[3]["user"], rows[3]["dns_qtype"]) == ('Doe, "JJ" Jane', "TXT")


def test_rejects_broken_rows() -> None:
    proxy = (
        '"2024-11-04 08:00:00","jdoe","10.20.1.15","198.51.100.7","104.18.32.47","text/html",'
        '"ALLOWED","https://chatgpt.com/","","curl/8.5.0","200","10","20","20"'
    )
    lines = [
        render(dns_row()),
        render(dns_row(width=9)),  # no categories column
        render(dns_row(verdict="Proxied")),
        render(dns_row(qtype="A")),
        render(dns_row())[:-1],  # unterminated quote
        "2024-11-04 08:00:00,jdoe,jdoe,10.0.0.1,1.2.3.4,Allowed,1 (A),NOERROR,chatgpt.com.,AI",
        proxy,
        "",
    ]
    batch = pl.DataFrame({"line_no": pl.Series(range(len(lines)), dtype=pl.UInt64), "line": lines})
    out = UmbrellaDnsParser(ParseContext("t")).parse(batch)
    assert out.events["line_no"].to_list() == [0]
    assert out.rejected["line_no"].to_list() == [1, 2, 3, 4, 5, 6]
    assert out.skipped == 1


def test_sniff_positive_and_negative() -> None:
    rows = [render(dns_row()), render(dns_row(width=10), sep=", ")] * 3
    assert detect_lines(rows).format == "umbrella_dns"
    # Neither Umbrella log is taken for the other.
    assert PARSERS.get("umbrella_proxy").sniff(rows) is None
    proxy_lines = (SAMPLES / "umbrella_proxy" / "proxylogs.log").read_text().splitlines()
    assert PARSERS.get("umbrella_dns").sniff(proxy_lines) is None
    assert detect_lines(proxy_lines).format == "umbrella_proxy"
    dns_lines = (SAMPLES / "umbrella_dns" / "dnslogs.log").read_text().splitlines()
    assert PARSERS.get("umbrella_proxy").sniff(dns_lines) is None
    assert PARSERS.get("umbrella_dns").sniff(['{"a": 1}', "hello, world"]) is None


# --- properties ----------------------------------------------------------------------

cells = st.text(st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x24F), max_size=12)
hosts = st.sampled_from(["chatgpt.com", "www.example.com", "api.openai.com", "claude.ai"])
qtypes = st.sampled_from([("1 (A)", "A"), ("28 (AAAA)", "AAAA"), ("65 (HTTPS)", "HTTPS")])


@st.composite
def umbrella_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    host = draw(hosts)
    identity = draw(cells)
    verdict = draw(st.sampled_from(["Allowed", "Blocked"]))
    qtype, name = draw(qtypes)
    cols = dns_row(
        identity=identity,
        verdict=verdict,
        qtype=qtype,
        domain=host + ".",
        width=draw(st.integers(10, 16)),
    )
    expected = {
        "host": host,
        "user": None if identity.strip() in ("", "-") else identity.strip(),
        "action": verdict.lower(),
        "dns_qtype": name,
    }
    return render(cols, draw(st.sampled_from([",", ", "]))), expected


valid = umbrella_lines().map(lambda t: t[0])
lines_mix = st.one_of(
    valid, st.tuples(valid, st.integers(0, 250)).map(lambda t: t[0][: t[1]]), NOISE
)


@given(st.lists(lines_mix, max_size=30))
def test_never_raises_and_counts_every_line(lines: list[str]) -> None:
    check_accounting("umbrella_dns", lines)


@given(st.lists(lines_mix, min_size=1, max_size=30))
def test_prefiltered_path_agrees_with_full_parse(lines: list[str]) -> None:
    check_fast_path_agrees("umbrella_dns", lines)


@given(umbrella_lines())
def test_rendered_lines_round_trip(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    row = parse_lines([line]).row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, key
