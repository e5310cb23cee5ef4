"""DRF authentication by a personal API token: `Authorization: Bearer cop_…`. request.user is the
token's user and request.auth the token. A header that holds another kind of token is left to the
next authentication class (the integrations', tenants.api_auth)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from . import tokens


def bearer(request) -> str | None:
    """The token in the Authorization header ("Bearer x" or "Token x"), "" for a malformed header,
    None for none."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _, raw = header.partition(" ")
    if scheme.lower() not in {"bearer", "token"} or not raw.strip():
        return ""
    return raw.strip()


class PersonalTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        raw = bearer(request)
        if raw is None:
            return None
        if raw == "":
            raise AuthenticationFailed("Send the token as 'Authorization: Bearer <token>'.")
        if not raw.startswith(tokens.PREFIX):
            return None  # an integration token: tenants.api_auth
        token = tokens.token_for(raw)
        if token is None:
            raise AuthenticationFailed("Unknown token.")
        now = timezone.now()
        refusal = token.refusal(now)
        if refusal:
            raise AuthenticationFailed(refusal)
        tokens.token_mark_used(token, now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="companyos"'


class BearerScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme: one bearer token (personal cop_… or integration cos_…)."""

    target_class = "companyos.api.auth.PersonalTokenAuthentication"
    name = "personalToken"
    match_subclasses = True

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (cop_…), from Preferences → API tokens",
        }
