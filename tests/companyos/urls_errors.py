"""The console's URLs plus three views that fail on purpose, for the error-page tests."""

from django.core.exceptions import BadRequest, PermissionDenied
from django.urls import path

from companyos.urls import urlpatterns as console_urlpatterns


def boom(request):
    raise RuntimeError("a bug in a view")


def bad(request):
    raise BadRequest("a malformed request")


def denied(request):
    raise PermissionDenied


urlpatterns = [
    path("test-errors/boom/", boom),
    path("test-errors/bad/", bad),
    path("test-errors/denied/", denied),
    *console_urlpatterns,
]
