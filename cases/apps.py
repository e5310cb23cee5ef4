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
                *_reverse_one_to_one(Case),
            ],
            mask_fields=["description"],  # the customer's message: recorded as changed-with-a-hash
            mask_callable=PERSONAL_MASK,
        )
        auditlog.register(
            Interaction,
            exclude_fields=_reverse_one_to_one(Interaction),
            mask_fields=["body", "data"],
            mask_callable=PERSONAL_MASK,
        )
        auditlog.register(Attachment)
        auditlog.register(Tag)
        auditlog.register(SavedView)
        auditlog.register(Team, m2m_fields={"members"})
        # SLA configuration: who changed which target when. (Clocks are not registered: their every
        # move is recorded on the case's timeline, and the sweep updates them in bulk.)
        auditlog.register(SLAPolicy)
        auditlog.register(SLAPolicyRule)
        auditlog.register(BusinessCalendar)

        from companyos import residency

        from . import changes, residency_moves
        from .channels import email, outbox

        # Data residency: a tenant's attachments follow it when its region changes (move_residency).
        residency.register_mover("attachments", residency_moves.move_attachments)

        # The reply outbox: a row per public reply on a channel with a sender, in the reply's transaction.
        changes.register_change_listener(outbox.on_change)
        from .closure import listener as closure_listener

        # Closure: the auto-close timer, "is this solved?" and the survey follow the status entries.
        changes.register_change_listener(closure_listener.on_change)
        from .reports import rollup

        # The reports' rollups: every change marks its case's day dirty, in the change's transaction.
        changes.register_change_listener(rollup.on_change)
        email.register()  # the e-mail channel's reply sender and reply check
        auditlog.register(email.models.EmailMessage, exclude_fields=["raw"])

        from . import tenant_panels

        tenant_panels.register()  # the tenant list's case counts, the console's Cases panel, the SLA policy in force

        from .channels import zendesk

        zendesk.register()  # the Zendesk sync's outbox listener (cases.changes) and audit registrations
        from .channels import phone, slack

        slack.register()  # the Slack reply sender and the new-critical-case notification listener
        phone.register()  # the callback a public reply on a phone case creates
        from .channels import api_webhook

        api_webhook.register()  # replies on API/CLI cases: the integration's signed reply webhook

        from django.db.models.signals import post_delete, post_save

        from tenants.models import Tenant

        from .filtersets import filter_choices_changed

        # The queue's cached filter bar lists tenants, teams and tags (cases.filtersets).
        for model in (Tenant, Team, Tag):
            post_save.connect(filter_choices_changed, sender=model, dispatch_uid=f"filter-choices-s-{model.__name__}")
            post_delete.connect(filter_choices_changed, sender=model, dispatch_uid=f"filter-choices-x-{model.__name__}")
        from . import metrics

        metrics.register()  # /metrics: the SLA sweep's lag and the outboxes' backlogs
        from . import retention_rules

        retention_rules.register()  # notifications, e-mail originals, closed cases' attachments
        auditlog.register(api_webhook.ReplyWebhook, exclude_fields=["secret"])


def _reverse_one_to_one(model) -> list[str]:
    """The rows other models hang one-to-one on `model` (its search document, a Slack thread, a
    Zendesk link, a reply's delivery): not fields of the audited row, and each would cost a query
    per audited save (django-auditlog's diff reads every field it is not told to skip)."""
    return [f.name for f in model._meta.get_fields() if f.one_to_one and f.auto_created and not f.concrete]
