"""The playbook's escalation rules as defaults (seed 002 "When to Escalate to Engineering"):

P1 (critical)  immediate page to on-call engineering — at intake (intake.py)
P2 (high)      notify on-call at intake; page if no progress in 2 h (no public reply, no status
               change) — a ProgressWatch timer row, swept by beat exactly once
P3 (medium)    listed in the daily engineering standup digest (a scheduled e-mail)
P4 (low)       nothing unless someone asks: "Page on-call" on the case
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cases.choices import OPEN_STATUSES, Priority
from cases.models import Case, Interaction, Notification
from companyos import roles

from .models import Page, ProgressWatch

NO_PROGRESS = timedelta(hours=2)


def watch(case_id: int, *, now: datetime | None = None) -> None:
    """Start the P2 clock and tell the on-call person now (an e-mail, not yet a page)."""
    from . import services

    now = now or timezone.now()
    _, made = ProgressWatch.objects.get_or_create(
        case_id=case_id, defaults={"started_at": now, "due_at": now + NO_PROGRESS}
    )
    if not made:
        return
    case = Case.objects.select_related("tenant").get(pk=case_id)
    chain = services.chain_for_team(case.team_id)
    step = chain.steps.filter(target="schedule").select_related("schedule").first() if chain else None
    if step is None:
        return
    from .selectors import on_call_user

    user = on_call_user(step.schedule, now)
    if user and user.email:
        Notification.objects.create(
            case_id=case.pk,
            channel=Notification.Channel.EMAIL,
            recipient=user.email,
            subject=f"High-priority case {case.key}: {case.subject}",
            body=f"{case.key} ({case.tenant.name}) is high priority. If it has no public reply or status change "
            f"within 2 hours, on-call is paged.\n\n{services._public(case.get_absolute_url())}",
            send_after=now,
        )


def progress_sweep(*, now: datetime | None = None, limit: int = 500) -> dict:
    from . import services

    now = now or timezone.now()
    paged = progressed = 0
    for _ in range(limit):
        with transaction.atomic():
            w = (
                ProgressWatch.objects.filter(fired_at__isnull=True, due_at__lte=now)
                .select_related("case", "case__tenant")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("due_at")
                .first()
            )
            if w is None:
                break
            moved = (
                w.case.status not in OPEN_STATUSES
                or Interaction.objects.filter(case_id=w.case_id, created_at__gte=w.started_at)
                .filter(kind__in=[Interaction.Kind.REPLY, Interaction.Kind.STATUS])
                .exists()
            )
            if moved:
                w.outcome, progressed = "progress", progressed + 1
            else:
                try:
                    services.page_from_case(
                        case=w.case,
                        actor=roles.system_user(),
                        source=Page.Source.PLAYBOOK,
                        reason="P2: no public reply or status change in 2 hours",
                    )
                    w.outcome = "paged"
                except services.OnCallError as error:
                    w.outcome = str(error)[:40]
                paged += 1
            w.fired_at = now
            w.save(update_fields=["fired_at", "outcome"])
    return {"paged": paged, "progressed": progressed}


def standup_digest(*, now: datetime | None = None, recipients: list[str] | None = None) -> int:
    """The daily engineering standup digest (P3): open medium-priority cases, oldest first, e-mailed to
    the engineers (group "engineer") or `recipients`."""
    from django.contrib.auth import get_user_model

    now = now or timezone.now()
    cases = list(
        Case.objects.filter(status__in=OPEN_STATUSES, priority=Priority.MEDIUM)
        .select_related("tenant", "owner")
        .order_by("created_at")[:100]
    )
    if recipients is None:
        recipients = list(
            get_user_model()
            .objects.filter(groups__name=roles.ENGINEER, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    body = "\n".join(
        [f"Engineering standup, {now:%A %d %B}: {len(cases)} open P3 (medium) case(s)", ""]
        + [f"- {c.key} · {c.tenant.name} · {c.get_status_display()} · {c.subject}" for c in cases]
    )
    Notification.objects.bulk_create(
        Notification(
            channel=Notification.Channel.EMAIL,
            recipient=r,
            subject="Engineering standup: P3 cases",
            body=body,
            send_after=now,
        )
        for r in recipients
    )
    return len(recipients)
