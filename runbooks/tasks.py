"""Celery tasks of the runbooks app: thin, idempotent, ids in, one service call."""

from celery import shared_task

from .diagnostics import services as diagnostics


@shared_task(ignore_result=True)
def copilot_retrain_task():
    """Beat: retrain the copilot's global model from agent-confirmed cases when enough are new, and
    the own models of the tenants with enough confirmed cases and new confirmations (a few a sweep)."""
    from .copilot.services import copilot_retrain_if_due, copilot_retrain_tenants

    row = copilot_retrain_if_due()
    tenant_rows = copilot_retrain_tenants()
    return [r.version for r in ([row] if row else []) + tenant_rows]


@shared_task(ignore_result=True)
def copilot_assess_task(case_id: int):
    """Propose for a new case (enqueued after the case's creation commits); a re-run replaces the
    assessment with the same result."""
    from companyos.roles import copilot_user

    from .copilot.services import copilot_assess

    copilot_assess(case_id=case_id, actor=copilot_user())


@shared_task(ignore_result=True)
def inspect_bundle_task(bundle_id: int):
    bundle = diagnostics.bundle_inspect(bundle_id=bundle_id)
    return bundle.status if bundle else "skipped"


@shared_task(ignore_result=True)
def collector_task(run_id: int):
    run = diagnostics.collector_execute(run_id=run_id)
    return run.status if run else "skipped"


@shared_task(ignore_result=True)
def bundle_retention_task():
    return len(diagnostics.bundles_purge())
