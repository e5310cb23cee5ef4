"""The known issues section of the shift handoff report (incidents.escalations.shifts), registered
with incidents.escalations.handoff_sections in RunbooksConfig.ready(): every open known issue (seed
002 "Between Support Shifts": "known issues"), the ones with open cases first, each with its
workaround, its incident and how many of the viewer's open cases (of the team, when the report is a
team's) are linked to it."""

from __future__ import annotations

from django.db.models import Count, Q

from cases.choices import OPEN_STATUSES
from cases.selectors import case_visible_to
from incidents.escalations.handoff_sections import HandoffItem, HandoffSection, register_handoff_section

from .choices import KnownIssueStatus
from .models import KnownIssue

ROWS = 20


def known_issue_items(user, *, team=None, now=None) -> list[HandoffItem]:
    cases = case_visible_to(user).filter(status__in=OPEN_STATUSES)
    if team is not None:
        cases = cases.filter(team=team)
    issues = (
        KnownIssue.objects.filter(status=KnownIssueStatus.OPEN)
        .select_related("incident")
        .annotate(open_cases=Count("case_links", filter=Q(case_links__case__in=cases.values("pk"))))
        .order_by("-open_cases", "-updated_at")[:ROWS]
    )
    items = []
    for issue in issues:
        detail = [f"{issue.open_cases} open case{'s' if issue.open_cases != 1 else ''}"]
        if issue.component:
            detail.append(issue.component)
        if issue.incident_id:
            detail.append(issue.incident.key)
        if issue.workaround:
            detail.append("workaround: " + " ".join(issue.workaround.split())[:160])
        items.append(HandoffItem(text=issue.title, url=issue.get_absolute_url(), detail=" · ".join(detail)))
    return items


def register() -> None:
    register_handoff_section(
        HandoffSection(
            key="known_issues", title="Known issues", build=known_issue_items, order=10, empty="no open known issue"
        )
    )
