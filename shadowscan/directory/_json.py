"""Records of a JSON export, with the lines each one spans.

Directory APIs are exported in several shapes: a JSON array (``okta-users.json``), a
Graph response (``{"@odata.context": ..., "value": [...]}``), pages of those in an
array, JSON lines, or the concatenated pretty-printed objects ``jq '.value[]'`` writes.
One lenient scanner reads them all: it decodes each record with the standard decoder and
notes which lines it spans, so the readers can account for lines. A record that does not
decode is rejected from its first line up to the next line that opens an object, where
reading resumes.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shadowscan.directory.base import DirectoryBatch, LineLedger, Person, people_frame

_WS = " \t\n\r"
#: Brackets and commas that hold records together; between records they are skipped.
_PUNCTUATION = _WS + ",]}"
#: Arrays and pages nested deeper than this hold no records; they are decoded whole.
_MAX_DEPTH = 4
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class JsonRecord:
    value: Any
    first: int  # 1-based line numbers, inclusive
    last: int


class _Scanner:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.text = "\n".join(lines)
        self.starts = [0]
        for line in lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)
        self.records: list[JsonRecord] = []
        self.errors: list[tuple[int, int]] = []

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def skip(self, pos: int, chars: str) -> int:
        n = len(self.text)
        while pos < n and self.text[pos] in chars:
            pos += 1
        return pos

    def run(self) -> None:
        pos, n = 0, len(self.text)
        while (pos := self.skip(pos, _PUNCTUATION)) < n:
            if self.text[pos] == "[":
                pos = self.array(pos, 1)
            elif self.text[pos] == "{":
                pos = self.value(pos, 1)
            else:
                pos = self.fail(pos)

    def value(self, pos: int, depth: int) -> int:
        """Decode the value at ``pos``: a record, or a Graph page to descend into."""
        try:
            obj, end = _DECODER.raw_decode(self.text, pos)
        except (json.JSONDecodeError, RecursionError):
            return self.fail(pos)
        if depth <= _MAX_DEPTH and isinstance(obj, dict) and isinstance(obj.get("value"), list):
            return self.page(pos, depth)
        self.records.append(JsonRecord(obj, self.line_of(pos), self.line_of(end - 1)))
        return int(end)

    def array(self, pos: int, depth: int) -> int:
        if depth > _MAX_DEPTH:
            return self.value(pos, depth)
        pos += 1
        n = len(self.text)
        while (pos := self.skip(pos, _WS + ",")) < n:
            char = self.text[pos]
            if char == "]":
                return pos + 1
            pos = self.array(pos, depth + 1) if char == "[" else self.value(pos, depth)
        return n

    def page(self, pos: int, depth: int) -> int:
        """Walk a Graph page (known to decode): skip its keys, read its ``value`` array."""
        pos += 1
        while True:
            pos = self.skip(pos, _WS + ",")
            if self.text[pos] == "}":
                return pos + 1
            key, pos = _DECODER.raw_decode(self.text, pos)
            pos = self.skip(self.skip(pos, _WS) + 1, _WS)  # the colon
            if key == "value" and self.text[pos] == "[":
                pos = self.array(pos, depth + 1)
            else:
                _, pos = _DECODER.raw_decode(self.text, pos)

    def fail(self, pos: int) -> int:
        """Reject from the line of ``pos`` to the next line that opens an object or
        array; return where to resume."""
        first = self.line_of(pos)
        resume = next(
            (
                no
                for no in range(first + 1, len(self.lines) + 1)
                if self.lines[no - 1].lstrip()[:1] in ("{", "[")
            ),
            len(self.lines) + 1,
        )
        self.errors.append((first, resume - 1))
        return self.starts[resume - 1] if resume <= len(self.lines) else len(self.text)


def json_records(lines: list[str]) -> tuple[list[JsonRecord], list[tuple[int, int]]]:
    """The records of a JSON export and the line ranges that did not decode."""
    scanner = _Scanner(lines)
    scanner.run()
    return scanner.records, scanner.errors


#: A reader's verdict on one record: a person, a reason to reject it, or None to ignore it.
Verdict = Person | str | None


def read_json_people(
    lines: list[str], source_file: str, judge: Callable[[Any, int], Verdict]
) -> DirectoryBatch:
    """People from a JSON export; ``judge(record, first_line)`` turns a record into one.
    The lines of a record that made a person are parsed; those of a rejected record are
    rejected with the judge's reason; the rest (brackets, page keys) are ignored."""
    ledger = LineLedger(len(lines))
    records, errors = json_records(lines)
    for first, last in errors:
        ledger.reject(first, last, "bad JSON")
    people: list[Person] = []
    for record in records:
        verdict = judge(record.value, record.first)
        if isinstance(verdict, Person):
            people.append(verdict)
            ledger.parse(record.first, record.last)
        elif isinstance(verdict, str):
            ledger.reject(record.first, record.last, verdict)
    return ledger.batch(people_frame(people, source_file))
