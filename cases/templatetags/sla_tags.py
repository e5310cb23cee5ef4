"""The SLA dashboard's links into the queue: every breach or missed count opens the queue filtered
to those cases (cases.filtersets: ?sla=breached|at_risk now, ?sla_missed=<kind>&sla_from=&sla_to=
for a period's missed clocks), with the dashboard's own dimension filters carried over."""

from django import template
from django.http import QueryDict
from django.urls import reverse

register = template.Library()

DIMENSIONS = ("priority", "segment", "tier", "tenant", "team")


@register.simple_tag
def sla_queue_url(query: str, row=None, missed: str = "", state: str = "") -> str:
    """The queue's URL for the cases behind a count: `query` is the dashboard's normalised filters
    (from, to, and any of priority, segment, tier, tenant, team), `row` a dashboard Row whose own
    dimension narrows them further. `state` (breached, at_risk) is the current state and ignores
    the dates; `missed` (first_response, resolution) is the period's missed clocks, closed cases too."""
    base = QueryDict(query)
    params = QueryDict(mutable=True)
    if state:
        params["sla"] = state
    if missed:
        params["sla_missed"] = missed
        params["sla_from"], params["sla_to"] = base.get("from", ""), base.get("to", "")
        params["status"] = "all"
    dims = {name: base[name] for name in DIMENSIONS if base.get(name)}
    dims.update(getattr(row, "dims", None) or {})
    for name in DIMENSIONS:
        if dims.get(name):
            params[name] = dims[name]
    return f"{reverse('cases:list')}?{params.urlencode()}"


@register.simple_tag
def breach_rows(cases):
    """The breach list's rows (the dashboard's "Breached and at risk now"), built in Python like the
    queue's rows (case_tags.queue_rows): the markup the row template made, at a fraction of its cost
    (~1 ms a row there; issue 18's managers open this page all day)."""
    from django.utils.safestring import mark_safe
    from django.utils.text import Truncator

    from companyos.templatetags.console import reltime

    from .case_tags import _h, priority_badge, status_badge

    rows = []
    for case in cases:
        url = _h(case.get_absolute_url())
        owner = _h(case.owner.username) if case.owner else '<span class="muted">—</span>'
        state = (
            '<span class="badge sla-breached">Breached</span>'
            if case.sla_state == "breached"
            else '<span class="badge sla-at-risk">At risk</span>'
        )
        rows.append(
            f'<tr><td class="key"><a href="{url}">{_h(case.key)}</a></td>'
            f'<td class="subject"><a href="{url}">{_h(Truncator(case.subject).chars(70))}</a></td>'
            f"<td>{_h(case.tenant.name)}</td><td>{priority_badge(case)}</td><td>{status_badge(case)}</td>"
            f'<td>{owner}</td><td class="small">{_h(case.sla_clock_label)}</td><td>{state}</td>'
            f'<td class="num">due {reltime(case.sla_due_at)}</td></tr>'
        )
    return mark_safe("\n".join(rows))
