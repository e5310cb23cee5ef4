"""Placeholder replaced by the dashboard work (issue 3)."""
from django.http import HttpResponse


def dashboard(request):
    return HttpResponse(status=501)


def dashboard_csv(request):
    return HttpResponse(status=501)
