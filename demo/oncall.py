"""Demo on-call (issue 14): an SRE schedule (weekly Monday 09:00 Oslo rotation of the demo's SRE,
engineer and senior agent, with a weekend override), an engineering schedule in New York on a
three-day rotation, and the default escalation chain (SRE on-call 5 min → engineering on-call 10 min,
repeated once, then the manager), and the component ownership map's Ingest API, owned by the
Engineering team, on the engineering schedule (an escalation notifies whoever is on call for it).
Idempotent."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.oncall import services
from incidents.oncall.models import EscalationChain, Schedule

SRE_SCHEDULE, ENG_SCHEDULE, CHAIN = "SRE primary", "Engineering on-call", "Default: SRE then engineering"


def build_demo_oncall(*, out=print) -> bool:
    if Schedule.objects.filter(name=SRE_SCHEDULE).exists():
        return False
    User = get_user_model()
    people = {
        u.username: u for u in User.objects.filter(username__in=["sre", "engineer", "senior", "manager", "admin"])
    }
    if "sre" not in people or "engineer" not in people:
        return False
    actor = people.get("admin") or people["sre"]
    rota = [people[n] for n in ("sre", "engineer", "senior") if n in people]
    sre = services.schedule_create(actor=actor, name=SRE_SCHEDULE, timezone_name="Europe/Oslo")
    services.layer_add(
        actor=actor,
        schedule_id=sre.pk,
        participants=rota,
        start_date=date(2026, 1, 5),
        handoff_time=time(9),
        handoff_weekday=0,
        name="Weekly",
    )
    now = timezone.now()
    saturday = (now + timedelta(days=(5 - now.weekday()) % 7)).replace(hour=8, minute=0, second=0, microsecond=0)
    services.override_add(
        actor=actor,
        schedule_id=sre.pk,
        user=rota[-1],
        start=saturday,
        end=saturday + timedelta(hours=12),
        reason="Covering a family event",
    )
    eng = services.schedule_create(actor=actor, name=ENG_SCHEDULE, timezone_name="America/New_York")
    services.layer_add(
        actor=actor,
        schedule_id=eng.pk,
        participants=[people["engineer"], people["sre"]],
        start_date=date(2026, 1, 1),
        handoff_time=time(8, 30),
        handoff_weekday=None,
        length=3,
        name="Three-day",
    )
    if not EscalationChain.objects.filter(name=CHAIN).exists():
        services.chain_create(
            actor=actor,
            name=CHAIN,
            is_default=True,
            repeat=1,
            fallback_user=people.get("manager"),
            steps=[
                {"target": "schedule", "schedule": sre, "wait_minutes": 5},
                {"target": "schedule", "schedule": eng, "wait_minutes": 10},
            ],
        )
    from cases.models import Team
    from incidents.escalations.models import Component

    team = Team.objects.filter(slug="engineering").first()
    if team is not None:
        Component.objects.get_or_create(
            name="Ingest API",
            defaults={
                "team": team,
                "tracker_project": "ING",
                "categories": ["performance", "integration"],
                "oncall_schedule": eng,
                "description": "telemetry and batch ingestion",
            },
        )
    out("Demo on-call: 2 schedules, the default escalation chain, the Ingest API component on engineering's.")
    return True
