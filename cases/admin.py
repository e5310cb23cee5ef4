from django.contrib import admin

from companyos import roles
from companyos.admin_audit import AuditedModelAdmin, ReadOnlyAdminMixin
from tenants.admin import TenantScopedAdmin

from . import services
from .models import Case, ReplyWebhook, SavedView, SlackChannelLink, SlackContact, Tag, Team


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    """Read-only: every case change goes through cases.services in the console (row lock, version,
    timeline entry, SLA impact), so the admin only lists and shows cases."""

    list_display = ["key", "subject", "tenant", "status", "priority", "owner", "created_at"]
    list_filter = ["status", "priority", "category", "channel"]
    search_fields = ["subject"]
    list_select_related = ["tenant", "owner"]
    show_full_result_count = False


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "manager"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(AuditedModelAdmin):
    search_fields = ["name"]


@admin.register(SavedView)
class SavedViewAdmin(AuditedModelAdmin):
    """What the console allows and nothing more: each user sees their own, the shared and the built-in
    views; nobody edits one here (a view is saved from the queue); a delete goes through
    cases.services.saved_view_delete, so only the owner, or an admin for a shared view, may delete, and
    a built-in view never."""

    list_display = ["name", "owner", "shared", "builtin", "query"]
    list_filter = ["shared", "builtin"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(pk__in=services.selectors.saved_views_for(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or (
            not obj.builtin and (obj.owner_id == request.user.pk or (obj.shared and roles.is_admin(request.user)))
        )

    def delete_model(self, request, obj):
        services.saved_view_delete(view_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for view in queryset:
            if self.has_delete_permission(request, view):
                services.saved_view_delete(view_id=view.pk, actor=request.user)


# --- channels (issue 11): which Slack workspace/channel is which tenant's, and who its users are ---------


class AdminsOnlyMixin:
    """Channel links decide which tenant a Slack request files cases for: admins only."""

    def has_module_permission(self, request):
        return roles.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(SlackChannelLink)
class SlackChannelLinkAdmin(AdminsOnlyMixin, AuditedModelAdmin):
    list_display = ["team_id", "team_name", "channel_id", "channel_name", "tenant", "default_requester", "calendar"]
    search_fields = ["team_id", "team_name", "channel_id", "channel_name", "tenant__name"]
    autocomplete_fields = ["tenant"]
    raw_id_fields = ["default_requester"]
    list_select_related = ["tenant", "default_requester", "calendar"]


@admin.register(SlackContact)
class SlackContactAdmin(AdminsOnlyMixin, AuditedModelAdmin):
    list_display = ["team_id", "user_id", "requester"]
    search_fields = ["team_id", "user_id", "requester__name", "requester__email"]
    raw_id_fields = ["requester"]
    list_select_related = ["requester", "requester__tenant"]


@admin.register(ReplyWebhook)
class ReplyWebhookAdmin(AdminsOnlyMixin, AuditedModelAdmin):
    """Where an integration hears the public replies on the cases it opened through the API
    (cases.channels.api_webhook): its URL, and the signing secret made with it (shown here, for the
    receiver to check `X-CompanyOS-Signature`)."""

    list_display = ["integration", "url", "active", "created_at"]
    readonly_fields = ["secret", "created_at"]
    fields = ["integration", "url", "active", "secret", "created_at"]
