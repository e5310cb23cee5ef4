from django.urls import path

from ..closure import views as closure_views
from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export_csv, name="export"),
    path("weekly/", views.weekly, name="weekly"),
    path("credits/", closure_views.credit_list, name="credits"),
    path("credits.csv", closure_views.credit_csv, name="credits_csv"),
    path("credits/<id:pk>/decide/", closure_views.credit_decide, name="credit_decide"),
]
