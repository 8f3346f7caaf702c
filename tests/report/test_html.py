"""The HTML report: every section, escaped log values, a CSP that allows exactly the
inline script and style, no URL that loads anything, printable, and small."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from html.parser import HTMLParser

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowscan.report.html import SECTIONS, render_html
from shadowscan.report.model import build_report_from_frames
from shadowscan.schema import FINDING_SCHEMA
from tests.outputs.fixtures import HOSTILE, findings
from tests.report.scenario import big_daily, big_findings

IMG = '"><img src=x onerror=alert(1)>'
SCRIPT = "<script>alert(2)</script>"
GENERATED = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


class Page(HTMLParser):
    """Every element with its attributes, and the text of each script and style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in {"script", "style"}:
            self._in = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "style":
            self.styles[-1] += data
        else:
            self.text.append(data)


def hostile_findings() -> pl.DataFrame:
    frame = findings()
    return frame.with_columns(
        pl.Series("user", ["jdoe", IMG, None]),
        pl.Series("department", ["Engineering", SCRIPT, HOSTILE]),
        pl.Series("service", ["ChatGPT", HOSTILE, IMG]),
        pl.Series("risk_factors", [[SCRIPT], [IMG], [HOSTILE]]),
    )


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(build_report_from_frames(hostile_findings(), generated_at=GENERATED))


def test_every_section_is_present_with_its_id(html: str) -> None:
    page = parse(html)
    ids = {a.get("id") for tag, a in page.elements if tag == "section"}
    assert ids == {key for key, _ in SECTIONS}
    links = {a.get("href") for tag, a in page.elements if tag == "a"}
    assert links == {f"#{key}" for key, _ in SECTIONS}


def test_numbers_match_the_fixture(html: str) -> None:
    text = " ".join(parse(html).text)
    assert "32 request(s) and 7 DNS lookup(s)" in text
    assert "2.2 MB" in text
    assert "Risk 72 (high): jdoe used ChatGPT (unsanctioned)." in text


def test_log_values_are_only_ever_text(html: str) -> None:
    page = parse(html)
    tags = [tag for tag, _ in page.elements]
    assert "img" not in tags
    assert tags.count("script") == 1
    for _, attrs in page.elements:
        assert "onerror" not in attrs
        assert not any(name.startswith("on") for name in attrs)
    text = "".join(page.text)
    # The hostile values arrive intact, as text (newlines inside a cell are kept as-is).
    assert IMG in text and SCRIPT in text
    assert HOSTILE.replace("\r", "\n") in text.replace("\r\n", "\n").replace("\r", "\n")
    assert "<script>alert" not in html and "<img" not in html


@given(st.text(max_size=40))
def test_any_user_name_renders_as_text(value: str) -> None:
    frame = findings().with_columns(pl.Series("user", [value, None, None]))
    page = parse(render_html(build_report_from_frames(frame, generated_at=GENERATED)))
    assert [t for t, _ in page.elements].count("script") == 1
    assert not any(t in {"img", "iframe", "object", "embed"} for t, _ in page.elements)


def _sha(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def test_csp_allows_exactly_the_inline_script_and_style(html: str) -> None:
    page = parse(html)
    metas = [a for t, a in page.elements if t == "meta" and a.get("http-equiv")]
    assert len(metas) == 1 and metas[0]["http-equiv"] == "Content-Security-Policy"
    policy = dict(d.split(" ", 1) for d in (metas[0]["content"] or "").split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == _sha(page.scripts[0])
    assert policy["style-src"] == _sha(page.styles[0])
    assert policy["img-src"] == "data:"
    assert "unsafe-inline" not in (metas[0]["content"] or "")
    assert len(page.scripts) == 1 and len(page.styles) == 1
    assert len(page.scripts[0].encode()) <= 3 * 1024
    # A style attribute would need 'unsafe-inline': there are none.
    assert not any("style" in attrs for _, attrs in page.elements)


def test_nothing_points_outside_the_file(html: str) -> None:
    for _, attrs in parse(html).elements:
        for name in ("src", "href", "action", "srcset", "poster", "data", "xlink:href"):
            value = (attrs.get(name) or "").strip().lower()
            assert not re.match(r"(https?:)?//", value), (name, value)
            assert value == "" or value.startswith(("#", "data:")), (name, value)
    assert "http://" not in html and "https://" not in html
    assert "@import" not in html and "url(" not in html


def test_tables_are_plain_html_without_the_script(html: str) -> None:
    page = parse(html)
    tables = [a for t, a in page.elements if t == "table"]
    assert tables and all(a.get("class") == "data" for a in tables)
    assert sum(1 for t, _ in page.elements if t == "td") > 50
    assert "<input" not in html  # the filter boxes are added by the script


def test_print_css_is_present(html: str) -> None:
    style = parse(html).styles[0]
    assert "@media print" in style and "break-before: page" in style


def test_empty_findings_still_render_every_section() -> None:
    empty = pl.DataFrame(schema=FINDING_SCHEMA)
    page = parse(render_html(build_report_from_frames(empty, generated_at=GENERATED)))
    assert {a.get("id") for t, a in page.elements if t == "section"} == {k for k, _ in SECTIONS}
    assert "No use of a known AI service" in " ".join(page.text)


def test_thirty_days_500_users_100_services_stays_small() -> None:
    report = build_report_from_frames(big_findings(), None, big_daily(), generated_at=GENERATED)
    html = render_html(report)
    assert len(html.encode("utf-8")) < 5 * 1024 * 1024
    assert "9,800 more row(s) in the CSV/NDJSON output." in html
    page = parse(html)
    assert len([t for t, _ in page.elements if t == "rect"]) >= 30 * 2
