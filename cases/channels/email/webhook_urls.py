"""The ESP inbound webhook (mounted at /inbound/email/ by companyos.urls)."""

from django.urls import path

from . import views

app_name = "email_inbound"

urlpatterns = [
    path("mailgun/", views.mailgun_inbound, name="mailgun"),
    path("mailgun/mime/", views.mailgun_inbound, name="mailgun_mime"),  # Mailgun posts raw MIME to a URL with "mime"
]
