"""The in-app widget's panel (mounted at /widget/ by companyos.urls; open without a console login)."""

from django.urls import path

from . import views

app_name = "widget"

urlpatterns = [
    path("panel/", views.panel, name="panel"),
    path("t/<str:token>/", views.thread, name="thread"),
]
