"""The machine API (/api/v1/): telemetry ingestion and the Alertmanager webhook receiver.

Integrations authenticate with their token (`Authorization: Bearer <token>`, tenants.api_auth);
there are no sessions and no CSRF. The views only parse and call one service in tenants.ingest:

    GET  /api/v1/telemetry/                 the kinds and their fields (self-describing)
    GET  /api/v1/telemetry/<kind>/          one kind's fields
    POST /api/v1/telemetry/<kind>/          {"items": [...]} (or a bare list) → {"created", "updated", "unchanged"}
    POST /api/v1/alertmanager/              an Alertmanager webhook (version 4) → {"accepted", "skipped": [...]}

Request-level problems answer {"detail": "..."}: 400 malformed JSON or wrong shape, 401 no / unknown
/ revoked token, 403 items for a tenant that is not one of the integration's (with "tenants": [slugs];
nothing written), 404 unknown kind, 409 a concurrent write (re-send), 413 a body over
TELEMETRY_MAX_BYTES or a batch over TELEMETRY_MAX_BATCH, 415 not JSON. Invalid items answer 400
{"detail": ..., "errors": [{"index", "field", "message"}, ...]} listing every problem; nothing is written.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.urls import reverse
from rest_framework import status
from rest_framework.exceptions import APIException, AuthenticationFailed, NotAuthenticated, ParseError
from rest_framework.exceptions import PermissionDenied as APIPermissionDenied
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from companyos import audit
from companyos.access import audit_exempt

from . import ingest
from .models import Integration


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # a surrogate escape: check that it is paired


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """An object with one key twice is ambiguous (which value counts?): refuse it, not last-wins."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise DuplicateKey(f"the key {twice!r} appears more than once in one object")
    return data


class LimitedJSONParser(BaseParser):
    """JSON, at most TELEMETRY_MAX_BYTES, with every object's keys unique (a duplicate is a 400).
    The declared Content-Length is checked before reading, and the read itself stops one byte past
    the limit, so a lying or missing length cannot make us hold more. It reads the stream directly,
    never `request.body`, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig → 400) does not
    apply: the limit answers 413."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.TELEMETRY_MAX_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        too_large = f"The request body is over the limit of {limit:,} bytes. Send smaller batches."
        try:
            if declared and int(declared) > limit:
                raise PayloadTooLarge(too_large)
        except ValueError:
            raise ParseError("Content-Length is not a number.") from None
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(too_large)
        try:
            data = json.loads(body, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
        except DuplicateKey as exc:
            raise ParseError(f"Malformed JSON: {exc}.") from None
        except UnicodeDecodeError:
            raise ParseError("The body is not UTF-8 JSON.") from None
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None
        if LONE_SURROGATE_ESCAPE.search(body):
            try:  # "\ud800" alone is valid JSON but not text PostgreSQL can store
                json.dumps(data, ensure_ascii=False).encode()
            except UnicodeEncodeError:
                raise ParseError(
                    "Malformed JSON: a string contains an unpaired UTF-16 surrogate escape (\\ud800–\\udfff)."
                ) from None
        return data


def _empty_body(request) -> Response | None:
    """WSGI reads no body without a Content-Length (e.g. chunked): say so instead of "wrong shape"."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return Response(
            {
                "detail": "The request body is empty. Send JSON with a Content-Length header "
                "(a chunked body without one is not read)."
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return None


def _error(exc: ingest.IngestError) -> Response:
    body = {"detail": exc.detail}
    if isinstance(exc, ingest.InvalidBatch):
        body["errors"] = exc.errors
    if isinstance(exc, ingest.OutOfScope):
        body["tenants"] = exc.tenants
    return Response(body, status=exc.status)


class MachineAPIView(APIView):
    """The machine APIs' base: a refused call (401 no, unknown or revoked token, or a browser's
    session cookie, which these APIs never accept; 403) is audited as a denial, naming the
    signed-in person when a session cookie came with it."""

    by_session = False

    def initialize_request(self, request, *args, **kwargs):
        # Before DRF replaces it: request.user is the session's (AuthenticationMiddleware), if any.
        user = getattr(request, "user", None)
        self.by_session = bool(user is not None and user.is_authenticated)
        return super().initialize_request(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, (NotAuthenticated, AuthenticationFailed, APIPermissionDenied)):
            reason = str(getattr(exc, "detail", exc))
            if self.by_session and not self.request.META.get("HTTP_AUTHORIZATION"):
                reason = "a session cookie instead of an integration token: " + reason
            audit.log_denied(Integration, "api", path=self.request.path, reason=reason)
        return super().handle_exception(exc)


MACHINE_API = (
    "the machine API answers field descriptions and counts, never case or tenant data (it writes "
    "telemetry, resources audited by the model registry); its refusals are audited by MachineAPIView"
)


@audit_exempt(reason=MACHINE_API, model=Integration)
class TelemetryIndex(MachineAPIView):
    def get(self, request):
        return Response(
            {
                "batch": {
                    "max_items": settings.TELEMETRY_MAX_BATCH,
                    "max_bytes": settings.TELEMETRY_MAX_BYTES,
                    "body": '{"items": [ ... ]} or a bare JSON list; one kind per request; all or nothing',
                },
                "kinds": {
                    kind: {
                        "url": request.build_absolute_uri(reverse("api:telemetry_kind", args=[kind])),
                        **ingest.describe_kind(kind),
                    }
                    for kind in ingest.KINDS
                },
            }
        )


@audit_exempt(reason=MACHINE_API, model=Integration)
class TelemetryKind(MachineAPIView):
    parser_classes = [LimitedJSONParser]

    def get(self, request, kind: str):
        if kind not in ingest.SERIALIZERS:
            return _error(ingest.UnknownKind(f"Unknown kind {kind!r}. The kinds are: {', '.join(ingest.KINDS)}."))
        return Response(ingest.describe_kind(kind))

    def post(self, request, kind: str):
        if (empty := _empty_body(request)) is not None:
            return empty
        try:
            result = ingest.ingest_batch(integration=request.auth, kind=kind, payload=request.data)
        except ingest.IngestError as exc:
            return _error(exc)
        return Response(result.as_dict())


@audit_exempt(reason=MACHINE_API, model=Integration)
class AlertmanagerWebhook(MachineAPIView):
    """Point an Alertmanager receiver here:

    receivers:
      - name: companyos
        webhook_configs:
          - url: https://support.example.com/api/v1/alertmanager/
            http_config:
              authorization: {type: Bearer, credentials: <token>}
    """

    parser_classes = [LimitedJSONParser]

    def post(self, request):
        if (empty := _empty_body(request)) is not None:
            return empty
        try:
            result = ingest.alertmanager_receive(integration=request.auth, payload=request.data)
        except ingest.IngestError as exc:
            return _error(exc)
        return Response(result.as_dict())
