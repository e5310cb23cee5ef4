"""Who the panel is for (the host's signed context), the signed "follow replies" link, and the
panel's Content-Security-Policy."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from tenants import selectors as tenant_selectors
from tenants.models import Tenant, WidgetConfig
from tenants.widget import ContextRefused, WidgetContext, verify_context

THREAD_SALT = "cases.channels.widget.thread"


@dataclass(frozen=True)
class Visitor:
    """A verified context: the widget's config, the tenant it files for, and who the host says it is."""

    config: WidgetConfig
    tenant: Tenant
    context: WidgetContext


def config_named_by(token: str) -> WidgetConfig | None:
    """The config whose key id the (unverified) token names, for the refusal page's frame-ancestors
    only: a refusal shows nothing, but it must reach the visitor inside the host's page."""
    parts = (token or "").split(".") if isinstance(token, str) and len(token) < 5000 else []
    if len(parts) == 4 and parts[1].startswith("wk_") and len(parts[1]) <= 48:
        return tenant_selectors.widget_config_by_key(parts[1])
    return None


def visitor(token: str, *, now: int | None = None) -> Visitor:
    """The visitor the token vouches for, or ContextRefused: a valid signature of an active widget,
    not expired, and a tenant the widget's integration serves (so a context cannot name another)."""
    found: dict[str, WidgetConfig | None] = {}

    def lookup(key_id: str) -> WidgetConfig | None:
        found["config"] = tenant_selectors.widget_config_by_key(key_id)
        return found["config"]

    context = verify_context(token, lookup=lookup, now=int(time.time()) if now is None else now)
    config = found["config"]
    tenant = tenant_selectors.widget_tenant(config, context.tenant_slug)
    if tenant is None:
        raise ContextRefused("This product's help widget cannot file cases for that organisation.")
    return Visitor(config=config, tenant=tenant, context=context)


# --- the follow-replies link ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadLink:
    case_id: int
    requester_id: int
    integration_id: int


class LinkRefused(Exception):
    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def thread_token(*, case_id: int, requester_id: int, integration_id: int) -> str:
    return signing.dumps({"c": case_id, "r": requester_id, "i": integration_id}, salt=THREAD_SALT)


def read_thread_token(token: str) -> ThreadLink:
    if not isinstance(token, str) or len(token) > 500:
        raise LinkRefused("This link is not valid.")
    try:
        data = signing.loads(token, salt=THREAD_SALT, max_age=settings.WIDGET_THREAD_LINK_MAX_AGE_DAYS * 86400)
    except signing.SignatureExpired:
        raise LinkRefused(
            "This link has expired. Open help in the product again to see your case.", expired=True
        ) from None
    except signing.BadSignature:
        raise LinkRefused("This link is not valid.") from None
    try:
        return ThreadLink(case_id=int(data["c"]), requester_id=int(data["r"]), integration_id=int(data["i"]))
    except (KeyError, TypeError, ValueError):
        raise LinkRefused("This link is not valid.") from None


# --- the panel's CSP ----------------------------------------------------------------------------------------

PANEL_POLICY = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}


def frame_ancestors(config: WidgetConfig | None) -> list[str]:
    if config is None or not config.active or not config.allowed_origins:
        return ["'none'"]
    return list(config.allowed_origins)


def framed_by(response, config: WidgetConfig | None):
    """The panel's strict policy, framable by the widget's allowed origins only (django-csp's per-response
    config, which the middleware uses instead of the console's; the console keeps frame-ancestors
    'none'). X-Frame-Options is dropped only when some origin may frame it."""
    ancestors = frame_ancestors(config)
    response._csp_config = {**PANEL_POLICY, "frame-ancestors": ancestors}
    if ancestors != ["'none'"]:
        response.xframe_options_exempt = True
    return response
