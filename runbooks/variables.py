"""The variables a macro's text may use, and their values for one case. Rendered by the one
sandboxed engine, companyos.customer_text: plain values only, an unknown name is an error."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from cases.choices import Priority, Status
from companyos import timefmt

# name -> what it is (shown to macro authors, README)
VARIABLES = {
    "customer_name": "the requester's name",
    "case_key": "the case key, e.g. CS-1042",
    "case_subject": "the case's subject",
    "tenant": "the tenant's name",
    "agent": "your name",
    "priority": "the priority label (Critical, High, …)",
    "priority_code": "the priority's display code (P1…)",
    "status": "the status label",
    "sla_due": "when the first SLA clock is due, in the tenant's time zone (or “—”)",
    "linked_incident": "the active incident linked to the case, e.g. INC-204 (or “—”)",
    "known_issue": "the title of the matching known issue (or “—”)",
    "workaround": "its workaround (or “—”)",
    "component": "its component (or “—”)",
    "runbook_link": "a link to the macro's runbook (or “—”)",
    "kb_link": "a link to the macro's knowledge-base article (or “—”)",
    "update_cadence": "how often the customer hears from us, from the SLA policy (or “regularly”)",
}

NONE = "—"


def kb_base() -> str:
    return getattr(settings, "KNOWLEDGE_BASE_URL", "https://help.companyos.example/kb/")


def console_base() -> str:
    return getattr(settings, "CONSOLE_BASE_URL", "")


def values(*, case, actor, macro=None, known_issue=None, incident=None) -> dict:
    """The variables for `case` (loaded with tenant and requester), as plain strings."""
    try:
        tz = ZoneInfo(case.tenant.timezone or "UTC")
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    cadence = ""
    targets = (case.sla_snapshot or {}).get("targets") or {}
    update = (targets.get(Priority(case.priority).slug) or {}).get("update") if isinstance(targets, dict) else None
    if isinstance(update, dict) and update.get("minutes"):
        cadence = "every " + timefmt.duration(timedelta(minutes=int(update["minutes"])))
        cadence += " (business hours)" if update.get("business") else ""
    runbook = macro.runbook if macro is not None and macro.runbook_id else None
    article = macro.article if macro is not None and macro.article_id else None
    return {
        "customer_name": case.requester.name or "there",
        "case_key": case.key,
        "case_subject": case.subject,
        "tenant": case.tenant.name,
        "agent": actor.get_full_name() or actor.get_username(),
        "priority": Priority(case.priority).label,
        "priority_code": Priority(case.priority).code,
        "status": Status(case.status).label,
        "sla_due": timefmt.local(case.sla_due_at, tz, zone=True) if case.sla_due_at else NONE,
        "linked_incident": incident.key if incident is not None else NONE,
        "known_issue": known_issue.title if known_issue is not None else NONE,
        "workaround": known_issue.workaround if known_issue is not None and known_issue.workaround else NONE,
        "component": known_issue.component if known_issue is not None and known_issue.component else NONE,
        "runbook_link": f"{console_base()}{runbook.get_absolute_url()}" if runbook is not None else NONE,
        "kb_link": f"{kb_base()}{article.slug}" if article is not None else NONE,
        "update_cadence": cadence or "regularly",
    }
