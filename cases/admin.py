from django.contrib import admin

from tenants.admin import TenantScopedAdmin

from .models import Case, SavedView, Tag, Team


@admin.register(Case)
class CaseAdmin(TenantScopedAdmin):
    """Read-mostly: case changes belong in the console, where they go through the services and
    write their timeline. Admins may fix configuration fields here."""

    list_display = ["key", "subject", "tenant", "status", "priority", "owner", "created_at"]
    list_filter = ["status", "priority", "category", "channel"]
    search_fields = ["subject"]
    list_select_related = ["tenant", "owner"]
    readonly_fields = [f.name for f in Case._meta.fields if f.name not in ("team", "duplicate_of")]
    raw_id_fields = ["duplicate_of"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "manager"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "shared", "builtin", "query"]
    list_filter = ["shared", "builtin"]
