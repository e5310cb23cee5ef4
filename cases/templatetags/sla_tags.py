"""The SLA dashboard's links into the queue: every breach or missed count opens the queue filtered
to those cases (cases.filtersets: ?sla=breached|at_risk now, ?sla_missed=<kind>&sla_from=&sla_to=
for a period's missed clocks), with the dashboard's own dimension filters carried over."""

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils.safestring import mark_safe

from companyos.templatetags.console import _h, querystring_with, thousands
from companyos.templatetags.console import plain_number as _num  # as the template printed numbers

register = template.Library()

DIMENSIONS = ("priority", "segment", "tier", "tenant", "team")


def _queue_url(base: QueryDict, list_url: str, row=None, missed: str = "", state: str = "") -> str:
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
    return f"{list_url}?{params.urlencode()}"


@register.simple_tag
def sla_queue_url(query: str, row=None, missed: str = "", state: str = "") -> str:
    """The queue's URL for the cases behind a count: `query` is the dashboard's normalised filters
    (from, to, and any of priority, segment, tier, tenant, team), `row` a dashboard Row whose own
    dimension narrows them further. `state` (breached, at_risk) is the current state and ignores
    the dates; `missed` (first_response, resolution) is the period's missed clocks, closed cases too."""
    return _queue_url(QueryDict(query), reverse("cases:list"), row, missed, state)


# --- the dashboard's tables, built in Python ------------------------------------------------------
# The attainment tables (by priority, segment, tenant, team), their bar charts and the heat maps
# render ~40 rows of a dozen cells each; as template partials that was most of the page's CPU
# (issue 18: the managers' dashboards beside a working floor). The markup is what the partials made.

KINDS = ("first_response", "resolution")


class _Links:
    """sla_queue_url for the rows of one page: the dashboard's query parsed once."""

    def __init__(self, query: str):
        self.base = QueryDict(query)
        self.list_url = reverse("cases:list")

    def missed(self, row, kind: str) -> str:
        return _h(_queue_url(self.base, self.list_url, row, missed=kind))


def _att_cells(row, links: _Links) -> str:
    out = []
    for kind in KINDS:
        a = getattr(row, kind)
        missed = a.missed
        count = (
            f'<a href="{links.missed(row, kind)}" data-queue-link="missed" title="Open the queue at the cases of '
            f'these {missed} missed clocks">{thousands(missed)}</a>'
            if missed
            else "0"
        )
        pct = a.percent
        pct = f"<b>{_num(pct)}%</b>" if pct is not None else '<span class="muted">—</span>'
        out.append(f'<td class="num">{thousands(a.met)}</td><td class="num">{count}</td><td class="num pct">{pct}</td>')
    return "".join(out)


@register.simple_tag
def att_cells(row, query: str):
    """A row's six attainment cells: met, missed (a link to the queue at those cases) and percent,
    for first response then resolution."""
    return mark_safe(_att_cells(row, _Links(query)))


@register.simple_tag
def dimension_rows(rows, query: str, kind_label: str, tenant_links: bool = False):
    """The body rows of an attainment table: the row's label (a priority badge, a link narrowing the
    dashboard to the tenant, a muted "no team") and its attainment cells."""
    from .case_tags import priority_badge

    links = _Links(query)
    out = []
    for row in rows:
        if kind_label == "Priority":
            head = priority_badge(row.priority)
        elif tenant_links:
            label = _h(row.label)
            head = f'<a href="{_h(querystring_with(query, tenant=row.key))}" title="Show only {label}">{label}</a>'
        elif kind_label == "Team" and not row.key:
            head = f'<span class="muted">{_h(row.label)}</span>'
        else:
            head = _h(row.label)
        out.append(f'<tr><th scope="row">{head}</th>{_att_cells(row, links)}</tr>')
    if not out:
        return mark_safe('<tr><td colspan="7" class="muted">No clocks.</td></tr>')
    return mark_safe("\n        ".join(out))


@register.simple_tag
def bar_rows(chart):
    """The bar chart's rows (sla.reports.chart.bar_chart): a label, then a bar and its value per kind."""
    rows = chart["rows"]
    if not rows:
        return ""
    label_x = _num(rows[0]["bars"][0]["x"] - 8)
    out = []
    for r in rows:
        bars = "".join(
            f'<rect class="bar bar-{_h(b["css"])}" x="{_num(b["x"])}" y="{_num(b["y"])}" width="{_num(b["w"])}" '
            f'height="{_num(b["h"])}" rx="2"><title>{_h(b["label"])}</title></rect>'
            f'<text class="bar-value" x="{_num(b["tx"])}" y="{_num(b["ty"])}">{_h(b["text"])}</text>'
            for b in r["bars"]
        )
        out.append(
            f'<g class="bar-row">\n        <text class="bar-label" x="{label_x}" y="{_num(r["y"])}" text-anchor="end" '
            f'dominant-baseline="middle"><title>{_h(r["full"])}</title>{_h(r["label"])}</text>'
            f"\n        {bars}\n      </g>"
        )
    return mark_safe("\n      ".join(out))


@register.simple_tag
def heat_cell(row, kind: str, kind_label: str, query: str):
    """One cell of the priority × segment heat map: percent, met/decided and a link to the missed."""
    if not row:
        return mark_safe('<td class="heat heat-none"><span class="muted">—</span></td>')
    a = getattr(row, kind)
    pct = a.percent
    if pct is None:
        return mark_safe('<td class="heat heat-none"><span class="muted">—</span></td>')
    missed = a.missed
    link = (
        f' <a class="heat-missed" href="{_Links(query).missed(row, kind)}" data-queue-link="missed" '
        f'title="Open the queue at the cases of these {missed} missed clocks">{missed} missed</a>'
        if missed
        else ""
    )
    return mark_safe(
        f'<td class="heat heat-{a.heat}" title="{_h(row.label or "All")}, {_h(kind_label.lower())}: {a.met} of '
        f'{a.decided} met"><b>{_num(pct)}%</b> <span class="heat-n">{a.met}/{a.decided}</span>{link}</td>'
    )


@register.simple_tag
def breach_rows(cases):
    """The breach list's rows (the dashboard's "Breached and at risk now"), built in Python like the
    queue's rows (case_tags.queue_rows): the markup the row template made, at a fraction of its cost
    (~1 ms a row there; issue 18's managers open this page all day)."""
    from django.utils.text import Truncator

    from companyos.templatetags.console import reltime

    from .case_tags import priority_badge, status_badge

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
