"""/api/slack/: the endpoints a Slack app calls (signed by Slack, not signed in: /api/ is open to
machines, and these check Slack's signature themselves)."""

from django.urls import path

from . import views

app_name = "slack"

urlpatterns = [
    path("commands/", views.slash_command, name="commands"),
    path("interactivity/", views.interactivity, name="interactivity"),
]
