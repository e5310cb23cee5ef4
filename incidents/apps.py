from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from auditlog.registry import auditlog

        from cases.context import register_context_provider

        from . import bulk, tenant_panels
        from .context import active_incidents_touching_tenant
        from .models import CorrectiveAction, Incident, IncidentEntry, SeverityMapping, StatusService

        auditlog.register(Incident, m2m_fields={"cases", "resources", "tenants"})
        auditlog.register(IncidentEntry)
        auditlog.register(CorrectiveAction)
        auditlog.register(SeverityMapping)
        auditlog.register(StatusService, m2m_fields={"resources"})

        from . import reach

        reach.connect()  # what an incident reaches (incidents.reach), kept with every link change

        tenant_panels.register()  # the tenant console's Incidents panel
        register_context_provider("incidents", active_incidents_touching_tenant)  # the case snapshot's incidents
        bulk.register()  # the queue's bulk bar: "Link to incident…"
        from . import report_sections

        report_sections.register()  # /reports/ and the weekly report: incidents by severity, MTTA / MTTR
        from .escalations import registry as escalations

        escalations.register()  # engineering escalations: audit, the rejection rate on /reports/

        from .oncall import intake, sla
        from .oncall.models import EscalationChain, EscalationStep, Page, Schedule, ScheduleLayer, ScheduleOverride

        for model in (Schedule, ScheduleLayer, ScheduleOverride, EscalationChain, EscalationStep, Page):
            auditlog.register(model)
        sla.register()  # the SLA policy's "page on-call": a page through the escalation team's chain
        intake.register()  # a critical or security-tagged case pages on-call when it is created
