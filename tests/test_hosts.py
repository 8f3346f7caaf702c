"""Host and URL extraction: every shape a log writes a destination in."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.hosts import host_expr, idna_host, normalise_hosts, url_expr, url_parts


def extract(raw: str) -> tuple[str | None, str | None]:
    frame = pl.DataFrame({"u": [raw]}).with_columns(url_parts(pl.col("u")).alias("p"))
    frame = frame.with_columns(host_expr(pl.col("p").struct.field("host")).alias("host"))
    frame = normalise_hosts(frame.with_columns(url_expr(pl.col("p"), pl.col("host")).alias("url")))
    return frame["host"][0], frame["url"][0]


@pytest.mark.parametrize(
    ("raw", "host", "url"),
    [
        ("https://chatgpt.com/c/1?q=secret#frag", "chatgpt.com", "https://chatgpt.com/c/1"),
        ("HTTPS://ChatGPT.COM./C/1", "chatgpt.com", "https://chatgpt.com/C/1"),
        ("chatgpt.com:443", "chatgpt.com", "https://chatgpt.com/"),
        ("api.openai.com/v1/models", "api.openai.com", "http://api.openai.com/v1/models"),
        ("http://user:pw@claude.ai:8080/x", "claude.ai", "http://claude.ai:8080/x"),
        ("http://[2001:db8::1]:8443/a", "2001:db8::1", "http://[2001:db8::1]:8443/a"),
        ("[2001:db8::2]:443", "2001:db8::2", "https://[2001:db8::2]/"),
        ("http://bücher.example/", "xn--bcher-kva.example", "http://xn--bcher-kva.example/"),
        ("https://10.1.2.3/x", "10.1.2.3", "https://10.1.2.3/x"),
        ("-", None, None),
    ],
)
def test_shapes(raw: str, host: str | None, url: str | None) -> None:
    assert extract(raw) == (host, url)


@given(st.text(max_size=60))
def test_never_raises(raw: str) -> None:
    extract(raw)


def test_idna_keeps_unencodable_labels() -> None:
    assert idna_host("ok.example") == "ok.example"
    assert idna_host("a" * 70 + "é.example").endswith(".example")
