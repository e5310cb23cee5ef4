"""Errors as RFC 9457 problem details (`application/problem+json`):

    {"type": "https://companyos.example/problems/validation", "title": "Invalid request",
     "status": 400, "detail": "...", "errors": [{"field": "priority", "message": "..."}]}

`type` is a stable URI per kind of problem (below); `errors` lists every invalid field of a 400. DRF's
own exceptions (authentication, permission, parse, throttling, 404, 405, 406, 415) come through
`exception_handler` too; a throttled answer keeps its Retry-After header."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..access import no_data  # a problem shows no case or tenant data (a 409/422 is not a re-rendered page)

CONTENT_TYPE = "application/problem+json"
BASE = "https://companyos.example/problems/"

TITLES = {
    400: ("validation", "Invalid request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("idempotency-key-reused", "Idempotency key reused"),
    429: ("rate-limited", "Too many requests"),
}


class Problem(exceptions.APIException):
    """Raise to answer a problem: `Problem(409, "CS-12 was moved…")`, with `errors` for a 400."""

    def __init__(self, status_code: int, detail: str, *, errors: list[dict] | None = None, kind: str = ""):
        self.status_code = status_code
        self.errors = errors or []
        self.kind = kind
        super().__init__(detail)


class PayloadTooLarge(Problem):
    def __init__(self, detail: str):
        super().__init__(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, detail)


def problem_body(status_code: int, detail: str, *, errors: list[dict] | None = None, kind: str = "") -> dict:
    slug, title = TITLES.get(status_code, ("error", "Error"))
    body = {"type": BASE + (kind or slug), "title": title, "status": status_code, "detail": detail}
    if status_code == 400 or errors:
        body["errors"] = errors or []
    return body


def problem_response(status_code: int, detail: str, *, errors=None, kind: str = "", headers=None) -> Response:
    response = Response(
        problem_body(status_code, detail, errors=errors, kind=kind),
        status=status_code,
        content_type=CONTENT_TYPE,
        headers=headers,
    )
    return no_data(response)


def field_errors(detail, prefix: str = "") -> list[dict]:
    """A serializer's errors ({"field": ["msg"], "nested": {"x": [...]}, "list": [{...}]}) as a flat
    list of {"field": "nested.x", "message": "..."}."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # a list's item (DRF's ListField keys its errors by index)
                name = f"{prefix}[{key}]"
            elif key in ("non_field_errors", "__all__"):
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out += field_errors(value, name)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out += [{"field": prefix, "message": str(item)} for item in detail]
        else:
            for index, item in enumerate(detail):
                out += field_errors(item, f"{prefix}[{index}]" if prefix else f"[{index}]")
    else:
        out.append({"field": prefix, "message": str(detail)})
    return out


def exception_handler(exc, context):
    if isinstance(exc, Problem):
        return problem_response(exc.status_code, str(exc.detail), errors=exc.errors, kind=exc.kind)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "You do not have permission to do this.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's 500 (logged), never a traceback to the client
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors[:5])
        body = problem_body(400, detail or "Invalid request.", errors=errors)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, (list, dict)):
            detail = "; ".join(e["message"] for e in field_errors(detail))
        body = problem_body(response.status_code, str(detail))
    response.data = body
    response.content_type = CONTENT_TYPE
    return no_data(response)
