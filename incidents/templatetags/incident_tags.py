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
