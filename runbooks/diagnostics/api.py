"""The REST API of trace bundles (the cases API's pattern: `APIBase`, the API's authentication, the
tenant scope of the token, problem+json refusals, audited):

    POST  /api/v1/cases/<key>/trace-bundles/   upload trace-<timestamp>-<channel>.zip (multipart, `file`)
    GET   /api/v1/cases/<key>/trace-bundles/   the case's bundles
    GET   /api/v1/trace-bundles/<id>/          one bundle: status, progress, verdict, the report's summary
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from cases.selectors import case_in_scope, cases_of_tenants
from companyos import audit
from companyos.access import audited_read, audited_write
from companyos.api.parsers import MULTIPART_OVERHEAD, LimitedMultiPartParser, _declared_length
from companyos.api.problems import PayloadTooLarge, Problem
from companyos.api.views import APIBase, audit_extra, principal_of
from tenants.api_auth import API_AUTHENTICATION, api_actor, api_tenant_ids

from . import services
from .models import TraceBundle


class BundleParser(LimitedMultiPartParser):
    """Multipart up to BUNDLE_MAX_BYTES (the attachment limit is for ordinary files)."""

    def parse(self, stream, media_type=None, parser_context=None):
        declared = _declared_length(parser_context)
        if declared is not None and declared > settings.BUNDLE_MAX_BYTES + MULTIPART_OVERHEAD:
            raise PayloadTooLarge(f"The bundle is over the limit of {settings.BUNDLE_MAX_BYTES / 1048576:.0f} MB.")
        return super(LimitedMultiPartParser, self).parse(stream, media_type, parser_context)


class BundleSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.key")
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None)
    reference = serializers.CharField()
    summary = serializers.SerializerMethodField()

    class Meta:
        model = TraceBundle
        fields = [
            "id", "case", "name", "size", "sha256", "channel", "recorded_at", "source", "status", "progress",
            "stage", "rejection_code", "rejection_reason", "uploaded_by", "uploaded_at", "inspected_at",
            "purged_at", "reference", "summary",
        ]  # fmt: skip

    def get_summary(self, bundle) -> dict | None:
        report = bundle.report if "report" not in bundle.get_deferred_fields() else None
        if not report or "trace" not in report:
            return None
        trace = report["trace"]
        return {
            "verdict": report["verdict"],
            "spans": trace["spans"],
            "failed": trace["failed_count"],
            "failed_spans": sorted({s["name"] for s in trace["failed"]})[:20],
            "error_codes": [e["code"] for e in report.get("error_codes", [])],
            "pii_findings": report["pii"]["count"],
        }


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="trace-<timestamp>-<channel>.zip")


def _case(request, key: str):
    return case_in_scope(api_tenant_ids(request), key, path=request.path, via=f"API, {principal_of(request)[1]}")


@audited_write(TraceBundle, view="API trace bundles")  # GET lists (a read), POST uploads
class CaseTraceBundles(APIBase):
    authentication_classes = API_AUTHENTICATION
    parser_classes = [BundleParser, FormParser]

    @extend_schema(operation_id="trace_bundles_list", responses={200: BundleSerializer(many=True)})
    def get(self, request, key: str):
        case = _case(request, key)
        bundles = TraceBundle.objects.filter(case=case).select_related("case", "uploaded_by").order_by("-uploaded_at")
        audit.log_access(case, view="API trace bundles", extra=audit_extra(request))
        return Response(BundleSerializer(list(bundles), many=True).data)

    @extend_schema(
        operation_id="trace_bundles_upload",
        summary="Upload a trace bundle (multipart/form-data, field `file`); inspected asynchronously",
        request={"multipart/form-data": UploadSerializer},
        responses={202: OpenApiResponse(BundleSerializer)},
    )
    def post(self, request, key: str):
        case = _case(request, key)
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is None:
            raise Problem(400, "file: send the bundle as multipart/form-data field 'file'.",
                          errors=[{"field": "file", "message": "required"}])  # fmt: skip
        source = "cli" if "companyos-cli" in request.headers.get("User-Agent", "") else "api"
        try:
            bundle = services.bundle_upload(case_id=case.pk, actor=api_actor(request), upload=upload, source=source)
        except services.DiagnosticsError as exc:
            status = 422 if "consent" in str(exc) else 400  # the tenant's state refuses it, not the token
            raise Problem(status, str(exc), errors=[{"field": "file", "message": str(exc)}]) from None
        bundle.refresh_from_db()
        audit.log_access(case, view="API trace bundle upload", extra=audit_extra(request))
        return Response(BundleSerializer(bundle).data, status=202)


@audited_read(TraceBundle, view="API trace bundle")
class TraceBundleDetail(APIBase):
    authentication_classes = API_AUTHENTICATION

    @extend_schema(operation_id="trace_bundles_detail", responses={200: BundleSerializer})
    def get(self, request, pk: str):
        if not pk.isdigit() or not 0 < int(pk) < 2**62:
            raise Problem(404, "No such trace bundle.")
        cases = cases_of_tenants(api_tenant_ids(request))
        bundle = TraceBundle.objects.select_related("case", "uploaded_by").filter(pk=int(pk), case__in=cases).first()
        if bundle is None:
            audit.log_denied(TraceBundle, pk, path=request.path, reason="not in the token's tenants")
            raise Problem(404, "No such trace bundle.")
        audit.log_access(bundle, view="API trace bundle", extra=audit_extra(request))
        return Response(BundleSerializer(bundle).data)
