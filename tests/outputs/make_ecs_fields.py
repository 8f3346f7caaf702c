"""Write ``tests/data/ecs_fields.json``: every Elastic Common Schema field name with its type,
whether ECS expects an array, and its allowed values, plus the event types ECS expects with
each ``event.category``, taken from ``generated/ecs/ecs_flat.yml`` in a clone of
github.com/elastic/ecs. The ECS sink's tests check every key path it writes against it.

    python tests/outputs/make_ecs_fields.py PATH_TO_ECS_CLONE [--ref v9.4.0]

The clone may be bare; the file is read with ``git show REF:path``. ECS is Apache-2.0; the
output holds facts derived from it, with version and source noted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parents[1] / "data" / "ecs_fields.json"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def build(repo: Path, ref: str) -> dict[str, Any]:
    flat = yaml.safe_load(git(repo, "show", f"{ref}:generated/ecs/ecs_flat.yml"))
    fields: dict[str, Any] = {}
    expected_types: dict[str, list[str]] = {}
    for name, spec in sorted(flat.items()):
        entry: dict[str, Any] = {"type": spec["type"]}
        if "array" in (spec.get("normalize") or []):
            entry["array"] = True
        allowed = spec.get("allowed_values")
        if allowed:
            entry["allowed"] = sorted(value["name"] for value in allowed)
        fields[name] = entry
        if name == "event.category":
            expected_types = {
                value["name"]: sorted(value.get("expected_event_types", []))
                for value in allowed or []
            }
    return {
        "source": "https://github.com/elastic/ecs (generated/ecs/ecs_flat.yml)",
        "ref": ref,
        "commit": git(repo, "rev-parse", f"{ref}^{{commit}}").strip(),
        "version": git(repo, "show", f"{ref}:version").strip(),
        "license": "Apache-2.0 (facts derived from the Elastic Common Schema)",
        "generator": "tests/outputs/make_ecs_fields.py",
        "expected_event_types": expected_types,
        "fields": fields,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="a clone of github.com/elastic/ecs")
    parser.add_argument("--ref", default="v9.4.0", help="tag or commit (default: v9.4.0)")
    args = parser.parse_args()
    data = build(args.repo, args.ref)
    # One field per line keeps diffs between ECS versions readable.
    text = json.dumps({k: v for k, v in data.items() if k != "fields"}, indent=1, sort_keys=True)
    lines = [
        f" {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in data["fields"].items()
    ]
    text = text[:-2] + ',\n "fields": {\n' + ",\n".join(lines) + "\n }\n}\n"
    json.loads(text)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(data['fields'])} fields, ECS {data['version']})")


if __name__ == "__main__":
    main()
