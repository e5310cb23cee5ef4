from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"

    def ready(self):
        from auditlog.registry import auditlog

        from .models import Attachment, Case, Interaction, SavedView, Tag, Team

        auditlog.register(Case, m2m_fields={"tags"}, exclude_fields=["version"])
        auditlog.register(Interaction)
        auditlog.register(Attachment)
        auditlog.register(Tag)
        auditlog.register(SavedView)
        auditlog.register(Team, m2m_fields={"members"})
