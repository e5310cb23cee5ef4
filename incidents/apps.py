from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from auditlog.registry import auditlog

        from .models import Incident

        auditlog.register(Incident, m2m_fields={"cases", "resources"})

        from . import tenant_panels

        tenant_panels.register()  # the tenant console's Incidents panel
