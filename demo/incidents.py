"""Demo incidents (issue 13): an active SEV1 on the API gateway with cases of several tenants linked
and a public update history, a resolved SEV2 with its postmortem and corrective actions, the status
page's services and Globex's own status page. Built through incidents.services (so the timelines and
the cases' entries are real), then back-dated here (the demo loaders' exception). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from cases.models import Case
from incidents import services
from incidents.models import Incident, IncidentEntry, StatusService, TenantStatusPage
from tenants.models import Resource, Tenant

SEV1_TITLE = "Elevated 5xx on the API gateway"
SEV2_TITLE = "Delayed webhook deliveries"
SERVICES = [
    ("Public API", "REST API and SDK traffic", ("-gw-", "api")),
    ("Webhooks", "Outbound event deliveries", ("-hooks-", "webhook")),
    ("Search", "Search and exports", ("-search-",)),
    ("Sign-in", "SSO and API keys", ("-auth-",)),
    ("Telemetry ingestion", "Metrics, logs and traces", ("-ingest-", "telemetry")),
]


def _backdate(incident: Incident, entries_from, until) -> None:
    """Spread the incident's entries evenly from `entries_from` to `until`, in their order."""
    entries = list(incident.entries.order_by("created_at", "id"))
    step = (until - entries_from) / max(1, len(entries) - 1)
    at = entries_from
    for entry in entries:
        IncidentEntry.objects.filter(pk=entry.pk).update(created_at=at)
        at += step


def build_demo_incidents(*, out=print) -> bool:
    if Incident.objects.filter(title=SEV1_TITLE, entries__isnull=False).exists():
        return False
    Incident.objects.filter(title__in=[SEV1_TITLE, SEV2_TITLE, f"{SEV2_TITLE} (resolved)"]).delete()
    User = get_user_model()
    sre = User.objects.filter(username="sre").first()
    agent = User.objects.filter(username="agent").first()
    if sre is None:
        return False
    now = timezone.now()
    open_cases = Case.objects.open().order_by("-created_at")
    tenants = list(Tenant.objects.filter(slug__in=["globex", "acme", "initech", "hooli"]).order_by("slug"))
    gateway = list(
        Resource.objects.filter(tenant__in=tenants)
        .filter(Q(external_id__icontains="-gw-") | Q(external_id__icontains="api"))
        .order_by("external_id")[:4]
    )

    # The active SEV1.
    sev1 = services.incident_declare(
        actor=sre,
        title=SEV1_TITLE,
        severity="SEV1",
        summary=(
            "5xx on /v1/* rose to 7% at 09:40 UTC after the gateway deploy; several customers report failing API calls."
        ),
        commander=sre,
        comms_channel="#inc-gateway-5xx",
        tenants=tenants,
        resources=gateway,
    )
    linked = []
    for tenant in tenants:
        linked += list(open_cases.filter(tenant=tenant).values_list("pk", flat=True)[:3])
    services.incident_link_cases(incident_id=sev1.pk, actor=sre, case_ids=linked)
    if agent is not None:
        services.incident_assign_role(incident_id=sev1.pk, actor=sre, role="comms_lead", user=agent)
    services.incident_update_status(
        incident_id=sev1.pk,
        actor=sre,
        to="identified",
        note="A bad config in gateway v2.31 drops upstream keep-alives.",
        public=True,
    )
    services.incident_post_update(
        incident_id=sev1.pk,
        actor=sre,
        body="Internal: rollback of gw v2.31 started in eu-west-1 and us-east-1.",
        public=False,
    )
    services.incident_update_status(
        incident_id=sev1.pk,
        actor=sre,
        to="mitigating",
        note="Rolling back the gateway; error rate falling.",
        public=True,
    )
    services.incident_edit(
        incident_id=sev1.pk,
        actor=sre,
        current_mitigation="Gateway rolled back to v2.30 in two of three regions; retry on 502/503.",
    )
    services.incident_post_update(
        incident_id=sev1.pk,
        actor=sre,
        body="Error rate is down to 1.2% and falling; we will update again within the hour.",
        public=True,
    )
    services.corrective_action_add(
        incident_id=sev1.pk,
        actor=sre,
        title="Canary the gateway config with keep-alive checks",
        owner=sre,
        due_on=(now + timedelta(days=7)).date(),
    )
    _backdate(sev1, now - timedelta(minutes=95), now - timedelta(minutes=8))
    Incident.objects.filter(pk=sev1.pk).update(
        started_at=now - timedelta(minutes=100),
        detected_at=now - timedelta(minutes=97),
        acknowledged_at=now - timedelta(minutes=88),
        update_due_at=now + timedelta(minutes=25),
    )

    # A resolved SEV2 with its postmortem.
    sev2 = services.incident_declare(
        actor=sre,
        title=SEV2_TITLE,
        severity="SEV2",
        summary="Webhook deliveries were delayed up to 40 minutes by a queue backlog.",
        tenants=tenants[:2],
    )
    old = list(
        Case.objects.filter(tenant__in=tenants[:2])
        .exclude(pk__in=linked)
        .order_by("created_at")
        .values_list("pk", flat=True)[:3]
    )
    services.incident_link_cases(incident_id=sev2.pk, actor=sre, case_ids=old)
    services.incident_post_update(
        incident_id=sev2.pk, actor=sre, body="Webhook deliveries are delayed; we are scaling the workers.", public=True
    )
    services.incident_update_status(
        incident_id=sev2.pk, actor=sre, to="monitoring", note="Backlog drained; monitoring.", public=True
    )
    services.incident_update_status(
        incident_id=sev2.pk, actor=sre, to="resolved", note="Deliveries are on time again.", public=True
    )
    services.incident_edit(
        incident_id=sev2.pk,
        actor=sre,
        postmortem=(
            "Impact: webhook deliveries delayed up to 40 min for 2 h 10 min (4 tenants).\n"
            "Root cause: a retry storm from one endpoint filled the delivery queue; "
            "the autoscaler keyed on CPU, not queue depth.\n"
            "What went well: detection from the queue-age alert within 6 minutes.\n"
            "What went badly: the status page was updated 35 minutes after detection.\n"
            "Follow-up: per-endpoint retry budgets; scale on queue age."
        ),
    )
    for title in ("Per-endpoint retry budgets", "Autoscale webhook workers on queue age"):
        action = services.corrective_action_add(
            incident_id=sev2.pk, actor=sre, title=title, owner=sre, due_on=(now + timedelta(days=14)).date()
        )
    services.corrective_action_update(action_id=action.pk, actor=sre, status="done")
    start = now - timedelta(days=4, hours=3)
    _backdate(sev2, start, start + timedelta(hours=2, minutes=10))
    Incident.objects.filter(pk=sev2.pk).update(
        started_at=start, detected_at=start, resolved_at=start + timedelta(hours=2, minutes=10)
    )

    # The status page's services over the tenants' resources, and Globex's own page.
    for position, (name, description, words) in enumerate(SERVICES):
        service, _ = StatusService.objects.get_or_create(
            name=name, defaults={"description": description, "position": position}
        )
        ids = set()
        for word in words:
            ids |= set(Resource.objects.filter(external_id__icontains=word).values_list("pk", flat=True)[:50])
        service.resources.add(*ids)
    globex = Tenant.objects.filter(slug="globex").first()
    if globex is not None:
        page, _ = TenantStatusPage.objects.get_or_create(tenant=globex)
        out(
            f"Demo incidents: {sev1.key} (SEV1, {len(linked)} cases linked), {sev2.key} (resolved); "
            f"Globex's status page /status/t/{page.token}/"
        )
    return True
