"""Sites: loading the CIDR file (with file:line errors) and the vectorised lookup, checked
against a naive :mod:`ipaddress` implementation."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.errors import InputError
from shadowscan.sites import Sites, load_sites

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_identity" / "sites.csv"


def write(tmp: Path, text: str) -> str:
    path = tmp / "sites.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_sample_lookup() -> None:
    sites = load_sites(SAMPLE)
    found = sites.lookup(
        pl.Series(
            [
                "10.20.1.15",
                "10.20.9.9",
                "10.99.1.2",
                None,
                "not an address",
                "2001:db8:20:1::5",
                "2001:DB8:99::1",
                "::ffff:10.20.2.7",
                "::ffff:a14:307",
                "[2001:db8:30::1]",
                "fe80::1%eth0",
                "256.1.1.1",
                "010.20.1.1",
                " 10.40.9.1 ",
            ]
        )
    )
    assert found.columns == ["site", "department", "subnet"]
    assert found.rows() == [
        ("London HQ", "Engineering", "10.20.1.0/24"),
        ("London HQ", None, "10.20.0.0/16"),
        (None, None, "10.99.1.0/24"),
        (None, None, None),
        (None, None, None),
        ("London HQ", "Engineering", "2001:db8:20:1::/64"),
        (None, None, "2001:db8:99::/64"),
        ("London HQ", "Finance", "10.20.2.0/24"),
        ("London HQ", "Sales", "10.20.3.0/24"),
        ("Berlin office", None, "2001:db8:30::/48"),
        (None, None, "fe80::/64"),
        (None, None, None),
        (None, None, None),
        ("New York office", "HR", "10.40.8.0/22"),
    ]
    assert sites.networks.height == 13


def test_empty_sites_still_give_subnets() -> None:
    found = Sites.empty().lookup(pl.Series(["10.1.2.3", "2001:db8::1", None]))
    assert found["subnet"].to_list() == ["10.1.2.0/24", "2001:db8::/64", None]
    assert found["site"].null_count() == 3
    assert Sites.empty().lookup(pl.Series([], dtype=pl.String)).height == 0


def test_header_variants_and_optional_department(tmp_path: Path) -> None:
    path = write(tmp_path, '# ranges\nSite,Subnet\n"Lab, 2nd floor",10.0.0.0/8\nVPN,10.9.0.0/16,\n')
    sites = load_sites(path)
    assert sites.networks.select("cidr", "site", "department", "line_no").rows() == [
        ("10.0.0.0/8", "Lab, 2nd floor", None, 3),
        ("10.9.0.0/16", "VPN", None, 4),
    ]
    path = write(tmp_path, "cidr,department\n10.1.0.0/16,Finance\n10.2.0.0/16\n")
    with pytest.raises(InputError, match=r"sites.csv:3: 10.2.0.0/16 has no site or department"):
        load_sites(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"sites.csv: the sites file is empty; add a header"),
        (
            "10.0.0.0/8,Office\n",
            r"sites.csv:1: the first line must be a header .* \(line 1 looks like data\)",
        ),
        (
            "cidr,site\n10.0.0.0/33,Office\n",
            r"sites.csv:2: '10.0.0.0/33' is not a CIDR; write a range like",
        ),
        ("cidr,site\nlondon,Office\n", r"sites.csv:2: 'london' is not a CIDR"),
        (
            "cidr,site\n10.1.2.3/16,Office\n",
            r"sites.csv:2: 10.1.2.3/16 has host bits set; write 10.1.0.0/16",
        ),
        (
            "cidr,site\n2001:db8::1/48,Office\n",
            r"sites.csv:2: 2001:db8::1/48 has host bits set; write 2001:db8::/48",
        ),
        (
            "cidr,site\n10.0.0.0/8,A\n\n10.0.0.0/8,B\n",
            r"sites.csv:4: 10.0.0.0/8 is already listed on line 2",
        ),
        ("cidr,site\n10.0.0.0/8,A,B\n", r"sites.csv:2: 3 fields where the header has 2"),
    ],
)
def test_bad_files_name_file_line_and_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_sites(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="sites file not found"):
        load_sites(tmp_path / "nope.csv")


def naive(
    networks: list[tuple[str, str]], ip: str | None
) -> tuple[str | None, str | None, str | None]:
    """The obvious implementation: parse, try every range, keep the longest prefix."""
    if ip is None:
        return (None, None, None)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return (None, None, None)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    best = None
    for cidr, site in networks:
        net = ipaddress.ip_network(cidr)
        if (
            address.version == net.version
            and address in net
            and (best is None or net.prefixlen > best[0].prefixlen)
        ):
            best = (net, site)
    if best is not None:
        return (best[1], f"dept-{best[1]}", str(best[0]))
    fallback = 24 if address.version == 4 else 64
    return (None, None, str(ipaddress.ip_network(f"{address}/{fallback}", strict=False)))


V4_NETS = st.builds(
    lambda a, p: str(ipaddress.ip_network(f"{a}/{p}", strict=False)),
    st.ip_addresses(v=4, network="10.0.0.0/12"),
    st.integers(min_value=8, max_value=32),
)
V6_NETS = st.builds(
    lambda a, p: str(ipaddress.ip_network(f"{a}/{p}", strict=False)),
    st.ip_addresses(v=6, network="2001:db8::/112"),
    st.integers(min_value=96, max_value=128),
)
ADDRESSES = st.one_of(
    st.none(),
    st.ip_addresses(v=4, network="10.0.0.0/12").map(str),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6, network="2001:db8::/112").map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=4, network="10.0.0.0/12").map(lambda a: f"::ffff:{a}"),
    st.sampled_from(["", "x", "1.2.3", "1.2.3.4.5", "300.1.1.1", "::g"]),
)


@given(
    st.lists(st.one_of(V4_NETS, V6_NETS), max_size=12, unique=True),
    st.lists(ADDRESSES, max_size=40),
)
def test_lookup_agrees_with_naive_ipaddress(cidrs: list[str], ips: list[str | None]) -> None:
    networks = [(cidr, f"site{i}") for i, cidr in enumerate(cidrs)]
    sites = Sites.from_rows([(cidr, site, f"dept-{site}") for cidr, site in networks])
    found = sites.lookup(pl.Series(ips, dtype=pl.String))
    expected = [naive(networks, ip) for ip in ips]
    assert found.select("site", "department", "subnet").rows() == expected
