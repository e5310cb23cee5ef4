"""Keyset (cursor) pagination: each page is "the next N rows after this one" in the list's own order,
found through the order's index; no OFFSET and no COUNT, so page 1,000 costs what page 1 costs at a
million rows.

The cursor is opaque to clients (urlsafe base64 of JSON): the sort's name and the last row's values of
the order's columns. An order is a list of (field, descending, nullable-last) triples ending in a unique
field (`id`); `after_q` builds the "strictly after" condition for it."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from .problems import Problem

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Column:
    field: str
    descending: bool = False
    nulls_last: bool = False  # nullable, NULLs after every value (ascending only here)


def encode(sort: str, values: list) -> str:
    raw = json.dumps([sort, [v.isoformat() if isinstance(v, datetime) else v for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, sort: str, columns: list[Column]) -> list:
    bad = Problem(
        400,
        "The cursor is not valid for this list: start again without one.",
        errors=[{"field": "cursor", "message": "not a cursor of this list and sort"}],
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, values = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad from None
    if name != sort or not isinstance(values, list) or len(values) != len(columns):
        raise bad
    out = []
    for column, value in zip(columns, values):
        if value is None:
            if not column.nulls_last:
                raise bad
            out.append(None)
        elif column.field.endswith("_at"):
            parsed = parse_datetime(value) if isinstance(value, str) else None
            if parsed is None:
                raise bad
            out.append(parsed)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
            out.append(value)
        else:
            raise bad
    return out


def after_q(columns: list[Column], values: list) -> Q:
    """Rows strictly after `values` in the order `columns` (lexicographic, each column in its own
    direction; a nulls-last column's NULLs come after its values)."""
    q = Q(pk__in=[])
    equal = Q()
    for column, value in zip(columns, values):
        name = column.field
        if value is None:  # after NULL: only NULLs, compared on the next columns
            beyond = Q(pk__in=[])
            same = Q(**{f"{name}__isnull": True})
        else:
            beyond = Q(**{f"{name}__lt" if column.descending else f"{name}__gt": value})
            if column.nulls_last:
                beyond |= Q(**{f"{name}__isnull": True})
            same = Q(**{name: value})
        q |= equal & beyond
        equal &= same
    return q


def after(columns: list[Column], values: list, table: str):
    """`after_q`, or where every column goes one way and holds no NULL, the row comparison
    `(a, b, id) > (…)` that PostgreSQL answers with one index range scan (the OR form makes it
    filter every row before the cursor)."""
    directions = {c.descending for c in columns}
    if len(directions) > 1 or any(c.nulls_last for c in columns) or None in values:
        return after_q(columns, values)
    names = ", ".join(f'"{table}"."{c.field}"' for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    op = "<" if directions == {True} else ">"
    return RawSQL(f"({names}) {op} ({marks})", values, output_field=BooleanField())


def page_size_of(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise Problem(
            400,
            f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}.",
            errors=[{"field": "page_size", "message": f"1–{MAX_PAGE_SIZE}"}],
        )
    return size


def paginate(
    qs: QuerySet, *, sort: str, columns: list[Column], cursor: str | None, size: int
) -> tuple[list, str | None]:
    """One page of `qs` (already ordered by `columns`) after `cursor`: (rows, the next page's cursor or
    None at the end). One query: it fetches size + 1 rows to know whether there is a next page."""
    if cursor:
        qs = qs.filter(after(columns, decode(cursor, sort, columns), qs.model._meta.db_table))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    return rows, encode(sort, [getattr(last, c.field) for c in columns])
