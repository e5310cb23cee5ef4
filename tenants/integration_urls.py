"""/tenants/integrations/: telemetry integrations and their API tokens (admins only)."""

from django.urls import path

from . import views_integrations

app_name = "integrations"

urlpatterns = [
    path("", views_integrations.integration_list, name="list"),
    path("<id:pk>/", views_integrations.integration_edit, name="edit"),
    path("<id:pk>/revoke/", views_integrations.integration_revoke, name="revoke"),
    path("<id:pk>/widget/", views_integrations.integration_widget, name="widget"),
]
