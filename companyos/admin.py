from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin

from .models import Profile


class ReadOnlyLogEntryAdmin(LogEntryAdmin):
    """The audit trail is evidence: nobody adds, changes or deletes entries from the application."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
admin.site.register(LogEntry, ReadOnlyLogEntryAdmin)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "timezone", "team"]
    search_fields = ["user__username"]


class TenantScopedAdmin(admin.ModelAdmin):
    """Admin lists follow the console's visibility rule: a staff agent sees only granted tenants."""

    tenant_path = "tenant"

    def get_queryset(self, request):
        from tenants.selectors import visible_tenant_ids

        qs = super().get_queryset(request)
        ids = visible_tenant_ids(request.user)
        return qs if ids is None else qs.filter(**{f"{self.tenant_path}__in": ids})
