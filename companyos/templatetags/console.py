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
