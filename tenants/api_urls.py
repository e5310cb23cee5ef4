"""/api/v1/: the machine API (telemetry ingestion, tenants.api) and the REST API's tenant resources
(tenants.api_resources; the cases resources are cases.api)."""

from django.urls import path

from . import api, api_resources

app_name = "api"

urlpatterns = [
    path("telemetry/", api.TelemetryIndex.as_view(), name="telemetry"),
    path("telemetry/<slug:kind>/", api.TelemetryKind.as_view(), name="telemetry_kind"),
    path("alertmanager/", api.AlertmanagerWebhook.as_view(), name="alertmanager"),
    path("tenants/", api_resources.TenantList.as_view(), name="tenant_list"),
    path("tenants/<str:slug>/", api_resources.TenantDetail.as_view(), name="tenant_detail"),
    path("tenants/<str:slug>/requesters/", api_resources.RequesterList.as_view(), name="requester_list"),
    path("tenants/<str:slug>/requesters/<str:pk>/", api_resources.RequesterDetail.as_view(), name="requester_detail"),
]
