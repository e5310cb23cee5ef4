from django.urls import path

from .diagnostics import views

app_name = "shared"
urlpatterns = [path("bundles/<str:token>/", views.shared_report, name="bundle_report")]
