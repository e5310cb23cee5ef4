"""Reads behind the SLA pages: the case page's clock panel (`clock_panel`, `clock_rows`, `explain`), the policy
page's preview (`preview`, `clocks_moved_by`, `open_cases_on`) and history (`policy_history`), the
policies list (`policy_rows`), the rules page (`rules_in_order`, `shadowed_rules`, `tenant_lookup`),
the calendars and the lookups the admin views need. Writes live in cases.sla.services, the clock
rules in cases.sla.clocks; the dashboard's read model is cases.sla.reports.

"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from companyos.db import PreparedQuery
from companyos.timefmt import duration
from tenants.choices import Segment, SupportTier
from tenants.models import Tenant
from tenants.selectors import tenant_visible_to

from ..choices import OPEN_STATUSES, Priority
from ..models import BusinessCalendar, Case, SLAClock, SLAPolicy, SLAPolicyRule, Team
from . import calendar as sla
from .clocks import case_calendar, clock_calendar, describe_target, policy_for_tenant, target_for, target_source

Kind = SLAClock.Kind
State = SLAClock.State
ZERO = timedelta(0)


# --- the case page's clocks -------------------------------------------------------------------------------


def explain(case: Case, clock: SLAClock, now: datetime | None = None) -> str:
    """Why the clock is due when it is, in plain language."""
    now = now or timezone.now()
    snapshot = case.sla_snapshot or {}
    cal_name = (snapshot.get("calendar") or {}).get("name")
    source = target_source(case, clock.kind) if clock.kind == Kind.FIRST_RESPONSE else ""
    parts = [
        describe_target(clock.target, clock.business)
        + (f" on {cal_name} hours" if clock.business and cal_name else "")
        + (f" ({source} of the policy)" if source else "")
    ]
    if clock.kind == Kind.RESOLUTION and clock.window > 1:
        parts.append(f"window {clock.window}, opened by a reopen")
    if clock.paused_total > ZERO or clock.state == State.PAUSED:
        paused = clock.paused_total + (
            (now - clock.paused_at) if clock.state == State.PAUSED and clock.paused_at else ZERO
        )
        parts.append(f"paused {duration(paused)} while waiting on customer")
    cal = clock_calendar(case, clock)
    if cal is not None:
        end = clock.stopped_at or clock.due_at or now
        parts.extend(sla.explain_calendar_skips(clock.started_at, end, cal))
    parts.append(f"policy {snapshot.get('name', '—')} v{snapshot.get('version', '—')}")
    return "; ".join(parts)


# The case's clocks, compiled once per thread (companyos.db.PreparedQuery): on every case page and poll.
_CLOCKS = PreparedQuery(
    lambda case_id: SLAClock.objects.filter(case_id=case_id).order_by("kind", "window"), case_id=-7340029
)


def clock_rows(case: Case, now: datetime | None = None) -> list[dict]:
    """The case page's SLA panel: every clock with target, due, elapsed, paused, state, explanation."""
    now = now or timezone.now()
    rows = []
    for clock in _CLOCKS.rows(case_id=case.pk):
        cal = clock_calendar(case, clock)
        rows.append(
            {
                "clock": clock,
                "status": clock.status_at(now),
                "elapsed": clock.elapsed_at(now, cal),
                "left": (clock.due_at - now) if clock.due_at else None,
                "paused": clock.paused_total
                + ((now - clock.paused_at) if clock.state == State.PAUSED and clock.paused_at else ZERO),
                "why": explain(case, clock, now),
            }
        )
    order = {Kind.FIRST_RESPONSE: 0, Kind.ACKNOWLEDGE: 1, Kind.RESOLUTION: 2, Kind.MITIGATE: 3, Kind.UPDATE: 4}
    rows.sort(key=lambda r: (order[r["clock"].kind], -r["clock"].window))
    return rows


# How urgent a clock on the panel is: breached and at risk first, then running, then paused.
_URGENCY = {"breached": 0, "at_risk": 1, "running": 2, "paused": 3}


def clock_panel(case: Case, now: datetime | None = None) -> dict:
    """The case page's SLA panel: `current`, the clocks still counting (running or paused), most
    urgent first and soonest due within that, and `history`, the windows that ended (met, missed,
    stopped), latest first. Rows as `clock_rows`."""
    current, history = [], []
    for row in clock_rows(case, now):
        (history if row["clock"].state == State.STOPPED else current).append(row)
    far = datetime.max.replace(tzinfo=timezone.get_current_timezone())
    current.sort(key=lambda r: (_URGENCY.get(r["status"], 2), r["clock"].due_at or far))
    history.sort(key=lambda r: r["clock"].stopped_at or r["clock"].started_at, reverse=True)
    return {"current": current, "history": history}


def preview(policy: SLAPolicy, *, tenant, priority: int, opened_at: datetime, channel: str = "email") -> dict:
    """ "A <priority> case for <tenant> opened at <time> on <channel>": first response and resolution
    due times, computed with the policy as it stands (resolution assumes the case is triaged at once)."""
    case = Case(
        tenant=tenant,
        priority=priority,
        channel=channel,
        created_at=opened_at,
        sla_snapshot=policy.snapshot(opened_at),
    )
    out = {}
    for kind in (Kind.FIRST_RESPONSE, Kind.RESOLUTION, Kind.UPDATE):
        target = target_for(case, kind)
        if target is None:
            out[kind] = None
            continue
        duration, business = target
        cal = case_calendar(case) if business else None
        due = sla.add(opened_at, duration, cal)
        source = target_source(case, kind)
        out[kind] = {
            "target": describe_target(duration, business) + (f" ({source})" if source else ""),
            "due": due,
            "skips": sla.explain_calendar_skips(opened_at, due, cal) if cal else [],
        }
    return out


def clocks_moved_by(policy: SLAPolicy) -> int:
    """How many running or paused clocks a re-apply of `policy` (as it stands, saved or not) would
    re-target: a different target, or business time on a different calendar version."""
    if policy.pk is None:
        return 0
    calendar_version = f"{policy.calendar_id}:{policy.calendar.updated_at.isoformat()}" if policy.calendar_id else None
    moved = 0
    qs = SLAClock.objects.filter(case__sla_policy=policy, case__status__in=OPEN_STATUSES).exclude(state=State.STOPPED)
    rows = qs.values(
        "kind",
        "target",
        "business",
        "case__priority",
        "case__channel",
        "case__severity",
        "case__sla_snapshot__calendar__key",
    )
    for row in rows:
        if row["kind"] in (Kind.ACKNOWLEDGE, Kind.MITIGATE):  # keyed on the case's severity
            stored = ((policy.severity_targets or {}).get(row["case__severity"]) or {}).get(row["kind"])
            wanted = (timedelta(minutes=stored["minutes"]), bool(stored["business"])) if stored else None
        else:
            wanted = policy.target(Priority(row["case__priority"]).slug, row["kind"], row["case__channel"])
        snapshot_version = (row["case__sla_snapshot__calendar__key"] or "").rsplit(":", 1)[0] or None
        if (
            wanted is None
            or wanted != (row["target"], row["business"])
            or (row["business"] and snapshot_version != calendar_version)
        ):
            moved += 1
    return moved


# --- policies ---------------------------------------------------------------------------------------------


def policy_get(pk: int, *, related=("calendar", "escalation_team")) -> SLAPolicy:
    """The policy `pk` with its calendar (404 when there is none)."""
    return get_object_or_404(SLAPolicy.objects.select_related(*related), pk=pk)


def policies_by_name() -> dict[str, SLAPolicy]:
    return {p.name: p for p in SLAPolicy.objects.only("pk", "name", "version", "preset")}


def open_cases_on(policy: SLAPolicy) -> int:
    return Case.objects.filter(sla_policy=policy, status__in=OPEN_STATUSES).count()


def policy_rules(policy: SLAPolicy) -> list[SLAPolicyRule]:
    return list(policy.rules.order_by("position", "id"))


def policy_overrides(policy: SLAPolicy, limit: int = 10) -> list[Tenant]:
    return list(policy.tenant_overrides.order_by("name")[:limit])


def policy_history(policy: SLAPolicy | None, limit: int = 8) -> list[LogEntry]:
    """The policy's recent audit entries, one line each: "created", "v2 → v3: targets, calendar"."""
    if policy is None or policy.pk is None:
        return []
    entries = list(
        LogEntry.objects.get_for_object(policy)
        .exclude(action=LogEntry.Action.ACCESS)
        .select_related("actor")
        .order_by("-timestamp", "-pk")[:limit]
    )
    for entry in entries:
        changes = entry.changes_dict or {}
        if entry.action == LogEntry.Action.CREATE:
            entry.summary = f"created v{(changes.get('version') or [None, '1'])[1]}"
        elif entry.action == LogEntry.Action.DELETE:
            entry.summary = "deleted"
        else:
            fields = [
                SLAPolicy._meta.get_field(name).verbose_name
                if name in {f.name for f in SLAPolicy._meta.fields}
                else name
                for name in changes
                if name not in ("version", "updated_at")
            ]
            version = changes.get("version")
            entry.summary = (f"v{version[0]} → v{version[1]}" if version else "changed") + (
                f": {', '.join(map(str, fields))}" if fields else ""
            )
    return entries


def default_preview_tenant(policy: SLAPolicy | None) -> Tenant | None:
    """The tenant the preview starts on: one that gets `policy`, else the first by name."""
    tenant = tenants_on_policy(policy).first() if policy and policy.pk else None
    return tenant or Tenant.objects.order_by("name").first()


def preview_tenant_options(selected: Tenant | None, limit: int) -> list[Tenant]:
    """The preview's tenant choices: the first `limit` by name, and the selected one if not among them."""
    tenants = list(Tenant.objects.order_by("name").only("pk", "name", "slug", "support_tier", "segment")[:limit])
    if selected is not None and selected.pk and all(t.pk != selected.pk for t in tenants):
        tenants.insert(0, selected)
    return tenants


def tenant_names(limit: int):
    return Tenant.objects.order_by("name").values_list("name", flat=True)[:limit]


# --- rules ------------------------------------------------------------------------------------------------


def rule_get(pk: int) -> SLAPolicyRule:
    return get_object_or_404(SLAPolicyRule.objects.select_related("policy"), pk=pk)


def tenant_lookup(query: str) -> dict | None:
    """The rules page's "which policy does this tenant get?": by slug, exact name, or the one tenant
    whose name or slug contains `query`; several or none found: {"query", "matches"}."""
    query = (query or "").strip()
    if not query:
        return None
    tenant = Tenant.objects.filter(slug=query).first() or Tenant.objects.filter(name__iexact=query).first()
    if tenant is None:
        matches = list(Tenant.objects.filter(Q(name__icontains=query) | Q(slug__icontains=query)).order_by("name")[:8])
        if len(matches) != 1:
            return {"query": query, "matches": matches}
        tenant = matches[0]
    return {"query": query, "tenant": tenant, **explain_tenant_policy(tenant)}


def rules_in_order():
    return list(SLAPolicyRule.objects.select_related("policy").order_by("position", "id"))


def policy_by_profile(rules) -> dict[tuple[str, str], SLAPolicyRule | None]:
    """For every (segment, support tier) a tenant can have: the first rule matching it (or None)."""
    out = {}
    for segment in Segment.values:
        for tier in SupportTier.values:
            out[(segment, tier)] = next(
                (
                    r
                    for r in rules
                    if (not r.segment or r.segment == segment) and (not r.support_tier or r.support_tier == tier)
                ),
                None,
            )
    return out


def shadowed_rules(rules) -> dict[int, SLAPolicyRule]:
    """Rules that can never match because an earlier rule already catches every tenant they would:
    {shadowed rule id: the earlier rule}."""
    out = {}
    for i, rule in enumerate(rules):
        for earlier in rules[:i]:
            if (not earlier.segment or earlier.segment == rule.segment) and (
                not earlier.support_tier or earlier.support_tier == rule.support_tier
            ):
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
    for tenant in (
        Tenant.objects.filter(sla_policy__isnull=False).order_by("name").only("pk", "name", "slug", "sla_policy_id")
    ):
        row = rows.get(tenant.sla_policy_id)
        if row:
            row.override_count += 1
            if len(row.overrides) < override_names:
                row.overrides.append(tenant)
    for item in (
        Tenant.objects.filter(sla_policy__isnull=True).values("segment", "support_tier").annotate(n=Count("id"))
    ):
        rule = by_profile.get((item["segment"], item["support_tier"]))
        if rule is not None:
            rows[rule.policy_id].tenants_by_rule += item["n"]
    for item in (
        Case.objects.filter(status__in=OPEN_STATUSES, sla_policy__isnull=False)
        .values("sla_policy")
        .annotate(n=Count("id"))
    ):
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
    profiles = [
        key for key, rule in policy_by_profile(rules).items() if rule is not None and rule.policy_id == policy.pk
    ]
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
    policy = policy_for_tenant(tenant)
    if tenant.sla_policy_id:
        return {"policy": policy, "by": "override", "rule": None}
    rules = rules_in_order() if rules is None else rules
    rule = next((r for r in rules if r.matches(tenant)), None)
    return {"policy": policy, "by": "rule" if rule else "none", "rule": rule}


# --- calendars --------------------------------------------------------------------------------------------


def calendar_get(pk: int) -> BusinessCalendar:
    return get_object_or_404(BusinessCalendar, pk=pk)


def calendars() -> list[BusinessCalendar]:
    return list(BusinessCalendar.objects.order_by("name"))


def calendars_with_policy_count() -> list[BusinessCalendar]:
    return list(BusinessCalendar.objects.annotate(policy_count=Count("policies")).order_by("name"))


def calendar_policies(calendar: BusinessCalendar) -> list[SLAPolicy]:
    return list(calendar.policies.order_by("name"))


# --- the dashboard's filter choices -----------------------------------------------------------------------


def dashboard_tenant_choices(user):
    return tenant_visible_to(user).only("pk", "name", "slug").order_by("name")


def teams():
    return Team.objects.all()
