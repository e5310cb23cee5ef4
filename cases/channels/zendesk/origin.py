"""Loop prevention, part one: while a change that came from Zendesk is applied through the case
services, the outbox listener must not send it back. `applying(...)` marks the block; the
timeline entries made by the sync's own services also carry `data["external"]` (the marker, with
Zendesk's comment or audit id), which the listener recognises too. Part two, echoes of our own
changes coming back through webhooks and the export, is in `inbound` (marker and audit id)."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

_applying: ContextVar[dict | None] = ContextVar("zendesk_applying", default=None)

SYSTEM = "zendesk"


@contextmanager
def applying(*, ticket_id: int, audit_id=None):
    token = _applying.set({"ticket_id": ticket_id, "audit_id": audit_id})
    try:
        yield
    finally:
        _applying.reset(token)


def current() -> dict | None:
    return _applying.get()


def marker(*, ticket_id: int, **ids) -> dict:
    """The `data["external"]` of a timeline entry made from a Zendesk change."""
    return {"system": SYSTEM, "ticket_id": ticket_id, **{k: v for k, v in ids.items() if v is not None}}


def is_from_zendesk(data: dict | None) -> bool:
    return bool(data) and (data.get("external") or {}).get("system") == SYSTEM
