"""Every write of the diagnostics: a bundle uploaded (consent checked, stored through `bundle_storage`),
inspected (by the Celery task: progress, then the verdict; a rejected bundle's bytes deleted at once,
the row kept as the rejection record), its report attached as evidence to the case and to every
incident linked to it. The case's and the incidents' timelines are written through their services."""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.errors import CaseError
from companyos import residency
from companyos_cli.bundle import parse_bundle_name
from companyos_cli.bundle.naming import EXAMPLE
from incidents import services as incident_services
from tenants.models import Tenant

from .inspection import inspect
from .models import BundleStatus, CollectorRun, Evidence, TraceBundle
from .storage import bundle_path, bundle_storage

log = logging.getLogger(__name__)


class DiagnosticsError(CaseError):
    """A refused diagnostics write; `str(error)` is the message the user sees."""


def consent_refusal(tenant: Tenant) -> str:
    """Why a bundle of this tenant may not be read, or '' when consent is recorded."""
    if not tenant.telemetry_consent or tenant.telemetry_consent_at is None:
        return (
            f"{tenant.name} has no telemetry consent on record. Confirm that the customer enabled "
            "telemetry, and record it (who confirmed, where) before uploading a trace bundle."
        )
    return ""


def check_bundle_name(name: str):
    parsed = parse_bundle_name(name)
    if parsed is None:
        raise DiagnosticsError(
            f"{name or 'That file'}: a trace bundle is named trace-<timestamp>-<channel>.zip (e.g. {EXAMPLE})."
        )
    return parsed


def bundle_upload(*, case_id: int, actor, upload, source: str = "web") -> TraceBundle:
    """Store a bundle for the case and queue its inspection. Refused: a name off the pattern, an empty
    or oversized file, a tenant without recorded telemetry consent, a case the actor may not see."""
    name = os.path.basename(upload.name or "")
    parsed = check_bundle_name(name)
    if not upload.size:
        raise DiagnosticsError(f"{name} is empty.")
    if upload.size > settings.BUNDLE_MAX_BYTES:
        raise DiagnosticsError(
            f"{name} is {upload.size / 1048576:.1f} MB; the limit is {settings.BUNDLE_MAX_BYTES / 1048576:.0f} MB."
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    sha = digest.hexdigest()
    upload.seek(0)
    with transaction.atomic():
        case = case_services.case_lock(case_id=case_id, actor=actor)
        tenant = Tenant.objects.get(pk=case.tenant_id)
        refusal = consent_refusal(tenant)
        if refusal:
            raise DiagnosticsError(refusal)
        try:
            region = residency.check(tenant)  # the tenant's data region, once it has a storage
        except residency.ResidencyError as error:
            raise DiagnosticsError(str(error)) from None
        storage = bundle_storage(tenant, region)
        stored = storage.save(bundle_path(tenant, case.key, sha, name), upload)
        try:
            bundle = TraceBundle.objects.create(
                case=case,
                tenant=tenant,
                name=name,
                size=upload.size,
                sha256=sha,
                channel=parsed.channel,
                recorded_at=parsed.timestamp,
                source=source,
                storage_name=stored,
                region=region,
                uploaded_by=actor,
            )
            case_services.case_record_event(
                case_id=case.pk,
                actor=actor,
                body=f"Trace bundle {name} uploaded ({upload.size:,} bytes, via {source}); inspection queued.",
                data={"trace_bundle": bundle.pk, "sha256": sha},
            )
        except BaseException:
            storage.delete(stored)
            raise
        bundle_id = bundle.pk
        transaction.on_commit(lambda: _inspect_later(bundle_id))
    return bundle


def _inspect_later(bundle_id: int) -> None:
    from ..tasks import inspect_bundle_task  # the task imports these services

    inspect_bundle_task.delay(bundle_id)


def _claim(bundle_id: int) -> TraceBundle | None:
    with transaction.atomic():
        bundle = TraceBundle.objects.select_for_update(skip_locked=True).filter(pk=bundle_id).first()
        if bundle is None or bundle.status != BundleStatus.RECEIVED or not bundle.storage_name:
            return None
        bundle.status = BundleStatus.INSPECTING
        bundle.progress = 1
        bundle.stage = "opening the bundle"
        bundle.save(update_fields=["status", "progress", "stage"])
        return bundle


def bundle_retry(*, bundle_id: int, actor) -> TraceBundle:
    """A failed inspection (the worker died, storage was down) back in the queue."""
    with transaction.atomic():
        bundle = TraceBundle.objects.select_for_update().select_related("case").get(pk=bundle_id)
        case_services.case_lock(case_id=bundle.case_id, actor=actor)
        if bundle.status != BundleStatus.FAILED or not bundle.storage_name:
            raise DiagnosticsError("Only a bundle whose inspection failed can be inspected again.")
        bundle.status, bundle.progress, bundle.stage = BundleStatus.RECEIVED, 0, "queued again"
        bundle.save(update_fields=["status", "progress", "stage"])
        transaction.on_commit(lambda: _inspect_later(bundle_id))
    return bundle


def bundle_inspect(*, bundle_id: int) -> TraceBundle | None:
    """Inspect a received bundle (the Celery task's one call; idempotent: a bundle already claimed or
    done is left alone). Progress is written as it goes, for the page's polling."""
    bundle = _claim(bundle_id)
    if bundle is None:
        return None
    storage = bundle_storage(bundle.tenant, bundle.region)
    last = {"pct": 0}

    def progress(fraction: float, stage: str) -> None:
        pct = max(1, min(99, int(fraction * 100)))
        if pct - last["pct"] >= 5:
            last["pct"] = pct
            TraceBundle.objects.filter(pk=bundle_id).update(progress=pct, stage=stage[:200])

    try:
        with storage.open(bundle.storage_name, "rb") as handle:
            report = inspect(handle, name=bundle.name, progress=progress)
    except Exception as exc:  # storage unreachable, a bug: a clear failure state with a retry
        log.exception("inspecting trace bundle %s failed", bundle_id)
        TraceBundle.objects.filter(pk=bundle_id).update(
            status=BundleStatus.FAILED, stage=f"The inspection failed ({exc.__class__.__name__}); retry it."[:200]
        )
        return TraceBundle.objects.get(pk=bundle_id)
    return _record_verdict(bundle_id, report)


def _summary(report: dict) -> str:
    trace = report["trace"]
    parts = [f"{trace['spans']:,} spans, {trace['failed_count']:,} failed"]
    failed = trace["failed"][:3]
    if failed:
        parts.append("; ".join(f"{s['name']}" + (f" ({', '.join(s['codes'])})" if s["codes"] else "") for s in failed))
    if trace["reported_at"]:
        parts.append(f"{trace['near_failed']} failed within ±{trace['near_window_minutes']} min of the report")
    return " · ".join(parts)[:500]


def _record_verdict(bundle_id: int, report: dict) -> TraceBundle:
    with transaction.atomic():
        bundle = TraceBundle.objects.select_for_update().select_related("case", "tenant").get(pk=bundle_id)
        actor = bundle.uploaded_by
        bundle.report = report
        bundle.inspected_at = timezone.now()
        bundle.progress = 100
        verdict = report["verdict"]
        if verdict in ("rejected", "pii"):
            # Nothing of a refused bundle is kept but this row: its bytes go now (a PII bundle's with them).
            storage = bundle_storage(bundle.tenant, bundle.region)
            name = bundle.storage_name
            transaction.on_commit(lambda: storage.delete(name))
            bundle.storage_name = ""
            if verdict == "rejected":
                bundle.status = BundleStatus.REJECTED
                bundle.rejection_code = report["rejection"]["code"]
                bundle.rejection_reason = report["rejection"]["reason"]
            else:
                bundle.status = BundleStatus.PII
                bundle.rejection_code = "pii"
                count = report["pii"]["count"]
                bundle.rejection_reason = (
                    f"{count} unredacted finding{'s' if count != 1 else ''} "
                    f"({', '.join(f'{k} {n}' for k, n in sorted(report['pii']['by_kind'].items()))}); "
                    "ask the customer for a redacted bundle."
                )
            bundle.stage = "rejected"
            bundle.save()
            case_services.case_record_event(
                case_id=bundle.case_id,
                actor=actor,
                body=f"Trace bundle {bundle.name} rejected: {bundle.rejection_reason}"[:2000],
                data={"trace_bundle": bundle.pk, "rejection": bundle.rejection_code},
            )
            return bundle
        bundle.status = BundleStatus.OK
        bundle.stage = "done"
        bundle.save()
        evidence_attach(
            case=bundle.case,
            actor=actor,
            kind=Evidence.Kind.BUNDLE_REPORT,
            title=f"Trace bundle report: {bundle.name}",
            summary=_summary(report),
            source={"trace_bundle": bundle.pk, "reference": bundle.reference, "sha256": bundle.sha256},
            data={"verdict": verdict, "error_codes": [e["code"] for e in report.get("error_codes", [])]},
            bundle=bundle,
            url=reverse("runbooks:bundle_report", args=[bundle.pk]),
        )
        return bundle


def evidence_attach(*, case, actor, kind: str, title: str, summary: str, source: dict, data: dict, bundle=None, url=""):
    """A typed artifact on the case and on every incident linked to it now, each with a timeline
    entry (the incidents' through their service; an incident the actor may not see is skipped)."""
    evidence = Evidence.objects.create(
        case=case,
        kind=kind,
        title=title[:200],
        summary=summary[:500],
        source=source,
        data=data,
        bundle=bundle,
        created_by=actor,
    )
    incidents = list(case.incidents.all())
    attached = []
    for incident in incidents:
        entry = incident_services.incident_record_step(
            incident_id=incident.pk,
            actor=actor,
            body=f"Evidence from {case.key}: {title}. {summary}"[:2000],
            data={"evidence": evidence.pk, "case": case.key, "kind": kind, "url": url},
        )
        if entry is not None:
            attached.append(incident)
    evidence.incidents.set(attached)
    case_services.case_record_event(
        case_id=case.pk,
        actor=actor,
        body=f"Evidence attached: {title}"
        + (f" (also on {', '.join(i.key for i in attached)})" if attached else "")
        + f". {summary}",
        data={"evidence": evidence.pk, "kind": kind, "url": url},
    )
    return evidence


# --- one-click collectors -------------------------------------------------------------------------


def collector_start(*, case_id: int, actor, name: str) -> CollectorRun:
    """Queue a collector on the case (the Celery task runs it). Refused: an unknown collector, a case
    the actor may not see, the same collector already queued or running on the case."""
    from .collectors import REGISTRY

    if name not in REGISTRY:
        raise DiagnosticsError(f"There is no collector {name[:40]!r}.")
    with transaction.atomic():
        case = case_services.case_lock(case_id=case_id, actor=actor)
        busy = CollectorRun.objects.filter(
            case=case, collector=name, status__in=[CollectorRun.Status.QUEUED, CollectorRun.Status.RUNNING]
        ).exists()
        if busy:
            raise DiagnosticsError(f"{REGISTRY[name].label} is already running on {case.key}.")
        run = CollectorRun.objects.create(case=case, collector=name, requested_by=actor)
        run_id = run.pk
        transaction.on_commit(lambda: _collect_later(run_id))
    return run


def _collect_later(run_id: int) -> None:
    from ..tasks import collector_task

    collector_task.delay(run_id)


def collector_execute(*, run_id: int) -> CollectorRun | None:
    """Run a queued collector (the task's one call; idempotent): its artifact, what changed since the
    last done run, and the evidence on the case and its incidents."""
    from .collectors import REGISTRY, diff

    with transaction.atomic():
        run = CollectorRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None or run.status != CollectorRun.Status.QUEUED:
            return None
        run.status, run.progress = CollectorRun.Status.RUNNING, 10
        run.save(update_fields=["status", "progress"])
    case = run.case
    collector = REGISTRY[run.collector]
    now = timezone.now()
    try:
        result = collector.collect(case, now)
    except Exception as exc:
        log.exception("collector %s on case %s failed", run.collector, case.pk)
        CollectorRun.objects.filter(pk=run_id).update(
            status=CollectorRun.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:300], finished_at=now
        )
        return CollectorRun.objects.get(pk=run_id)
    CollectorRun.objects.filter(pk=run_id).update(progress=80)
    previous = (
        CollectorRun.objects.filter(case=case, collector=run.collector, status=CollectorRun.Status.DONE)
        .exclude(pk=run_id)
        .order_by("-finished_at")
        .first()
    )
    changes = diff(previous.result if previous else None, result)
    with transaction.atomic():
        run = CollectorRun.objects.select_for_update().get(pk=run_id)
        summary = result["summary"]
        if changes is not None:
            summary += (
                f" — since the last run: {len(changes['added'])} new, {len(changes['removed'])} gone, "
                f"{len(changes['changed'])} changed"
            )
        evidence = evidence_attach(
            case=case,
            actor=run.requested_by,
            kind=f"collector:{run.collector}",
            title=collector.label,
            summary=summary,
            source={
                "collector": run.collector,
                "run": run.pk,
                "inputs": result.get("inputs", {}),
                "needs": collector.needs,
            },  # fmt: skip
            data={"columns": collector.columns, "rows": result["rows"], "changes": changes},
        )
        run.result, run.changes, run.evidence = result, changes, evidence
        run.status, run.progress, run.finished_at = CollectorRun.Status.DONE, 100, timezone.now()
        run.save()
    return run


# --- retention ----------------------------------------------------------------------------------------


def retention_days(tenant: Tenant) -> int:
    return tenant.telemetry_retention_days or settings.BUNDLE_RETENTION_DAYS


def bundles_due(*, now=None) -> list[TraceBundle]:
    """The bundles past their tenant's retention window (not yet purged), oldest first."""
    now = now or timezone.now()
    due = []
    tenant_ids = TraceBundle.objects.filter(purged_at=None).values_list("tenant_id", flat=True).distinct()
    for tenant in Tenant.objects.filter(pk__in=list(tenant_ids)).only("pk", "slug", "telemetry_retention_days"):
        cutoff = now - timedelta(days=retention_days(tenant))
        due.extend(
            TraceBundle.objects.filter(tenant=tenant, purged_at=None, uploaded_at__lt=cutoff)
            .defer("report")
            .select_related("case", "tenant")
            .order_by("uploaded_at")[:1000]
        )
    return sorted(due, key=lambda b: b.uploaded_at)


def bundles_purge(*, now=None, limit: int = 500) -> list[dict]:
    """Purge the bundles past retention (beat, daily; `manage.py bundles_purge`): the bytes deleted from
    the storage, the report and the evidence's extracted rows cleared; the row stays as the case's
    tombstone (name, size, hash, uploaded, purged, by which rule), audited (auditlog on the row, as the
    system user) and named on the case's timeline. Exactly once: rows are claimed with SKIP LOCKED."""
    from auditlog.context import set_actor

    from companyos.roles import system_user

    now = now or timezone.now()
    system = system_user()
    purged = []
    for candidate in bundles_due(now=now)[:limit]:
        with transaction.atomic(), set_actor(system):
            bundle = (
                TraceBundle.objects.select_for_update(skip_locked=True)
                .select_related("tenant")
                .filter(pk=candidate.pk, purged_at=None)
                .first()
            )
            if bundle is None:
                continue
            days = retention_days(bundle.tenant)
            source = "tenant" if bundle.tenant.telemetry_retention_days else "default"
            rule = f"retention: {days} days ({source})"
            name = bundle.storage_name
            if name:
                storage = bundle_storage(bundle.tenant, bundle.region)
                transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
            bundle.storage_name, bundle.report = "", None
            bundle.purged_at, bundle.purge_rule = now, rule
            bundle.save(update_fields=["storage_name", "report", "purged_at", "purge_rule"])
            Evidence.objects.filter(bundle=bundle).update(data={"purged": True, "rule": rule})
            case_services.case_record_event(
                case_id=bundle.case_id,
                actor=system,
                body=f"Trace bundle {bundle.name} purged ({rule}); its record remains.",
                data={"trace_bundle": bundle.pk, "purged": True},
            )
            purged.append(_tombstone(bundle))
    return purged


def _tombstone(bundle: TraceBundle) -> dict:
    return {
        "id": bundle.pk,
        "case": bundle.case.key,
        "name": bundle.name,
        "size": bundle.size,
        "sha256": bundle.sha256,
        "uploaded_at": bundle.uploaded_at.isoformat(),
        "purged_at": bundle.purged_at.isoformat() if bundle.purged_at else None,
        "rule": bundle.purge_rule or f"retention: {retention_days(bundle.tenant)} days",
    }
