"""Celery tasks of the incidents app: thin, idempotent, ids in, one service call."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def cadence_sweep_task():
    return str(services.cadence_sweep())


@shared_task(ignore_result=True)
def send_customer_update_task(entry_id: int, actor_id: int):
    """One reply per linked open case; a re-run skips the cases already told (CustomerDelivery)."""
    return str(services.send_customer_update(entry_id=entry_id, actor_id=actor_id))


from .escalations import tasks as escalation_tasks  # noqa: E402,F401  (registers the escalations' tasks)


@shared_task(ignore_result=True)
def page_sweep_task():
    """On-call pages (incidents.oncall.sweep): the escalation chains' due steps, each once."""
    from .oncall.sweep import page_sweep

    return str(page_sweep())


@shared_task(ignore_result=True)
def handoff_sweep_task():
    """On-call hand-offs (incidents.oncall.handoff): prompt the outgoing, deliver to the incoming."""
    from .oncall.handoff import handoff_sweep

    return str(handoff_sweep())


@shared_task(ignore_result=True)
def progress_sweep_task():
    """The playbook's P2 rule (incidents.oncall.playbook): page high cases without progress in 2 h."""
    from .oncall.playbook import progress_sweep

    return str(progress_sweep())


@shared_task(ignore_result=True)
def intake_page_task(case_id: int, reason: str):
    """A critical or security-tagged case's page at intake (incidents.oncall.intake), after commit."""
    from .oncall.intake import page_at_intake

    page = page_at_intake(case_id, reason)
    return str(page.pk if page else None)


@shared_task(ignore_result=True)
def progress_watch_task(case_id: int):
    """A high case's P2 watch at intake (incidents.oncall.playbook): the clock row and the notice."""
    from .oncall.intake import watch_at_intake

    watch_at_intake(case_id)


@shared_task(ignore_result=True)
def standup_digest_task():
    """The daily engineering standup digest of P3 cases (incidents.oncall.playbook)."""
    from .oncall.playbook import standup_digest

    return str(standup_digest())
