"""Writes (and the few reads) behind the admins' SLA pages: policies, calendars, selection rules,
presets and the explicit re-apply.

Every write is one atomic call taking `actor`; django-auditlog records the change (the request's
AuditlogMiddleware supplies actor and address; outside a request, wrap the call in auditlog's
`set_actor`). A policy's `version` goes up on every change to it, and on every change to the
calendar it counts business time on, because either changes what its targets mean. Saving never
moves running clocks (cases keep their snapshot); `policy_reapply` does, case by case, each with an
audited timeline entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q

from tenants.choices import Segment, SupportTier
from tenants.models import Tenant

from .. import services as case_services
from ..choices import OPEN_STATUSES
from ..models import BusinessCalendar, Case, SLAPolicy, SLAPolicyRule
from . import clocks
from .models import CLOCK_KINDS, PRIORITY_SLUGS

POLICY_FIELDS = ("name", "description", "calendar", "targets", "at_risk_percent", "escalation", "escalation_team",
                 "notify_business_hours_only")
CALENDAR_FIELDS = ("name", "timezone", "weekly_hours", "holiday_country", "holiday_subdivision", "closures", "extra_days")


class SLAConfigError(Exception):
    """A change to the SLA configuration that cannot be made; the message says why."""


class PolicyConflict(SLAConfigError):
    def __init__(self, current_version: int, expected_version: int):
        self.current_version = current_version
        super().__init__(
            f"Someone saved version {current_version} of this policy while you were editing version {expected_version}. "
            "Your changes are still in the form: check them against the current policy and save again to replace it."
        )


# --- policies -------------------------------------------------------------------------------------------


def _semantic_targets(targets: dict | None) -> dict:
    """Targets without display hints (the unit an admin typed): what the clocks read."""
    out = {}
    for priority in PRIORITY_SLUGS:
        for kind in CLOCK_KINDS:
            row = ((targets or {}).get(priority) or {}).get(kind)
            out[(priority, kind)] = (float(row["minutes"]), bool(row["business"])) if row else None
    return out


def _same(a, b, name: str = "") -> bool:
    if name == "targets":
        return _semantic_targets(a) == _semantic_targets(b)
    if hasattr(a, "pk") or hasattr(b, "pk"):
        return getattr(a, "pk", None) == getattr(b, "pk", None)
    return a == b


@transaction.atomic
def policy_create(*, actor, name: str, targets: dict, calendar: BusinessCalendar | None = None, description: str = "",
                  at_risk_percent: int = 80, escalation: str = SLAPolicy.Escalation.NOTIFY, escalation_team=None,
                  notify_business_hours_only: bool = False, preset: str = "") -> SLAPolicy:
    policy = SLAPolicy(name=name, description=description, calendar=calendar, targets=targets, at_risk_percent=at_risk_percent,
                       escalation=escalation, escalation_team=escalation_team, notify_business_hours_only=notify_business_hours_only,
                       preset=preset, version=1)
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def policy_update(*, policy_id: int, actor, expected_version: int | None = None, **changes) -> tuple[SLAPolicy, bool]:
    """Apply `changes` (any of POLICY_FIELDS) to the policy, under a row lock. Returns the policy and
    whether anything changed; a change bumps `version`. `expected_version` guards against saving
    over someone else's edit made meanwhile (PolicyConflict)."""
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"not policy fields: {', '.join(sorted(unknown))}")
    policy = SLAPolicy.objects.select_for_update().get(pk=policy_id)
    if expected_version is not None and policy.version != expected_version:
        raise PolicyConflict(policy.version, expected_version)
    changed = [name for name, value in changes.items() if not _same(getattr(policy, name), value, name)]
    if not changed:
        return policy, False
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.version += 1
    policy.full_clean()
    policy.save()
    return policy, True


@transaction.atomic
def policy_load_preset(*, actor, preset: str, column: str, name: str, calendar: BusinessCalendar | None) -> tuple[SLAPolicy, bool]:
    """One click: a policy named `name` from one column of a seed's table (clocks.load_preset). An
    existing policy of that name is refreshed (its version goes up). Returns (policy, created)."""
    existed = SLAPolicy.objects.select_for_update().filter(name=name).exists()
    try:
        policy = clocks.load_preset(preset=preset, column=column, name=name, calendar=calendar)
    except ValueError as error:
        raise SLAConfigError(str(error)) from None
    return policy, not existed


def policy_reapply(*, policy_id: int, actor) -> tuple[int, int]:
    """The explicit re-apply: every open case on the policy takes its current version, each in its
    own locked transaction with a timeline entry (reapply_to_open_cases). Returns (cases
    re-applied, clocks that moved)."""
    policy = SLAPolicy.objects.select_related("calendar").get(pk=policy_id)
    moved = clocks.clocks_moved_by(policy)
    cases = reapply_to_open_cases(policy, actor=actor)
    return cases, moved


def reapply_to_open_cases(policy: SLAPolicy, *, actor) -> int:
    """Every open case on the policy takes its current version, one `case_reapply_policy` call (own
    lock, transaction, version bump and audited timeline entry) per case. Returns the count."""
    count = 0
    for case_id in Case.objects.filter(sla_policy=policy, status__in=OPEN_STATUSES).values_list("pk", flat=True):
        case_services.case_reapply_policy(case_id=case_id, policy=policy, actor=actor)
        count += 1
    return count


# --- calendars -------------------------------------------------------------------------------------------


def _bump_policies_on(calendar: BusinessCalendar) -> int:
    ids = list(SLAPolicy.objects.select_for_update().filter(calendar=calendar).values_list("pk", flat=True))
    for policy in SLAPolicy.objects.filter(pk__in=ids):
        # Saved one by one so the audit log records each version change.
        policy.version += 1
        policy.save(update_fields=["version", "updated_at"])
    return len(ids)


@transaction.atomic
def calendar_create(*, actor, **fields) -> BusinessCalendar:
    calendar = BusinessCalendar(**{name: fields[name] for name in CALENDAR_FIELDS if name in fields})
    calendar.full_clean()
    calendar.save()
    return calendar


@transaction.atomic
def calendar_update(*, calendar_id: int, actor, **changes) -> tuple[BusinessCalendar, bool, int]:
    """Apply `changes` (any of CALENDAR_FIELDS). Returns (calendar, changed, policies whose version
    went up because they count business time on it)."""
    unknown = set(changes) - set(CALENDAR_FIELDS)
    if unknown:
        raise TypeError(f"not calendar fields: {', '.join(sorted(unknown))}")
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar_id)
    changed = [name for name, value in changes.items() if getattr(calendar, name) != value]
    if not changed:
        return calendar, False, 0
    for name in changed:
        setattr(calendar, name, changes[name])
    calendar.full_clean()
    calendar.save()
    return calendar, True, _bump_policies_on(calendar)


# --- rules ---------------------------------------------------------------------------------------------


def _rule_clean(rule: SLAPolicyRule) -> None:
    try:
        rule.full_clean()
    except ValidationError as error:
        raise SLAConfigError(" ".join(error.messages)) from None


@transaction.atomic
def rule_create(*, actor, position: int, policy: SLAPolicy, segment: str = "", support_tier: str = "") -> SLAPolicyRule:
    rule = SLAPolicyRule(position=position, policy=policy, segment=segment or "", support_tier=support_tier or "")
    _rule_clean(rule)
    rule.save()
    return rule


@transaction.atomic
def rule_update(*, rule_id: int, actor, position: int, policy: SLAPolicy, segment: str = "", support_tier: str = "") -> SLAPolicyRule:
    rule = SLAPolicyRule.objects.select_for_update().get(pk=rule_id)
    rule.position, rule.policy, rule.segment, rule.support_tier = position, policy, segment or "", support_tier or ""
    _rule_clean(rule)
    rule.save()
    return rule


@transaction.atomic
def rule_delete(*, rule_id: int, actor) -> None:
    SLAPolicyRule.objects.select_for_update().get(pk=rule_id).delete()


# --- reads for the pages (selectors) ---------------------------------------------------------------------


def rules_in_order():
    return list(SLAPolicyRule.objects.select_related("policy").order_by("position", "id"))


def policy_by_profile(rules) -> dict[tuple[str, str], SLAPolicyRule | None]:
    """For every (segment, support tier) a tenant can have: the first rule matching it (or None)."""
    out = {}
    for segment in Segment.values:
        for tier in SupportTier.values:
            out[(segment, tier)] = next((r for r in rules if (not r.segment or r.segment == segment)
                                         and (not r.support_tier or r.support_tier == tier)), None)
    return out


def shadowed_rules(rules) -> dict[int, SLAPolicyRule]:
    """Rules that can never match because an earlier rule already catches every tenant they would:
    {shadowed rule id: the earlier rule}."""
    out = {}
    for i, rule in enumerate(rules):
        for earlier in rules[:i]:
            if (not earlier.segment or earlier.segment == rule.segment) and (not earlier.support_tier or earlier.support_tier == rule.support_tier):
                out[rule.pk] = earlier
                break
    return out


@dataclass
class PolicyRow:
    policy: SLAPolicy
    rules: list = field(default_factory=list)
    overrides: list = field(default_factory=list)
    override_count: int = 0
    tenants_by_rule: int = 0
    open_cases: int = 0
    problems: list = field(default_factory=list)


def policy_rows(override_names: int = 5) -> list[PolicyRow]:
    """The policies list: each policy with the rules selecting it, the tenants overriding to it,
    how many tenants its rules give it, and how many open cases run on it. A fixed number of queries
    however many policies, rules, tenants and cases there are."""
    policies = list(SLAPolicy.objects.select_related("calendar", "escalation_team").order_by("name"))
    rows = {p.pk: PolicyRow(policy=p) for p in policies}
    rules = rules_in_order()
    for rule in rules:
        rows[rule.policy_id].rules.append(rule)
    by_profile = policy_by_profile(rules)
    for tenant in Tenant.objects.filter(sla_policy__isnull=False).order_by("name").only("pk", "name", "slug", "sla_policy_id"):
        row = rows.get(tenant.sla_policy_id)
        if row:
            row.override_count += 1
            if len(row.overrides) < override_names:
                row.overrides.append(tenant)
    for item in Tenant.objects.filter(sla_policy__isnull=True).values("segment", "support_tier").annotate(n=Count("id")):
        rule = by_profile.get((item["segment"], item["support_tier"]))
        if rule is not None:
            rows[rule.policy_id].tenants_by_rule += item["n"]
    for item in Case.objects.filter(status__in=OPEN_STATUSES, sla_policy__isnull=False).values("sla_policy").annotate(n=Count("id")):
        if item["sla_policy"] in rows:
            rows[item["sla_policy"]].open_cases = item["n"]
    for row in rows.values():
        try:
            row.policy.clean()
        except ValidationError as error:
            row.problems = error.messages
    return [rows[p.pk] for p in policies]


def tenants_on_policy(policy: SLAPolicy | None, rules=None):
    """Tenants that get `policy`: by their own override, or by the rules when they have none."""
    if policy is None or policy.pk is None:
        return Tenant.objects.none()
    rules = rules_in_order() if rules is None else rules
    profiles = [key for key, rule in policy_by_profile(rules).items() if rule is not None and rule.policy_id == policy.pk]
    by_rule = Q()
    for segment, tier in profiles:
        by_rule |= Q(segment=segment, support_tier=tier)
    query = Q(sla_policy=policy)
    if profiles:
        query |= Q(sla_policy__isnull=True) & by_rule
    return Tenant.objects.filter(query).order_by("name")


def explain_tenant_policy(tenant: Tenant, rules=None) -> dict:
    """Which policy a tenant gets (clocks.policy_for_tenant) and why: its own override, or the first
    matching rule, or nothing."""
    policy = clocks.policy_for_tenant(tenant)
    if tenant.sla_policy_id:
        return {"policy": policy, "by": "override", "rule": None}
    rules = rules_in_order() if rules is None else rules
    rule = next((r for r in rules if r.matches(tenant)), None)
    return {"policy": policy, "by": "rule" if rule else "none", "rule": rule}
