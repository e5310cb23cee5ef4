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
