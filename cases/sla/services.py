"""Writes behind the admins' SLA pages: policies, calendars, selection rules, presets and the explicit
re-apply. Their reads are in cases.sla.selectors.

Every write is one atomic call taking `actor`; django-auditlog records the change (the request's
AuditlogMiddleware supplies actor and address; outside a request, wrap the call in auditlog's
`set_actor`). A policy's `version` goes up on every change to it, and on every change to the
calendar it counts business time on, because either changes what its targets mean. Saving never
moves running clocks (cases keep their snapshot); `policy_reapply` does, case by case, each with an
audited timeline entry.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import services as case_services
from ..choices import OPEN_STATUSES
from ..models import BusinessCalendar, Case, SLAPolicy, SLAPolicyRule
from . import clocks, selectors
from .models import CLOCK_KINDS, PRIORITY_SLUGS, SEVERITY_CLOCK_KINDS, SEVERITY_SLUGS

POLICY_FIELDS = (
    "name",
    "description",
    "calendar",
    "targets",
    "channel_targets",
    "severity_targets",
    "at_risk_percent",
    "escalation",
    "escalation_team",
    "notify_business_hours_only",
    "auto_close_days",
    "root_cause_stops_resolution",
)
CALENDAR_FIELDS = (
    "name",
    "timezone",
    "weekly_hours",
    "holiday_country",
    "holiday_subdivision",
    "closures",
    "extra_days",
)


class SLAConfigError(Exception):
    """A change to the SLA configuration that cannot be made; the message says why."""


class PolicyConflict(SLAConfigError):
    def __init__(self, current_version: int, expected_version: int):
        self.current_version = current_version
        super().__init__(
            f"Someone saved version {current_version} of this policy "
            f"while you were editing version {expected_version}. "
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


def _semantic_channel_targets(channel_targets: dict | None) -> dict:
    return {
        (channel, priority): (float(row["minutes"]), bool(row["business"]))
        for channel, rows in (channel_targets or {}).items()
        for priority, row in (rows or {}).items()
        if row
    }


def _semantic_severity_targets(severity_targets: dict | None) -> dict:
    out = {}
    for severity in SEVERITY_SLUGS:
        for kind in SEVERITY_CLOCK_KINDS:
            row = ((severity_targets or {}).get(severity) or {}).get(kind)
            out[(severity, kind)] = (float(row["minutes"]), bool(row["business"])) if row else None
    return out


def _same(a, b, name: str = "") -> bool:
    if name == "targets":
        return _semantic_targets(a) == _semantic_targets(b)
    if name == "channel_targets":
        return _semantic_channel_targets(a) == _semantic_channel_targets(b)
    if name == "severity_targets":
        return _semantic_severity_targets(a) == _semantic_severity_targets(b)
    if hasattr(a, "pk") or hasattr(b, "pk"):
        return getattr(a, "pk", None) == getattr(b, "pk", None)
    return a == b


@transaction.atomic
def policy_create(
    *,
    actor,
    name: str,
    targets: dict,
    channel_targets: dict | None = None,
    severity_targets: dict | None = None,
    calendar: BusinessCalendar | None = None,
    description: str = "",
    at_risk_percent: int = 80,
    escalation: str = SLAPolicy.Escalation.NOTIFY,
    escalation_team=None,
    notify_business_hours_only: bool = False,
    auto_close_days: int = 7,
    root_cause_stops_resolution: bool = False,
    preset: str = "",
) -> SLAPolicy:
    policy = SLAPolicy(
        name=name,
        description=description,
        calendar=calendar,
        targets=targets,
        channel_targets=channel_targets or {},
        severity_targets=severity_targets or {},
        at_risk_percent=at_risk_percent,
        escalation=escalation,
        escalation_team=escalation_team,
        notify_business_hours_only=notify_business_hours_only,
        auto_close_days=auto_close_days,
        root_cause_stops_resolution=root_cause_stops_resolution,
        preset=preset,
        version=1,
    )
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
def policy_load_preset(
    *, actor, preset: str, column: str, name: str, calendar: BusinessCalendar | None
) -> tuple[SLAPolicy, bool]:
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
    moved = selectors.clocks_moved_by(policy)
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
def rule_update(
    *, rule_id: int, actor, position: int, policy: SLAPolicy, segment: str = "", support_tier: str = ""
) -> SLAPolicyRule:
    rule = SLAPolicyRule.objects.select_for_update().get(pk=rule_id)
    rule.position, rule.policy, rule.segment, rule.support_tier = position, policy, segment or "", support_tier or ""
    _rule_clean(rule)
    rule.save()
    return rule


@transaction.atomic
def rule_delete(*, rule_id: int, actor) -> None:
    SLAPolicyRule.objects.select_for_update().get(pk=rule_id).delete()
