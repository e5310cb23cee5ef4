"""Extension point: what a policy's escalation does when a clock breaches.

Every breach notifies (the sweep writes the owner / manager / Slack notifications itself); the
policy's `escalation` setting names one more action, looked up here by that value. The built-in
actions are registered below and keep today's behaviour; an app above `cases` replaces or adds one
in its `AppConfig.ready()` (the on-call work registers a real page for "page_critical"):

    from cases.sla.actions import register_breach_action
    register_breach_action(SLAPolicy.Escalation.PAGE_CRITICAL, page_the_rota)

An action is `fn(breach: Breach) -> list[str]`: it may queue notifications (`breach.email`) and
follow-ups (`breach.after`, run once the batch's rows are written, still in the sweep's
transaction), and returns the notes for the timeline entry ("paged on-call (2)"). It runs inside the
sweep's batch, so it must not query per case what it can look up once (`breach.batch` is shared by
every breach of the batch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from companyos import roles

from .. import services
from ..choices import Priority
from ..models import Case, Notification, SLAPolicy, Team

log = logging.getLogger(__name__)


@dataclass
class Breach:
    """One freshly breached clock, as the sweep read it. `case` holds the columns the sweep loaded
    (pk, subject, priority, owner__email, owner__username, team__manager__email, tenant__name,
    escalation, escalation_team, …)."""

    case: dict
    key: str
    headline: str
    body: str
    escalation_id: int | None
    now: datetime
    batch: dict = field(default_factory=dict)
    notifications: list = field(default_factory=list)
    follow_ups: list = field(default_factory=list)

    def email(self, recipient: str, subject: str, *, send_after: datetime | None = None) -> None:
        self.notifications.append(
            Notification(
                case_id=self.case["pk"],
                escalation_id=self.escalation_id,
                channel=Notification.Channel.EMAIL,
                recipient=recipient,
                subject=subject,
                body=self.body,
                send_after=send_after or self.now,
            )
        )

    def slack(self, subject: str) -> bool:
        """Queue a post to the team's Slack incoming webhook (SLACK_WEBHOOK_URL), if one is set."""
        url = settings.SLACK_WEBHOOK_URL
        if not url:
            return False
        self.notifications.append(
            Notification(
                case_id=self.case["pk"],
                escalation_id=self.escalation_id,
                channel=Notification.Channel.SLACK,
                recipient=url,
                subject=subject,
                body=self.body,
                send_after=self.now,
            )
        )
        return True

    def after(self, fn: Callable[[], None]) -> None:
        self.follow_ups.append(fn)


BreachAction = Callable[[Breach], list[str]]
_actions: dict[str, BreachAction] = {}


def register_breach_action(escalation: str, fn: BreachAction) -> None:
    """Register (or replace) the action for a policy escalation value (SLAPolicy.Escalation)."""
    _actions[str(escalation)] = fn


def breach_action(escalation: str) -> BreachAction | None:
    return _actions.get(str(escalation or SLAPolicy.Escalation.NOTIFY))


# --- the built-in actions -----------------------------------------------------------------------------


def page_on_call(breach: Breach) -> list[str]:
    """Critical cases only: e-mail every active SRE (the on-call until the on-call work registers a rota)."""
    if breach.case["priority"] != Priority.CRITICAL:
        return []
    if "sre_emails" not in breach.batch:
        User = get_user_model()
        breach.batch["sre_emails"] = list(
            User.objects.filter(groups__name=roles.SRE, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    on_call = breach.batch["sre_emails"]
    for email in on_call:
        breach.email(email, f"PAGE: {breach.headline}")
    notes = [f"paged on-call ({len(on_call)})"]
    if breach.slack(f"PAGE: {breach.headline}"):
        notes.append("page posted to Slack")
    return notes


def raise_priority(breach: Breach) -> list[str]:
    priority = breach.case["priority"]
    if priority <= Priority.CRITICAL:
        return []
    case_pk = breach.case["pk"]

    def change(system):  # the priority as it stands then (another breach of the batch may have raised it)
        current = Case.objects.values_list("priority", flat=True).get(pk=case_pk)
        services.case_classify(
            case_id=case_pk, actor=system, priority=current - 1, reason="SLA breach: priority raised by the policy"
        )

    breach.after(lambda: _as_system(case_pk, "raise", change))
    return [f"priority raised to {Priority(priority - 1).label}"]


def reassign(breach: Breach) -> list[str]:
    team_id = breach.case["escalation_team"]
    if not team_id:
        return []
    case_pk = breach.case["pk"]
    breach.after(
        lambda: _as_system(
            case_pk,
            "reassign",
            lambda system: services.case_assign(case_id=case_pk, actor=system, team=Team.objects.get(pk=int(team_id))),
        )
    )
    return ["reassigned to the escalation team"]


def _as_system(case_pk: int, action: str, change: Callable) -> None:
    """Case changes an escalation makes go through the case services (locked, on the timeline), as
    the system user. A refused change (e.g. the case was closed meanwhile) is logged; the escalation
    itself stands."""
    try:
        with transaction.atomic():
            change(roles.system_user())
    except (services.CaseError, Team.DoesNotExist) as error:
        log.warning("SLA escalation action %s on case %s skipped: %s", action, case_pk, error)


register_breach_action(SLAPolicy.Escalation.PAGE_CRITICAL, page_on_call)
register_breach_action(SLAPolicy.Escalation.RAISE_PRIORITY, raise_priority)
register_breach_action(SLAPolicy.Escalation.REASSIGN, reassign)
