"""Write ``tests/data/ocsf_required.json``: the facts of the OCSF schema the OCSF sink's
tests check records against, taken from a clone of github.com/ocsf/ocsf-schema.

The schema is a set of JSON files: classes extend other classes (``extends``), pull in
profiles (``$include``) and take each attribute's type, enum and sibling from
``dictionary.json``; objects do the same among themselves. This script resolves those for
the classes the sink emits and the objects their records use, and keeps per attribute
only what a validator needs (type, array-ness, requirement, profile, enum captions), plus
the ``at_least_one`` / ``just_one`` constraints and the primitive types' rules.

    python tests/outputs/make_ocsf_required.py PATH_TO_OCSF_SCHEMA_CLONE [--ref 1.8.0]

The clone may be bare; files are read with ``git show REF:path``. The schema is
Apache-2.0; the output holds facts derived from it, with version and source noted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "data" / "ocsf_required.json"

#: Event classes the sink emits, by schema file.
CLASSES = (
    "events/findings/detection_finding.json",
    "events/network/network_activity.json",
    "events/network/http_activity.json",
    "events/network/dns_activity.json",
)

#: Object types the sink's records use (a record using another one fails its test).
OBJECTS = (
    "actor",
    "analytic",
    "device",
    "dns_answer",
    "dns_query",
    "enrichment",
    "evidences",
    "finding_info",
    "http_request",
    "http_response",
    "metadata",
    "network_endpoint",
    "network_traffic",
    "observable",
    "product",
    "resource_details",
    "url",
    "user",
)


class Schema:
    """Reads schema files at one git ref and resolves classes and objects."""

    def __init__(self, repo: Path, ref: str) -> None:
        self.repo, self.ref = repo, ref
        self._cache: dict[str, Any] = {}
        files = self.git("ls-tree", "-r", "--name-only", ref).split()
        self.class_files = self._by_name([f for f in files if f.startswith("events/")])
        self.object_files = self._by_name([f for f in files if f.startswith("objects/")])
        self.dictionary: dict[str, Any] = self.load("dictionary.json")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.repo), *args], check=True, capture_output=True, text=True
        ).stdout

    def load(self, path: str) -> Any:
        if path not in self._cache:
            self._cache[path] = json.loads(self.git("show", f"{self.ref}:{path}"))
        return self._cache[path]

    def _by_name(self, paths: list[str]) -> dict[str, str]:
        return {self.load(p)["name"]: p for p in paths if p.endswith(".json")}

    def own_attributes(self, definition: dict[str, Any]) -> dict[str, Any]:
        """A file's attributes with its ``$include``d files merged under them; attributes
        a profile brings are tagged with that profile unless the file says otherwise."""
        attrs: dict[str, Any] = {}
        for include in definition.get("attributes", {}).get("$include", []):
            included = self.load(include)
            profile = included["name"] if included.get("meta") == "profile" else None
            for name, spec in included.get("attributes", {}).items():
                tagged = {"profile": profile, **spec} if profile else spec
                attrs[name] = merge(attrs.get(name, {}), tagged)
        for name, spec in definition.get("attributes", {}).items():
            if name != "$include":
                attrs[name] = merge(attrs.get(name, {}), spec)
        return attrs

    def resolve(self, path: str, index: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Attributes and constraints of a class or object, through its ``extends`` chain."""
        definition = self.load(path)
        attrs: dict[str, Any] = {}
        constraints: dict[str, Any] = {}
        parent = definition.get("extends")
        if parent:
            attrs, constraints = self.resolve(index[parent], index)
        for name, spec in self.own_attributes(definition).items():
            attrs[name] = merge(attrs.get(name, {}), spec)
        return attrs, {**constraints, **definition.get("constraints", {})}

    def describe(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Per attribute: the dictionary's definition under the class's or object's."""
        out: dict[str, Any] = {}
        for name, spec in sorted(attrs.items()):
            full = merge(self.dictionary["attributes"].get(name, {}), spec)
            entry: dict[str, Any] = {
                "type": full["type"],
                "requirement": full.get("requirement", "optional"),
            }
            if full.get("is_array"):
                entry["is_array"] = True
            if full.get("profile"):
                entry["profile"] = full["profile"]
            if full.get("sibling"):
                entry["sibling"] = full["sibling"]
            if full.get("enum"):
                entry["enum"] = {k: v.get("caption", k) for k, v in sorted(full["enum"].items())}
            out[name] = entry
        return out

    def observable_types(self) -> dict[str, str]:
        """``observable.type_id`` values: the server numbers types, dictionary attributes and
        objects that carry an ``observable`` id."""
        found: dict[str, str] = {}
        for name, spec in self.dictionary["types"]["attributes"].items():
            if "observable" in spec:
                found[str(spec["observable"])] = spec.get("caption", name)
        for name, spec in self.dictionary["attributes"].items():
            if "observable" in spec:
                found.setdefault(str(spec["observable"]), spec.get("caption", name))
        for path in self.object_files.values():
            definition = self.load(path)
            if "observable" in definition:
                found.setdefault(str(definition["observable"]), definition["caption"])
        return found

    def types(self) -> dict[str, Any]:
        """Primitive types: the base each one narrows, and its regex, length and range."""
        table = self.dictionary["types"]["attributes"]
        out: dict[str, Any] = {}
        for name, spec in sorted(table.items()):
            base = name
            while "type" in table[base]:
                base = table[base]["type"]
            entry: dict[str, Any] = {"base": base}
            for key in ("regex", "max_len", "range", "values"):
                if key in spec:
                    entry[key] = spec[key]
            out[name] = entry
        return out


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, nested dicts (enums) merged key by key."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def build(repo: Path, ref: str) -> dict[str, Any]:
    schema = Schema(repo, ref)
    categories = schema.load("categories.json")["attributes"]
    version = schema.load("version.json")["version"]
    classes: dict[str, Any] = {}
    for path in CLASSES:
        definition = schema.load(path)
        parent = definition
        while "category" not in parent:
            parent = schema.load(schema.class_files[parent["extends"]])
        category = categories[parent["category"]]
        uid = category["uid"] * 1000 + definition["uid"]
        attrs, constraints = schema.resolve(path, schema.class_files)
        described = schema.describe(attrs)
        # The server numbers these per class: the class, its category, and one type per
        # activity (class_uid * 100 + activity_id), captioned "Class: Activity".
        described["class_uid"]["enum"] = {str(uid): definition["caption"]}
        described["category_uid"]["enum"] = {str(category["uid"]): category["caption"]}
        described["type_uid"]["enum"] = {
            str(uid * 100 + int(activity)): f"{definition['caption']}: {caption}"
            for activity, caption in described["activity_id"]["enum"].items()
        }
        classes[str(uid)] = {
            "name": definition["name"],
            "caption": definition["caption"],
            "category_uid": category["uid"],
            "category_name": category["caption"],
            "constraints": constraints,
            "attributes": described,
        }
    objects: dict[str, Any] = {}
    for name in OBJECTS:
        attrs, constraints = schema.resolve(schema.object_files[name], schema.object_files)
        described = schema.describe(attrs)
        if name == "observable":
            enum = described["type_id"].get("enum", {})
            described["type_id"]["enum"] = dict(
                sorted({**schema.observable_types(), **enum}.items(), key=lambda kv: int(kv[0]))
            )
        objects[name] = {"constraints": constraints, "attributes": described}
    return {
        "source": "https://github.com/ocsf/ocsf-schema",
        "ref": ref,
        "commit": schema.git("rev-parse", f"{ref}^{{commit}}").strip(),
        "version": version,
        "license": "Apache-2.0 (facts derived from the OCSF schema)",
        "generator": "tests/outputs/make_ocsf_required.py",
        "types": schema.types(),
        "classes": classes,
        "objects": objects,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="a clone of github.com/ocsf/ocsf-schema")
    parser.add_argument("--ref", default="1.8.0", help="tag or commit (default: 1.8.0)")
    args = parser.parse_args()
    data = build(args.repo, args.ref)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT} (OCSF {data['version']} at {data['commit'][:12]})")


if __name__ == "__main__":
    main()
