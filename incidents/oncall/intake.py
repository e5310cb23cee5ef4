"""A critical or security-tagged case pages on-call when it is created (seed 002: "Escalate
immediately to on-call SRE"), not only after a breach. A change listener (cases.changes) sees the
case's opening entry inside its transaction and opens the page after commit, as the system, through
the case team's chain (else the default one). A case with no chain configured is left alone."""

from __future__ import annotations

import logging

from django.db import transaction

from cases.changes import register_change_listener
from cases.choices import Priority
from companyos import roles

from .models import Page

log = logging.getLogger(__name__)
SECURITY_TAG = "security"


def _opening(interaction) -> bool:
    return interaction.kind == "inbound" and "opened_by" in (interaction.data or {})


def on_change(interaction) -> None:
    if not _opening(interaction):
        return
    case = interaction.case
    reason = ""
    if case.priority == Priority.CRITICAL:
        reason = "critical case at intake"
    elif SECURITY_TAG in (interaction.data or {}).get("tags", ()):  # the tags it was opened with
        reason = "security-tagged case at intake"
    # The page and the P2 watch are a worker's job, queued after commit: the request that opened the
    # case only pushes a message (no chain, schedule or rotation lookups on the agent's clock).
    if reason:
        case_id = case.pk
        transaction.on_commit(lambda: _enqueue("page", case_id, reason))
    elif case.priority == Priority.HIGH:  # the playbook's P2: notify now, page after 2 h without progress
        case_id = case.pk
        transaction.on_commit(lambda: _enqueue("watch", case_id))


def _enqueue(what: str, case_id: int, reason: str = "") -> None:
    # Local import, as cases.services does: the tasks import this module's functions.
    from incidents import tasks

    if what == "page":
        tasks.intake_page_task.delay(case_id, reason)
    else:
        tasks.progress_watch_task.delay(case_id)


def watch_at_intake(case_id: int) -> None:
    from .playbook import watch

    try:
        watch(case_id)
    except Exception:  # noqa: BLE001 — the case stands
        log.exception("P2 watch for case %s failed", case_id)


def page_at_intake(case_id: int, reason: str) -> Page | None:
    from cases.models import Case

    from . import services

    case = Case.objects.select_related("tenant").filter(pk=case_id).first()
    if case is None:
        return None
    if services.chain_for_team(case.team_id) is None:
        return None
    try:
        return services.page_from_case(case=case, actor=roles.system_user(), source=Page.Source.INTAKE, reason=reason)
    except Exception:  # noqa: BLE001 — the case stands; a failed page is logged, the SLA action still pages
        log.exception("intake page for case %s failed", case_id)
        return None


def register() -> None:
    register_change_listener(on_change)
