"""`Idempotency-Key` on creates: the first answer is stored with the key, per caller, in the create's own
transaction (a unique constraint on (caller, key)); a retry with the same key and the same request
answers that first result again (with `Idempotent-Replayed: true`), a retry with another body is
refused (422), and a create that failed leaves no key (its transaction rolled back), so it can be
retried as it was. Two concurrent requests with one key: the second waits on the first's row and then
replays it."""

from __future__ import annotations

import hashlib
import re

from django.db import transaction

from ..models import IdempotencyKey
from .problems import Problem

HEADER = "HTTP_IDEMPOTENCY_KEY"
KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


def key_of(request) -> str | None:
    """The request's Idempotency-Key (None without one); 400 for one that is not 1–255 visible ASCII."""
    raw = request.META.get(HEADER)
    if raw is None:
        return None
    if not KEY_RE.match(raw):
        raise Problem(400, "The Idempotency-Key header must be 1–255 visible ASCII characters (e.g. a UUID).")
    return raw


def fingerprint(request, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([request.method.encode(), request.path.encode(), body])).hexdigest()


def claim(*, principal: str, key: str, print_: str) -> IdempotencyKey | None:
    """Inside the create's transaction: None when this request is the key's first (go on and `record`
    the answer), else the stored first answer to replay. Must run in transaction.atomic."""
    assert transaction.get_connection().in_atomic_block, "claim() runs inside the create's transaction"
    row, created = IdempotencyKey.objects.get_or_create(principal=principal, key=key, defaults={"fingerprint": print_})
    if created:
        return None
    if row.fingerprint != print_:
        raise Problem(
            422,
            "This Idempotency-Key was already used for a different request. Use a new key for a new request.",
        )
    if row.status is None:  # cannot happen after the first commits (same transaction), kept as a guard
        raise Problem(409, "A request with this Idempotency-Key is still in progress; retry shortly.")
    return row


def record(*, principal: str, key: str, status: int, body: dict) -> None:
    IdempotencyKey.objects.filter(principal=principal, key=key).update(status=status, body=body)


def purge_expired(now=None) -> int:
    """Forget the keys older than API_IDEMPOTENCY_DAYS (beat, "api-idempotency-purge"): a retry that late
    is a new request. Returns how many were deleted."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    cutoff = (now or timezone.now()) - timedelta(days=settings.API_IDEMPOTENCY_DAYS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
