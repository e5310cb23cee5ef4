"""/api/v1/cases/…: the REST API's case resources (cases.api.views)."""

from django.urls import path

from . import views

app_name = "api_cases"

urlpatterns = [
    path("cases/", views.CaseCollection.as_view(), name="list"),
    path("cases/<str:key>/", views.CaseDetail.as_view(), name="detail"),
    path("cases/<str:key>/transition/", views.CaseTransition.as_view(), name="transition"),
    path("cases/<str:key>/replies/", views.CaseReplies.as_view(), name="replies"),
    path("cases/<str:key>/attachments/", views.CaseAttachments.as_view(), name="attachments"),
]
