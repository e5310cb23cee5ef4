"""Agent collision: who else has a case open and who is typing a reply, kept in the cache (Redis in
production, local memory in the embedded default) — no extra server, no table.

The case page sends a heartbeat every few seconds (HTMX polling) and one while its composer is
being typed in. Each case has one cache entry, `{user_id: [name, seen_at, typing_until]}`, that
expires shortly after the last heartbeat. Two heartbeats at the same instant may overwrite each
other's mark; the next one, seconds later, puts it back — presence is a hint, not a record."""

from __future__ import annotations

import time

from django.core.cache import cache

SEEN_FOR = 15.0  # seconds a heartbeat counts as "has the page open"
TYPING_FOR = 8.0  # seconds a keystroke counts as "is typing"
POLL_SECONDS = 5  # how often the case page sends its heartbeat


def _key(case_id: int) -> str:
    return f"presence:case:{case_id}"


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _fresh(entries: dict, now: float) -> dict:
    return {uid: entry for uid, entry in entries.items() if now - entry[1] < SEEN_FOR}


def heartbeat(case_id: int, user, *, typing: bool = False, now: float | None = None) -> None:
    """`user` has the case open (and, with `typing`, is writing a reply)."""
    now = time.time() if now is None else now
    entries = _fresh(cache.get(_key(case_id)) or {}, now)
    previous = entries.get(str(user.pk))
    typing_until = now + TYPING_FOR if typing else (previous[2] if previous else 0.0)
    entries[str(user.pk)] = [_name(user), now, typing_until, user.get_username()]
    cache.set(_key(case_id), entries, timeout=int(SEEN_FOR * 2))


def leave(case_id: int, user) -> None:
    entries = cache.get(_key(case_id)) or {}
    if entries.pop(str(user.pk), None) is not None:
        cache.set(_key(case_id), entries, timeout=int(SEEN_FOR * 2))


def others(case_id: int, user, *, now: float | None = None) -> list[dict]:
    """Everyone but `user` who has the case open now, typists first."""
    now = time.time() if now is None else now
    entries = _fresh(cache.get(_key(case_id)) or {}, now)
    people = [
        {"name": e[0], "username": e[3] if len(e) > 3 else e[0], "typing": e[2] > now}
        for uid, e in entries.items()
        if uid != str(user.pk)
    ]
    return sorted(people, key=lambda p: (not p["typing"], p["name"]))


def viewing(case_ids, user=None, *, now: float | None = None) -> dict[int, list[str]]:
    """For a page of the queue: the names of who has each case open now (one cache round trip)."""
    now = time.time() if now is None else now
    found = cache.get_many([_key(pk) for pk in case_ids])
    result: dict[int, list[str]] = {}
    for pk in case_ids:
        entries = _fresh(found.get(_key(pk)) or {}, now)
        names = sorted(e[0] for uid, e in entries.items() if user is None or uid != str(user.pk))
        if names:
            result[pk] = names
    return result
