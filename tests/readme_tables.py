"""``python -m tests.readme_tables``: rewrite the README's schema tables from schema.py
(tests/test_layout.py fails until they match)."""

from __future__ import annotations

from shadowscan.schema import EVENT_FIELDS, FINDING_FIELDS, MATCH_FIELDS, markdown_table
from tests.conftest import ROOT

HEADER = "| Field | Type | Meaning |"


def main() -> None:
    path = ROOT / "README.md"
    lines = path.read_text(encoding="utf-8").split("\n")
    tables = [
        markdown_table(FINDING_FIELDS),
        markdown_table(EVENT_FIELDS),
        markdown_table(MATCH_FIELDS),
    ]
    out: list[str] = []
    i = done = 0
    while i < len(lines):
        if lines[i] == HEADER and done < len(tables):
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            out.append(tables[done])
            done += 1
            continue
        out.append(lines[i])
        i += 1
    path.write_text("\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    main()
