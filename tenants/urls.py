from django.urls import path

from . import views

app_name = "tenants"

urlpatterns = [
    path("", views.tenant_list, name="list"),
    path("<slug:slug>/", views.tenant_console, name="console"),
    path("<slug:slug>/panels/<slug:name>/", views.tenant_panel, name="panel"),
]
