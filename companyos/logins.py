"""Sign-ins in the audit trail, and the page a locked-out sign-in gets.

django-axes counts failed sign-ins per username and address (settings: `AXES_*`) and refuses the
pair once it reaches the limit; the receivers here write every sign-in, failed sign-in (a denial,
marked `locked_out` when the lockout refused it) and sign-out to the audit log, with the address
from `companyos.middleware.client_ip` and the request's correlation id. Connected in
`CompanyOSConfig.ready()`.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from . import audit
from .middleware import client_ip


def _address(request) -> str | None:
    return client_ip(request) if request is not None else None


@receiver(user_logged_in, dispatch_uid="companyos.logins.logged_in")
def _logged_in(sender, request, user, **kwargs):
    audit.log_account_event("login", user=user, actor=user, remote_addr=_address(request))


@receiver(user_logged_out, dispatch_uid="companyos.logins.logged_out")
def _logged_out(sender, request, user, **kwargs):
    if user is None:  # signing out without a session: nothing happened
        return
    audit.log_account_event("logout", user=user, actor=user, remote_addr=_address(request))


@receiver(user_login_failed, dispatch_uid="companyos.logins.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    User = get_user_model()
    username = str(credentials.get(User.USERNAME_FIELD) or "")
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    locked_out = bool(getattr(request, "axes_locked_out", False))
    audit.log_account_event(
        "login_failed",
        user=user,
        remote_addr=_address(request),
        denied=True,
        extra={
            "reason": "locked out" if locked_out else "wrong username or password",
            "locked_out": locked_out,
            "path": request.path[:500] if request is not None else "",
        },
    )


def cool_off_minutes(request=None) -> int:
    cool_off = get_cool_off(request)
    return math.ceil(cool_off.total_seconds() / 60) if cool_off else 0


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """What a refused sign-in answers (`AXES_LOCKOUT_CALLABLE`): 429 with a page saying why and for
    how long, and `Retry-After`. An HTMX request gets the message as a flash and `HX-Redirect` to the
    sign-in page, since htmx swaps nothing on a 4xx."""
    minutes = cool_off_minutes(request)
    message = (
        f"Sign-in locked: too many failed sign-ins for this username from your address. "
        f"Try again in {minutes} minutes, or ask an admin to unlock it."
    )
    if getattr(request, "htmx", False):
        messages.error(request, message)
        response = HttpResponse(message, status=429, content_type="text/plain")
        response["HX-Redirect"] = reverse(settings.LOGIN_URL)
    else:
        context = {"message": message, "minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT}
        response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
