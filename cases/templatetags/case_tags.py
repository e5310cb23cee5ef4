"""The case badges: status, priority and the queue's SLA cell. `{% load case_tags %}`; the generic
helpers (times, durations, query strings) are companyos's `console` library."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from companyos.templatetags.console import _h  # html.escape, a safe string kept as it is
from companyos.timefmt import duration

from ..choices import OPEN_STATUSES, Priority, Status
from ..models import SLAClock

register = template.Library()


# The badges are built with f-strings and `_h` (html.escape) rather than format_html: the queue puts
# six of them on each of its rows, and format_html's lazy-string checks were most of their cost.


@register.simple_tag
def status_badge(case_or_status, label: str = ""):
    value = getattr(case_or_status, "status", case_or_status)
    return mark_safe(f'<span class="badge status-{_h(value)}">{_h(label or Status(value).label)}</span>')


@register.simple_tag
def priority_badge(case_or_priority):
    value = getattr(case_or_priority, "priority", case_or_priority)
    p = Priority(int(value))
    label = _h(p.label)
    return mark_safe(f'<span class="badge prio-{p.slug}" title="{label}">{_h(p.code)} {label}</span>')


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
        clock = _h(_clock_label(case.sla_clock))
        if left.total_seconds() < 0:
            return mark_safe(
                f'<span class="sla sla-breached" title="{clock} overdue since {_h(due)}">'
                f"⚠ −{_h(duration(left, style='clock'))}</span>"
            )
        state = "at_risk" if case.sla_risk_at and case.sla_risk_at <= now else "running"
        icon = "◔" if state == "at_risk" else "◌"
        verb = "at risk: " if state == "at_risk" else ""
        return mark_safe(
            f'<span class="sla sla-{state}" title="{verb}{clock} due {_h(due)}">'
            f"{icon} {_h(duration(left, style='clock'))}</span>"
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
    return mark_safe(
        f'<span class="tier tier-{_h(tier)}" title="{_h(tenant.get_support_tier_display())} support">'
        f"{_h(TIER_SHORT.get(tier, tier[:4].title()))}</span>"
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


# --- the queue's rows ------------------------------------------------------------------------------


@register.simple_tag
def queue_rows(cases, columns, embedded=False):
    """The queue's table rows, built in Python: the same markup the row template made, at a
    fraction of its cost (a page spent ~12 ms in ~60 template lookups and tags per row; issue 10).
    Every value is escaped (`_h`, the standard library's html.escape, quotes included); the badges
    are the tags above and already safe."""
    from companyos.templatetags.console import age, person, reltime

    rows = []
    # Badges that depend on one value only, built once per page rather than once per row.
    prio_cells, status_cells, tenant_cells, owner_cells = {}, {}, {}, {}
    for case in cases:
        url = _h(case.get_absolute_url())
        key = _h(case.key)
        tags = getattr(case, "tag_names", None)
        if tags is None:
            tags = [tag.name for tag in getattr(case, "tag_list", None) or []]
        viewers = getattr(case, "viewers", None) or []
        snippet = getattr(case, "snippet", None)
        cells = []
        if not embedded:
            cells.append(
                f'<td class="sel"><input type="checkbox" name="id" value="{case.pk}" aria-label="Select {key}"></td>'
            )
        cells.append(f'<td class="num">{sla_badge(case)}</td>')
        cells.append(f'<td class="key"><a href="{url}">{key}</a></td>')
        subject = _h(case.subject)
        parts = [f'<a href="{url}" title="{subject}">{subject}</a>']
        if viewers:
            names = _h(", ".join(viewers))
            parts.append(f'<span class="viewing" data-viewing title="Open now: {names}">{len(viewers)} viewing</span>')
        if tags:
            names = [_h(name) for name in tags]
            spans = "".join(f'<span class="tag">{name}</span>' for name in names)
            parts.append(f'<span class="tags" title="Tags: {", ".join(names)}">{spans}</span>')
        below = ""
        if snippet:
            label = {"note": "Note", "reply": "Reply"}.get(snippet["kind"], "Customer")
            what = "message" if snippet["public"] else "internal note"
            below = (
                f'<div class="snippet" title="The newest {what} that matches">'
                f'<span class="snippet-kind">{label}:</span> {snippet["html"]}</div>'
            )
        cells.append(f'<td class="subject"><div class="one-line">{"".join(parts)}</div>{below}</td>')
        if not embedded:
            cell = tenant_cells.get(case.tenant_id)
            if cell is None:
                tenant = case.tenant
                name = _h(tenant.name)
                cell = tenant_cells[case.tenant_id] = (
                    f'<td class="tenant"><div class="one-line" title="{name} · '
                    f'{_h(tenant.get_support_tier_display())} support"><span class="tenant-name">{name}</span> '
                    f"{tier_badge(tenant)}</div></td>"
                )
            cells.append(cell)
        cell = prio_cells.get(case.priority)
        if cell is None:
            cell = prio_cells[case.priority] = f"<td>{priority_badge(case)}</td>"
        cells.append(cell)
        badge = status_cells.get(case.status)
        if badge is None:
            badge = status_cells[case.status] = status_badge(case)
        cells.append(f"<td>{badge}{waiting_for_note(case)}</td>")
        cell = owner_cells.get(case.owner_id)
        if cell is None:
            owner = person(case.owner)
            cell = owner_cells[case.owner_id] = f'<td class="owner"><div class="one-line">{owner}</div></td>'
        cells.append(cell)
        for col in columns:
            if col == "requester":
                r = case.requester
                cells.append(
                    f'<td class="requester"><div class="one-line" title="{_h(r.name)} · {_h(r.email)}">'
                    f"{_h(r.name)}</div></td>"
                )
            elif col == "team":
                team = _h(case.team.name) if case.team_id else '<span class="muted">—</span>'
                cells.append(f'<td class="team"><div class="one-line">{team}</div></td>')
            elif col == "severity":
                sev = case.severity
                cells.append(
                    f'<td class="severity"><span class="badge severity severity-{sev}" title="Impact severity">'
                    f"{_h(case.get_severity_display())}</span></td>"
                    if sev
                    else '<td class="severity"><span class="muted">—</span></td>'
                )
            elif col == "category":
                cells.append(f'<td class="category"><div class="one-line">{_h(case.get_category_display())}</div></td>')
            elif col == "channel":
                cells.append(f'<td class="channel">{_h(case.get_channel_display())}</td>')
            elif col == "updated":
                cells.append(f'<td class="num">{reltime(case.updated_at)}</td>')
            elif col == "created":
                opened = timezone.localtime(case.created_at).strftime("%Y-%m-%d %H:%M %Z")
                cells.append(f'<td class="num"><span title="opened {opened}">{_h(age(case.created_at))}</span></td>')
        rows.append(f'<tr data-href="{url}" class="prio-row-{case.priority_slug}">{"".join(cells)}</tr>')
    return mark_safe("\n".join(rows))


@register.simple_tag
def waiting_for_note(case):
    """What a case waiting on the customer waits for (the queue's and the case header's note)."""
    text = case.waiting_for_text
    if not text:
        return ""
    short = text if len(text) <= 40 else text[:39] + "…"
    return mark_safe(
        f'<span class="waiting-for small muted" data-waiting-for="{_h(case.waiting_for)}" '
        f'title="Waiting on the customer for {_h(text)}">for {_h(short)}</span>'
    )


# --- the case page's timeline ---------------------------------------------------------------------------


def _dget(value, name: str, default=""):
    """`value.name` as the template language resolves it on JSON data: a key of a dict, else empty."""
    return value.get(name, default) if isinstance(value, dict) else default


def _widthratio(value, max_value: int) -> str:
    """Django's {% widthratio value max_value 1 %}: the rounded ratio, "" for a missing value."""
    try:
        return str(round(float(value) / max_value))
    except (ValueError, TypeError, OverflowError):
        return ""


@register.simple_tag
def timeline_items(timeline):
    """The case page's timeline entries, built in Python: the same markup the template loop made, at
    a fraction of its cost (the loop spent ~1 ms an entry in ~40 lookups, ifs and tags; issue 10).
    Every value is escaped (`_h`); `abstime`, `instants` and `icon` are the console's own tags."""
    from django.template.defaultfilters import filesizeformat, linebreaksbr
    from django.urls import reverse

    from companyos.templatetags.console import abstime, icon, instants

    icons = {}

    def ico(name):
        if name not in icons:
            icons[name] = str(icon(name))
        return icons[name]

    out = []
    for item in timeline:
        data = item.data if isinstance(item.data, dict) else {}
        kind = item.kind
        if item.is_message:
            out.append(
                _timeline_message(item, kind, data, ico, abstime, instants, linebreaksbr, filesizeformat, reverse)
            )
        else:
            out.append(_timeline_event(item, kind, data, ico, abstime, instants, reverse))
    if not out:
        return mark_safe('<p class="empty">Nothing in this view of the timeline.</p>')
    return mark_safe("".join(out))


def _timeline_message(item, kind, data, ico, abstime, instants, linebreaksbr, filesizeformat, reverse) -> str:
    if kind == "inbound":
        requester = item.requester
        who = (requester.name if requester is not None else "") or "Customer"
    else:
        actor = item.actor
        who = (actor.get_full_name() or actor.get_username()) if actor is not None else ""
        who = who or "system"
    if kind == "note":
        label = "internal note"
    elif kind == "reply":
        label = "public reply"
    elif kind == "call":
        direction = "we called" if _dget(data, "direction") == "outbound" else "customer called"
        label = f"phone call · {direction} · {_widthratio(_dget(data, 'duration_seconds'), 60)} min"
    else:
        label = f"customer · {_h(item.get_channel_display() or 'email')}"
    head = [
        f"<b>{_h(who)}</b>",
        f'<span class="label">{label}</span>',
        f'<span class="muted">{abstime(item.created_at)}</span>',
    ]
    outbound = getattr(item, "outbound", None) if kind == "reply" else None
    if outbound is not None:
        status = _h(outbound.status)
        title = f' title="{_h(outbound.last_error)}"' if outbound.last_error else ""
        state = {"sent": "sent", "failed": "not delivered"}.get(outbound.status, "queued")
        head.append(
            f'<span class="label delivery delivery-{status}" data-delivery="{status}"{title}>'
            f"{_h(outbound.get_channel_display().lower())} · {state}</span>"
        )
    if data.get("merged_from"):
        head.append(f'<span class="label" data-merged-from>merged from {_h(data["merged_from"])}</span>')
    if data.get("follow_up_of"):
        href = _h(reverse("cases:detail", kwargs={"key": data["follow_up_of"]}))
        head.append(f'<a class="label" href="{href}" data-follow-up-of>follow-up of {_h(data["follow_up_of"])}</a>')
    parts = [
        f'<div class="msg msg-{_h(kind)}" id="i{item.pk}"><div class="msg-head">{" ".join(head)}</div>',
        f'<div class="msg-body">{linebreaksbr(item.body, autoescape=True)}</div>',
    ]
    if kind == "inbound" and item.data:
        parts.append(_timeline_evidence(item, data))
    for flag in _dget(data, "phone_flags", None) or ():
        parts.append(f'<span class="warning small phone-flag" role="note">⚠ {_h(flag)}</span>')
    staffed = _dget(_dget(data, "channel_data", None), "staffed", None)
    if staffed and not _dget(staffed, "open", None):
        parts.append(
            '<span class="muted small phone-flag" data-slack-staffed="no">Sent in Slack outside its staffed hours '
            f"({_h(_dget(staffed, 'hours'))}).</span>"
        )
    for note in _dget(data, "sla", None) or ():
        parts.append(f'<span class="sla-impact small">{ico("clock")} {instants(note)}</span>')
    for a in item.attachments.all():
        name = _h(a.display_name)
        short = _h(Truncator(a.display_name).chars(120))
        href = _h(reverse("cases:attachment", args=[a.pk]))
        parts.append(
            f'<div class="attachment-line">{ico("paperclip")} <a href="{href}" title="{name}">{short}</a> '
            f'<span class="muted small">{filesizeformat(a.size)}</span></div>'
        )
    parts.append("</div>")
    return "".join(parts)


def _timeline_evidence(item, data) -> str:
    """What the reporter's product sent with the opening message (case_create's `evidence`: the API,
    the CLI, the in-app widget) and the widget's page facts."""
    ev = _dget(data, "evidence", None)
    cd = _dget(data, "channel_data", None)
    error_ids = _dget(ev, "error_ids", None)
    trace_links = _dget(ev, "trace_links", None)
    widget = item.channel == "widget"
    if not (error_ids or trace_links or (widget and cd)):
        return ""
    rows = []
    if error_ids:
        codes = " ".join(f"<code data-error-id>{_h(e)}</code>" for e in error_ids)
        rows.append(f"<dt>Error IDs</dt><dd>{codes}</dd>")
    if trace_links:
        links = "<br>".join(
            f'<a href="{_h(link)}" rel="noopener noreferrer nofollow" target="_blank" data-trace-link>'
            f"{_h(Truncator(str(link)).chars(80))}</a>"
            for link in trace_links
        )
        rows.append(f"<dt>Trace links</dt><dd>{links}</dd>")
    if widget:
        if _dget(cd, "page_url"):
            url = _h(Truncator(str(cd["page_url"])).chars(120))
            rows.append(f'<dt>Page</dt><dd><span class="mono" data-page-url>{url}</span></dd>')
        if _dget(cd, "app_version"):
            rows.append(f"<dt>App version</dt><dd data-app-version>{_h(cd['app_version'])}</dd>")
        if _dget(cd, "browser"):
            rows.append(
                f'<dt>Browser</dt><dd title="{_h(cd["browser"])}">{_h(Truncator(str(cd["browser"])).chars(90))}</dd>'
            )
        left_out = _dget(cd, "left_out")
        if left_out:
            plural = "" if left_out == 1 else "s"
            rows.append(f"<dt>Left out</dt><dd>{_h(left_out)} unusable item{plural} from the page</dd>")
    return f'<dl class="evidence small" data-evidence>{"".join(rows)}</dl>'


def _timeline_event(item, kind, data, ico, abstime, instants, reverse) -> str:
    if kind == "status":
        what = f"status <b>{_h(status_label(_dget(data, 'from')))}</b> → <b>{_h(status_label(_dget(data, 'to')))}</b>"
        if data.get("reopened"):
            what += " (reopened)"
        if data.get("waiting_text"):
            what += f" · waiting for <b>{_h(data['waiting_text'])}</b>"
    elif kind == "assignment":
        what = "".join(
            f"{_h(field)} {_h(_nth(change, 0) or '—')} → <b>{_h(_nth(change, 1) or '—')}</b> "
            for field, change in _items(_dget(data, "changes", None))
        )
    elif kind == "fields":
        what = ", ".join(
            f"{_h(str(field).replace('_', ''))} {_h(_nth(change, 0))} → <b>{_h(_nth(change, 1))}</b>"
            for field, change in _items(_dget(data, "changes", None))
        )
    elif kind == "tags":
        added = "".join(f" +{_h(t)}" for t in _dget(data, "added", None) or ())
        removed = "".join(f" −{_h(t)}" for t in _dget(data, "removed", None) or ())
        what = f"tags{added}{removed}"
    elif kind == "attachment":
        what = f"attached {_h(Truncator(str(_dget(data, 'filename'))).chars(120))}"
    else:
        what = _h(item.get_kind_display())
    actor = item.actor
    by = (actor.get_username() if actor is not None else "") or "system"
    parts = [
        f'<div class="event event-{_h(kind)}" id="i{item.pk}"><span class="dot" aria-hidden="true">●</span> ',
        f"{what} by {_h(by)} · {abstime(item.created_at)}",
    ]
    if item.body:
        text = instants(item.body)
        parts.append(
            f'<div class="reason">“{text}”</div>' if kind != "automation" else f'<div class="reason">{text}</div>'
        )
    for note in _dget(data, "sla", None) or ():
        parts.append(f'<span class="sla-impact">{ico("clock")} {instants(note)}</span>')
    for note in _dget(data, "actions", None) or ():
        parts.append(f'<span class="sla-impact">{ico("arrow")} {instants(note)}</span>')
    if data.get("follow_up"):
        href = _h(reverse("cases:detail", kwargs={"key": data["follow_up"]}))
        parts.append(f'<a href="{href}" data-follow-up>Open {_h(data["follow_up"])}</a>')
    parts.append("</div>")
    return "".join(parts)


def _items(value):
    return value.items() if isinstance(value, dict) else ()


def _nth(value, i: int):
    """`change.0` as the template language resolves it: the item, or "" when there is none."""
    try:
        return value[i]
    except (IndexError, KeyError, TypeError):
        return ""


@register.simple_tag
def assignee_options(groups, selected=""):
    """The assign dropdowns' options (the case page's Assign menu, the queue's bulk bar): "— unassign —",
    then each team's people (`selectors.assignee_groups`), `selected` (a username) marked. Built in
    Python: an option per person was three template lookups and an if (~1.5 ms a page; issue 10)."""
    parts = ['<option value="">— unassign —</option>']
    for team, people in groups:
        parts.append(f'<optgroup label="{_h(team)}">')
        for p in people:
            username = _h(p.username)
            mark = " selected" if p.username == selected else ""
            parts.append(f'<option value="{username}" title="{username}"{mark}>{_h(p.name)}</option>')
        parts.append("</optgroup>")
    return mark_safe("".join(parts))


@register.simple_tag
def team_options(teams, team_id=None):
    """The case page's team select: "— none —", then every team, the case's own selected."""
    parts = ['<option value="">— none —</option>']
    for t in teams:
        mark = " selected" if t.pk == team_id else ""
        parts.append(f'<option value="{_h(t.slug)}"{mark}>{_h(t.name)}</option>')
    return mark_safe("".join(parts))
