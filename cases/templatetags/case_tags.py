"""The case badges: status, priority and the queue's SLA cell. `{% load case_tags %}`; the generic
helpers (times, durations, query strings) are companyos's `console` library."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from companyos.timefmt import duration

from ..choices import OPEN_STATUSES, Priority, Status
from ..models import SLAClock

register = template.Library()


@register.simple_tag
def status_badge(case_or_status, label: str = ""):
    value = getattr(case_or_status, "status", case_or_status)
    return format_html('<span class="badge status-{}">{}</span>', value, label or Status(value).label)


@register.simple_tag
def priority_badge(case_or_priority):
    value = getattr(case_or_priority, "priority", case_or_priority)
    p = Priority(int(value))
    return format_html('<span class="badge prio-{}" title="{}">{} {}</span>', p.slug, p.label, p.code, p.label)


@register.filter
def status_label(value: str) -> str:
    try:
        return str(Status(value).label)
    except ValueError:
        return value


def _clock_label(kind: str) -> str:
    try:
        return str(SLAClock.Kind(kind).label).lower()
    except ValueError:
        return "SLA"


@register.simple_tag
def sla_badge(case):
    """The queue's SLA cell: overdue by (red), at risk (amber), time left (neutral), paused (grey).
    Hover shows the absolute due time (viewer's timezone) and which clock."""
    if case.status not in OPEN_STATUSES:
        return mark_safe('<span class="sla sla-none">—</span>')
    now = timezone.now()
    if case.sla_due_at:
        left = case.sla_due_at - now
        due = timezone.localtime(case.sla_due_at).strftime("%Y-%m-%d %H:%M %Z")
        clock = _clock_label(case.sla_clock)
        if left.total_seconds() < 0:
            return format_html(
                '<span class="sla sla-breached" title="{} overdue since {}">⚠ −{}</span>',
                clock,
                due,
                duration(left, style="clock"),
            )
        state = "at_risk" if case.sla_risk_at and case.sla_risk_at <= now else "running"
        icon = "◔" if state == "at_risk" else "◌"
        verb = "at risk: " if state == "at_risk" else ""
        return format_html(
            '<span class="sla sla-{}" title="{}{} due {}">{} {}</span>',
            state,
            verb,
            clock,
            due,
            icon,
            duration(left, style="clock"),
        )
    if case.sla_paused:
        return mark_safe(
            '<span class="sla sla-paused" title="clocks paused while waiting on the customer">◌ paused</span>'
        )
    return mark_safe('<span class="sla sla-none">—</span>')


TIER_SHORT = {"standard": "Std", "premium": "Prem", "enterprise": "Ent"}


@register.simple_tag
def tier_badge(tenant):
    """A tenant's support tier as the queue's small badge ("Ent"), the full name on hover."""
    tier = tenant.support_tier
    return format_html(
        '<span class="tier tier-{}" title="{} support">{}</span>',
        tier,
        tenant.get_support_tier_display(),
        TIER_SHORT.get(tier, tier[:4].title()),
    )


@register.filter
def isodatetime(value):
    """An ISO 8601 string kept in a snapshot's JSON (e.g. a deployment's time) as a datetime, for
    `{% reltime %}` / `{% abstime %}` to render in the viewer's timezone; None if it is not one."""
    from django.utils.dateparse import parse_datetime

    try:
        return parse_datetime(value) if isinstance(value, str) else value
    except ValueError:
        return None
