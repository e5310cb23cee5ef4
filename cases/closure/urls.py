from django.urls import re_path

from . import views

app_name = "closure"

TOKEN = r"(?P<token>[A-Za-z0-9_:\-]{10,400})"

urlpatterns = [
    re_path(rf"^solved/{TOKEN}/$", views.confirm, name="confirm"),
    re_path(rf"^survey/{TOKEN}/$", views.survey, name="survey"),
]
