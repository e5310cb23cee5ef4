"""Shared UI helpers: relative times with the absolute time on hover, durations, query strings and
filter checkboxes. Nothing domain-specific: the case badges are cases's `case_tags` library."""

import html
from datetime import datetime

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from companyos import timefmt
from companyos.timefmt import duration as format_duration
from companyos.timefmt import relative

register = template.Library()


@register.simple_tag
def reltime(value: datetime | None, empty: str = "—"):
    """`<time>` showing "9 min ago" with the absolute time (viewer's timezone) on hover."""
    if not value:
        return empty
    local = timezone.localtime(value)
    absolute = local.strftime("%Y-%m-%d %H:%M %Z")
    ago = relative((timezone.now() - value).total_seconds())
    # f-strings and html.escape, not format_html: a queue page has one per row (issue 10).
    return mark_safe(f'<time datetime="{_h(value.isoformat())}" title="{_h(absolute)}">{_h(ago)}</time>')


@register.simple_tag
def abstime(value: datetime | None, empty: str = "—"):
    if not value:
        return empty
    tz = timezone.get_current_timezone()
    return format_html(
        '<time datetime="{}" title="{} · {}">{}</time>',
        value.isoformat(),
        relative((timezone.now() - value).total_seconds()),
        timefmt.zone_name(value, tz),
        timefmt.local(value, tz),
    )


@register.filter
def local_time(value: datetime | None) -> str:
    """ "2026-11-23 09:15 CET": an instant as plain text in the viewer's zone (for a title)."""
    return timefmt.local(value, timezone.get_current_timezone(), zone=True) if value else ""


@register.filter
def instants(text) -> str:
    """Stored text with its instants (`<t:…>` tokens, companyos.timefmt) shown in the viewer's
    timezone, each a `<time>` like `abstime`'s; everything else escaped."""
    if not text:
        return ""
    out = []
    for part in timefmt.split_instants(str(text)):
        out.append(format_html("{}", part) if isinstance(part, str) else abstime(part))
    return mark_safe("".join(out))


@register.simple_tag
def timezone_note():
    """ "Times in Europe/Oslo (CET)": said once per page, the viewer's own zone (Preferences)."""
    tz = timezone.get_current_timezone()
    name, abbreviation = str(tz), timefmt.zone_name(timezone.now(), tz)
    return format_html(
        '<a class="tz-note muted small" href="{}" title="Change in Preferences">Times in {}</a>',
        reverse("preferences"),
        name if abbreviation == name else f"{name} ({abbreviation})",
    )


@register.simple_tag
def icon(name: str):
    """An icon from static/img/icons.svg (drawn, so no font has to have the glyph)."""
    return format_html(
        '<svg class="icon icon-{}" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        name,
        static("img/icons.svg"),
        name,
    )


@register.filter
def age(value: datetime | None) -> str:
    if not value:
        return ""
    return relative((timezone.now() - value).total_seconds()).replace(" ago", "")


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
        "",
        '<label class="check" for="{}"><input type="checkbox" id="{}" name="{}" value="{}"{}> {}</label>',
        ((r[0], r[0], r[1], r[2], r[3], r[4]) for r in rows),
    )


@register.filter
def any_filled(form, names) -> bool:
    """Whether any of the form's fields `names` has a value (the "More" chip of a filter bar)."""
    return any(form[name].value() not in (None, "", []) for name in names)


@register.filter
def selected_count(bound_field) -> int:
    value = bound_field.value()
    if not value:
        return 0
    return len(value) if isinstance(value, (list, tuple)) else 1


@register.filter
def duration(value) -> str:
    return format_duration(value) if value is not None else "—"


@register.filter
def duration_abs(value) -> str:
    return duration(abs(value)) if value is not None else "—"


@register.simple_tag
def person(user, empty: str = "—"):
    """Someone as the console names people everywhere: the full name, the username on hover
    (the username alone when there is no full name). `user` is a User or a cases Person."""
    if not user:
        return mark_safe(f'<span class="muted">{_h(empty)}</span>')
    username = user.get_username() if hasattr(user, "get_username") else user.username
    name = user.get_full_name() if hasattr(user, "get_full_name") else user.name
    if not name or name == username:
        return mark_safe(f'<span class="person">{_h(username)}</span>')
    return mark_safe(f'<span class="person" title="{_h(username)}">{_h(name)}</span>')


def plain_number(value) -> str:
    """A value as the template prints it ({{ v }}): ints and Decimals directly (plain positional
    notation) when there is no thousands separator, anything else through localize — without
    number_format's locale lookups for the tables that print hundreds of numbers a page."""
    from decimal import Decimal

    from django.conf import settings
    from django.utils.formats import localize

    if not settings.USE_THOUSAND_SEPARATOR:
        if type(value) is int:
            return str(value)
        if type(value) is Decimal:
            return f"{value:f}"
    return localize(value)


def _h(value) -> str:
    """Escape for HTML text and attributes (quotes included); what format_html does to its arguments,
    for the tags a list renders once per row. A value already safe is kept as it is."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value), quote=True)


@register.filter(is_safe=True)
def thousands(value):
    """humanize's `intcomma` for the console's one locale (en-us: "12,345", "1,234.5"), without
    number_format's locale lookups on every call (a manager's dashboard renders ~1,300 numbers:
    ~40 ms of them); anything but an int or a float goes to intcomma itself."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float) and "e" not in repr(value):
        return f"{value:,}"
    from django.contrib.humanize.templatetags.humanize import intcomma

    return intcomma(value)
