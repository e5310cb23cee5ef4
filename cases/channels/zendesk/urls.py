"""/zendesk/: the Zendesk sync's admin pages and the case link action (the webhook is under /api/)."""

from django.urls import path, re_path

from . import views

app_name = "zendesk"

urlpatterns = [
    path("mapping/", views.mapping_page, name="mapping"),
    path("changes/", views.changes_page, name="changes"),
    path("changes/<id:pk>/<str:action>/", views.change_action, name="change_action"),
    re_path(r"^cases/(?P<key>[A-Za-z]+-\d{1,12})/link/$", views.case_link, name="link"),
]
