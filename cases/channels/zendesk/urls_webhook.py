from django.urls import path

from . import views

app_name = "zendesk_webhook"

urlpatterns = [path("", views.webhook_receive, name="receive")]
