"""`APIBase`: the base view of every REST resource (/api/v1/…). Resources set their own
`authentication_classes` (personal tokens and, from tenants, integration tokens) and declare their
audit (companyos.access) like every view."""

from __future__ import annotations

from auditlog.context import auditlog_value
from django.contrib.auth import get_user_model
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from ..access import no_data
from ..models import ApiToken
from . import problems
from .parsers import StrictJSONParser
from .throttling import TokenRateThrottle

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def principal_of(request) -> tuple[str, str]:
    """(a stable key, the name the audit trail shows) of the token behind the request:
    ("apitoken:7", "laptop CLI") or ("integration:3", "Acme backend")."""
    auth = request.auth
    return f"{auth._meta.model_name}:{auth.pk}", str(getattr(auth, "name", auth))


def audit_extra(request) -> dict:
    """What every audit entry written for an API call adds: which token made it."""
    key, name = principal_of(request)
    kind = "token" if key.startswith("apitoken:") else "integration"
    return {"via": "api", kind: name}


class TokenScope(BasePermission):
    """A personal token's scope: `read` tokens may only read. (Integration tokens are scoped by their
    tenants, not by method.)"""

    message = "This token's scope is read: create a read and write token to change cases."

    def has_permission(self, request, view):
        auth = request.auth
        if auth is None:
            return False
        if isinstance(auth, ApiToken) and request.method not in SAFE_METHODS:
            return auth.scope == ApiToken.Scope.WRITE
        return True


class Authenticated(BasePermission):
    def has_permission(self, request, view):
        return request.auth is not None and request.user is not None


class APIBase(APIView):
    parser_classes = [StrictJSONParser]
    permission_classes = [Authenticated, TokenScope]
    throttle_classes = [TokenRateThrottle]

    def get_exception_handler(self):
        return problems.exception_handler

    def options(self, request, *args, **kwargs):
        # DRF's metadata answer (the view's name, parsers, renderers): no case or tenant data.
        return no_data(super().options(request, *args, **kwargs))

    def perform_authentication(self, request):
        super().perform_authentication(request)
        # django-auditlog took its actor from the session (none) before DRF authenticated the token:
        # every entry of this request names the token's user.
        user = request.user
        if isinstance(user, get_user_model()):
            try:
                auditlog_value.get()["actor"] = user
            except LookupError:
                pass

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated("Send a token: 'Authorization: Bearer <token>'.")
        super().permission_denied(request, message, code)
