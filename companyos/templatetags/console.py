"""Shared UI helpers: badges, relative times with the absolute time on hover."""
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


def _relative(delta_seconds: float) -> str:
    s = abs(int(delta_seconds))
    if s < 60:
        return "just now" if delta_seconds >= 0 else "in a moment"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            n = s // size
            text = f"{n} {unit}"
            break
    return f"{text} ago" if delta_seconds >= 0 else f"in {text}"


@register.simple_tag
def reltime(value: datetime | None, empty: str = "—"):
    """`<time>` showing "9 min ago" with the absolute time (viewer's timezone) on hover."""
    if not value:
        return empty
    local = timezone.localtime(value)
    absolute = local.strftime("%Y-%m-%d %H:%M %Z")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', value.isoformat(), absolute, _relative((timezone.now() - value).total_seconds())
    )


@register.simple_tag
def abstime(value: datetime | None, empty: str = "—"):
    if not value:
        return empty
    local = timezone.localtime(value)
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), _relative((timezone.now() - value).total_seconds()), local.strftime("%Y-%m-%d %H:%M"))


@register.simple_tag
def status_badge(case_or_status, label: str = ""):
    from cases.choices import Status

    value = getattr(case_or_status, "status", case_or_status)
    return format_html('<span class="badge status-{}">{}</span>', value, label or Status(value).label)


@register.simple_tag
def priority_badge(case_or_priority):
    from cases.choices import Priority

    value = getattr(case_or_priority, "priority", case_or_priority)
    p = Priority(int(value))
    return format_html('<span class="badge prio-{}" title="{}">{} {}</span>', p.slug, p.label, p.code, p.label)


@register.filter
def age(value: datetime | None) -> str:
    if not value:
        return ""
    return _relative((timezone.now() - value).total_seconds()).replace(" ago", "")


@register.simple_tag
def querystring_with(query: str, **kwargs) -> str:
    from django.http import QueryDict

    q = QueryDict(query, mutable=True)
    for key, value in kwargs.items():
        if value is None or value == "":
            q.pop(key, None)
        else:
            q[key] = value
    return "?" + q.urlencode()


@register.filter
def getfield(form, name: str):
    return form[name]


@register.filter
def split_pairs(value: str):
    return [tuple(pair.split(":", 1)) for pair in value.split(",")]


@register.filter
def status_label(value: str) -> str:
    from cases.choices import Status

    try:
        return str(Status(value).label)
    except ValueError:
        return value


@register.simple_tag
def checkbox_options(bound_field):
    """A multiple-choice filter's checkboxes, rendered directly: the widget machinery costs ~0.5 ms
    per option, which on a queue with a hundred options is most of the page."""
    from django.utils.html import format_html_join

    selected = {str(v) for v in (bound_field.value() or [])}
    name, base_id = bound_field.html_name, bound_field.auto_id
    rows = []
    field = bound_field.field
    queryset = getattr(field, "queryset", None)
    if queryset is not None:  # model choices: two columns, not model instances
        label_field = "name" if any(f.name == "name" for f in queryset.model._meta.fields) else field.to_field_name
        choices = queryset.values_list(field.to_field_name or "pk", label_field)
    else:
        choices = field.choices
    for i, (value, label) in enumerate(choices):
        value = str(getattr(value, "value", value))
        rows.append((f"{base_id}_{i}", name, value, " checked" if value in selected else "", label))
    if not rows:
        return mark_safe('<span class="muted">nothing to choose</span>')
    return format_html_join(
        "", '<label class="check" for="{}"><input type="checkbox" id="{}" name="{}" value="{}"{}> {}</label>',
        ((r[0], r[0], r[1], r[2], r[3], r[4]) for r in rows),
    )


@register.filter
def selected_count(bound_field) -> int:
    value = bound_field.value()
    if not value:
        return 0
    return len(value) if isinstance(value, (list, tuple)) else 1


def _short(delta_seconds: float) -> str:
    s = int(abs(delta_seconds))
    if s >= 86400 * 2:
        return f"{s // 86400} d"
    if s >= 3600 * 10:
        return f"{s // 3600} h"
    return f"{s // 3600}:{(s % 3600) // 60:02d}"


CLOCK_LABELS = {"first_response": "first response", "resolution": "resolution", "update": "customer update"}


@register.simple_tag
def sla_badge(case):
    """The queue's SLA cell: overdue by (red), at risk (amber), time left (neutral), paused (grey).
    Hover shows the absolute due time (viewer's timezone) and which clock."""
    if case.status in ("resolved", "closed"):
        return mark_safe('<span class="sla sla-none">—</span>')
    now = timezone.now()
    if case.sla_due_at:
        left = (case.sla_due_at - now).total_seconds()
        due = timezone.localtime(case.sla_due_at).strftime("%Y-%m-%d %H:%M %Z")
        clock = CLOCK_LABELS.get(case.sla_clock, "SLA")
        if left < 0:
            return format_html('<span class="sla sla-breached" title="{} overdue since {}">⚠ −{}</span>', clock, due, _short(left))
        state = "at_risk" if case.sla_risk_at and case.sla_risk_at <= now else "running"
        icon = "◔" if state == "at_risk" else "◌"
        verb = "at risk: " if state == "at_risk" else ""
        return format_html('<span class="sla sla-{}" title="{}{} due {}">{} {}</span>', state, verb, clock, due, icon, _short(left))
    if case.sla_paused:
        return mark_safe('<span class="sla sla-paused" title="clocks paused while waiting on the customer">◌ paused</span>')
    return mark_safe('<span class="sla sla-none">—</span>')


@register.filter
def duration(value) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p) or "0 min"


@register.filter
def duration_abs(value) -> str:
    return duration(abs(value)) if value is not None else "—"
