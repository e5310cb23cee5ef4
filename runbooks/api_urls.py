from django.urls import path

from .diagnostics import api

app_name = "api_runbooks"
urlpatterns = [
    path("cases/<str:key>/trace-bundles/", api.CaseTraceBundles.as_view(), name="trace_bundles"),
    path("trace-bundles/<str:pk>/", api.TraceBundleDetail.as_view(), name="trace_bundle"),
]
