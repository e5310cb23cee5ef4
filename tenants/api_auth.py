"""Token authentication for the machine APIs: `Authorization: Bearer <token>` of an Integration."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from companyos.api.auth import PersonalTokenAuthentication

from .ingest.integrations import integration_mark_used
from .telemetry import Integration, hash_token


class IntegrationPrincipal:
    """request.user for an API call: the integration, not a person."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, integration: Integration):
        self.integration = integration
        self.pk = None

    def __str__(self):
        return f"integration {self.integration.name}"


class IntegrationTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in {"bearer", "token"} or not token.strip():
            raise AuthenticationFailed("Send the integration token as 'Authorization: Bearer <token>'.")
        integration = Integration.objects.filter(token_hash=hash_token(token.strip())).first()
        if integration is None:
            raise AuthenticationFailed("Unknown token.")
        if integration.revoked_at is not None:
            raise AuthenticationFailed("This token was revoked.")
        integration_mark_used(integration_id=integration.pk)
        return IntegrationPrincipal(integration), integration

    def authenticate_header(self, request):
        return 'Bearer realm="companyos"'


# --- the REST API (/api/v1/ cases, tenants, requesters): personal tokens and integration tokens ----------


# A personal token (cop_…) acts as its user; an integration token (cos_…) as the system on its tenants.
API_AUTHENTICATION = [PersonalTokenAuthentication, IntegrationTokenAuthentication]


def is_integration(request) -> bool:
    return isinstance(request.auth, Integration)


def api_tenant_ids(request) -> list[int] | None:
    """The tenants the caller may see: a personal token its user's (None: every tenant), an integration
    token the integration's tenants. Computed once per request."""
    cached = getattr(request, "_api_tenant_ids", False)
    if cached is not False:
        return cached
    if is_integration(request):
        from .selectors import integration_tenant_ids

        ids = integration_tenant_ids(request.auth)
    else:
        from .selectors import visible_tenant_ids

        ids = visible_tenant_ids(request.user)
    request._api_tenant_ids = ids
    return ids


def api_actor(request):
    """Who a write through the API is done as: the token's user, or for an integration the system user
    (its tenants were checked by the API; the audit entries name the integration)."""
    if is_integration(request):
        from companyos.roles import system_user

        return system_user()
    return request.user


class IntegrationBearerScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.api_auth.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration token (cos_…): its tenants only",
        }
