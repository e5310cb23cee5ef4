from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from . import audit, roles
from .admin_audit import AuditedModelAdmin, ReadOnlyAdminMixin
from .middleware import client_ip
from .models import Profile


def _reregister(model, model_admin):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


class ReadOnlyLogEntryAdmin(ReadOnlyAdminMixin, AuditedModelAdmin, LogEntryAdmin):
    """The audit trail is evidence: nobody adds, changes or deletes entries from the application."""

    def has_add_permission(self, request):
        return False

    def get_actions(self, request):
        return {}


_reregister(LogEntry, ReadOnlyLogEntryAdmin)


@admin.register(Profile)
class ProfileAdmin(AuditedModelAdmin):
    """An admin sets a user's team here; the timezone is the user's own (Preferences)."""

    list_display = ["user", "timezone", "team"]
    search_fields = ["user__username"]
    readonly_fields = ["timezone"]


class NoDeleteUserAdmin(AuditedModelAdmin, UserAdmin):
    """Users are deactivated, never deleted: their names stay on the audit trail (which the database
    refuses to rewrite, so a delete would fail on the log's actor reference). An admin who is not a
    superuser gives people roles (groups) but cannot make anyone a superuser, hand out single
    permissions, or edit a superuser."""

    SUPERUSER_ONLY = ("is_superuser", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else readonly + list(self.SUPERUSER_ONLY)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


_reregister(get_user_model(), NoDeleteUserAdmin)


class AuditedGroupAdmin(AuditedModelAdmin, GroupAdmin):
    """The roles. Their permissions are set by companyos migrations (0002, 0050), not here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


_reregister(Group, AuditedGroupAdmin)


# --- sign-in lockouts (django-axes): admins only -------------------------------------------------------------


class AdminsOnly:
    """Sign-in records are for admins (the admin role or a superuser), read-only."""

    def has_module_permission(self, request):
        return roles.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class UnlockAccessAttemptAdmin(AdminsOnly, AuditedModelAdmin, AccessAttemptAdmin):
    """A row is a username + address with its failed sign-ins; it locks at AXES_FAILURE_LIMIT.
    Deleting it (the *Unlock* action, or delete) unlocks the pair at once, and is audited."""

    actions = ["unlock"]

    def has_delete_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    @admin.action(description="Unlock: forget the selected failed sign-ins", permissions=["delete"])
    def unlock(self, request, queryset):
        count = len(queryset)
        self.delete_queryset(request, queryset)
        self.message_user(request, f"Unlocked {count} username/address pair(s).", messages.SUCCESS)

    def delete_model(self, request, obj):
        self._audit_unlock(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        attempts = list(queryset)
        self._audit_unlock(request, attempts)
        for attempt in attempts:  # one by one: axes resets its cache on each delete signal
            attempt.delete()

    @staticmethod
    def _audit_unlock(request, attempts):
        User = get_user_model()
        for attempt in attempts:
            audit.log_account_event(
                "login_unlocked",
                user=User.objects.filter(**{User.USERNAME_FIELD: attempt.username or ""}).first(),
                actor=request.user,
                remote_addr=client_ip(request),
                extra={"address": attempt.ip_address, "failures": attempt.failures_since_start},
            )


class ReadOnlyAccessLogAdmin(AdminsOnly, AuditedModelAdmin, AccessLogAdmin):
    pass


class ReadOnlyAccessFailureLogAdmin(AdminsOnly, AuditedModelAdmin, AccessFailureLogAdmin):
    pass


_reregister(AccessAttempt, UnlockAccessAttemptAdmin)
_reregister(AccessLog, ReadOnlyAccessLogAdmin)
_reregister(AccessFailureLog, ReadOnlyAccessFailureLogAdmin)
