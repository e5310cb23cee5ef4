from django.contrib import admin
from guardian.admin import AdminGroupObjectPermissionsForm, AdminUserObjectPermissionsForm, GuardedModelAdminMixin

from companyos import audit
from companyos.admin_audit import AuditedModelAdmin

from . import services
from .models import Requester, Resource, Tenant
from .selectors import VIEW_TENANT, visible_tenant_ids


class TenantScopedAdmin(AuditedModelAdmin):
    """Admin lists follow the console's visibility rule: a staff agent sees only granted tenants.
    `tenant_path` is the lookup from the model to its tenant. Every page is audited."""

    tenant_path = "tenant"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = visible_tenant_ids(request.user)
        return qs if ids is None else qs.filter(**{f"{self.tenant_path}__in": ids})


class _TenantAccessForm:
    """Guardian's per-object permission form, cut down to what the console uses (seeing the tenant)
    and saved through tenants.services, like every other grant."""

    def get_obj_perms_field_choices(self):
        return [(VIEW_TENANT, "Can see this tenant (and its cases, requesters, resources, telemetry)")]

    def save_obj_perms(self):
        wanted = VIEW_TENANT in self.cleaned_data[self.get_obj_perms_field_name()]
        has = VIEW_TENANT in set(self.get_obj_perms_field_initial())
        if wanted and not has:
            services.tenant_grant(tenant=self.obj, user_or_group=self.grantee)
        elif has and not wanted:
            services.tenant_revoke(tenant=self.obj, user_or_group=self.grantee)


class TenantUserAccessForm(_TenantAccessForm, AdminUserObjectPermissionsForm):
    @property
    def grantee(self):
        return self.user


class TenantGroupAccessForm(_TenantAccessForm, AdminGroupObjectPermissionsForm):
    @property
    def grantee(self):
        return self.group


@admin.register(Tenant)
class TenantAdmin(GuardedModelAdminMixin, TenantScopedAdmin):
    tenant_path = "pk"
    list_display = ["name", "slug", "plan", "segment", "support_tier", "region", "billing_status", "health"]
    list_filter = ["segment", "support_tier", "region", "billing_status", "plan"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_obj_perms_manage_user_form(self, request):
        return TenantUserAccessForm

    def get_obj_perms_manage_group_form(self, request):
        return TenantGroupAccessForm

    def get_obj_perms_base_context(self, request, obj):
        """Every *Object permissions* page shows the tenant and who may see it: an audited read."""
        audit.log_access(obj, view="admin:tenants_tenant_permissions")
        return super().get_obj_perms_base_context(request, obj)


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
