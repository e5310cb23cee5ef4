"""The case endpoints. Thin: parse (serializers), scope (the token's tenants, cases.selectors), call one
service (cases.services: the console's own write path), answer. Every read is audited with the token's
name; a case outside the token's tenants answers 404 and writes a denial.

    GET   /api/v1/cases/                      the queue: the console's FilterSet (same filters and sorts),
                                              keyset pages (`cursor`, `page_size`), no COUNT
    POST  /api/v1/cases/                      open a case (Idempotency-Key; error ids, trace links,
                                              `telemetry_since`)
    GET   /api/v1/cases/<key>/                a case with its timeline and attachments
    PATCH /api/v1/cases/<key>/                change the classification (`version` → 409 when stale)
    POST  /api/v1/cases/<key>/transition/     move it (`expected_status` → 409 when stale)
    POST  /api/v1/cases/<key>/replies/        a public reply or an internal note
    POST  /api/v1/cases/<key>/attachments/    attach a file (multipart, up to the attachment limit)
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from companyos import audit
from companyos.access import audited_write
from companyos.api import idempotency
from companyos.api.pagination import Column, page_size_of, paginate
from companyos.api.parsers import LimitedMultiPartParser, StrictJSONParser
from companyos.api.problems import Problem, field_errors
from companyos.api.views import APIBase, audit_extra, principal_of
from companyos.roles import system_user
from tenants.api_auth import API_AUTHENTICATION, api_actor, api_tenant_ids, is_integration
from tenants.selectors import requester_by_email_or_id, resources_by_external_id, tenant_in_scope, tenants_in

from .. import selectors, services
from ..choices import REQUIRED_TO_RESOLVE, Priority
from ..errors import CaseConflict, CaseError, InvalidTransition, NotPermitted
from ..filtersets import SORTS, CaseFilterSet
from ..models import Case
from . import serializers as s
from .telemetry import attach_telemetry_slice

# The keyset of each of the queue's sorts (cases.filtersets.SORTS): the same columns, in the same order.
KEYSETS = {
    "priority": [Column("priority"), Column("created_at"), Column("id")],
    "sla": [Column("sla_due_at", nulls_last=True), Column("id")],
    "age": [Column("created_at"), Column("id")],
    "newest": [Column("created_at", descending=True), Column("id", descending=True)],
    "updated": [Column("updated_at", descending=True), Column("id", descending=True)],
    "stale": [Column("updated_at"), Column("id")],
}
assert set(KEYSETS) == set(SORTS), "every queue sort has its keyset"
NOT_QUEUE_PARAMS = {"cursor", "page_size", "cols"}


def _via(request) -> str:
    return f"API, {principal_of(request)[1]}"


def _case(request, key: str) -> Case:
    return selectors.case_in_scope(api_tenant_ids(request), key, path=request.path, via=_via(request))


def _valid(serializer_class, request, **kwargs):
    serializer = serializer_class(data=request.data, **kwargs)
    if not isinstance(request.data, dict):
        raise Problem(400, "The body must be a JSON object.", errors=[{"field": "", "message": "not an object"}])
    if not serializer.is_valid():
        errors = field_errors(serializer.errors)
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors[:5])
        raise Problem(400, detail, errors=errors)
    return serializer.validated_data


def _refused(exc: CaseError):
    if isinstance(exc, NotPermitted):
        return Problem(404, str(exc))
    if isinstance(exc, (CaseConflict, InvalidTransition)):
        return Problem(409, str(exc))
    return Problem(400, str(exc), errors=[{"field": "", "message": str(exc)}])


def _detail(request, case: Case, *, view: str, status: int = 200, headers=None) -> Response:
    """The case as the detail endpoint shows it (re-read after a write), audited."""
    timeline = selectors.case_timeline(case)
    if is_integration(request):
        timeline = timeline.filter(public=True)
    data = s.CaseDetailSerializer(
        case, context={"timeline": list(timeline), "attachments": selectors.case_attachments(case)}
    ).data
    audit.log_access(case, view=view, extra=audit_extra(request))
    return Response(data, status=status, headers=headers)


class Resource(APIBase):
    authentication_classes = API_AUTHENTICATION


LIST_PARAMS = [
    OpenApiParameter("q", str, description="Key, subject or description"),
    OpenApiParameter(
        "status", str, many=True, description="open (default), all, or statuses: new, triage, in_progress, …"
    ),
    OpenApiParameter("priority", str, many=True, enum=s.PRIORITY_SLUGS),
    OpenApiParameter("tenant", str, many=True, description="Tenant slugs"),
    OpenApiParameter("owner", str, description="me, unassigned or a username"),
    OpenApiParameter("category", str, many=True),
    OpenApiParameter("channel", str, many=True),
    OpenApiParameter("tag", str, many=True),
    OpenApiParameter("updated_after", str, description="YYYY-MM-DD"),
    OpenApiParameter("sort", str, enum=list(SORTS), description="priority (default), sla, age, newest, updated, stale"),
    OpenApiParameter("cursor", str, description="The `next` of the previous page"),
    OpenApiParameter("page_size", int, description="1–100 (default 25)"),
]

CREATE_EXAMPLE = {
    "tenant": "acme",
    "requester": "jane@acme.example",
    "subject": "All API calls return 500 since 10:00 UTC",
    "description": "Every request to /v1/orders fails.",
    "priority": "critical",
    "category": "integration",
    "environment": "production",
    "error_ids": ["ERR-5XX-1042"],
    "trace_links": ["https://traces.acme.example/t/4bf92f3577b34da6"],
    "telemetry_since": "30m",
}


@audited_write(Case, view="API cases")  # GET lists (a read), POST opens a case and shows it
class CaseCollection(Resource):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        operation_id="cases_list",
        summary="The queue: the console's filters and sorts, keyset pages",
        parameters=LIST_PARAMS,
        responses=s.CasePageSerializer,
        examples=[
            OpenApiExample(
                "Open critical cases of Acme",
                value={"results": [{"key": "CS-1042", "subject": "All API calls return 500"}], "next": "WyJwcmlv…"},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        ids = api_tenant_ids(request)
        params = request.GET.copy()
        for name in NOT_QUEUE_PARAMS:
            params.pop(name, None)
        # The FilterSet reads the user for `owner=me` and the tenant choices; an integration has none.
        shim = request if not is_integration(request) else SimpleNamespace(user=system_user())
        filterset = CaseFilterSet(params, queryset=selectors.case_api_queue(ids), request=shim)
        filterset.filters["tenant"].queryset = tenants_in(ids)
        if not filterset.is_valid():
            errors = [{"field": e["field"], "message": e["message"]} for e in _form_errors(filterset.form.errors)]
            raise Problem(400, "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]), errors=errors)
        sort = filterset.sort_key
        rows, cursor = paginate(
            filterset.qs,
            sort=sort,
            columns=KEYSETS[sort],
            cursor=request.GET.get("cursor"),
            size=page_size_of(request.GET.get("page_size")),
        )
        audit.log_list_access(
            Case,
            [c.pk for c in rows],
            view="API case list",
            query=request.META.get("QUERY_STRING", ""),
            extra=audit_extra(request),
        )
        now = timezone.now()
        return Response({"results": s.CaseSerializer(rows, many=True, context={"now": now}).data, "next": cursor})

    @extend_schema(
        operation_id="cases_create",
        summary="Open a case",
        description=(
            "Send an `Idempotency-Key` header (e.g. a UUID) to make a retry safe: the same key and body answer "
            "the first result again (`Idempotent-Replayed: true`). `telemetry_since` attaches the tenant's "
            "SLIs, alerts and deployments of that last window as a JSON file."
        ),
        request=s.CaseCreateSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, location=OpenApiParameter.HEADER)],
        responses={201: s.CaseDetailSerializer},
        examples=[OpenApiExample("A critical integration case", value=CREATE_EXAMPLE, request_only=True)],
    )
    def post(self, request):
        data = _valid(s.CaseCreateSerializer, request)
        ids = api_tenant_ids(request)
        tenant = tenant_in_scope(ids, data["tenant"], path=request.path, via=_via(request))
        requester = requester_by_email_or_id(tenant, data["requester"])
        if requester is None:
            raise Problem(
                400,
                f"requester: {data['requester']!r} is not a contact of {tenant.slug}.",
                errors=[{"field": "requester", "message": f"no contact of {tenant.slug} with that e-mail or id"}],
            )
        resources, unknown = resources_by_external_id(tenant, data["affected_resources"])
        if unknown:
            raise Problem(
                400,
                f"affected_resources: {tenant.slug} has no resource {', '.join(unknown[:5])}.",
                errors=[{"field": "affected_resources", "message": f"unknown: {', '.join(unknown[:20])}"}],
            )
        key = idempotency.key_of(request)
        principal = principal_of(request)[0]
        evidence = {k: data[k] for k in ("error_ids", "trace_links") if data[k]}
        actor = None if is_integration(request) else request.user  # an integration files as the customer
        with transaction.atomic():
            if key is not None:
                fingerprint = idempotency.fingerprint(request, json.dumps(request.data, sort_keys=True).encode())
                first = idempotency.claim(principal=principal, key=key, print_=fingerprint)
                if first is not None:
                    return self._replay(request, first)
            try:
                case = services.case_create(
                    actor=actor,
                    tenant=tenant,
                    requester=requester,
                    subject=data["subject"],
                    description=data["description"],
                    priority=Priority.from_slug(data["priority"]),
                    category=data.get("category", "other"),
                    issue_type=data.get("issue_type", "question"),
                    environment=data.get("environment", "unknown"),
                    channel=data["channel"],
                    tags=data["tags"],
                    affected_resources=resources,
                    unclassified=[f for f in REQUIRED_TO_RESOLVE if f not in data],
                    evidence=evidence or None,
                    # Which integration opened it: replies go back to its webhook (cases.channels.api_webhook).
                    data={"integration_id": request.auth.pk} if is_integration(request) else None,
                )
                if "telemetry_since" in data:
                    attach_telemetry_slice(
                        case=case, tenant=tenant, window=data["telemetry_since"], actor=api_actor(request)
                    )
            except CaseError as exc:
                raise _refused(exc) from None
            case = selectors.case_in_scope(ids, case.key, path=request.path, via=_via(request))
            response = _detail(request, case, view="API case create", status=201, headers={"Location": _url(case)})
            if key is not None:
                idempotency.record(principal=principal, key=key, status=201, body=response.data)
        return response

    def _replay(self, request, first):
        body = first.body or {}
        case_key = body.get("key", "")
        if case_key:  # what the replay shows is a read like any other
            case = selectors.case_in_scope(api_tenant_ids(request), case_key, path=request.path, via=_via(request))
            audit.log_access(case, view="API case create (replayed)", extra=audit_extra(request))
        return Response(
            body,
            status=first.status,
            headers={"Idempotent-Replayed": "true", **({"Location": f"/api/v1/cases/{case_key}/"} if case_key else {})},
        )


def _url(case: Case) -> str:
    return f"/api/v1/cases/{case.key}/"


def _form_errors(errors) -> list[dict]:
    return [{"field": name, "message": str(message)} for name, messages in errors.items() for message in messages]


@audited_write(Case, view="API case")  # GET shows it, PATCH reclassifies it and shows it
class CaseDetail(Resource):
    @extend_schema(operation_id="cases_retrieve", summary="A case with its timeline", responses=s.CaseDetailSerializer)
    def get(self, request, key: str):
        return _detail(request, _case(request, key), view="API case")

    @extend_schema(
        operation_id="cases_classify",
        summary="Change the classification (priority, category, issue type, environment)",
        request=s.ClassifySerializer,
        responses=s.CaseDetailSerializer,
        examples=[OpenApiExample("Raise to high", value={"priority": "high", "version": 3}, request_only=True)],
    )
    def patch(self, request, key: str):
        case = _case(request, key)
        data = _valid(s.ClassifySerializer, request)
        values = {k: data[k] for k in ("category", "issue_type", "environment") if k in data}
        if "priority" in data:
            values["priority"] = int(Priority.from_slug(data["priority"]))
        try:
            services.case_classify(
                case_id=case.pk,
                actor=api_actor(request),
                expected_version=data.get("version"),
                reason=data["reason"],
                **values,
            )
        except CaseError as exc:
            raise _refused(exc) from None
        return _detail(request, _case(request, key), view="API case classify")


@audited_write(Case, view="API case transition")
class CaseTransition(Resource):
    @extend_schema(
        operation_id="cases_transition",
        summary="Move a case along its lifecycle",
        request=s.TransitionSerializer,
        responses=s.CaseDetailSerializer,
        examples=[
            OpenApiExample("Start work", value={"to": "in_progress", "expected_status": "triage"}, request_only=True)
        ],
    )
    def post(self, request, key: str):
        case = _case(request, key)
        data = _valid(s.TransitionSerializer, request)
        try:
            services.case_transition(
                case_id=case.pk,
                to=data["to"],
                actor=api_actor(request),
                reason=data["reason"],
                expected_status=data.get("expected_status"),
                waiting_for=data["waiting_for"],
                waiting_note=data["waiting_note"],
                resolution=data.get("resolution"),
            )
        except CaseError as exc:
            raise _refused(exc) from None
        return _detail(request, _case(request, key), view="API case transition")


@audited_write(Case, view="API case reply")
class CaseReplies(Resource):
    @extend_schema(
        operation_id="cases_reply",
        summary="A public reply, or an internal note",
        request=s.ReplySerializer,
        responses={201: s.CaseDetailSerializer},
        examples=[OpenApiExample("Reply", value={"body": "We are on it."}, request_only=True)],
    )
    def post(self, request, key: str):
        case = _case(request, key)
        data = _valid(s.ReplySerializer, request)
        if data["internal"] and is_integration(request):
            raise Problem(403, "An integration token cannot write internal notes.")
        try:
            services.case_reply(
                case_id=case.pk, actor=api_actor(request), body=data["body"], public=not data["internal"]
            )
        except CaseError as exc:
            raise _refused(exc) from None
        return _detail(request, _case(request, key), view="API case reply", status=201)


@audited_write(Case, view="API case attach")
class CaseAttachments(Resource):
    parser_classes = [LimitedMultiPartParser, FormParser]

    @extend_schema(
        operation_id="cases_attach",
        summary="Attach a file (multipart/form-data, field `file`)",
        request={"multipart/form-data": s.AttachSerializer},
        responses={201: OpenApiResponse(s.AttachmentSerializer)},
    )
    def post(self, request, key: str):
        case = _case(request, key)
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is None:
            raise Problem(
                400,
                "file: send the file as multipart/form-data field 'file'.",
                errors=[{"field": "file", "message": "required"}],
            )
        try:
            attachment = services.case_attach(case_id=case.pk, actor=api_actor(request), upload=upload)
        except CaseError as exc:
            raise _refused(exc) from None
        audit.log_access(case, view="API case attach", extra=audit_extra(request))
        return Response(s.AttachmentSerializer(attachment).data, status=201)
