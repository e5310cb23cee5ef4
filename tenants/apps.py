from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"

    def ready(self):
        from auditlog.registry import auditlog

        from .models import Integration, Requester, Resource, Tenant

        auditlog.register(Tenant)
        auditlog.register(Requester, m2m_fields={"visible_resources"})
        auditlog.register(Resource)
        auditlog.register(Integration, exclude_fields=["token_hash", "last_used_at"], m2m_fields={"tenants"})
