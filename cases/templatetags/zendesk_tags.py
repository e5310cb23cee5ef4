"""`{% zendesk_sync case %}`: the case page's Zendesk badge (linked ticket; a red badge when a
change is stuck or dead; "Push to Zendesk" when the sync is on and the case is not linked)."""

from django import template

from ..channels.zendesk import selectors
from ..channels.zendesk.services import sync_enabled

register = template.Library()


@register.inclusion_tag("zendesk/_case_badge.html", takes_context=True)
def zendesk_sync(context, case):
    enabled = sync_enabled()
    sync = selectors.case_sync(case.pk) if enabled else selectors.CaseSync(linked=False)
    return {"case": case, "sync": sync, "sync_enabled": enabled, "csrf_token": context.get("csrf_token")}
