"""The REST API's tenant resources (/api/v1/tenants/…): read only. Built on companyos.api (tokens,
problem+json, throttling, keyset pages); every read audited with the token's name.

    GET /api/v1/tenants/                              the caller's tenants (cursor pages)
    GET /api/v1/tenants/<slug>/                       one tenant with its health summary
    GET /api/v1/tenants/<slug>/requesters/            its contacts (cursor pages; ?email=)
    GET /api/v1/tenants/<slug>/requesters/<id>/       one contact
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from companyos import audit
from companyos.access import audited_read
from companyos.api.pagination import Column, page_size_of, paginate
from companyos.api.views import APIBase, audit_extra, principal_of

from . import selectors
from .api_auth import API_AUTHENTICATION, api_tenant_ids
from .models import Requester, Tenant

BY_ID = [Column("id")]


class TenantSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    plan = serializers.CharField()
    segment = serializers.CharField()
    support_tier = serializers.CharField()
    billing_status = serializers.CharField()
    region = serializers.CharField()
    data_residency = serializers.CharField(allow_blank=True)
    timezone = serializers.CharField()
    telemetry_consent = serializers.BooleanField()


class SLISerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.FloatField()
    objective = serializers.FloatField()
    error_budget_remaining = serializers.FloatField()
    health = serializers.CharField()
    observed_at = serializers.DateTimeField()


class AlertSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    severity = serializers.CharField()
    resource = serializers.CharField(allow_null=True)
    starts_at = serializers.DateTimeField()


class HealthSerializer(serializers.Serializer):
    health = serializers.CharField(help_text="red, amber, green or unknown: the worst latest SLI")
    slis = SLISerializer(many=True)
    firing_alerts = serializers.IntegerField()
    firing_alerts_capped = serializers.BooleanField()
    alerts = AlertSummarySerializer(many=True)
    deployments_last_day = serializers.IntegerField()


class TenantDetailSerializer(TenantSerializer):
    health_summary = HealthSerializer()


class RequesterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tenant = serializers.SlugField(source="tenant.slug")
    name = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.CharField(allow_blank=True)
    preferred_channel = serializers.CharField()
    auth_method = serializers.CharField()


def _page(name: str, item):
    return inline_serializer(
        name=name,
        fields={"results": item(many=True), "next": serializers.CharField(allow_null=True, help_text="cursor")},
    )


CURSOR = [
    OpenApiParameter("cursor", str, description="The `next` of the previous page"),
    OpenApiParameter("page_size", int, description="1–100 (default 25)"),
]


def _query(request) -> str:
    return request.META.get("QUERY_STRING", "")[:500]


def tenant_of(request, slug: str) -> Tenant:
    return selectors.tenant_in_scope(
        api_tenant_ids(request), slug, path=request.path, via=f"API, {principal_of(request)[1]}"
    )


class Resource(APIBase):
    authentication_classes = API_AUTHENTICATION


@audited_read(Tenant, view="API tenant list")
class TenantList(Resource):
    @extend_schema(
        operation_id="tenants_list",
        summary="The tenants the token may see",
        parameters=CURSOR,
        responses=_page("TenantPage", TenantSerializer),
        examples=[
            OpenApiExample(
                "A page",
                value={"results": [{"slug": "acme", "name": "Acme Corp", "plan": "enterprise"}], "next": None},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        qs = selectors.tenants_in(api_tenant_ids(request)).order_by("id")
        rows, cursor = paginate(
            qs,
            sort="id",
            columns=BY_ID,
            cursor=request.GET.get("cursor"),
            size=page_size_of(request.GET.get("page_size")),
        )
        audit.log_list_access(
            Tenant, [t.pk for t in rows], view="API tenant list", query=_query(request), extra=audit_extra(request)
        )
        return Response({"results": TenantSerializer(rows, many=True).data, "next": cursor})


@audited_read(Tenant, view="API tenant")
class TenantDetail(Resource):
    @extend_schema(
        operation_id="tenants_retrieve",
        summary="A tenant with its health summary",
        responses=TenantDetailSerializer,
        examples=[
            OpenApiExample(
                "Acme",
                value={
                    "slug": "acme",
                    "name": "Acme Corp",
                    "health_summary": {"health": "amber", "firing_alerts": 2, "deployments_last_day": 1},
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, slug: str):
        tenant = tenant_of(request, slug)
        data = TenantSerializer(tenant).data
        data["health_summary"] = HealthSerializer(selectors.tenant_summary(tenant)).data
        audit.log_access(tenant, view="API tenant", extra=audit_extra(request))
        return Response(data)


@audited_read(Requester, view="API requester list")
class RequesterList(Resource):
    @extend_schema(
        operation_id="requesters_list",
        summary="A tenant's contacts",
        parameters=[*CURSOR, OpenApiParameter("email", str, description="Only the contact with this e-mail")],
        responses=_page("RequesterPage", RequesterSerializer),
        examples=[
            OpenApiExample(
                "Jane at Acme",
                value={
                    "results": [{"id": 12, "tenant": "acme", "name": "Jane Doe", "email": "jane@acme.example"}],
                    "next": None,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, slug: str):
        tenant = tenant_of(request, slug)
        qs = selectors.requesters_in(tenant).select_related("tenant").order_by("id")
        email = request.GET.get("email", "").strip()
        if email:
            qs = qs.filter(email__iexact=email[:254])
        rows, cursor = paginate(
            qs,
            sort="id",
            columns=BY_ID,
            cursor=request.GET.get("cursor"),
            size=page_size_of(request.GET.get("page_size")),
        )
        audit.log_list_access(
            Requester,
            [r.pk for r in rows],
            view="API requester list",
            query=_query(request),
            extra=audit_extra(request),
        )
        return Response({"results": RequesterSerializer(rows, many=True).data, "next": cursor})


@audited_read(Requester, view="API requester")
class RequesterDetail(Resource):
    @extend_schema(
        operation_id="requesters_retrieve",
        summary="One contact of a tenant",
        parameters=[OpenApiParameter("pk", int, location=OpenApiParameter.PATH, description="The contact's id")],
        responses=RequesterSerializer,
        examples=[
            OpenApiExample(
                "Jane",
                value={"id": 12, "tenant": "acme", "name": "Jane Doe", "email": "jane@acme.example", "role": "CTO"},
                response_only=True,
            )
        ],
    )
    def get(self, request, slug: str, pk: str):
        tenant = tenant_of(request, slug)
        requester = selectors.requester_by_email_or_id(tenant, int(pk)) if pk.isdigit() and len(pk) < 19 else None
        if requester is None:
            audit.log_denied(Requester, pk, path=request.path, reason="no such contact of the tenant (API)")
            raise Http404("No such requester.")
        audit.log_access(requester, view="API requester", extra=audit_extra(request))
        return Response(RequesterSerializer(requester).data)
