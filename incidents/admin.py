from django.contrib import admin

from companyos.admin_audit import AuditedModelAdmin, ReadOnlyAdminMixin

from .models import CorrectiveAction, Incident, SeverityMapping, StatusService, TenantStatusPage


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Read-only: incidents change through incidents.services (the console's pages)."""

    list_display = ["id", "title", "severity", "status", "commander", "started_at"]
    list_filter = ["severity", "status"]
    search_fields = ["title"]
    raw_id_fields = ["cases", "resources", "tenants", "declared_from"]


@admin.register(SeverityMapping)
class SeverityMappingAdmin(AuditedModelAdmin):
    """Case priority -> incident severity for an incident created from a case with no severity.
    Seed 004: SEV1 complete outage, hourly updates; SEV2 degraded, twice-daily; SEV3 non-blocking."""

    list_display = ["priority", "severity"]
    list_editable = ["severity"]


@admin.register(StatusService)
class StatusServiceAdmin(AuditedModelAdmin):
    list_display = ["name", "position", "description"]
    raw_id_fields = ["resources"]


@admin.register(TenantStatusPage)
class TenantStatusPageAdmin(AuditedModelAdmin):
    list_display = ["tenant", "token"]
    raw_id_fields = ["tenant"]


@admin.register(CorrectiveAction)
class CorrectiveActionAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ["title", "incident", "owner", "due_on", "status"]
    raw_id_fields = ["incident", "case", "owner"]


from .escalations import admin as _escalations_admin  # noqa: E402,F401  (the ownership map, engineering tasks)

# --- on-call (incidents/oncall): chains are configured here; schedules on /oncall/ -----------------
from .oncall.models import EscalationChain, EscalationStep, Schedule  # noqa: E402


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1
    raw_id_fields = ["user"]


@admin.register(EscalationChain)
class EscalationChainAdmin(AuditedModelAdmin):
    """Escalation chains: ordered steps (a schedule's on-call, a user, a team; wait N minutes), repeat,
    fallback. A team's chain runs its pages; the default chain everything else."""

    list_display = ["name", "team", "repeat", "is_default"]
    inlines = [EscalationStepInline]
    raw_id_fields = ["fallback_user"]


@admin.register(Schedule)
class ScheduleAdmin(AuditedModelAdmin):
    list_display = ["name", "team", "timezone"]
