from django import forms
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import csrf
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import audit, metrics, retention, roles, services
from .access import audit_exempt
from .api import tokens
from .htmx import htmx_partial
from .models import TIMEZONE_CHOICES, ApiToken, Profile, PurgeRecord


def csrf_failure(request, reason=""):
    """A request refused by the CSRF check (403) is a refused access like any other: audited, then
    answered by Django's own CSRF failure page."""
    audit.log_refused_view("csrf", path=request.path, reason=f"CSRF check failed: {reason}")
    return csrf.csrf_failure(request, reason=reason)


@audit_exempt(reason="a liveness probe")
@require_GET
def healthz(request):
    """Liveness: the process answers (no dependency touched; /readyz checks them)."""
    return metrics.healthz(request)


@audit_exempt(reason="a readiness probe: the dependencies' state, no case or tenant data")
@require_GET
def readyz(request):
    return metrics.readyz(request)


@audit_exempt(reason="Prometheus metrics behind METRICS_TOKEN: counts and timings, no case or tenant data")
@require_GET
def metrics_view(request):
    return metrics.metrics(request)


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
    return render(request, "companyos/preferences.html", {"form": form, **_tokens_context(request)})


# --- personal API tokens (the REST API and the CLI), on the preferences page ------------------------------


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=80, widget=forms.TextInput(attrs={"class": "input", "placeholder": "laptop CLI"}))
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, widget=forms.RadioSelect)
    expires_in_days = forms.TypedChoiceField(
        coerce=int, choices=[(d, f"{d} days") for d in tokens.EXPIRY_DAYS], initial=90, label="Expires in"
    )


def _tokens_context(request, *, form=None, created=None, raw=None) -> dict:
    return {
        "token_form": form or ApiTokenForm(),
        "api_tokens": tokens.tokens_of(request.user),
        "created_token": created,
        "raw_token": raw,
        "api_base": request.build_absolute_uri("/api/v1/"),
        "console_url": request.build_absolute_uri("/").rstrip("/"),
        "now": timezone.now(),
    }


def _tokens_answer(request, status=200, **context):
    template = "companyos/preferences.html#api-tokens" if htmx_partial(request) else "companyos/preferences.html"
    page = {} if htmx_partial(request) else {"form": PreferencesForm(instance=services.profile_for(request.user))}
    return render(request, template, {**page, **_tokens_context(request, **context)}, status=status)


@audit_exempt(reason="the user's own API tokens: names, scopes and dates, no case or tenant data")
@require_POST
def api_token_create(request):
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _tokens_answer(request, status=422, form=form)
    try:
        token, raw = tokens.token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
    except tokens.TokenError as exc:
        form.add_error("name", str(exc))
        return _tokens_answer(request, status=422, form=form)
    return _tokens_answer(request, created=token, raw=raw)


@audit_exempt(reason="the user's own API tokens: no case or tenant data")
@require_POST
def api_token_revoke(request, pk: int):
    try:
        tokens.token_revoke(user=request.user, token_id=pk)
    except tokens.TokenError:
        audit.log_refused_view("api token revoke", path=request.path, reason="not one of the user's tokens")
        return _tokens_answer(request, status=404)
    if not htmx_partial(request):
        messages.success(request, "The token was revoked: it no longer works.")
        return redirect("preferences")
    return _tokens_answer(request)


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


# --- retention (companyos.retention) ------------------------------------------------------------------

_retention_admins = roles.admin_required(
    PurgeRecord, reason="retention is for admins", message="Retention is managed by admins.", default_pk="rules"
)


@audit_exempt(reason="retention rules and purge counts: no case or tenant data (each run is audited)")
@_retention_admins
@require_http_methods(["GET", "POST"])
def retention_page(request):
    """/retention/: what is kept how long, the last purge and dry run of each rule; POST: a dry run."""
    dry = None
    if request.method == "POST":
        dry = {record.rule: record for record in retention.run(dry_run=True, actor=request.user)}
    last = {}
    for record in PurgeRecord.objects.order_by("-created_at", "-id")[:200]:
        last.setdefault((record.rule, record.dry_run), record)
    rows = [
        {
            "rule": rule,
            "kept": rule.kept(),
            "last_purge": last.get((rule.name, False)),
            "last_dry_run": last.get((rule.name, True)),
            "dry": (dry or {}).get(rule.name),
        }
        for rule in retention.rules()
    ]
    return render(request, "companyos/retention.html", {"rows": rows, "dry_ran": dry is not None})
