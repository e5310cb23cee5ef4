"""/api/v1/: the machine API (token-authenticated; see tenants.api)."""

from django.urls import path

from . import api

app_name = "api"

urlpatterns = [
    path("telemetry/", api.TelemetryIndex.as_view(), name="telemetry"),
    path("telemetry/<slug:kind>/", api.TelemetryKind.as_view(), name="telemetry_kind"),
    path("alertmanager/", api.AlertmanagerWebhook.as_view(), name="alertmanager"),
]
