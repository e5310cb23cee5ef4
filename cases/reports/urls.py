from django.urls import path, re_path

from ..closure import views as closure_views
from . import views, weekly_views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export_csv, name="export"),
    path("weekly/", weekly_views.weekly, name="weekly"),
    re_path(
        r"^weekly/exports/(?P<week>\d{4}-W\d{2})\.(?P<fmt>csv|json)$", weekly_views.weekly_export, name="weekly_export"
    ),
    path("credits/", closure_views.credit_list, name="credits"),
    path("credits.csv", closure_views.credit_csv, name="credits_csv"),
    path("credits/<id:pk>/decide/", closure_views.credit_decide, name="credit_decide"),
]
