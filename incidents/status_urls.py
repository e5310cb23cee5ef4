from django.urls import path

from . import views_status

app_name = "status"

urlpatterns = [
    path("", views_status.status_page, name="page"),
    path("feed.atom", views_status.status_feed, name="feed"),
    path("t/<str:token>/", views_status.tenant_status_page, name="tenant"),
    path("t/<str:token>/feed.atom", views_status.tenant_status_feed, name="tenant_feed"),
]
