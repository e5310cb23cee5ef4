"""The in-app help widget's configuration and the host's signed context.

A product page embeds the widget (`static/widget/widget.js`); its panel (`cases.channels.widget`)
files a case for the visitor the host's backend vouches for. The host's backend signs that visitor —
the tenant, the contact's e-mail and name, an expiry — with the widget secret of one of our
integrations (`WidgetConfig`, one per `Integration`, enabled by an admin with the page origins
allowed to frame the panel). The console trusts nothing else the browser says about who it is:

    v1.<key id>.<payload>.<signature>

`payload` is the unpadded base64url of a JSON object `{"tenant": slug, "email": …, "name": …,
"exp": unix seconds}`; `signature` the unpadded base64url of HMAC-SHA256(secret, "v1.<key id>.<payload>").
The key id is public (it picks the secret); the secret never leaves the host's backend. The tenant
must be one of the integration's tenants, so a visitor holding a context for one tenant cannot file
for another, and a context lives at most `WIDGET_CONTEXT_MAX_AGE_SECONDS` (the host signs a fresh
one per page view). `verify_context` is pure (no ORM): the caller passes the lookup of the config.

The secret is stored as given (an HMAC is checked with the secret itself; no hash would do). It is
shown once, when generated, kept out of the audit log, and can be rotated at once.
Imported by tenants.models, so `WidgetConfig` is a model of the `tenants` app.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

VERSION = "v1"
KEY_ID = re.compile(r"^wk_[A-Za-z0-9_-]{8,40}$")
MAX_TOKEN_LENGTH = 4096


class WidgetConfig(models.Model):
    """The in-app widget of one integration: whether it is on, which page origins may frame its panel
    (`frame-ancestors`), and the secret the host's backend signs its visitors' context with."""

    integration = models.OneToOneField("tenants.Integration", on_delete=models.CASCADE, related_name="widget")
    enabled = models.BooleanField(default=True)
    allowed_origins = models.JSONField(
        default=list, blank=True, help_text='Page origins that may embed the panel, e.g. ["https://app.acme.example"]'
    )
    key_id = models.CharField(max_length=48, unique=True, help_text="Public: names the secret in a signed context")
    secret = models.CharField(max_length=128, help_text="Signs the host's context (HMAC-SHA256); shown once")
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["integration__name"]

    def __str__(self):
        return f"widget of {self.integration.name} ({self.key_id})"

    @property
    def active(self) -> bool:
        return self.enabled and self.integration.revoked_at is None

    @staticmethod
    def new_key() -> tuple[str, str]:
        """(key id, secret)."""
        return "wk_" + secrets.token_urlsafe(12), "wsk_" + secrets.token_urlsafe(32)


# --- origins ------------------------------------------------------------------------------------------


def normalise_origin(value: str) -> str:
    """`scheme://host[:port]` of an origin an admin typed, or ValueError saying why not. A path,
    query, wildcard or user info is refused: frame-ancestors gets exact origins only."""
    text = (value or "").strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin like https://app.example.com.")
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc or "*" in text:
        raise ValueError(f"{value!r}: give only scheme, host and port (no path, wildcard or user).")
    if any(c in text for c in " ;,'\"\\"):
        raise ValueError(f"{value!r} contains a character an origin cannot have.")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} has an invalid port.") from None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


# --- the signed context ---------------------------------------------------------------------------------


class ContextRefused(Exception):
    """The host's context cannot be used; the message says why, fit to show the visitor."""


@dataclass(frozen=True)
class WidgetContext:
    config_id: int
    integration_id: int
    tenant_slug: str
    email: str
    name: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signature(secret: str, signed_part: str) -> str:
    return _b64(hmac.new(secret.encode(), signed_part.encode(), hashlib.sha256).digest())


def sign_context(*, key_id: str, secret: str, tenant: str, email: str, name: str = "", expires_at: int) -> str:
    """What the host's backend does (README: "Embedding the in-app widget"); here for tests and the demo."""
    payload = {"tenant": tenant, "email": email, "name": name, "exp": int(expires_at)}
    signed_part = f"{VERSION}.{key_id}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
    return f"{signed_part}.{signature(secret, signed_part)}"


def verify_context(token: str, *, lookup: Callable[[str], WidgetConfig | None], now: int) -> WidgetContext:
    """The visitor the host vouches for, or ContextRefused. `lookup(key_id)` returns the key's config
    (or None); `now` is unix seconds. Checks, in order: the shape, the key, the signature (constant
    time), the payload, the expiry (not past, not further ahead than the maximum), the e-mail."""
    if not token:
        raise ContextRefused(
            "This help panel was opened without a signed context from the product, so it cannot file a case."
        )
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise ContextRefused("The product's context is malformed.")
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != VERSION:
        raise ContextRefused("The product's context is malformed (expected v1.<key id>.<payload>.<signature>).")
    _, key_id, payload_part, sig = parts
    if not KEY_ID.match(key_id):
        raise ContextRefused("The product's context names no known widget key.")
    config = lookup(key_id)
    if config is None:
        raise ContextRefused("The product's context names no known widget key.")
    if not config.active:
        raise ContextRefused("The help widget of this product is switched off.")
    if not hmac.compare_digest(signature(config.secret, f"{VERSION}.{key_id}.{payload_part}"), sig):
        raise ContextRefused("The product's context is not correctly signed; it may have been altered.")
    try:
        payload = json.loads(_unb64(payload_part))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ContextRefused("The product's context is malformed.") from None
    if not isinstance(payload, dict):
        raise ContextRefused("The product's context is malformed.")
    exp, tenant, email, name = payload.get("exp"), payload.get("tenant"), payload.get("email"), payload.get("name", "")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise ContextRefused("The product's context has no expiry (exp, unix seconds).")
    if exp <= now:
        raise ContextRefused("This help session has expired. Reload the page and open help again.")
    if exp > now + settings.WIDGET_CONTEXT_MAX_AGE_SECONDS:
        raise ContextRefused(
            "The product's context is valid for too long "
            f"(at most {settings.WIDGET_CONTEXT_MAX_AGE_SECONDS // 60} min)."
        )
    if not isinstance(tenant, str) or not tenant or len(tenant) > 80:
        raise ContextRefused("The product's context names no tenant.")
    if not isinstance(email, str) or len(email) > 254:
        raise ContextRefused("The product's context has no valid e-mail address.")
    try:
        validate_email(email)
    except ValidationError:
        raise ContextRefused("The product's context has no valid e-mail address.") from None
    if not isinstance(name, str):
        name = ""
    return WidgetContext(
        config_id=config.pk,
        integration_id=config.integration_id,
        tenant_slug=tenant,
        email=email.strip().lower(),
        name=" ".join(name.split())[:200],
        expires_at=exp,
    )
