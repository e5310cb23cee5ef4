from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from .models import Tenant
from .selectors import VIEW_TENANT


@transaction.atomic
def tenant_grant(*, tenant: Tenant, user_or_group) -> None:
    """Let an agent (or a group of agents) see a tenant and everything under it."""
    assign_perm(f"tenants.{VIEW_TENANT}", user_or_group, tenant)


@transaction.atomic
def tenant_revoke(*, tenant: Tenant, user_or_group) -> None:
    remove_perm(f"tenants.{VIEW_TENANT}", user_or_group, tenant)
