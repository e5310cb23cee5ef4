"""Personal API tokens: a person's key to the REST API and the CLI. The raw token is shown once when
created; only its sha256 is stored. A token acts as its user (the same visibility, the same audit
actor) within its scope, until it expires or is revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import ApiToken

PREFIX = "cop_"  # integration tokens start with "cos_"
EXPIRY_DAYS = (7, 30, 90, 365)
MAX_ACTIVE = 20


class TokenError(Exception):
    """A refused token change; `str(error)` is the message the user sees."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def tokens_of(user) -> list[ApiToken]:
    """The user's tokens, newest first: active ones, then the last revoked or expired ones."""
    return list(ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-id")[:50])


@transaction.atomic
def token_create(*, user, name: str, scope: str, expires_in_days: int) -> tuple[ApiToken, str]:
    """A new token for `user`: (the token, the raw value to show once)."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Name the token (what it is for, e.g. 'laptop CLI').")
    if len(name) > 80:
        raise TokenError("A token's name is at most 80 characters.")
    if scope not in ApiToken.Scope.values:
        raise TokenError("Choose the scope: read, or read and write.")
    if expires_in_days not in EXPIRY_DAYS:
        raise TokenError(f"Choose an expiry of {', '.join(map(str, EXPIRY_DAYS))} days.")
    now = timezone.now()
    active = ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
    if len(active) >= MAX_ACTIVE:
        raise TokenError(f"You have {MAX_ACTIVE} active tokens: revoke one first.")
    raw = PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user,
                name=name,
                token_prefix=raw[:12],
                token_hash=hash_token(raw),
                scope=scope,
                expires_at=now + timedelta(days=expires_in_days),
            )
    except IntegrityError:
        raise TokenError(f"You already have an active token named {name!r}.") from None
    return token, raw


@transaction.atomic
def token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke one of `user`'s tokens: it stops working at once."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
    if token is None:
        raise TokenError("No such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_for(raw: str) -> ApiToken | None:
    """The token whose raw value is `raw` (any state), with its user."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    return ApiToken.objects.select_related("user").filter(token_hash=hash_token(raw)).first()


def token_mark_used(token: ApiToken, now=None) -> None:
    """Record the use, to the minute (one UPDATE a minute per token, not one per call)."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
