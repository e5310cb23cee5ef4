"""One write path for the case row and its timeline: only cases/services.py writes `Case` or creates
an `Interaction`. An AST check over the non-test, non-migration source, so a second writer fails CI
before review. Demo and benchmark loaders are the named exception (they build back-dated worlds in
bulk): cases/demo.py today, the top-level demo/ package once it moves there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.choices import Priority, Status
from cases.models import Case, Interaction
from cases.sla import clocks
from companyos import roles
from tests.factories import RequesterFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ["cases", "companyos", "tenants", "incidents", "runbooks", "demo"]
ALLOWED = {"cases/services.py", "cases/demo.py"}
ALLOWED_PREFIXES = ("demo/",)
WRITES = {"create", "bulk_create", "get_or_create", "update_or_create", "update", "bulk_update", "delete"}
TIMELINE_WRITES = {"create", "bulk_create", "get_or_create", "update_or_create"}


def _chain(node) -> list[str]:
    """Names along an attribute/call chain, root first:
    Case.objects.filter(x).update -> [Case, objects, filter, update]."""
    names = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "Interaction":
            found.append(f"line {node.lineno}: Interaction(...)")
            continue
        if not isinstance(func, ast.Attribute):
            continue
        chain = _chain(func)
        method = chain[-1] if chain else ""
        if chain[:2] == ["Case", "objects"] and method in WRITES:
            found.append(f"line {node.lineno}: {'.'.join(chain)}")
        elif chain[:2] == ["Interaction", "objects"] and method in TIMELINE_WRITES:
            found.append(f"line {node.lineno}: {'.'.join(chain)}")
        elif "interactions" in chain[:-1] and method in TIMELINE_WRITES:
            found.append(f"line {node.lineno}: {'.'.join(chain)}")
        elif method == "save" and len(chain) == 2 and chain[0] in {"case", "self.case"}:
            found.append(f"line {node.lineno}: {'.'.join(chain)}(…)")
        elif method == "save" and chain[-2:-1] == ["case"]:
            found.append(f"line {node.lineno}: {'.'.join(chain)}(…)")
    return found


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")) if (ROOT / app).is_dir() else []:
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or rel in ALLOWED or rel.startswith(ALLOWED_PREFIXES):
                continue
            yield rel, path.read_text()


def test_only_the_case_services_write_the_case_row_or_the_timeline():
    offenders = {rel: found for rel, source in _sources() if (found := violations(source))}
    assert not offenders, (
        "Only cases/services.py writes Case rows and timeline entries (call a case service instead): "
        + "; ".join(f"{rel}: {', '.join(found)}" for rel, found in offenders.items())
    )


def test_the_check_catches_each_kind_of_write():
    samples = [
        "case.save(update_fields=['status'])",
        "Case.objects.create(subject='x')",
        "Case.objects.filter(pk=1).update(status='new')",
        "Case.objects.bulk_create([])",
        "Interaction.objects.create(case=case)",
        "Interaction.objects.bulk_create(rows)",
        "rows.append(Interaction(case_id=1))",
        "case.interactions.create(kind='note')",
        "self.case.save()",
    ]
    for sample in samples:
        assert violations(sample), sample
    assert not violations("Case.objects.filter(pk=1).first()\nclock.save()\nCase(tenant=t)\ncases.update({})")


# --- the write path at run time ------------------------------------------------------------------------


def _case_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{Case._meta.db_table}"')]


@pytest.mark.django_db
def test_a_transition_updates_the_case_row_once_with_its_sla_summary(tenant_a, agent):
    case = services.case_create(
        actor=agent, tenant=tenant_a, requester=RequesterFactory(tenant=tenant_a), subject="Webhooks delayed"
    )
    version = case.version
    with CaptureQueriesContext(connection) as ctx:
        services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=agent)
    assert len(_case_updates(ctx.captured_queries)) == 1
    case.refresh_from_db()
    assert case.version == version + 1
    assert case.sla_snapshot and case.sla_clock and case.sla_due_at  # the SLA summary went out in the same UPDATE


@pytest.mark.django_db
def test_reapply_is_a_service_that_bumps_the_version(tenant_a, agent):
    case = services.case_create(
        actor=agent,
        tenant=tenant_a,
        requester=RequesterFactory(tenant=tenant_a),
        subject="Slow exports",
        priority=Priority.HIGH,
    )
    assert case.sla_policy is not None  # the default policies apply to the test tenant
    before = Case.objects.get(pk=case.pk)
    with CaptureQueriesContext(connection) as ctx:
        services.case_reapply_policy(case_id=case.pk, policy=case.sla_policy, actor=roles.system_user())
    assert len(_case_updates(ctx.captured_queries)) == 1
    after = Case.objects.get(pk=case.pk)
    assert after.version == before.version + 1 and after.updated_at > before.updated_at
    entry = after.interactions.filter(kind=Interaction.Kind.AUTOMATION).get()
    assert (
        entry.body == "SLA policy re-applied"
        and "re-applied" in entry.data["sla"][0]
        and entry.actor == roles.system_user()
    )


@pytest.mark.django_db
def test_clock_rules_return_their_summary_and_save_no_case(tenant_a, agent):
    case = services.case_create(actor=agent, tenant=tenant_a, requester=RequesterFactory(tenant=tenant_a), subject="x")
    with CaptureQueriesContext(connection) as ctx:
        impact = clocks.on_transition(case, Status.NEW, Status.TRIAGE, case.created_at)
    assert not _case_updates(ctx.captured_queries)
    assert case.sla_snapshot and set(clocks.SUMMARY_FIELDS) <= set(impact.fields)


@pytest.mark.django_db
def test_system_timeline_rows_do_not_bump_the_version(case_a):
    before = Case.objects.get(pk=case_a.pk)
    services.record_system_entries(
        [{"case_id": case_a.pk, "body": "swept", "data": {"x": 1}, "created_at": timezone.now()}]
    )
    after = Case.objects.get(pk=case_a.pk)
    assert (after.version, after.updated_at) == (before.version, before.updated_at)
    entry = case_a.interactions.get(body="swept")
    assert entry.kind == Interaction.Kind.AUTOMATION and entry.actor == roles.system_user() and entry.data == {"x": 1}
