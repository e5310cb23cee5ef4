from django.urls import include, path

from . import views, views_case

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("escalations/", include("incidents.escalations.urls")),  # engineering escalations (incidents/escalations)
    path("declare/", views.incident_declare, name="declare"),
    path("picker/", views.incident_picker, name="picker"),
    path("hints/", views_case.queue_hints, name="queue_hints"),
    path("hints/declare/", views_case.declare_from_hint, name="declare_from_hint"),
    path("case/<str:key>/panel/", views_case.case_panel, name="case_panel"),
    path("case/<str:key>/link/", views_case.case_link, name="case_link"),
    path("case/<str:key>/declare/", views_case.declare_from_case, name="declare_from_case"),
    path("<str:key>/", views.incident_detail, name="detail"),
    path("<str:key>/timeline/", views.incident_timeline, name="timeline"),
    path("<str:key>/status/", views.incident_status, name="status"),
    path("<str:key>/severity/", views.incident_severity, name="severity"),
    path("<str:key>/role/", views.incident_role, name="role"),
    path("<str:key>/update/", views.incident_update, name="update"),
    path("<str:key>/edit/", views.incident_edit, name="edit"),
    path("<str:key>/postmortem/", views.incident_postmortem, name="postmortem"),
    path("<str:key>/link/", views.incident_link, name="link"),
    path("<str:key>/unlink/", views.incident_unlink, name="unlink"),
    path("<str:key>/actions/", views.incident_action_add, name="action_add"),
    path("<str:key>/actions/<id:pk>/", views.incident_action_status, name="action_status"),
    path("<str:key>/customers/", views.incident_customers, name="customers"),
    path("<str:key>/resolve/", views.incident_resolve, name="resolve"),
]
