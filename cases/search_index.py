"""Full-text search of cases: their subject, description and conversation (public messages and
internal notes), through one GIN index over `CaseSearch.document`, which PostgreSQL triggers keep
(migration 0550). Read-only here: nothing in Python writes a document.

The query language is the agent's words: every word must match the start of a word of the case
(`webhook` finds "webhooks"), a number must match whole (`500` finds error 500 and case 500, not
5000), case-insensitive, no stemming, no stop words (the `simple` configuration: error codes,
hostnames and any language are searched as written). On SQLite (the embedded default) the search
falls back to LIKE on subject and description.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import CaseSearch, Interaction

CONFIG = "simple"
MESSAGE_KINDS = (Interaction.Kind.INBOUND, Interaction.Kind.REPLY, Interaction.Kind.NOTE)
MAX_TERMS = 12
# Characters with a meaning in tsquery syntax, dropped from a term (the rest is quoted).
_SPECIAL = re.compile(r"[\\'&|!():*<>\x00-\x1f]")
_START, _STOP = "\x02", "\x03"
HEADLINE = f"StartSel={_START}, StopSel={_STOP}, MaxWords=24, MinWords=10, MaxFragments=1"


def _terms(text: str) -> list[str]:
    terms = []
    for raw in text.split():
        term = _SPECIAL.sub(" ", raw).strip()
        if term:
            terms.extend(term.split())
    return terms[:MAX_TERMS]


def tsquery(text: str) -> str:
    """The raw tsquery for the agent's words: `'word':*` ANDed (numbers whole), '' for none."""
    parts = [f"'{t}'" if t.isdigit() else f"'{t}':*" for t in _terms(text)]
    return " & ".join(parts)


def search_query(text: str) -> SearchQuery:
    return SearchQuery(tsquery(text), search_type="raw", config=CONFIG)


def matches(text: str) -> Q | Exists:
    """The filter on cases for `text` (empty words match nothing)."""
    if connection.vendor != "postgresql":
        words = Q(subject__icontains=text) | Q(description__icontains=text)
        return words | Q(pk=int(text)) if text.isdigit() and len(text) <= 12 else words
    raw = tsquery(text)
    if not raw:
        return Q(pk__in=[])
    return Exists(CaseSearch.objects.filter(case_id=OuterRef("pk"), document=search_query(text)))


def snippets(case_ids: list[int], text: str) -> dict[int, dict]:
    """For each case, the newest of its messages and notes that matches `text`: {case id:
    {"kind", "public", "html"}} with the matching words in <mark> (escaped text otherwise). One
    query; none on SQLite or for an empty search."""
    raw = tsquery(text)
    if not case_ids or not raw or connection.vendor != "postgresql":
        return {}
    sql = f"""
        SELECT DISTINCT ON (m.case_id) m.case_id, m.kind, m.public,
               ts_headline(%(config)s::regconfig, m.body, q, %(options)s)
        FROM {Interaction._meta.db_table} m, to_tsquery(%(config)s::regconfig, %(raw)s) q
        WHERE m.case_id = ANY(%(ids)s) AND m.kind = ANY(%(kinds)s) AND m.body <> ''
          AND to_tsvector(%(config)s::regconfig, m.body) @@ q
        ORDER BY m.case_id, m.created_at DESC, m.id DESC
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {"config": CONFIG, "raw": raw, "options": HEADLINE, "ids": list(case_ids), "kinds": list(MESSAGE_KINDS)},
        )
        rows = cursor.fetchall()
    return {case_id: {"kind": kind, "public": public, "html": _marked(text_)} for case_id, kind, public, text_ in rows}


def _marked(headline: str) -> SafeString:
    html = escape(" ".join(headline.split()))
    return mark_safe(html.replace(_START, "<mark>").replace(_STOP, "</mark>"))
