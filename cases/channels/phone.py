"""The phone channel (issue 11 point 5): logged calls and callbacks.

- A call is logged from the case page (direction, duration, summary) or as a new case on channel
  `phone`; the timeline entry is written by `cases.services.case_log_call`, which records what the
  tenant's plan says about phone support and seed 001's rule (phone for critical issues only).
  Neither refuses the call: the agent is warned on the form and the warning stays on the entry.
- A public reply on a phone case is given by phone: the change listener creates a `PhoneCallback`
  for the agent in the reply's transaction; the case page lists it until it is marked done. The
  "phone" reply sender does the same, idempotently, for the outbox relay.

Reads for the case page are here too (`callbacks_of`, `phone_rules`), scoped by the caller (the case
is already one the user may see).
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.db import transaction
from django.utils import timezone

from tenants.models import Requester, Tenant

from .. import services, triage
from ..choices import Priority
from ..errors import CaseError, NotPermitted
from ..models import Case, Interaction, PhoneCallback

Kind = Interaction.Kind
DIRECTIONS = [("inbound", "Customer called us"), ("outbound", "We called the customer")]


# --- callbacks -------------------------------------------------------------------------------------------


def on_change(interaction: Interaction) -> None:
    """A change listener: a public reply on a phone case becomes a callback the agent owes."""
    if interaction.kind != Kind.REPLY or not interaction.public or interaction.channel != "phone":
        return
    ensure_callback(interaction)


def ensure_callback(interaction: Interaction) -> PhoneCallback:
    case = interaction.case
    callback, _ = PhoneCallback.objects.get_or_create(
        reply=interaction,
        defaults={
            "case": case,
            "assigned_to_id": interaction.actor_id or case.owner_id,
            "created_at": interaction.created_at,
        },
    )
    return callback


def send_phone_reply(interaction: Interaction) -> str:
    """The "phone" reply sender: the reply is "sent" by calling back, so delivering it means the
    callback task exists (it normally does already: the change listener made it with the reply).
    Returns the outbox's external id, `callback:<id>`."""
    return f"callback:{ensure_callback(interaction).pk}"


def callback_done(*, callback_id: int, case_id: int, actor) -> PhoneCallback:
    """Mark a callback done (once: a second click changes nothing). The actor must see the case."""
    with transaction.atomic():
        callback = PhoneCallback.objects.select_for_update().filter(pk=callback_id, case_id=case_id).first()
        if callback is None:
            raise NotPermitted("That callback does not exist on this case.")
        if callback.done_at is None:
            callback.done_at, callback.done_by = timezone.now(), actor
            callback.save(update_fields=["done_at", "done_by"])
        return callback


def callbacks_of(case: Case) -> list[PhoneCallback]:
    """The case's callbacks, open first (oldest first), then the done ones."""
    return list(
        PhoneCallback.objects.filter(case=case)
        .select_related("reply", "assigned_to", "done_by")
        .order_by("done_at", "created_at", "id")
    )


# --- the rules, for the forms -------------------------------------------------------------------------------


def phone_rules(tenant: Tenant, priority: int | None) -> dict:
    """What the call form shows before the agent logs it: entitled or not, and seed 001's rule."""
    flags = triage.phone_flags(tenant.entitlements, priority=priority if priority is not None else Priority.CRITICAL)
    return {
        "entitled": not triage.entitlement_flags(tenant.entitlements, channel="phone"),
        "flags": flags,
        "rule": triage.PHONE_RULE,
    }


# --- forms --------------------------------------------------------------------------------------------------

W = {"class": "input"}


class CallForm(forms.Form):
    direction = forms.ChoiceField(choices=DIRECTIONS, initial="inbound", widget=forms.RadioSelect)
    minutes = forms.IntegerField(
        label="Duration (minutes)",
        min_value=0,
        max_value=24 * 60,
        initial=5,
        error_messages={
            "min_value": "A call lasts 0 minutes or more.",
            "max_value": "A call lasts at most 24 hours (1440 minutes).",
            "invalid": "Write the duration in whole minutes, e.g. 12.",
            "required": "How long was the call, in minutes?",
        },
        widget=forms.NumberInput(attrs={**W, "min": 0, "max": 1440, "class": "input input-narrow"}),
    )
    summary = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={**W, "rows": 3, "placeholder": "What was said, what was agreed"}),
        error_messages={"required": "Write a short summary of the call."},
    )


class PhoneCaseForm(CallForm):
    """A new case from a phone call: who called, about what, and the call itself."""

    tenant = forms.ModelChoiceField(queryset=Tenant.objects.none(), to_field_name="slug", widget=forms.Select(attrs=W))
    requester = forms.ModelChoiceField(queryset=Requester.objects.none(), widget=forms.Select(attrs=W))
    subject = forms.CharField(max_length=250, widget=forms.TextInput(attrs={**W, "autocomplete": "off"}))
    priority = forms.TypedChoiceField(
        choices=[(p.value, p.label) for p in Priority],
        coerce=int,
        initial=Priority.CRITICAL,
        widget=forms.Select(attrs=W),
    )

    field_order = ["tenant", "requester", "subject", "priority", "direction", "minutes", "summary"]

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
        slug = self.data.get("tenant") if self.is_bound else self.initial.get("tenant")
        tenant = tenants.filter(slug=slug).first() if slug else None
        self.tenant_choice = tenant
        self.fields["requester"].queryset = (
            Requester.objects.filter(tenant=tenant).order_by("name") if tenant else Requester.objects.none()
        )


def log_call(*, case: Case, actor, form: CallForm) -> Interaction:
    data = form.cleaned_data
    return services.case_log_call(
        case_id=case.pk,
        actor=actor,
        direction=data["direction"],
        duration_seconds=int(timedelta(minutes=data["minutes"]).total_seconds()),
        summary=data["summary"],
    )


def open_phone_case(*, actor, form: PhoneCaseForm) -> Case:
    """One transaction: the case on channel phone, and the call on its timeline."""
    data = form.cleaned_data
    with transaction.atomic():
        case = services.case_create(
            actor=actor,
            tenant=data["tenant"],
            requester=data["requester"],
            subject=data["subject"],
            description=data["summary"],
            priority=data["priority"],
            channel="phone",
            unclassified=("category", "issue_type", "environment"),
        )
        log_call(case=case, actor=actor, form=form)
    return case


def register() -> None:
    from ..changes import register_change_listener
    from .outbound import register_reply_sender

    register_reply_sender("phone", send_phone_reply)
    register_change_listener(on_change)


__all__ = [
    "CallForm",
    "CaseError",
    "PhoneCaseForm",
    "callback_done",
    "callbacks_of",
    "ensure_callback",
    "log_call",
    "open_phone_case",
    "phone_rules",
    "register",
]
