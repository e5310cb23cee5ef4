from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from auditlog.registry import auditlog

        from cases.context import register_context_provider

        from .context import active_incidents_touching_tenant
        from .models import Incident

        auditlog.register(Incident, m2m_fields={"cases", "resources"})
        register_context_provider("incidents", active_incidents_touching_tenant)
