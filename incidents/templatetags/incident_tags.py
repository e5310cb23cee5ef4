"""Tags of the incident pages. `linked_case_rows` builds the big incident page's linked-case rows in
Python, the same markup the row template made (the queue does the same: cases.templatetags.case_tags
.queue_rows): a page of 50 rows spent ~8 ms in template lookups and tags. Every value is escaped
(`_h`: html.escape, quotes included); the badges are the case tags and already safe."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from cases.templatetags.case_tags import sla_badge, status_badge
from companyos.templatetags.console import _h, person

register = template.Library()


def clip(text: str, limit: int) -> str:
    """`truncatechars` for a plain one-line subject: the first `limit - 1` characters and "…"."""
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.simple_tag
def linked_case_rows(cases) -> str:
    """The linked cases' <tr>s: SLA, key (a link), subject with tenant · status · owner, and the ×
    button of the table's one unlink form (it sends the row's case key)."""
    rows, statuses, owners = [], {}, {}
    for case in cases:
        key = _h(case.key)
        status = statuses.get(case.status) or statuses.setdefault(case.status, status_badge(case))
        owner = owners.get(case.owner_id) or owners.setdefault(case.owner_id, person(case.owner, "unassigned"))
        rows.append(
            f'<tr data-case="{key}"><td>{sla_badge(case)}</td>'
            f'<td class="mono"><a href="{_h(case.get_absolute_url())}">{key}</a></td>'
            f'<td class="subject">{_h(clip(case.subject, 48))}<div class="muted small">{_h(case.tenant.name)} · '
            f"{status} · {owner}</div></td>"
            f'<td><button class="icon-btn" type="submit" name="case" value="{key}" title="Unlink {key}" '
            f'aria-label="Unlink {key}">×</button></td></tr>'
        )
    return mark_safe("\n".join(rows))


PUBLISHED = ' <span class="badge published">published</span>'
INTERNAL = ' <span class="badge internal">internal</span>'


def _plural(n) -> str:
    return "" if n == 1 else "s"


def _entry(e) -> str:
    from django.template.defaultfilters import linebreaksbr

    from companyos.templatetags.console import reltime

    data = e.data or {}
    kind = _h(e.kind)
    badge = PUBLISHED if e.public else INTERNAL
    out = [
        f'<div class="msg {"msg-reply" if e.public else "msg-note"} entry-{kind}" data-entry="{kind}">'
        f'<div class="msg-head"><b>{_h(e.get_kind_display())}</b>{badge} · {person(e.actor, "system")} · '
        f"{reltime(e.created_at)}</div>"
    ]
    if e.kind == "status":
        old, new = str(data.get("from") or ""), str(data.get("to") or "")
        out.append(f"<p>{_h(old[:1].upper() + old[1:])} → <b>{_h(new[:1].upper() + new[1:])}</b></p>")
    elif e.kind == "severity":
        out.append(f"<p>{_h(data.get('from', ''))} → <b>{_h(data.get('to', ''))}</b></p>")
    elif e.kind == "role":
        out.append(f"<p>{_h(data.get('label', ''))}: {_h(data.get('from', ''))} → <b>{_h(data.get('to', ''))}</b></p>")
    elif e.kind in ("link", "unlink"):
        shown, hidden = getattr(e, "shown_cases", []), getattr(e, "hidden_cases", 0)
        text = _h(", ".join(map(str, shown)))
        if hidden:
            text += f"{' and ' if shown else ''}{_h(hidden)} case{_plural(hidden)} of other tenants"
        out.append(f"<p>{text}</p>")
    if e.kind == "customers":
        cases, skipped = data.get("cases", ""), data.get("skipped") or {}
        text = f"Customer update to {_h(cases)} open case{_plural(cases)} · sent {_h(data.get('sent', ''))}"
        if skipped:
            text += " · not sent: " + "; ".join(f"{_h(k)} ({_h(v)})" for k, v in skipped.items())
        if data.get("not_visible"):
            text += f" · {_h(data['not_visible'])} of other tenants not sent by this sender"
        out.append(f"<p>{text}</p>")
    elif e.body:
        out.append(f'<div class="body">{linebreaksbr(e.body, autoescape=True)}</div>')
    out.append("</div>")
    return "".join(out)


@register.simple_tag
def timeline_entries(entries) -> str:
    """The incident timeline's entries (the page's newest 50 and each "older entries" fragment), built
    in Python: the markup the entry template made, without its ~0.1 ms of lookups and tags an entry."""
    return mark_safe("\n".join(_entry(e) for e in entries))


@register.simple_tag
def incident_rows(incidents) -> str:
    """The incident list's <tr>s, built in Python (the markup the row template made; ~0.17 ms a row
    of template lookups and tags before)."""
    from django.contrib.humanize.templatetags.humanize import intcomma

    from companyos.templatetags.console import reltime

    rows = []
    for i in incidents:
        url, key = _h(i.get_absolute_url()), _h(i.key)
        due = reltime(i.update_due_at) if i.active and i.update_due_at else '<span class="muted">—</span>'
        rows.append(
            f'<tr data-href="{url}" data-incident="{key}" tabindex="-1">'
            f'<td><span class="badge sev sev-{_h(i.severity.lower())}" title="{_h(i.severity_help)}">'
            f"{_h(i.severity)}</span></td>"
            f'<td class="mono"><a href="{url}">{key}</a></td>'
            f'<td class="subject"><a href="{url}">{_h(i.title)}</a></td>'
            f'<td><span class="badge inc-{_h(i.status)}">{_h(i.get_status_display())}</span></td>'
            f"<td>{person(i.commander, '—')}</td>"
            f'<td class="num">{_h(intcomma(i.case_count))}</td>'
            f"<td>{reltime(i.started_at)}</td><td>{due}</td></tr>"
        )
    return mark_safe("\n".join(rows))
