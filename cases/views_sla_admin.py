"""Placeholder replaced by the SLA admin pages work (issue 3)."""
from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse(status=501)


policy_list = policy_edit = policy_load_preset = policy_preview = policy_reapply = rules = calendar_list = calendar_edit = _todo
