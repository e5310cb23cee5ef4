"""The top bar's search (/search/, URL name "search"): a case key jumps straight to the case,
anything else searches the queue. Mounted by the project URLconf (companyos/urls.py) by name, so
the shared plumbing imports no cases code."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_GET

from companyos.access import audit_exempt

from .selectors import parse_case_key


@audit_exempt(reason="redirects to the case or the queue, which audit what they show")
@require_GET
def global_search(request):
    q = request.GET.get("q", "").strip()
    pk = parse_case_key(q)
    if pk is not None:
        return redirect("cases:detail", key=q.strip().upper())
    response = redirect("cases:list")
    if q:
        response["Location"] += "?" + urlencode({"q": q, "status": "all"})
    return response


urlpatterns = [path("", global_search, name="search")]
