"""/tenants/integrations/: the admins' page for telemetry integrations and their API tokens.

List, create (the raw token is shown once, in the response to the create, and never again; the
tenants it may write for are chosen here), edit its tenants and the Alertmanager label names,
revoke (a confirmation step first; the token gets 401 from then on). Thin views: a form, one
service in tenants.ingest, a render. Admins only; anyone else gets 403 and the attempt is audited.
The writes are audited by django-auditlog (Integration is registered, its tenants too), the list
view by an access entry.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.validators import RegexValidator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from companyos import audit
from companyos.access import audited_write
from companyos.htmx import partial
from companyos.roles import admin_required

from . import ingest, selectors, services
from .ingest.integrations import LABEL_NAME
from .models import Integration

admin_only = admin_required(
    Integration, reason="integrations are for admins", message="Integrations are managed by admins.", default_pk="list"
)


def _label_field(label: str, initial: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        initial=initial,
        max_length=60,
        validators=[
            RegexValidator(LABEL_NAME, "A Prometheus label name: letters, digits and _, not starting with a digit.")
        ],
        widget=forms.TextInput(attrs={"class": "input mono", "autocomplete": "off", "spellcheck": "false"}),
    )


class TenantsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=selectors.integration_tenant_choices(),
            label="Tenants",
            help_text="It may send telemetry for these tenants only; items for any other are refused.",
            error_messages={"required": "Choose the tenants it sends telemetry for: it may write for no other."},
            widget=forms.SelectMultiple(attrs={"class": "input", "size": 8}),
            **kwargs,
        )


class LabelsForm(forms.Form):
    """The edit page: the tenants it writes for and the Alertmanager label names."""

    tenants = TenantsField()
    alert_tenant_label = _label_field("Tenant label", "tenant")
    alert_service_label = _label_field("Service label", "service")

    def clean(self):
        data = super().clean()
        if data.get("alert_tenant_label") and data.get("alert_tenant_label") == data.get("alert_service_label"):
            self.add_error("alert_service_label", "The tenant and the service label must differ.")
        return data


class IntegrationForm(LabelsForm):
    name = forms.CharField(
        max_length=100,
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off", "placeholder": "e.g. Prometheus EU"}),
    )
    field_order = ["name", "tenants", "alert_tenant_label", "alert_service_label"]


def _list_context(request, form: IntegrationForm, **extra) -> dict:
    integrations = selectors.integration_list()
    audit.log_list_access(Integration, [i.pk for i in integrations], view="integrations")
    return {
        "integrations": integrations,
        "form": form,
        "api_base": request.build_absolute_uri("/api/v1/"),
        "max_batch": settings.TELEMETRY_MAX_BATCH,
        **extra,
    }


@audited_write(Integration, view="integrations")
@admin_only
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def integration_list(request):
    """GET: the list and the create form. POST: create; the response shows the raw token, once."""
    if request.method == "GET":
        return render(request, "tenants/integrations.html", _list_context(request, IntegrationForm()))
    form = IntegrationForm(request.POST)
    if form.is_valid():
        try:
            data = dict(form.cleaned_data)
            tenant_ids = [tenant.pk for tenant in data.pop("tenants")]
            integration, token = ingest.integration_create(actor=request.user, tenant_ids=tenant_ids, **data)
        except ingest.IntegrationError as exc:
            form.add_error(None, str(exc))
        else:
            response = render(
                request,
                "tenants/integrations.html",
                _list_context(request, IntegrationForm(), created=integration, token=token),
                status=201,
            )
            response["Cache-Control"] = "no-store"  # the raw token must not sit in a cache
            return response
    return render(request, "tenants/integrations.html", _list_context(request, form, show_form=True), status=422)


@audited_write(Integration, view="integration")
@admin_only
@require_http_methods(["GET", "POST"])
def integration_edit(request, pk: int):
    """The tenants it may write for and the Alertmanager label names (which label names the tenant,
    which the resource)."""
    integration = selectors.integration_get(pk)
    if request.method == "GET":
        audit.log_access(integration, view="integration")
        form = LabelsForm(
            initial={
                "tenants": [tenant.pk for tenant in integration.tenants.all()],
                "alert_tenant_label": integration.alert_tenant_label,
                "alert_service_label": integration.alert_service_label,
            }
        )
        return render(request, "tenants/integrations_edit.html", _edit_context(request, integration, form))
    form = LabelsForm(request.POST)
    if form.is_valid():
        try:
            data = dict(form.cleaned_data)
            tenant_ids = [tenant.pk for tenant in data.pop("tenants")]
            ingest.integration_update(integration_id=integration.pk, actor=request.user, tenant_ids=tenant_ids, **data)
        except ingest.IntegrationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved the tenants and label names of “{integration.name}”.")
            return redirect("integrations:list")
    audit.log_access(integration, view="integration", extra={"status": 422})
    return render(request, "tenants/integrations_edit.html", _edit_context(request, integration, form), status=422)


# --- the in-app widget of an integration (tenants.widget) -------------------------------------------------


class WidgetForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Widget on", initial=True)
    allowed_origins = forms.CharField(
        required=False,
        max_length=4000,
        label="Page origins that may embed the panel",
        help_text=(
            "One per line, e.g. https://app.acme.example (the panel's frame-ancestors: no other site may frame it)."
        ),
        widget=forms.Textarea(attrs={"class": "input mono", "rows": 3, "spellcheck": "false"}),
    )


def _edit_context(request, integration, form, *, widget_form=None, **extra) -> dict:
    widget = selectors.widget_config_of(integration.pk)
    if widget_form is None:
        widget_form = WidgetForm(
            initial={"enabled": widget.enabled, "allowed_origins": "\n".join(widget.allowed_origins)}
            if widget
            else None
        )
    return {
        "integration": integration,
        "form": form,
        "widget": widget,
        "widget_form": widget_form,
        "console_origin": request.build_absolute_uri("/").rstrip("/"),
        **extra,
    }


@audited_write(Integration, view="integration widget")
@admin_only
@require_http_methods(["POST"])
def integration_widget(request, pk: int):
    """Save the widget's settings (the first save generates its key id and secret, shown once), or,
    with action=rotate, replace its secret (shown once; contexts signed with the old one are refused)."""
    integration = selectors.integration_get(pk)
    labels = LabelsForm(
        initial={
            "tenants": [tenant.pk for tenant in integration.tenants.all()],
            "alert_tenant_label": integration.alert_tenant_label,
            "alert_service_label": integration.alert_service_label,
        }
    )
    widget_form = WidgetForm(request.POST)
    secret, status = None, 422
    try:
        if request.POST.get("action") == "rotate":
            _, secret = services.widget_rotate_secret(integration_id=integration.pk, actor=request.user)
            widget_form, status = None, 200
        elif widget_form.is_valid():
            origins = widget_form.cleaned_data["allowed_origins"].splitlines()
            _, secret = services.widget_configure(
                integration_id=integration.pk,
                actor=request.user,
                enabled=widget_form.cleaned_data["enabled"],
                allowed_origins=origins,
            )
            if secret is None:
                messages.success(request, f"Saved the widget settings of “{integration.name}”.")
                return redirect("integrations:edit", pk=integration.pk)
            widget_form, status = None, 201
    except services.WidgetConfigError as exc:
        widget_form.add_error(None, str(exc))
    audit.log_access(integration, view="integration widget", extra={"status": status})
    response = render(
        request,
        "tenants/integrations_edit.html",
        _edit_context(request, integration, labels, widget_form=widget_form, widget_secret=secret),
        status=status,
    )
    if secret:
        response["Cache-Control"] = "no-store"  # the secret must not sit in a cache
    return response


@audited_write(Integration, view="integration revoke")
@admin_only
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def integration_revoke(request, pk: int):
    """GET (or a POST without confirm=yes): the confirmation. POST confirm=yes: revoke."""
    integration = selectors.integration_get(pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        if integration.active:
            ingest.integration_revoke(integration_id=integration.pk, actor=request.user)
            messages.success(request, f"Revoked the token of “{integration.name}”: it gets 401 from now on.")
        else:
            messages.info(request, f"“{integration.name}” was already revoked.")
        return redirect("integrations:list")
    audit.log_access(integration, view="integration: revoke confirmation")
    return render(
        request,
        partial(request, "tenants/integrations_revoke.html", "dialog"),
        {"integration": integration, "cancel_url": reverse("integrations:list")},
    )
