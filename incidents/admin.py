from django.contrib import admin

from companyos.admin_audit import AuditedModelAdmin

from .models import Incident


@admin.register(Incident)
class IncidentAdmin(AuditedModelAdmin):
    list_display = ["id", "title", "severity", "status", "commander", "started_at"]
    list_filter = ["severity", "status"]
    search_fields = ["title"]
    raw_id_fields = ["cases", "resources"]
