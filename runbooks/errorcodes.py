"""The error-code catalogue's Markdown format (a product's `docs/errors.md`) and finding codes in
text. Pure: no ORM.

Two shapes are read, mixed freely in one file:

    ## X400-E1042 — API key malformed          a heading per code (— or : before the title)
    Meaning: The key has whitespace in it.      labelled lines (Meaning, Remediation or Fix, Runbook);
    Remediation: Copy the key again.            unlabelled paragraphs add to the meaning
    Runbook: auth-401-triage

    | Code | Title | Meaning | Remediation | Runbook |     a table whose header names a Code column
    | --- | --- | --- | --- | --- |
    | X429-E2001 | Rate limited | … | … | |

A malformed row (a table row with the wrong number of cells, a code that is not a code, a code
given twice) is an error naming its line; the importer refuses a file with any error as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CODE = re.compile(r"^(?:[A-Z][A-Z0-9]*(?:[-_.][A-Z0-9]+)+|[A-Z]{1,6}\d{2,6}|[1-5]\d\d)$")
# Catalogue-shaped tokens in free text (X400-E1042, ERR_TOKEN_EXPIRED, AUTH401); HTTP statuses
# are matched only when the catalogue lists them (see `candidates`).
IN_TEXT = re.compile(r"\b(?:[A-Z][A-Z0-9]*(?:[-_.][A-Z0-9]+)+|[A-Z]{1,6}\d{2,6}|[1-5]\d\d)\b")
HEADING = re.compile(r"^#{2,4}\s+`?([A-Za-z0-9_.-]+)`?\s*(?:[—–:-]+\s*(.*))?$")
LABEL = re.compile(r"^\**(meaning|remediation|fix|runbook|title)\**\s*:\**\s*(.*)$", re.IGNORECASE)
MAX_FILE = 2_000_000
MAX_CANDIDATES = 200


@dataclass
class Entry:
    code: str
    title: str = ""
    meaning: str = ""
    remediation: str = ""
    runbook: str = ""
    line: int = 0

    def fields(self) -> dict:
        return {"title": self.title, "meaning": self.meaning, "remediation": self.remediation}


@dataclass
class Parsed:
    entries: list[Entry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(text: str) -> Parsed:
    result = Parsed()
    if len(text) > MAX_FILE:
        result.errors.append(f"The file is too large ({len(text):,} characters; at most {MAX_FILE:,}).")
        return result
    seen: dict[str, int] = {}
    current: Entry | None = None
    label = "meaning"
    header: list[str] | None = None

    def add(entry: Entry):
        if not CODE.match(entry.code):
            result.errors.append(f"Line {entry.line}: {entry.code[:60]!r} is not an error code (e.g. X400-E1042).")
        elif entry.code in seen:
            result.errors.append(f"Line {entry.line}: {entry.code} is listed twice (first on line {seen[entry.code]}).")
        else:
            seen[entry.code] = entry.line
            result.entries.append(entry)

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("|"):
            cells = _cells(line)
            if header is None:
                lowered = [c.lower() for c in cells]
                if "code" in lowered:
                    header = lowered
                continue
            if all(set(c) <= set("-: ") for c in cells):
                continue  # the separator row
            if len(cells) != len(header):
                result.errors.append(f"Line {number}: {len(cells)} cells where the header has {len(header)}.")
                continue
            row = dict(zip(header, cells, strict=True))
            add(
                Entry(
                    code=row.get("code", "").strip("`").upper(),
                    title=row.get("title", ""),
                    meaning=row.get("meaning", row.get("description", "")),
                    remediation=row.get("remediation", row.get("fix", "")),
                    runbook=row.get("runbook", "").strip("`"),
                    line=number,
                )
            )
            continue
        header = None
        heading = HEADING.match(line)
        if heading:
            current = Entry(code=heading.group(1).upper(), title=(heading.group(2) or "").strip(), line=number)
            label = "meaning"
            add(current)
            continue
        if line.startswith("#"):
            current = None  # a section heading that is not a code
            continue
        if current is None or not line:
            continue
        labelled = LABEL.match(line)
        if labelled:
            label = labelled.group(1).lower()
            label = "remediation" if label == "fix" else label
            line = labelled.group(2).strip()
        if not line:
            continue
        if label == "runbook":
            current.runbook = line.strip("`")
        elif label == "title":
            current.title = line
        else:
            before = getattr(current, label)
            setattr(current, label, f"{before}\n{line}" if before else line)
    return result


def candidates(text: str) -> set[str]:
    """The tokens of `text` that could be catalogue codes (looked up in one query by the caller)."""
    found = set()
    for match in IN_TEXT.finditer(text or ""):
        found.add(match.group(0).upper())
        if len(found) >= MAX_CANDIDATES:
            break
    return found
