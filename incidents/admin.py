from django.contrib import admin

from .models import Incident


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "severity", "status", "commander", "started_at"]
    list_filter = ["severity", "status"]
    search_fields = ["title"]
    raw_id_fields = ["cases", "resources"]
