"""What the ``shadowscan signatures`` commands do: validate, test, list, show, stats.

Kept out of the CLI so that the test suite (and anyone scripting around the catalogue)
runs exactly the same checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shadowscan.match import Matcher
from shadowscan.signatures import (
    CATEGORIES,
    Catalogue,
    Service,
    bundled_dir,
    conflicts,
    load_directory,
)


def validate(paths: Sequence[Path] = ()) -> tuple[list[tuple[Service, str]], list[str]]:
    """Load every file under ``paths`` (default: the bundled catalogue) and return the
    services and *all* problems: schema errors, duplicate ids, and a domain or URL pattern
    claimed by two services."""
    services: list[tuple[Service, str]] = []
    problems: list[str] = []
    for path in paths or [bundled_dir()]:
        found, errs = load_directory(Path(path), collect_errors=True)
        services.extend(found)
        problems.extend(errs)
    problems.extend(conflicts(services))
    return services, problems


@dataclass(frozen=True)
class ExampleFailure:
    service_id: str
    source: str
    value: str
    expected_match: bool
    got: str | None

    def __str__(self) -> str:
        want = "should match" if self.expected_match else "must not match"
        got = f"matched {self.got}" if self.got else "matched nothing"
        return f"{self.source}:{self.service_id}: {self.value!r} {want}, {got}"


def run_examples(catalogue: Catalogue, only: set[str] | None = None) -> list[ExampleFailure]:
    """Every service's ``examples`` against a matcher of the whole catalogue (so a more
    specific service elsewhere that steals an example is caught too)."""
    matcher = Matcher(catalogue)
    failures = []
    for svc in catalogue.active():
        if only is not None and svc.id not in only:
            continue
        src = catalogue.sources.get(svc.id, "?")
        for value in svc.examples.match:
            rule = matcher.match_value(value)
            if rule is None or rule.service_id != svc.id:
                failures.append(
                    ExampleFailure(svc.id, src, value, True, rule.service_id if rule else None)
                )
        for value in svc.examples.no_match:
            rule = matcher.match_value(value)
            if rule is not None and rule.service_id == svc.id:
                failures.append(ExampleFailure(svc.id, src, value, False, rule.service_id))
    return failures


def search(
    catalogue: Catalogue, category: str | None = None, text: str | None = None
) -> list[Service]:
    """Services in ``category`` whose id, name, vendor or domains contain ``text``."""
    needle = (text or "").lower()
    out = []
    for svc in sorted(
        catalogue.services.values(), key=lambda s: (s.category, s.vendor.lower(), s.name.lower())
    ):
        if category and svc.category != category:
            continue
        hay = " ".join(
            [svc.id, svc.name, svc.vendor, *svc.domains, *svc.url_patterns, *svc.app_ids]
        ).lower()
        if needle and needle not in hay:
            continue
        out.append(svc)
    return out


def stats(catalogue: Catalogue) -> dict[str, object]:
    active = catalogue.active()
    by_category = Counter(s.category for s in active)
    return {
        "version": catalogue.version,
        "services": len(active),
        "disabled": len(catalogue.services) - len(active),
        "vendors": len({s.vendor for s in active}),
        "domains": sum(len(s.domains) for s in active),
        "url_patterns": sum(len(s.url_patterns) for s in active),
        "ip_ranges": sum(len(s.ip_ranges) for s in active),
        "app_ids": sum(len(s.app_ids) for s in active),
        "by_category": {c: by_category.get(c, 0) for c in CATEGORIES},
    }
