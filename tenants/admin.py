from django import forms
from django.contrib import admin
from guardian.admin import AdminGroupObjectPermissionsForm, AdminUserObjectPermissionsForm, GuardedModelAdminMixin

from companyos import audit
from companyos.admin_audit import AuditedModelAdmin
from companyos.converters import row_id

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


class RequesterAdminForm(forms.ModelForm):
    class Meta:
        model = Requester
        fields = "__all__"

    def clean(self):
        data = super().clean()
        tenant, resources = data.get("tenant"), data.get("visible_resources")
        if tenant and resources:
            foreign = [r.external_id for r in resources if r.tenant_id != tenant.pk]
            if foreign:
                self.add_error("visible_resources", f"Not resources of {tenant}: {', '.join(foreign)}.")
        return data


@admin.register(Requester)
class RequesterAdmin(TenantScopedAdmin):
    """Where requesters are managed: contact details, and which of the tenant's resources they may
    see (all, or only those listed: shown on the case page's requester card)."""

    form = RequesterAdminForm
    list_display = ["name", "email", "tenant", "role", "preferred_channel", "auth_method", "sees_all_resources"]
    list_filter = ["preferred_channel", "auth_method", "sees_all_resources"]
    search_fields = ["name", "email", "tenant__name"]
    autocomplete_fields = ["tenant"]
    filter_horizontal = ["visible_resources"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "visible_resources":
            # The resources of the requester being edited's tenant (all visible ones on "add").
            qs = Resource.objects.select_related("tenant").order_by("tenant__name", "external_id")
            ids = visible_tenant_ids(request.user)
            if ids is not None:
                qs = qs.filter(tenant_id__in=ids)
            match = request.resolver_match
            requester_id = row_id(match.kwargs.get("object_id")) if match else None
            tenant_id = (
                Requester.objects.filter(pk=requester_id).values_list("tenant_id", flat=True).first()
                if requester_id
                else None
            )
            if tenant_id is not None:
                qs = qs.filter(tenant_id=tenant_id)
            kwargs["queryset"] = qs
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Resource)
class ResourceAdmin(TenantScopedAdmin):
    list_display = ["external_id", "kind", "tenant", "region", "version", "health"]
    list_filter = ["kind", "health"]
    search_fields = ["external_id", "tenant__name"]
    autocomplete_fields = ["tenant"]
