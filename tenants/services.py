from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from companyos import roles

from .models import Integration, Requester, Tenant, WidgetConfig
from .selectors import VIEW_TENANT, visible_tenant_ids


@transaction.atomic
def tenant_grant(*, tenant: Tenant, user_or_group) -> None:
    """Let an agent (or a group of agents) see a tenant and everything under it."""
    assign_perm(f"tenants.{VIEW_TENANT}", user_or_group, tenant)


@transaction.atomic
def tenant_revoke(*, tenant: Tenant, user_or_group) -> None:
    remove_perm(f"tenants.{VIEW_TENANT}", user_or_group, tenant)


@transaction.atomic
def requester_create(*, tenant: Tenant, name: str, email: str, actor) -> Requester:
    """Add a contact to a tenant (the unmatched-mail queue's "add the sender as a new contact").
    Refuses a tenant `actor` may not see, and an address the tenant already has."""
    from .selectors import can_see_tenant

    if not can_see_tenant(actor, tenant.pk):
        raise PermissionDenied("You cannot add contacts to that tenant.")
    email = (email or "").strip().lower()
    name = " ".join((name or "").split())[:200] or email.split("@")[0]
    if Requester.objects.filter(tenant=tenant, email__iexact=email).exists():
        raise ValidationError(f"{tenant.name} already has a contact with the address {email}.")
    return Requester.objects.create(tenant=tenant, name=name, email=email)


def requester_match_or_create(*, tenant: Tenant, email: str, name: str = "") -> Requester:
    """The tenant's contact with this address (case-insensitive), created when there is none: for a
    channel whose sender is vouched for by a signed context (the in-app widget), not by an agent.
    Never another tenant's contact. Two first visits at once make one contact (the unique
    constraint decides; the loser reads the winner's row)."""
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError("A contact needs an e-mail address.")
    found = Requester.objects.filter(tenant=tenant, email__iexact=email).order_by("pk").first()
    if found is not None:
        return found
    name = " ".join((name or "").split())[:200] or email.split("@")[0]
    try:
        with transaction.atomic():
            return Requester.objects.create(tenant=tenant, name=name, email=email, preferred_channel="widget")
    except IntegrityError:
        return Requester.objects.get(tenant=tenant, email=email)


# --- the in-app widget's configuration (tenants.widget) -------------------------------------------------


class WidgetConfigError(Exception):
    """A widget setting that cannot be saved; the message says why."""


def _origins(origins) -> list[str]:
    from .widget import normalise_origin

    cleaned = []
    for origin in origins:
        if not str(origin).strip():
            continue
        try:
            value = normalise_origin(str(origin))
        except ValueError as exc:
            raise WidgetConfigError(str(exc)) from None
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > 20:
        raise WidgetConfigError("At most 20 origins may embed the panel.")
    return cleaned


@transaction.atomic
def widget_configure(*, integration_id: int, actor, enabled: bool, allowed_origins) -> tuple[WidgetConfig, str | None]:
    """Switch the integration's widget on or off and set the page origins allowed to frame its panel.
    The first call generates the key id and secret: returned (once) as the second value, else None."""
    integration = Integration.objects.select_for_update().get(pk=integration_id)
    if integration.revoked_at is not None:
        raise WidgetConfigError("A revoked integration cannot have a widget.")
    origins = _origins(allowed_origins)
    if enabled and not origins:
        raise WidgetConfigError(
            "Name at least one page origin that may embed the panel (e.g. https://app.example.com)."
        )
    config = WidgetConfig.objects.select_for_update().filter(integration=integration).first()
    if config is None:
        key_id, secret = WidgetConfig.new_key()
        config = WidgetConfig.objects.create(
            integration=integration, enabled=enabled, allowed_origins=origins, key_id=key_id, secret=secret
        )
        return config, secret
    if (config.enabled, config.allowed_origins) != (enabled, origins):
        config.enabled, config.allowed_origins = enabled, origins
        config.save(update_fields=["enabled", "allowed_origins"])
    return config, None


@transaction.atomic
def widget_rotate_secret(*, integration_id: int, actor) -> tuple[WidgetConfig, str]:
    """A new secret for the widget (contexts signed with the old one are refused from now on);
    returns the new secret, shown once. The key id stays."""
    config = WidgetConfig.objects.select_for_update().filter(integration_id=integration_id).first()
    if config is None:
        raise WidgetConfigError("This integration has no widget yet.")
    _, config.secret = WidgetConfig.new_key()
    config.rotated_at = timezone.now()
    config.save(update_fields=["secret", "rotated_at"])
    return config, config.secret


# --- erasure (issue 18, point 4) ------------------------------------------------------------------------


def requester_tombstone(*, requester_id: int, actor) -> tuple[Requester, dict]:
    """Replace a contact's personal fields with a tombstone, keeping the row (their cases keep their
    requester, metrics and SLA history). Returns the contact and what it held (name, email), for the
    caller to find the free-text mentions of them; the caller holds the transaction."""
    requester = Requester.objects.select_for_update().get(pk=requester_id)
    held = {"name": requester.name, "email": requester.email}
    requester.name = f"Erased contact {requester.pk}"
    requester.email = f"erased-{requester.pk}@erased.invalid"
    requester.role = ""
    requester.save(update_fields=["name", "email", "role"])
    requester.visible_resources.clear()
    return requester, held


# --- data residency (issue 18, point 5) ------------------------------------------------------------------


def tenant_set_residency(*, tenant_id: int, residency: str, actor) -> Tenant:
    """Set where a tenant's files must be stored. Refused (residency.ResidencyError) when that region
    has no storage configured. The files already stored move with `manage.py move_residency`."""
    from companyos import audit
    from companyos import residency as regions

    code = regions.region_code(residency)
    regions.storage_for_region(code)
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
        before = tenant.data_residency
        tenant.data_residency = code
        tenant.save(update_fields=["data_residency"])
        audit.log_access(tenant, view="data residency set", extra={"from": before, "to": code})
    return tenant


# --- telemetry consent (the diagnostics issue: no trace bundle is read without it) -------------------

CONSENT_ROLES = {"senior agent", "manager", "admin"}


class ConsentRefused(ValidationError):
    """A consent record refused; `error.message` is fit to show."""


def tenant_record_telemetry_consent(*, tenant_id: int, actor, reference: str) -> Tenant:
    """Record that the customer explicitly enabled telemetry (seed 004 "verify telemetry consent"):
    who recorded it, when, and the reference to the customer's confirmation. Senior agents, managers
    and admins only, on a tenant they see. Audited (auditlog on Tenant)."""
    reference = (reference or "").strip()
    if not roles.role_names(actor) & CONSENT_ROLES:
        raise PermissionDenied("Only senior agents, managers and admins can record telemetry consent.")
    visible = visible_tenant_ids(actor)
    if visible is not None and tenant_id not in visible:
        raise PermissionDenied("You cannot see this tenant.")
    if not reference:
        raise ConsentRefused("Say where the customer confirmed it (a case key, an e-mail, a contract clause).")
    if len(reference) > 200:
        raise ConsentRefused("The reference is longer than 200 characters.")
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
        tenant.telemetry_consent = True
        tenant.telemetry_consent_at = timezone.now()
        tenant.telemetry_consent_by = actor
        tenant.telemetry_consent_reference = reference
        tenant.save(
            update_fields=[
                "telemetry_consent",
                "telemetry_consent_at",
                "telemetry_consent_by",
                "telemetry_consent_reference",
            ]
        )
    return tenant
