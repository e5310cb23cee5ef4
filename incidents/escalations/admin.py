from django.contrib import admin

from companyos.admin_audit import AuditedModelAdmin, ReadOnlyAdminMixin

from .models import Component, EngineeringTask, ProductFeedback, SupportShift


@admin.register(Component)
class ComponentAdmin(AuditedModelAdmin):
    """The component ownership map: component → owning team, tracker project, on-call schedule."""

    list_display = ["name", "team", "tracker_project", "oncall_schedule"]
    list_select_related = ["team", "oncall_schedule"]
    search_fields = ["name", "tracker_project"]


@admin.register(EngineeringTask)
class EngineeringTaskAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Read-only: tasks change through incidents.escalations.services (the console's pages)."""

    list_display = ["id", "title", "status", "component", "team", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["case", "tenant"]


@admin.register(ProductFeedback)
class ProductFeedbackAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Read-only: logged from cases through incidents.escalations.services.feedback_log."""

    list_display = ["id", "title", "theme", "tenant", "arr", "created_at"]
    raw_id_fields = ["case", "tenant"]


@admin.register(SupportShift)
class SupportShiftAdmin(AuditedModelAdmin):
    """Support shifts per team: the handoff report is e-mailed at each start."""

    list_display = ["team", "name", "starts_at", "timezone", "weekdays"]
