"""The HTML audit report in a real headless Chromium (Debian ``chromium``, driven by
Playwright without its own browser download): what an auditor opens must make no network
request, log no error, never run a script that came from a log, sort its tables, still show
them with JavaScript off, print, and open fast at the size of a month of a mid-sized company.

Skips when Chromium or Playwright is missing locally; fails instead under ``CI``.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from shadowscan.cli import app
from shadowscan.signatures import load_catalogue

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request

CHROMIUM = Path("/usr/bin/chromium")
SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"

#: Log values that would run if the report put them into the page unescaped.
SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"
ATTRIBUTE_PAYLOAD = '"><img src=x onerror="window.__pwned=2">'

MAX_REPORT_BYTES = 5 * 1024 * 1024
MAX_OPEN_MS = 2000

runner = CliRunner()


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    if find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One system Chromium for the module; ``--no-sandbox`` because CI runs as root."""
    reason = _missing_browser()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a real browser for the report test: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageWatch:
    """What a page did that a self-contained, inert report must not do."""

    own_url: str
    errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def _request(self, request: Request) -> None:
        # The file itself is the only fetch allowed; inline data: images (CSS or <img>)
        # cost no network either, any other data: fetch (scripts, fonts) is refused.
        if request.url != self.own_url and not request.url.startswith("data:image/"):
            self.foreign_requests.append(request.url)

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.foreign_requests == []


def _scan_to_html(inputs: list[Path], out: Path, *extra: str) -> None:
    result = runner.invoke(
        app, ["scan", *map(str, inputs), "-F", "html", "-o", str(out), "-q", *extra]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file()


def _hostile_squid_log(directory: Path) -> Path:
    """Squid extended-format uploads to chatgpt.com whose user, URL and user agent carry
    the payloads; heavy enough (multi-megabyte uploads, a blocked attempt) to rank among the
    top users, the large uploads and the blocked attempts of the sample report."""
    directory.mkdir(parents=True)
    # Squid URL-escapes the user name, and quotes the user agent escaping its quotes.
    users = {"10.30.9.40": SCRIPT_PAYLOAD, "10.30.9.41": ATTRIBUTE_PAYLOAD}
    user_agent = f"Mozilla/5.0 {ATTRIBUTE_PAYLOAD} {SCRIPT_PAYLOAD}".replace('"', '\\"')
    url = f"https://chatgpt.com/backend-api/files/{quote(SCRIPT_PAYLOAD, safe='/=')}"
    lines = []
    for n in range(12):
        for offset, (ip, user) in enumerate(users.items()):
            ts = 1730880000 + n * 600 + offset  # 2024-11-06, inside the samples' window
            code = "TCP_DENIED/403" if n == 11 else "TCP_MISS/200"
            lines.append(
                f"{ts}.450   1622 {ip} {40122 + n} {code} 3987 {9_000_000 + n * 1000} 512 402 "
                f"3475 POST {url} 1.1 {quote(user, safe='')} HIER_DIRECT/104.18.32.47 443 "
                f'application/json - - "-" "{user_agent}" "chatgpt.com" "-" 1580 -'
            )
    log = directory / "access.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return log


@pytest.fixture
def hostile_report(tmp_path: Path) -> Path:
    """The report of a copy of ``sample_logs/`` plus the hostile Squid log, through the CLI."""
    inputs = tmp_path / "logs"
    shutil.copytree(SAMPLES, inputs)
    _hostile_squid_log(inputs / "squid_hostile")
    out = tmp_path / "report.html"
    _scan_to_html([inputs], out)
    return out


COLUMN_KEYS_JS = """
(table, col) => [...table.tBodies[0].rows].map((row) => {
  const cell = row.cells[col];
  return cell ? (cell.dataset.sort ?? cell.textContent.trim()) : "";
})
"""


def _in_order(keys: Sequence[Any]) -> str | None:
    if all(a <= b for a, b in pairwise(keys)):
        return "asc"
    if all(a >= b for a, b in pairwise(keys)):
        return "desc"
    return None


def _sorted_somehow(values: list[str]) -> str | None:
    """``asc`` or ``desc`` if ``values`` are in order as numbers (blanks left out, as a
    sorter may put them first or last) or as text, case-folded or not."""
    numbers: list[float] = []
    for value in filter(None, values):
        try:
            numbers.append(float(value.replace(",", "")))
        except ValueError:
            break
    else:
        if numbers:
            return _in_order(numbers)
    return _in_order([v.casefold() for v in values]) or _in_order(values)


def _column(table: Locator, col: int) -> list[str]:
    """Sort keys of a column: ``data-sort`` when the cell has one, else its text."""
    keys: list[str] = table.evaluate(COLUMN_KEYS_JS, col)
    return keys


def _check_sorting(page: Page) -> None:
    """Clicking a header sorts its column; clicking it again sorts the other way."""
    tables = page.locator("table:has(thead th):has(tbody tr:nth-child(3))")
    assert tables.count() > 0, "no table with a header and at least three rows"
    table = tables.first
    headers = table.locator("thead th")
    for col in range(headers.count()):
        before = _column(table, col)
        if len(set(before)) < 2:
            continue
        # Click what a reader clicks: the header's button when the script added one.
        header = headers.nth(col)
        target = header.locator("button") if header.locator("button").count() == 1 else header
        target.click()
        first = _column(table, col)
        target.click()
        second = _column(table, col)
        assert sorted(first) == sorted(before), "sorting lost or changed rows"
        assert _sorted_somehow(first) is not None, f"column {col} not sorted by a click: {first}"
        assert _sorted_somehow(second) is not None, f"column {col} not sorted by a second click"
        assert first != second, "a second click did not reverse the order"
        return
    pytest.fail("no column with two different values to sort by")


FILTERED_ROWS_JS = """
(box) => {
  let table = box.nextElementSibling;
  while (table && table.tagName !== "TABLE") table = table.nextElementSibling;
  const rows = [...table.tBodies[0].rows];
  return { total: rows.length, shown: rows.filter((r) => !r.hidden).map((r) => r.textContent) };
}
"""


def _check_filtering(page: Page) -> None:
    """Typing in the first table's filter box keeps only the rows that contain the text."""
    box = page.locator("input[type=search]").first
    box.fill("__pwned")
    rows: dict[str, Any] = box.evaluate(FILTERED_ROWS_JS)
    assert rows["shown"], "the filter hid the rows carrying the hostile log values"
    assert all("__pwned" in text for text in rows["shown"])
    assert len(rows["shown"]) < rows["total"]
    box.fill("")
    assert len(box.evaluate(FILTERED_ROWS_JS)["shown"]) == rows["total"]


def _pwned(page: Page) -> str:
    result: str = page.evaluate("() => typeof window.__pwned")
    return result


@pytest.mark.slow
def test_report_is_inert_self_contained_sortable_and_printable(
    browser: Browser, hostile_report: Path, tmp_path: Path
) -> None:
    url = hostile_report.as_uri()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = PageWatch(url)
    watch.attach(page)
    page.goto(url, wait_until="load")

    assert _pwned(page) == "undefined"
    body = page.inner_text("body")
    assert SCRIPT_PAYLOAD in body
    assert ATTRIBUTE_PAYLOAD in body
    csp = page.locator('meta[http-equiv="Content-Security-Policy"]')
    assert csp.count() == 1
    policy = csp.get_attribute("content") or ""
    assert "default-src 'none'" in policy
    assert "unsafe-eval" not in policy

    _check_sorting(page)
    _check_filtering(page)
    assert _pwned(page) == "undefined", "a payload ran after the tables were re-ordered"
    tables_with_js = page.locator("table").count()

    screenshot = tmp_path / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 20_000

    page.emulate_media(media="print")
    assert page.locator("table").first.is_visible()
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 10_000
    watch.assert_clean()
    page.close()

    no_js = browser.new_context(java_script_enabled=False)
    try:
        static = no_js.new_page()
        static_watch = PageWatch(url)
        static_watch.attach(static)
        static.goto(url, wait_until="load")
        assert static.locator("table").count() == tables_with_js
        assert static.locator("tbody tr").count() > 0
        assert static.locator("tbody tr").first.is_visible()
        static_body = static.inner_text("body")
        assert SCRIPT_PAYLOAD in static_body
        assert ATTRIBUTE_PAYLOAD in static_body
        static_watch.assert_clean()
    finally:
        no_js.close()


DEPARTMENTS = ["Engineering", "Finance", "Sales", "Marketing", "Legal"]
DEPARTMENTS += ["HR", "Support", "Operations", "Research", "Executive"]


def _month_of_traffic(directory: Path) -> tuple[list[Path], list[str]]:
    """30 days of Squid CONNECTs (plus some blocked ones) by 500 directory users spread over
    ten departments, each using 8 of 100 catalogue services on 6 days; returns the inputs
    (log, directory CSV) and the service names."""
    directory.mkdir()
    owners: dict[str, set[str]] = {}
    services = load_catalogue().active()
    for service in services:
        for domain in service.domains:
            owners.setdefault(domain, set()).add(service.id)
    picked: list[tuple[str, str]] = []
    for service in sorted(services, key=lambda s: s.id):
        own = [d for d in service.domains if "*" not in d and len(owners[d]) == 1]
        if own:
            picked.append((service.name, own[0]))
        if len(picked) == 100:
            break
    assert len(picked) == 100

    people = directory / "people.csv"
    rows = ["user,email,display_name,department,job_title,manager,aliases"]
    rows += [
        f"user{u:03d},user{u:03d}@corp.example,User {u},{DEPARTMENTS[u % 10]},Staff,,"
        for u in range(500)
    ]
    people.write_text("\n".join(rows) + "\n", encoding="utf-8")

    rnd = random.Random(10)
    start = 1790812800  # 2026-10-01T00:00:00Z
    lines: list[tuple[int, str]] = []
    for u in range(500):
        for si in rnd.sample(range(100), 8):
            domain = picked[si][1]
            for day in rnd.sample(range(30), 6):
                ts = start + day * 86400 + rnd.randint(8 * 3600, 18 * 3600)
                code = "TCP_DENIED/403" if rnd.random() < 0.05 else "TCP_TUNNEL/200"
                lines.append(
                    (
                        ts,
                        f"{ts}.000    {rnd.randint(20, 900)} 10.{u // 250}.{u % 250}.{10 + u % 200} "
                        f"{code} {rnd.randint(2000, 90000)} CONNECT {domain}:443 "
                        f"user{u:03d}@corp.example HIER_DIRECT/203.0.113.{si} -",
                    )
                )
    lines.sort()
    log = directory / "access.log"
    log.write_text("\n".join(line for _, line in lines) + "\n", encoding="utf-8")
    return [log, people], [name for name, _ in picked]


@pytest.mark.slow
def test_month_report_is_small_and_opens_fast(browser: Browser, tmp_path: Path) -> None:
    (log, people), names = _month_of_traffic(tmp_path / "month")
    out = tmp_path / "month.html"
    _scan_to_html([log], out, "--directory", str(people))
    assert out.stat().st_size < MAX_REPORT_BYTES

    url = out.as_uri()
    page = browser.new_page()
    watch = PageWatch(url)
    watch.attach(page)
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    wall_ms = (time.perf_counter() - started) * 1000
    load_end: float = page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].loadEventEnd"
    )
    assert 0 < load_end < MAX_OPEN_MS
    assert wall_ms < MAX_OPEN_MS
    body = page.inner_text("body")
    missing = [name for name in names if name not in body]
    assert missing == [], f"services missing from the report: {missing[:5]}"
    assert [d for d in DEPARTMENTS if d not in body] == []
    watch.assert_clean()
    page.close()
