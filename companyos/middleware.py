import zoneinfo

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone


class UserTimezoneMiddleware:
    """Show every time in the viewer's own timezone (Profile.timezone)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tzname = "UTC"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None) if hasattr(user, "profile") else None
            if profile is not None:
                tzname = profile.timezone
        try:
            timezone.activate(zoneinfo.ZoneInfo(tzname))
        except zoneinfo.ZoneInfoNotFoundError:
            timezone.activate(zoneinfo.ZoneInfo("UTC"))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class LoginRequiredMiddleware:
    """Everything in the console needs a signed-in user, except sign-in itself, static files and
    the machine APIs (which authenticate with their own tokens)."""

    OPEN_PREFIXES = ("/accounts/login/", "/static/", "/healthz", "/api/", "/admin/login/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(self.OPEN_PREFIXES):
            login_url = reverse(settings.LOGIN_URL)
            if getattr(request, "htmx", False):
                response = redirect(login_url)
                response["HX-Redirect"] = login_url
                return response
            return redirect(f"{login_url}?next={request.get_full_path()}")
        return self.get_response(request)


class CorrelationIdMiddleware:
    """Give every request a correlation id (the caller's X-Correlation-ID, else a new one), so all
    audit entries one request writes share it (django-auditlog reads the header) and the response
    names it for support."""

    HEADER = "HTTP_X_CORRELATION_ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import uuid

        supplied = request.META.get(self.HEADER, "")
        if not supplied or len(supplied) > 200:
            request.META[self.HEADER] = uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Correlation-ID"] = request.META[self.HEADER]
        return response


class RejectNullBytesMiddleware:
    """A NUL byte in the path or query string answers 400: PostgreSQL text cannot hold it, and no
    honest client sends one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import HttpResponseBadRequest

        if (
            "\x00" in request.path
            or any("\x00" in value for values in request.GET.lists() for value in values[1])
            or any("\x00" in key for key in request.GET)
        ):
            return HttpResponseBadRequest("Null characters are not allowed in the address.", content_type="text/plain")
        return self.get_response(request)
