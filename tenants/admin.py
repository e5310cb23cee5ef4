from django.contrib import admin
from guardian.admin import GuardedModelAdminMixin

from .models import Requester, Resource, Tenant
from .selectors import visible_tenant_ids


class TenantScopedAdmin(admin.ModelAdmin):
    """Admin lists follow the console's visibility rule: a staff agent sees only granted tenants.
    `tenant_path` is the lookup from the model to its tenant."""

    tenant_path = "tenant"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = visible_tenant_ids(request.user)
        return qs if ids is None else qs.filter(**{f"{self.tenant_path}__in": ids})


@admin.register(Tenant)
class TenantAdmin(GuardedModelAdminMixin, TenantScopedAdmin):
    tenant_path = "pk"
    list_display = ["name", "slug", "plan", "segment", "support_tier", "region", "billing_status", "health"]
    list_filter = ["segment", "support_tier", "region", "billing_status", "plan"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Requester)
class RequesterAdmin(TenantScopedAdmin):
    list_display = ["name", "email", "tenant", "role", "preferred_channel", "auth_method"]
    list_filter = ["preferred_channel", "auth_method"]
    search_fields = ["name", "email", "tenant__name"]
    autocomplete_fields = ["tenant"]


@admin.register(Resource)
class ResourceAdmin(TenantScopedAdmin):
    list_display = ["external_id", "kind", "tenant", "region", "version", "health"]
    list_filter = ["kind", "health"]
    search_fields = ["external_id", "tenant__name"]
    autocomplete_fields = ["tenant"]
