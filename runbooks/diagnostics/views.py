"""The diagnostics pages: the case page's Diagnostics card (consent, upload, bundles with their
progress, evidence; loaded by URL like the Knowledge card), the bundle's report page and its
permission-checked, audited download."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from cases.models import Case
from cases.selectors import case_get_for_user
from companyos import audit, pageview, roles
from companyos.access import audited_read, audited_write, covered_by_page_view, no_data
from companyos.htmx import htmx_partial
from tenants import services as tenant_services

from . import selectors, services, sharing
from .models import TraceBundle
from .storage import bundle_storage

logger = logging.getLogger(__name__)

PANEL = "runbooks/diagnostics_panel.html"


def _case(request, key: str) -> Case:
    return case_get_for_user(request.user, key, path=request.path)


def _panel(request, case: Case, *, error: str = "", status: int = 200):
    bundles = selectors.case_bundles(case)
    collectors = selectors.case_collectors(case)
    context = {
        "collectors": collectors,
        "case": case,
        "tenant": case.tenant,
        "bundles": bundles,
        "evidence": selectors.case_evidence(case),
        "polling": any(not b.done for b in bundles) or any(c["run"] and not c["run"].done for c in collectors),
        "can_consent": bool(roles.role_names(request.user) & tenant_services.CONSENT_ROLES),
        "consent_refusal": services.consent_refusal(case.tenant),
        "error": error,
        "pv": request.GET.get("pv", "") or request.POST.get("pv", ""),
    }
    return render(request, PANEL, context, status=status)


@audited_read(Case, view="case page: diagnostics card")
@require_GET
def case_diagnostics(request, key: str):
    case = _case(request, key)
    if pageview.page_cid(request, case) is not None:
        return covered_by_page_view(_panel(request, case))
    audit.log_access(case, view="case page: diagnostics card")
    return _panel(request, case)


def _done(request, case: Case, error: str = "", status: int = 200):
    if htmx_partial(request):
        audit.log_access(case, view="case page: diagnostics card")
        return _panel(request, case, error=error, status=status)
    if error:
        messages.error(request, error)
    return redirect(case.get_absolute_url())


@audited_write(Case, view="trace bundle upload")
@require_POST
def case_bundle_upload(request, key: str):
    case = _case(request, key)
    upload = request.FILES.get("bundle")
    if upload is None:
        return _done(request, case, "Choose a trace bundle (trace-<timestamp>-<channel>.zip) to upload.", 400)
    try:
        services.bundle_upload(case_id=case.pk, actor=request.user, upload=upload, source="web")
    except services.DiagnosticsError as error:
        return _done(request, case, str(error), 400)
    return _done(request, case)


@audited_write(Case, view="diagnostics collector")
@require_POST
def case_collect(request, key: str, name: str):
    case = _case(request, key)
    try:
        services.collector_start(case_id=case.pk, actor=request.user, name=name)
    except services.DiagnosticsError as error:
        return _done(request, case, str(error), 400)
    return _done(request, case)


@audited_write(Case, view="telemetry consent")
@require_POST
def case_record_consent(request, key: str):
    case = _case(request, key)
    try:
        tenant_services.tenant_record_telemetry_consent(
            tenant_id=case.tenant_id, actor=request.user, reference=request.POST.get("reference", "")
        )
    except PermissionDenied as error:
        return _done(request, case, str(error), 403)
    except ValidationError as error:
        return _done(request, case, error.messages[0], 400)
    case.tenant.refresh_from_db()
    return _done(request, case)


@audited_read(TraceBundle, view="trace bundle report")
@require_GET
def bundle_report(request, pk: int):
    bundle = selectors.bundle_get_for_user(request.user, pk, path=request.path)
    audit.log_access(bundle, view="trace bundle report")
    report = bundle.report or {}
    context = {
        "bundle": bundle,
        "case": bundle.case,
        "r": report,
        "charts": selectors.charts(report) if bundle.done and report.get("snapshot") else [],
        "waterfall": selectors.waterfall(report) if report.get("trace") else None,
    }
    template = "runbooks/bundle_report.html"
    if htmx_partial(request) and request.GET.get("poll"):
        template += "#progress"
    return render(request, template, context)


@audited_write(TraceBundle, view="trace bundle retry")
@require_POST
def bundle_retry(request, pk: int):
    bundle = selectors.bundle_get_for_user(request.user, pk, path=request.path)
    try:
        services.bundle_retry(bundle_id=bundle.pk, actor=request.user)
    except services.DiagnosticsError as error:
        messages.error(request, str(error))
    return redirect("runbooks:bundle_report", pk=bundle.pk)


@audited_read(TraceBundle, view="trace bundle download")
@require_GET
def bundle_download(request, pk: int):
    bundle = selectors.bundle_get_for_user(request.user, pk, path=request.path)
    if not bundle.storage_name:
        audit.log_denied(TraceBundle, pk, path=request.path, reason="bundle deleted (rejected or purged)")
        raise Http404("This bundle's file is gone (rejected or purged); its record remains.")
    audit.log_access(bundle, view="trace bundle download")
    try:
        handle = bundle_storage(bundle.tenant, bundle.region).open(bundle.storage_name, "rb")
    except OSError as exc:  # stored in clear before encryption was required, or under a retired key
        logger.error("trace bundle %s cannot be opened: %s", bundle.pk, exc)
        messages.error(
            request,
            "This bundle's file cannot be read with the current encryption keys (stored in clear before "
            "encryption was required, or under a retired key). Ask an administrator to run "
            "manage.py bundles_reencrypt.",
        )
        return redirect("runbooks:bundle_report", pk=bundle.pk)
    return FileResponse(handle, as_attachment=True, filename=bundle.name, content_type="application/zip")


@audited_write(TraceBundle, view="trace bundle share")
@require_POST
def bundle_share(request, pk: int):
    bundle = selectors.bundle_get_for_user(request.user, pk, path=request.path)
    days = request.POST.get("days", "7")
    try:
        token, expires = sharing.share_link_create(
            bundle_id=bundle.pk, actor=request.user, days=int(days) if days.isdigit() else 0
        )
    except sharing.ShareRefused as error:
        messages.error(request, str(error))
    else:
        link = request.build_absolute_uri(f"/shared/bundles/{token}/")
        messages.success(request, f"Shared link, valid until {expires:%Y-%m-%d %H:%M} UTC: {link}")
    return redirect("runbooks:bundle_report", pk=bundle.pk)


@audited_read(TraceBundle, view="trace bundle report via shared link")
@require_GET
def shared_report(request, token: str):
    """The report behind an expiring signed link: no sign-in, no case, no download; each opening audited."""
    bundle = sharing.share_link_read(token)
    if bundle is None:
        return no_data(render(request, "runbooks/bundle_shared_invalid.html", status=404))
    audit.log_access(bundle, view="trace bundle report via shared link")
    report = bundle.report or {}
    context = {"bundle": bundle, "r": report, "shared": True, "charts": selectors.charts(report),
               "waterfall": selectors.waterfall(report)}  # fmt: skip
    return render(request, "runbooks/bundle_report.html", context)
