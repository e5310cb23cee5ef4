"""The runbooks app's Celery tasks: thin (ids in, one service call, idempotent)."""

from celery import shared_task

from .diagnostics import services as diagnostics


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
