from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from auditlog.registry import auditlog

        from cases.context import register_context_provider

        from .context import active_incidents_touching_tenant
        from .models import Incident

        auditlog.register(Incident, m2m_fields={"cases", "resources"})

        from . import tenant_panels

        tenant_panels.register()  # the tenant console's Incidents panel
        register_context_provider("incidents", active_incidents_touching_tenant)  # the case snapshot's incidents
