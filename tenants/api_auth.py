"""Token authentication for the machine APIs: `Authorization: Bearer <token>` of an Integration."""

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

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
