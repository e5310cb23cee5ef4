from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"

    def ready(self):
        from auditlog.registry import auditlog

        from companyos.audit import PERSONAL_MASK, register_person

        from .models import Integration, Requester, Resource, Tenant, WidgetConfig

        auditlog.register(Tenant)
        # People are named by id in the trail, their personal fields recorded as changed-with-a-hash.
        auditlog.register(
            Requester,
            mask_fields=["name", "email", "role"],
            mask_callable=PERSONAL_MASK,
            m2m_fields={"visible_resources"},
        )
        register_person(Requester)
        auditlog.register(Resource)
        auditlog.register(
            Integration,
            exclude_fields=["token_hash", "last_used_at", "widget"],  # widget: a row of its own, audited itself
            m2m_fields={"tenants"},
        )
        auditlog.register(WidgetConfig, exclude_fields=["secret"])  # a rotation shows as rotated_at
        from .access import TemporaryAccess

        auditlog.register(TemporaryAccess)  # granted, revoked (by hand or by beat at expiry)

        from . import retention_rules

        retention_rules.register()  # telemetry past TELEMETRY_RETENTION_DAYS (companyos.retention)
