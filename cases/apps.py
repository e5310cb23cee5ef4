from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"

    def ready(self):
        from auditlog.registry import auditlog

        from companyos.audit import PERSONAL_MASK

        from .models import (
            Attachment,
            BusinessCalendar,
            Case,
            Interaction,
            SavedView,
            SLAPolicy,
            SLAPolicyRule,
            Tag,
            Team,
        )

        auditlog.register(
            Case,
            m2m_fields={"tags", "followers", "affected_resources"},
            exclude_fields=[
                "version",
                "sla_due_at",
                "sla_risk_at",
                "sla_clock",
                "sla_paused",
                "sla_snapshot",
                "search_doc",
            ],
            mask_fields=["description"],  # the customer's message: recorded as changed-with-a-hash
            mask_callable=PERSONAL_MASK,
        )
        auditlog.register(Interaction, mask_fields=["body", "data"], mask_callable=PERSONAL_MASK)
        auditlog.register(Attachment)
        auditlog.register(Tag)
        auditlog.register(SavedView)
        auditlog.register(Team, m2m_fields={"members"})
        # SLA configuration: who changed which target when. (Clocks are not registered: their every
        # move is recorded on the case's timeline, and the sweep updates them in bulk.)
        auditlog.register(SLAPolicy)
        auditlog.register(SLAPolicyRule)
        auditlog.register(BusinessCalendar)

        from . import tenant_panels

        tenant_panels.register()  # the tenant list's case counts, the console's Cases panel, the SLA policy in force

        from .channels import zendesk

        zendesk.register()  # the Zendesk sync's outbox listener (cases.changes) and audit registrations
