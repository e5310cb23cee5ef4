import ipaddress
import json
import time
import uuid
import zoneinfo

from auditlog.middleware import AuditlogMiddleware
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


class SessionRefreshMiddleware:
    """Sliding idle expiry without a session write on every request: a signed-in session is saved
    (its expiry moved SESSION_COOKIE_AGE ahead, the cookie re-issued) at most once every
    SESSION_REFRESH_SECONDS (60), instead of SESSION_SAVE_EVERY_REQUEST's write per request. With
    the cached_db engine, a request that changes nothing in its session runs no session SQL at all.
    The idle timeout is therefore exact to within that interval."""

    KEY = "_refreshed"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated and not session.is_empty():
            now = int(time.time())
            if now - int(session.get(self.KEY, 0)) >= settings.SESSION_REFRESH_SECONDS:
                session[self.KEY] = now  # marks it modified: SessionMiddleware saves it and sets the cookie
        return response


class LoginRequiredMiddleware:
    """Everything in the console needs a signed-in user, except sign-in itself, static files and
    the machine APIs (which authenticate with their own tokens) and the inbound webhooks under
    /inbound/ (which check their sender's signature), the in-app widget's panel under /widget/
    (which checks the host's signed context, or its own signed link), and the public status page
    under /status/, and the customers' signed closure links under /c/ (cases.closure: "is this
    solved?" and the survey), the expiring signed links to a trace bundle's report under /shared/
    (runbooks.diagnostics.sharing), and on-call's signed links under /oncall/link/ (a page's one-time
    acknowledge link, the calendar feeds)."""

    OPEN_PREFIXES = (
        "/accounts/login/",
        "/static/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/",
        "/inbound/",
        "/widget/",
        "/status/",
        "/c/",
        "/shared/",
        "/oncall/link/",
        "/admin/login/",
    )
    ADMIN_PREFIX = "/admin/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(self.OPEN_PREFIXES):
            if request.path.startswith(self.ADMIN_PREFIX):  # refused admin pages are audited (companyos.admin_audit)
                from .admin_audit import log_admin_denied

                log_admin_denied(request, reason="not signed in")
            login_url = reverse(settings.LOGIN_URL)
            if getattr(request, "htmx", False):
                response = redirect(login_url)
                response["HX-Redirect"] = login_url
                return response
            return redirect(f"{login_url}?next={request.get_full_path()}")
        return self.get_response(request)


def trusted_forwarded_for(request) -> str | None:
    """The client's address as the trusted proxies saw it: with `TRUSTED_PROXY_COUNT` = N proxies in
    front of the console, the N-th X-Forwarded-For entry from the right (each proxy appends the
    address it was reached from; everything left of that the client may have written itself).
    None without trusted proxies, when the header is shorter than the proxy chain, or when the
    entry is not an IP address."""
    count = settings.TRUSTED_PROXY_COUNT
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count <= 0 or not header:
        return None
    hops = [hop.strip() for hop in header.split(",")]
    if len(hops) < count:
        return None
    return valid_ip(hops[-count])


def valid_ip(value: str) -> str | None:
    """`value` as a normalised IP address (a port or IPv6 brackets removed), else None."""
    value = (value or "").strip()
    if value.startswith("["):  # [v6]:port
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address as the console records it: what `TRUSTED_PROXY_COUNT` proxies vouch for,
    else REMOTE_ADDR; None when neither is an IP address. The audit trail and the sign-in lockout
    (django-axes, `AXES_CLIENT_IP_CALLABLE`) both take it from here."""
    return trusted_forwarded_for(request) or valid_ip(request.META.get("REMOTE_ADDR", ""))


class AuditContextMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (actor, address, correlation id on every entry), trusting the
    client for nothing: the address is REMOTE_ADDR unless `TRUSTED_PROXY_COUNT` proxies vouch for a
    forwarded one, and an address that is not an IP is never written (it would fail the insert, and
    with it the page and its denial entry)."""

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request) -> int | None:
        if settings.TRUSTED_PROXY_COUNT <= 0:
            return None
        try:
            port = int(request.META.get("HTTP_X_FORWARDED_PORT", ""))
        except ValueError:
            return None
        return port if 0 < port < 65536 else None


class CorrelationIdMiddleware:
    """Give every request a correlation id, so all audit entries one request writes share it
    (django-auditlog reads the header) and the response names it for support. The id is made here;
    an inbound X-Correlation-ID is kept only behind trusted proxies (`TRUSTED_PROXY_COUNT`) and only
    when it is a UUID, so a client cannot make its entries share another request's id."""

    HEADER = "HTTP_X_CORRELATION_ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META[self.HEADER] = self.inbound(request) or uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Correlation-ID"] = request.META[self.HEADER]
        return response

    def inbound(self, request) -> str | None:
        if settings.TRUSTED_PROXY_COUNT <= 0:
            return None
        try:
            return uuid.UUID(request.META.get(self.HEADER, "")).hex
        except ValueError:
            return None


class RejectNullBytesMiddleware:
    """A NUL byte in the path, the query string or a submitted form field answers 400: PostgreSQL
    text cannot hold it, and no honest client sends one. (The API's bodies are checked by its own
    validation; a form's uploaded files are not text and are not looked at.)"""

    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
    API_PREFIX = "/api/"  # the machine APIs parse (and refuse) their own bodies; reading one here would consume it

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import HttpResponseBadRequest

        if _has_nul(request.path) or _has_nul_in(request.GET):
            message = "Null characters are not allowed in the address."
            if request.path.startswith(self.API_PREFIX):  # the REST API answers problem+json (companyos.api)
                from .api.problems import CONTENT_TYPE, problem_body

                body = json.dumps(problem_body(400, message, errors=[{"field": "", "message": message}]))
                return HttpResponseBadRequest(body, content_type=CONTENT_TYPE)
            return HttpResponseBadRequest(message, content_type="text/plain")
        if (
            request.method == "POST"
            and request.content_type in self.FORM_TYPES
            and not request.path.startswith(self.API_PREFIX)
            and _has_nul_in(request.POST)
        ):
            return HttpResponseBadRequest("Null characters are not allowed in a form field.", content_type="text/plain")
        return self.get_response(request)


def _has_nul(text: str) -> bool:
    return "\x00" in text


def _has_nul_in(data) -> bool:
    return any(_has_nul(key) or any(_has_nul(value) for value in values) for key, values in data.lists())


class NoStoreMiddleware:
    """Console pages, attachment downloads and API answers hold tenant data: no browser or proxy may
    keep a copy (`Cache-Control: no-store`). Static files are the exception: WhiteNoise,
    inside this middleware, answers them with its own long-lived headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils.cache import patch_cache_control

        response = self.get_response(request)
        if not request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            patch_cache_control(response, no_store=True)
        return response


class ConsoleErrorPagesMiddleware:
    """The console's own 400 and 404 pages with DEBUG on too, as in production.

    The demo (`.ci/demo`) runs with DEBUG on, where Django answers a 404 or a bad request with its
    technical page: it lists every URL pattern and tells a forbidden case from a missing one by its
    wording. Here a view's Http404, BadRequest or SuspiciousOperation, and an address no URL matches,
    get the same handler (and so the same `404.html` / `400.html`) as with DEBUG off. A 500 keeps
    Django's traceback page under DEBUG: that one is for the developer. With DEBUG off this does
    nothing (Django's own exception handling already does exactly this)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            from django.http import Http404

            return self._handler(request, 404, Http404(request.path))
        return response

    def process_exception(self, request, exception):
        from django.core.exceptions import BadRequest, SuspiciousOperation
        from django.http import Http404

        if not settings.DEBUG:
            return None
        if isinstance(exception, Http404):
            return self._handler(request, 404, exception)
        if isinstance(exception, BadRequest | SuspiciousOperation):
            return self._handler(request, 400, exception)
        return None

    @staticmethod
    def _handler(request, status: int, exception: Exception):
        from django.core.handlers.exception import get_exception_response
        from django.urls import get_resolver, get_urlconf

        return get_exception_response(request, get_resolver(get_urlconf()), status, exception)
