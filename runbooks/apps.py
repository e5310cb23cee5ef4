from django.apps import AppConfig


class RunbooksConfig(AppConfig):
    name = "runbooks"

    def ready(self):
        from auditlog.registry import auditlog

        from .models import Article, ErrorCode, KnownIssue, Macro, Runbook, RunbookStep

        # Who changed which runbook, article, known issue, macro or error code, and (log_access in
        # the views) who viewed them.
        auditlog.register(Runbook, exclude_fields=["search", "body_html"])
        auditlog.register(RunbookStep)
        auditlog.register(Article, exclude_fields=["search", "body_html"])
        auditlog.register(KnownIssue)
        auditlog.register(Macro)
        auditlog.register(ErrorCode)
        from .models import Evidence, TraceBundle

        # Bundles and evidence: each upload, verdict, purge and attachment (the report itself is not
        # copied into the log; it is on the row).
        auditlog.register(TraceBundle, exclude_fields=["report", "progress", "stage"])
        auditlog.register(Evidence, exclude_fields=["data"])
        from companyos import residency

        from .diagnostics import residency_moves

        residency.register_mover("trace bundles", residency_moves.move_bundles)  # manage.py move_residency
        from . import report_sections

        report_sections.register()  # /reports/ and the weekly report: known-issue frequency
        from . import handoff_sections

        handoff_sections.register()  # the shift handoff report (page and e-mail): the open known issues
        from .copilot import listener

        listener.register()  # the triage copilot proposes for every new case, after its creation commits
