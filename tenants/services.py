from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from .models import Requester, Tenant
from .selectors import VIEW_TENANT


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
