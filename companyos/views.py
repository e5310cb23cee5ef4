from django import forms
from django.contrib import messages
from django.db import connection
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import csrf
from django.views.decorators.http import require_GET, require_POST

from . import audit, services
from .access import audit_exempt
from .models import TIMEZONE_CHOICES, Profile


def csrf_failure(request, reason=""):
    """A request refused by the CSRF check (403) is a refused access like any other: audited, then
    answered by Django's own CSRF failure page."""
    audit.log_refused_view("csrf", path=request.path, reason=f"CSRF check failed: {reason}")
    return csrf.csrf_failure(request, reason=reason)


@audit_exempt(reason="a liveness probe")
@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class PreferencesForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES)

    class Meta:
        model = Profile
        fields = ["timezone", "timeline_order"]
        widgets = {"timeline_order": forms.RadioSelect}


@audit_exempt(reason="the user's own display preferences")
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=services.profile_for(request.user))
    if request.method == "POST" and form.is_valid():
        profile = services.profile_update(
            user=request.user,
            timezone=form.cleaned_data["timezone"],
            timeline_order=form.cleaned_data["timeline_order"],
        )
        order = profile.get_timeline_order_display().lower()
        messages.success(request, f"Times are now shown in {profile.timezone}; case timelines {order}.")
        return redirect("preferences")
    return render(request, "companyos/preferences.html", {"form": form})


class TimelineOrderForm(forms.Form):
    timeline_order = forms.ChoiceField(choices=Profile.TimelineOrder.choices)


@audit_exempt(reason="the user's own preference (the case timeline's order); no case or tenant data")
@require_POST
def timeline_order(request):
    """The case page's "newest first / oldest first" switch: the same preference, set in one click,
    then back to the page it was pressed on."""
    form = TimelineOrderForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose oldest or newest first.")
    services.profile_update(user=request.user, timeline_order=form.cleaned_data["timeline_order"])
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    return redirect(back)
