from django import forms
from django.contrib import messages
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views import csrf
from django.views.decorators.http import require_GET

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
        fields = ["timezone"]


@audit_exempt(reason="the user's own display preferences")
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=services.profile_for(request.user))
    if request.method == "POST" and form.is_valid():
        profile = services.profile_update(user=request.user, timezone=form.cleaned_data["timezone"])
        messages.success(request, f"Times are now shown in {profile.timezone}.")
        return redirect("preferences")
    return render(request, "companyos/preferences.html", {"form": form})
