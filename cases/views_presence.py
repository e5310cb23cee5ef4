"""Agent collision on the case page: the heartbeat that says "I have this case open" (GET, polled)
or "I am typing a reply" (POST), answered with who else is there. See cases.presence."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from companyos.access import audit_exempt

from . import presence
from .models import Case
from .selectors import case_get_for_user


@audit_exempt(reason="names the colleagues who have the case open, no case data; polled every 5 s", model=Case)
@require_http_methods(["GET", "POST"])
def case_presence(request, key: str):
    """Shows only which colleagues have the page open (no case data), so it writes no access
    entry every few seconds; a case the user may not see answers 404 and is audited as usual."""
    case = case_get_for_user(request.user, key, path=request.path)
    if request.method == "POST" and request.POST.get("leave"):
        presence.leave(case.pk, request.user)
        return HttpResponse(status=204)
    presence.heartbeat(case.pk, request.user, typing=request.method == "POST")
    if request.method == "POST":
        return HttpResponse(status=204)
    context = {"people": presence.others(case.pk, request.user), "case": case}
    return render(request, "cases/_presence.html", context)
