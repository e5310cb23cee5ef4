"""/sla/: the manager's SLA dashboard and the admins' policy and calendar pages."""

from django.urls import path

from .views import admin as views_sla_admin
from .views import dashboard as views_sla_dashboard

app_name = "sla"

urlpatterns = [
    path("", views_sla_dashboard.dashboard, name="dashboard"),
    path("export.csv", views_sla_dashboard.dashboard_csv, name="dashboard_csv"),
    path("policies/", views_sla_admin.policy_list, name="policy_list"),
    path("policies/new/", views_sla_admin.policy_edit, name="policy_create"),
    path("policies/preset/", views_sla_admin.policy_load_preset, name="policy_preset"),
    path("policies/preview/", views_sla_admin.policy_preview, name="policy_preview"),
    path("policies/<id:pk>/", views_sla_admin.policy_edit, name="policy_edit"),
    path("policies/<id:pk>/reapply/", views_sla_admin.policy_reapply, name="policy_reapply"),
    path("rules/", views_sla_admin.rules, name="rules"),
    path("calendars/", views_sla_admin.calendar_list, name="calendar_list"),
    path("calendars/new/", views_sla_admin.calendar_edit, name="calendar_create"),
    path("calendars/<id:pk>/", views_sla_admin.calendar_edit, name="calendar_edit"),
]
