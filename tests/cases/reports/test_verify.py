"""The report numbers equal an independent recomputation from the rows after random operations done
through the real services (resolve, reopen by the customer, "yes"/"no", auto-close, agent close,
survey answers), and `reports_verify` says so — or fails when a number is wrong."""

from __future__ import annotations

import random
from datetime import UTC, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cases import services
from cases.choices import Priority, Status
from cases.closure import services as closure_services
from cases.closure import sweep
from cases.closure.models import AutoClose, Closure
from cases.reports import verify
from cases.reports.filters import Filters
from tenants.choices import Segment
from tests.factories import CaseFactory, TenantFactory, UserFactory

RESOLUTION = {"summary": "s", "evidence": "e", "preventive_actions": "p"}


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_report_equals_recomputation_after_random_operations(seed, tenant_a, agent, manager):
    rng = random.Random(seed)
    ent = TenantFactory(name="Initech", slug="initech", segment=Segment.ENTERPRISE)
    UserFactory(username="ent-agent", role="agent", tenants=[ent])
    system_agent = UserFactory(username="all", role="manager")
    cases = [
        CaseFactory(
            tenant=rng.choice([tenant_a, ent]),
            priority=rng.choice(list(Priority)),
            channel=rng.choice(["email", "web", "slack"]),
            status=Status.IN_PROGRESS,
            created_at=timezone.now() - timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23)),
        )
        for _ in range(12)
    ]
    for _ in range(60):
        case = rng.choice(cases)
        case.refresh_from_db()
        op = rng.choice(["resolve", "reopen", "close", "confirm", "survey", "sweep"])
        try:
            if op == "resolve" and case.status in (Status.IN_PROGRESS,):
                services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=system_agent, resolution=RESOLUTION)
            elif op == "reopen" and case.status in (Status.RESOLVED, Status.CLOSED):
                services.case_customer_message(
                    case_id=case.pk, requester=case.requester, body="again", channel="email", reopen=True
                )
            elif op == "close" and case.status == Status.RESOLVED:
                services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=system_agent)
            elif op == "confirm" and case.status == Status.RESOLVED:
                timer = AutoClose.objects.filter(case=case, state="pending").first()
                if timer is None:
                    continue
                from cases.closure import links

                stamp = links.confirm_token(timer.pk, timer.resolved_at)
                _, at = links.read_confirm(stamp)
                closure_services.confirm(auto_close_id=timer.pk, stamp=at, solved=rng.random() < 0.5)
            elif op == "survey":
                closure = Closure.objects.filter(case=case, csat__isnull=True).first()
                if closure:
                    Closure.objects.filter(pk=closure.pk).update(survey_sent_at=timezone.now())
                    answer = closure_services.Answer(
                        csat=rng.randint(1, 5), nps=rng.choice([None, *range(11)]), comment=""
                    )
                    from cases.closure import links

                    _, at = links.read_survey(links.survey_token(closure.pk, closure.closed_at))
                    closure_services.survey_answer(closure_id=closure.pk, stamp=at, answer=answer)
            elif op == "sweep":
                with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=8)):
                    sweep.auto_close_sweep()
        except services.CaseError:
            pass
    assert AutoClose.objects.exists()
    today = timezone.localdate()
    for segment in ("", Segment.ENTERPRISE, Segment.SMB):
        f = Filters(date_from=today - timedelta(days=27), date_to=today, tz=UTC, segment=segment)
        assert verify.differences(manager, f) == []
        assert verify.differences(agent, f) == []  # tenant A only
    call_command("reports_verify", user="mona")


@pytest.mark.django_db
def test_reports_verify_fails_on_a_wrong_number(tenant_a, manager, monkeypatch):
    CaseFactory(tenant=tenant_a)
    real = verify.recompute

    def off_by_one(user, f):
        numbers = real(user, f)
        numbers["created"] += 1
        return numbers

    monkeypatch.setattr(verify, "recompute", off_by_one)
    with pytest.raises(CommandError, match="differ"):
        call_command("reports_verify", user="mona")
