"""The admins' SLA configuration pages (/sla/policies/, /sla/rules/, /sla/calendars/): thin views that
parse a form, call one service in cases.sla.services, and render what cases.sla.selectors reads.
Admins only; anyone else gets 403 (and the attempt is audited).

The policy page previews an unsaved policy built from the form (selectors.preview) and says how many
running clocks a re-apply would move (selectors.clocks_moved_by); saving never moves them.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from companyos import audit
from companyos.access import audit_exempt, audited_read, audited_write
from companyos.htmx import htmx_partial, partial
from companyos.roles import admin_required
from companyos.timefmt import duration
from tenants.models import Tenant

from ...models import BusinessCalendar, SLAClock, SLAPolicy, SLAPolicyRule
from .. import calendar as sla
from .. import selectors
from .. import services as sla_services
from ..forms import (
    CalendarForm,
    PolicyForm,
    PresetLoadForm,
    PreviewForm,
    RuleForm,
    hours_per_day_of,
    hours_text,
    preset_policy_name,
    preset_uses_business_time,
    upcoming_days,
)
from ..presets import DEFAULT_PRESET, PRESETS

PREVIEW_TENANT_OPTIONS = 300


def admin_only(model):
    """The SLA pages' wording of companyos.roles.admin_required (403 and an audited denial)."""
    return admin_required(model, reason="SLA configuration is for admins", message="SLA configuration is for admins.")


def _posted_pk(request, name: str) -> int | None:
    """An id posted in a form field: None when absent, 404 when it is not a number."""
    value = request.POST.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise Http404(f"No such {name}.")
    return int(value)


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


# --- policies ---------------------------------------------------------------------------------------------


def _preset_groups() -> list[dict]:
    existing = selectors.policies_by_name()
    groups = []
    for key, preset in PRESETS.items():
        columns = []
        for column, col in preset["columns"].items():
            name = preset_policy_name(key, column)
            columns.append(
                {
                    "value": f"{key}:{column}",
                    "name": col["name"],
                    "policy_name": name,
                    "existing": existing.get(name),
                    "business": preset_uses_business_time(key, column),
                }
            )
        flags = {
            t.business
            for col in preset["columns"].values()
            for row in col["targets"].values()
            for t in row.values()
            if t is not None
        }
        groups.append(
            {
                "key": key,
                "name": preset["name"],
                "description": preset["description"],
                "default": key == DEFAULT_PRESET,
                "single": len(columns) == 1,
                "columns": columns,
                "business": True in flags,
                "calendar_time": False in flags,
            }
        )
    return groups


def _list_context(preset_form=None) -> dict:
    rows = selectors.policy_rows()
    audit.log_list_access(SLAPolicy, [row.policy.pk for row in rows], view="sla policies")
    # Always written (an empty list too), so the page's query count does not depend on the data.
    overriding = [tenant.pk for row in rows for tenant in row.overrides]
    audit.log_list_access(Tenant, overriding, view="sla policies: tenant overrides")
    for row in rows:
        row.preset_label = row.policy.preset_label
    calendars = selectors.calendars()
    return {
        "rows": rows,
        "presets": _preset_groups(),
        "calendars": calendars,
        "section": "policies",
        "preset_form": preset_form or PresetLoadForm(initial={"calendar": calendars[0].pk if calendars else None}),
    }


@audited_read(SLAPolicy, view="sla policies")
@admin_only(SLAPolicy)
@require_GET
@vary_on_headers("HX-Request")
def policy_list(request):
    return render(request, partial(request, "cases/sla_admin/policy_list.html", "policies"), _list_context())


@audited_write(SLAPolicy, view="sla policy preset")
@admin_only(SLAPolicy)
@require_POST
def policy_load_preset(request):
    form = PresetLoadForm(request.POST)
    if not form.is_valid():
        return render(request, "cases/sla_admin/policy_list.html", _list_context(form), status=422)
    data = form.cleaned_data
    name = preset_policy_name(data["preset_key"], data["column"])
    try:
        policy, created = sla_services.policy_load_preset(
            actor=request.user, preset=data["preset_key"], column=data["column"], name=name, calendar=data["calendar"]
        )
    except sla_services.SLAConfigError as error:
        form.add_error(None, str(error))
        return render(request, "cases/sla_admin/policy_list.html", _list_context(form), status=422)
    on = f" on {data['calendar'].name}" if data["calendar"] else ""
    if created:
        messages.success(request, f"Loaded the preset as a new policy “{policy.name}” v{policy.version}{on}.")
    else:
        messages.success(
            request,
            f"Refreshed “{policy.name}” from its preset: now v{policy.version}{on}. Running clocks did not move.",
        )
    return redirect("sla:policy_edit", pk=policy.pk)


def _preview(request, form: PolicyForm, policy: SLAPolicy | None, data=None) -> dict:
    """The preview region: "a <priority> case for <tenant> opened at <time> → due …", computed on the
    policy as the form has it (unsaved), and how many running clocks a re-apply would move."""
    preview_form = PreviewForm(data, tenant_default=selectors.default_preview_tenant(policy))
    tenant, priority, opened_at = preview_form.values()
    context = {
        "preview_form": preview_form,
        "tenant_options": selectors.preview_tenant_options(tenant, PREVIEW_TENANT_OPTIONS),
        "policy": policy,
    }
    if tenant is not None and tenant.pk:
        audit.log_access(tenant, view="sla policy preview")
    else:
        ids = [t.pk for t in context["tenant_options"]]
        audit.log_list_access(Tenant, ids, view="sla policy preview: tenant choices")
    if form.is_bound:
        form.is_valid()
        if not form.preview_ready:
            context["preview"] = {"errors": form.grid_errors() or ["Complete the targets to see a preview."]}
            return context
        candidate = form.unsaved_policy(policy)
    elif policy is not None:
        candidate = policy
    else:
        context["preview"] = {"errors": ["Fill in the targets to see when a case would be due."]}
        return context
    try:
        result = selectors.preview(
            candidate,
            tenant=tenant or Tenant(name="a tenant"),
            priority=int(priority),
            opened_at=opened_at,
            channel=preview_form.channel(),
        )
    except (ValueError, sla.NoBusinessTime) as error:
        context["preview"] = {"errors": [f"No preview: {error}"]}
        return context
    rows = []
    for kind, label in SLAClock.Kind.choices:
        row = result.get(kind)
        rows.append(
            {
                "kind": kind,
                "label": label,
                "row": row,
                "after": duration(row["due"] - opened_at, rounding="nearest") if row else "",
            }
        )
    cal = candidate.calendar
    preview = {
        "rows": rows,
        "tenant": tenant,
        "priority": priority,
        "channel": preview_form.channel(),
        "channel_label": dict(PreviewForm.base_fields["preview_channel"].choices).get(preview_form.channel(), ""),
        "opened_at": opened_at,
        "calendar": cal,
        "calendar_tz_differs": cal is not None and cal.timezone != timezone.get_current_timezone_name(),
    }
    if tenant is not None and tenant.pk:
        preview["tenant_gets"] = selectors.explain_tenant_policy(tenant)
    if policy is not None and policy.pk:
        preview["moved"] = selectors.clocks_moved_by(candidate)
        preview["open_cases"] = selectors.open_cases_on(policy)
    context["preview"] = preview
    return context


def _edit_context(request, form: PolicyForm, policy: SLAPolicy | None, preview_data=None) -> dict:
    if policy is not None:
        audit.log_access(policy, view="sla policy")
    context = {
        "form": form,
        "policy": policy,
        "section": "policies",
        "history": selectors.policy_history(policy),
        "rules": selectors.policy_rules(policy) if policy else [],
        "overrides": selectors.policy_overrides(policy) if policy else [],
    }
    if context["overrides"]:
        audit.log_list_access(Tenant, [t.pk for t in context["overrides"]], view="sla policy: tenant overrides")
    if policy is not None:
        try:
            policy.clean()
        except ValidationError as error:
            context["incomplete"] = error.messages
    context.update(_preview(request, form, policy, preview_data))
    return context


@audited_write(SLAPolicy, view="sla policy")
@admin_only(SLAPolicy)
@require_http_methods(["GET", "POST"])
def policy_edit(request, pk: int | None = None):
    policy = selectors.policy_get(pk) if pk else None
    if request.method == "GET":
        form = PolicyForm(instance=policy or SLAPolicy())
        return render(request, "cases/sla_admin/policy_form.html", _edit_context(request, form, policy))
    form = PolicyForm(request.POST, instance=policy or SLAPolicy())
    conflict = False
    if form.is_valid():
        try:
            if policy is None:
                saved, changed = sla_services.policy_create(actor=request.user, **form.policy_fields()), True
            else:
                saved, changed = sla_services.policy_update(
                    policy_id=policy.pk,
                    actor=request.user,
                    expected_version=form.cleaned_data.get("version"),
                    **form.policy_fields(),
                )
        except sla_services.PolicyConflict as error:
            conflict = True  # 409, the form as typed kept, its version now the current one
            data = request.POST.copy()
            data["version"] = error.current_version
            form = PolicyForm(data, instance=selectors.policy_get(policy.pk, related=("calendar",)))
            form.is_valid()
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if policy is None:
                messages.success(request, f"Created “{saved.name}” v{saved.version}.")
            elif not changed:
                messages.info(request, f"No changes: “{saved.name}” stays at v{saved.version}.")
            else:
                moved = selectors.clocks_moved_by(saved)
                messages.success(
                    request,
                    f"Saved “{saved.name}” v{saved.version}. New cases use it; running clocks did not move"
                    + (f" ({_plural(moved, 'clock')} would move if you re-apply)." if moved else "."),
                )
            return redirect("sla:policy_edit", pk=saved.pk)
    current = selectors.policy_get(policy.pk, related=("calendar",)) if policy else None
    return render(
        request,
        "cases/sla_admin/policy_form.html",
        _edit_context(request, form, current, request.POST),
        status=409 if conflict else 422,
    )


@audited_read(SLAPolicy, view="sla policy preview")
@admin_only(SLAPolicy)
@require_POST
@vary_on_headers("HX-Request")
def policy_preview(request):
    """The preview of the edit form as it stands, unsaved: the preview region for HTMX, else the
    whole edit page (the "Update preview" button without JavaScript)."""
    policy_id = _posted_pk(request, "policy")
    policy = selectors.policy_get(policy_id, related=("calendar",)) if policy_id else None
    form = PolicyForm(
        request.POST, instance=selectors.policy_get(policy.pk, related=("calendar",)) if policy else SLAPolicy()
    )
    if htmx_partial(request):
        return render(
            request, "cases/sla_admin/policy_form.html#preview", _preview(request, form, policy, request.POST)
        )
    return render(request, "cases/sla_admin/policy_form.html", _edit_context(request, form, policy, request.POST))


@audited_write(SLAPolicy, view="sla policy re-apply")
@admin_only(SLAPolicy)
@require_http_methods(["GET", "POST"])
def policy_reapply(request, pk: int):
    """Re-apply the policy's current version to its open cases: a confirmation with the count first,
    then the service (each case re-targeted in its own transaction, with a timeline entry)."""
    policy = selectors.policy_get(pk, related=("calendar",))
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        cases, moved = sla_services.policy_reapply(policy_id=policy.pk, actor=request.user)
        messages.success(
            request,
            f"Re-applied “{policy.name}” v{policy.version} to {_plural(cases, 'open case')}: "
            f"{_plural(moved, 'clock')} moved; each case's timeline records it.",
        )
        url = reverse("sla:policy_edit", kwargs={"pk": policy.pk})
        if htmx_partial(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    audit.log_access(policy, view="sla policy: re-apply confirmation")
    context = {
        "policy": policy,
        "moved": selectors.clocks_moved_by(policy),
        "section": "policies",
        "open_cases": selectors.open_cases_on(policy),
    }
    return render(request, partial(request, "cases/sla_admin/policy_reapply.html", "dialog"), context)


# --- rules ------------------------------------------------------------------------------------------------


def _rules_context(request, *, form=None, edit_form=None, edit_id=None, delete_rule=None) -> dict:
    rules = selectors.rules_in_order()
    if edit_id is None and request.method == "GET" and request.GET.get("edit", "").isdigit():
        edit_id = int(request.GET["edit"])
        rule = next((r for r in rules if r.pk == edit_id), None)
        edit_form = RuleForm(instance=rule, prefix="edit", form_id="rule-edit") if rule else None
    if delete_rule is None and request.GET.get("delete", "").isdigit():
        delete_rule = next((r for r in rules if r.pk == int(request.GET["delete"])), None)
    next_position = (max((r.position for r in rules), default=0) // 10 + 1) * 10
    shadowed = selectors.shadowed_rules(rules)
    for rule in rules:
        rule.shadowed_by = shadowed.get(rule.pk)
    audit.log_list_access(SLAPolicyRule, [r.pk for r in rules], view="sla rules")
    lookup = selectors.tenant_lookup(request.GET.get("tenant", ""))
    if lookup and lookup.get("tenant") is not None:
        audit.log_access(lookup["tenant"], view="sla rules: tenant lookup", extra={"query": lookup["query"][:200]})
    elif lookup and lookup["matches"]:
        ids = [t.pk for t in lookup["matches"]]
        audit.log_list_access(Tenant, ids, view="sla rules: tenant lookup", query=lookup["query"])
    return {
        "rules": rules,
        "section": "rules",
        "form": form or RuleForm(initial={"position": next_position}),
        "edit_form": edit_form,
        "edit_id": edit_id if edit_form else None,
        "delete_rule": delete_rule,
        "catch_all": any(not r.segment and not r.support_tier for r in rules),
        "lookup": lookup,
        "tenant_query": request.GET.get("tenant", ""),
        "tenant_names": selectors.tenant_names(PREVIEW_TENANT_OPTIONS),
    }


@audited_write(SLAPolicyRule, view="sla rules")
@admin_only(SLAPolicyRule)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def rules(request):
    if request.method == "GET":
        context = _rules_context(request)
        if htmx_partial(request):
            target = request.headers.get("HX-Target")
            return render(
                request, f"cases/sla_admin/rules.html#{'lookup' if target == 'rule-lookup' else 'rules'}", context
            )
        return render(request, "cases/sla_admin/rules.html", context)
    action = request.POST.get("action", "save")
    rule_id = _posted_pk(request, "rule")
    rule = selectors.rule_get(rule_id) if rule_id else None
    if action == "delete":
        if rule is None:
            return HttpResponse("Which rule?", status=400)
        if request.POST.get("confirm") != "yes":
            context = _rules_context(request, delete_rule=rule)
            return render(request, partial(request, "cases/sla_admin/rules.html", "rules"), context)
        label = str(rule)
        sla_services.rule_delete(rule_id=rule.pk, actor=request.user)
        messages.success(request, f"Deleted rule {label}.")
        return redirect("sla:rules")
    prefix = "edit" if rule else None
    form = RuleForm(request.POST, instance=rule, prefix=prefix, form_id="rule-edit" if rule else None)
    if form.is_valid():
        data = form.cleaned_data
        fields = {
            "position": data["position"],
            "segment": data["segment"],
            "support_tier": data["support_tier"],
            "policy": data["policy"],
        }
        try:
            saved = (
                sla_services.rule_update(rule_id=rule.pk, actor=request.user, **fields)
                if rule
                else sla_services.rule_create(actor=request.user, **fields)
            )
        except sla_services.SLAConfigError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Saved rule {saved}.")
            return redirect("sla:rules")
    context = _rules_context(
        request, form=None if rule else form, edit_form=form if rule else None, edit_id=rule.pk if rule else None
    )
    return render(
        request,
        partial(request, "cases/sla_admin/rules.html", "rules"),
        context,
        status=200 if htmx_partial(request) else 422,
    )


# --- calendars --------------------------------------------------------------------------------------------


@audit_exempt(reason="business calendars hold no case or tenant data", model=BusinessCalendar)
@admin_only(BusinessCalendar)
@require_GET
def calendar_list(request):
    calendars = selectors.calendars_with_policy_count()
    for calendar in calendars:
        days = [d for d in upcoming_days(calendar) if d["effect"]]
        calendar.next_days = days[:3]
        hours = hours_per_day_of(calendar)
        calendar.hours_per_day = hours_text(hours) if hours else ""
    return render(request, "cases/sla_admin/calendar_list.html", {"calendars": calendars, "section": "calendars"})


def _calendar_context(form: CalendarForm, calendar: BusinessCalendar | None) -> dict:
    if form.is_bound:
        shown = BusinessCalendar(**form.calendar_fields()) if form.is_valid() else None
    else:
        shown = calendar
    policies = selectors.calendar_policies(calendar) if calendar else []
    return {
        "form": form,
        "calendar": calendar,
        "section": "calendars",
        "policies": policies,
        "upcoming": upcoming_days(shown) if shown is not None else None,
        "hours_per_day": hours_text(hours_per_day_of(shown)) if shown is not None and hours_per_day_of(shown) else None,
    }


@audit_exempt(reason="business calendars hold no case or tenant data", model=BusinessCalendar)
@admin_only(BusinessCalendar)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def calendar_edit(request, pk: int | None = None):
    calendar = selectors.calendar_get(pk) if pk else None
    if request.method == "GET":
        return render(
            request, "cases/sla_admin/calendar_form.html", _calendar_context(CalendarForm(instance=calendar), calendar)
        )
    form = CalendarForm(request.POST, instance=selectors.calendar_get(pk) if pk else BusinessCalendar())
    if request.POST.get("action") == "preview" and htmx_partial(request):
        return render(request, "cases/sla_admin/calendar_form.html#upcoming", _calendar_context(form, calendar))
    if form.is_valid():
        try:
            if calendar is None:
                saved = sla_services.calendar_create(actor=request.user, **form.calendar_fields())
                messages.success(request, f"Created calendar “{saved.name}”.")
            else:
                saved, changed, bumped = sla_services.calendar_update(
                    calendar_id=calendar.pk, actor=request.user, **form.calendar_fields()
                )
                if not changed:
                    messages.info(request, f"No changes to “{saved.name}”.")
                else:
                    messages.success(
                        request,
                        f"Saved calendar “{saved.name}”."
                        + (
                            f" {_plural(bumped, 'policy')} counting business time on it moved to a new version; "
                            "running clocks move only when a policy is re-applied."
                            if bumped
                            else ""
                        ),
                    )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("sla:calendar_edit", pk=saved.pk)
    return render(request, "cases/sla_admin/calendar_form.html", _calendar_context(form, calendar), status=422)
