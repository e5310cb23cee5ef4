"""The access declaration every view carries (tests/companyos/test_audited_reads.py walks every URL
pattern and fails on a view without one):

    @audited_read(Case, view="case page")      shows case or tenant data
    @audited_write(Case, view="case reply")    changes data through a service, and may show it
    @audit_exempt(reason="...")                 shows no case or tenant data (say why)

A declaration marks the view (`view.audit_declaration`, a `Declaration`) and guards each response:

- **A read is never unrecorded.** A response of an audited view that shows something (2xx but 204,
  or the 409/422 re-render of a refused write) must have written an access entry (`audit.log_access`,
  `log_list_access`, or a denial) in this request. The view still writes its own entries, because
  only it knows which object or list it showed. If it wrote none, that is a bug: with
  `AUDIT_READS_STRICT` (on under DEBUG and in tests) the request fails with `UnauditedRead` naming the
  view; in production the guard writes an entry naming the view, the path and the URL arguments
  (`audit.log_unattributed_read`) and logs an error, so the read is still on the trail.
  A response that shows nothing (an error message, an empty option list) says so with `no_data()`.
- **A refusal is never unrecorded**, on every declared view, exempt ones too: a 401, 403 or 404
  (returned, or raised as Http404 / PermissionDenied) that did not write a denial gets one written
  by the guard, on the declared model (or the URL's `pk`/`key`/`slug`), with the status and message.

The guard counts the request's entries with a post_save receiver on the log entry model (read-only:
it never changes an entry), so it sees every entry however it was written.

Plumbing: this module imports no app.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.signals import post_save
from django.http import Http404

from . import audit

logger = logging.getLogger(__name__)

READ, WRITE, EXEMPT = "read", "write", "exempt"
REFUSALS = {401, 403, 404}
REFUSED_WRITE_RERENDERS = {409, 422}  # this console re-renders the page with these (STYLE.md)


class UnauditedRead(Exception):
    """An audited view showed something and wrote no access entry (AUDIT_READS_STRICT)."""


@dataclass(frozen=True)
class Declaration:
    kind: str  # READ, WRITE or EXEMPT
    model: type[models.Model] | None = None
    view: str = ""
    reason: str = ""

    def __str__(self):
        if self.kind == EXEMPT:
            return f"exempt ({self.reason})"
        return f"{self.kind} of {self.model._meta.label} ({self.view})"


# --- counting the request's entries ----------------------------------------------------------------------


class _Tally:
    __slots__ = ("accesses", "denials")

    def __init__(self):
        self.accesses = 0
        self.denials = 0


_tally: ContextVar[_Tally | None] = ContextVar("companyos_access_tally", default=None)


def _count(sender, instance, created, **kwargs):
    tally = _tally.get()
    if tally is None or not created or instance.action != LogEntry.Action.ACCESS:
        return
    if audit.is_denied(instance):
        tally.denials += 1
    else:
        tally.accesses += 1


post_save.connect(_count, sender=LogEntry, dispatch_uid="companyos.access.count")


# --- the declarations -------------------------------------------------------------------------------------


def audited_read(model: type[models.Model], *, view: str):
    """The view shows `model` data (a case, a tenant, a list of them). `view` names the page in
    the entries the guard writes itself."""
    return _declare(Declaration(READ, model=model, view=_required(view, "view")))


def audited_write(model: type[models.Model], *, view: str):
    """The view changes `model` data through a service (audited there, by the model registry); what
    it shows (a refused write re-rendering the page, a panel after the write) is a read like any other."""
    return _declare(Declaration(WRITE, model=model, view=_required(view, "view")))


def audit_exempt(*, reason: str, model: type[models.Model] | None = None):
    """The view shows no case or tenant data; `reason` says why (a redirect, the user's own
    preferences, a machine API answering counts). Refusals are still audited: on `model` when
    given, else under the view's name."""
    return _declare(Declaration(EXEMPT, model=model, reason=_required(reason, "reason")))


def declaration_of(callback) -> Declaration | None:
    """The declaration of a URL pattern's callback: on the function, or on its class-based view."""
    found = getattr(callback, "audit_declaration", None)
    if found is None:
        cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        found = getattr(cls, "audit_declaration", None)
    return found


def no_data(response):
    """Mark an audited view's response as showing no case or tenant data (an error message, an empty
    option list), so the guard does not expect an access entry for it."""
    response.audit_no_data = True
    return response


def covered_by_page_view(response):
    """Mark a response that is part of a page view already recorded (a lazy panel or a poll bringing
    the page's signed token, companyos.pageview): the page's one entry covers it."""
    response.audit_no_data = True
    response.audit_covered_by_page = True
    return response


def _required(value: str, name: str) -> str:
    if not value or not value.strip():
        raise TypeError(f"An access declaration needs a non-empty {name}.")
    return value


def _declare(declaration: Declaration):
    def decorator(view):
        if isinstance(view, type):  # a class-based view: guard its dispatch
            inner = view.dispatch

            @wraps(inner)
            def dispatch(self, request, *args, **kwargs):
                return _guarded(declaration, inner, request, (self, request, *args), kwargs)

            view.dispatch = dispatch
            view.audit_declaration = declaration
            return view

        @wraps(view)
        def wrapped(request, *args, **kwargs):
            return _guarded(declaration, view, request, (request, *args), kwargs)

        wrapped.audit_declaration = declaration
        return wrapped

    return decorator


# --- the guard --------------------------------------------------------------------------------------------


def _guarded(declaration: Declaration, call, request, args, kwargs):
    tally = _tally.get()
    token = None
    if tally is None:
        tally = _Tally()
        token = _tally.set(tally)
    accesses, denials = tally.accesses, tally.denials
    try:
        try:
            response = call(*args, **kwargs)
        except (Http404, PermissionDenied) as refusal:
            if tally.denials == denials:
                _deny(declaration, request, kwargs, 404 if isinstance(refusal, Http404) else 403, str(refusal))
            raise
        status = response.status_code
        if status in REFUSALS:
            if tally.denials == denials:
                _deny(declaration, request, kwargs, status, _text_of(response))
        elif (
            declaration.kind != EXEMPT
            and _shows_something(response)
            and tally.accesses == accesses
            and tally.denials == denials
        ):
            _unrecorded(declaration, request, kwargs, status)
        return response
    finally:
        if token is not None:
            _tally.reset(token)


def _shows_something(response) -> bool:
    if getattr(response, "audit_no_data", False):
        return False
    status = response.status_code
    return (200 <= status < 300 and status != 204) or status in REFUSED_WRITE_RERENDERS


def _target(declaration: Declaration, kwargs) -> tuple[type[models.Model] | None, str]:
    for name in ("pk", "key", "slug"):
        if kwargs.get(name) not in (None, ""):
            return declaration.model, str(kwargs[name])
    return declaration.model, "view"


def _label(declaration: Declaration, request) -> str:
    match = getattr(request, "resolver_match", None)
    name = match.view_name if match is not None else ""
    return declaration.view or name or request.path


def _deny(declaration, request, kwargs, status: int, message: str) -> None:
    model, pk = _target(declaration, kwargs)
    reason = f"answered {status} by {_label(declaration, request)}" + (f": {message[:200]}" if message else "")
    if model is None:  # an exempt view names no model: the denial is on the view itself
        audit.log_refused_view(_label(declaration, request), path=request.path, reason=reason)
    else:
        audit.log_denied(model, pk, path=request.path, reason=reason)


def _unrecorded(declaration, request, kwargs, status: int) -> None:
    label = _label(declaration, request)
    message = (
        f"{label} ({request.method} {request.path}) is declared {declaration} and answered {status} "
        "without writing an access entry: record what it shows with companyos.audit.log_access / "
        "log_list_access, or mark a response that shows nothing with companyos.access.no_data()."
    )
    if getattr(settings, "AUDIT_READS_STRICT", False):
        raise UnauditedRead(message)
    logger.error(message)
    audit.log_unattributed_read(declaration.model, view=label, path=request.get_full_path(), kwargs=kwargs)


def _text_of(response) -> str:
    if getattr(response, "streaming", False):
        return ""
    data = getattr(response, "data", None)  # a DRF Response: {"detail": ...}
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    content_type = response.get("Content-Type", "")
    if content_type.startswith("text/plain"):
        try:
            return response.content.decode("utf-8", "replace").strip()
        except Exception:  # an unrendered response: no message to quote
            return ""
    return ""
