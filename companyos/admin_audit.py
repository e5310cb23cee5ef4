"""The Django admin, audited like the console: every list (with its search), change, history and
delete page an admin shows writes an access entry, and every refused visit a denial.

- `AuditedAdminSite` is `admin.site` (`companyos.apps.AdminConfig`). It writes the denial for a
  signed-in user who is not staff, and for a staff user refused a page (403); an anonymous visitor
  never reaches it (`LoginRequiredMiddleware` sends them to sign in) and is recorded there, by
  `log_admin_denied`. It also audits the autocomplete lookups.
- `AuditedModelAdmin` is the base of every ModelAdmin registered here (a test walks
  `admin.site._registry`): the changelist writes one list entry naming the rows shown and the query,
  an object page one access entry on the object, or a denial when the object does not exist or is
  not in the user's queryset.
- `ReadOnlyAdminMixin`: for models whose writes belong to a service (cases, saved views, the audit
  log): the admin shows them and never saves them.
"""

from __future__ import annotations

import inspect
import json
from functools import update_wrapper

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.urls import Resolver404, resolve

from . import audit


def _view_name(model_admin, suffix: str) -> str:
    opts = model_admin.model._meta
    return f"admin:{opts.app_label}_{opts.model_name}_{suffix}"


def log_admin_denied(request, *, reason: str) -> None:
    """A denial for a refused admin page: on the model and object the URL names, else on the admin
    itself (its own change log's content type, object "admin")."""
    model, pk = AdminLogEntry, "admin"
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    model_admin = getattr(inspect.unwrap(match.func), "__self__", None) if match else None  # a bound ModelAdmin view
    if isinstance(model_admin, admin.ModelAdmin):
        kwargs = match.kwargs
        model, pk = model_admin.model, kwargs.get("object_id") or kwargs.get("object_pk") or match.url_name or "list"
    audit.log_denied(model, pk, path=request.path[:500], reason=f"admin: {reason}")


class AuditedAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def audited(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                log_admin_denied(request, reason="not staff")
            try:
                return inner(request, *args, **kwargs)
            except PermissionDenied:
                log_admin_denied(request, reason="no permission")
                raise

        return update_wrapper(audited, inner)

    def autocomplete_view(self, request):
        """The autocomplete widget's search (e.g. the tenant of a requester): one list entry for the
        rows it answered with."""
        response = super().autocomplete_view(request)
        if response.status_code == 200:
            model_admin = self._autocomplete_model_admin(request)
            if model_admin is not None:
                ids = [item["id"] for item in json.loads(response.content).get("results", [])]
                audit.log_list_access(
                    model_admin.model,
                    [pk for pk in ids if str(pk).isdigit()],
                    view=_view_name(model_admin, "autocomplete"),
                    query=request.GET.urlencode(),
                )
        return response

    def _autocomplete_model_admin(self, request):
        """The ModelAdmin whose rows an autocomplete answer lists: the model the field points to."""
        try:
            source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
            field = source._meta.get_field(request.GET["field_name"])
        except (KeyError, LookupError, FieldDoesNotExist):
            return None
        return self._registry.get(field.remote_field.model) if field.is_relation else None


class AuditedModelAdmin(admin.ModelAdmin):
    """Every admin page of a model is an audited read (see the module docstring)."""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            audit.log_list_access(
                self.model,
                [obj.pk for obj in changelist.result_list],
                view=_view_name(self, "changelist"),
                query=request.GET.urlencode(),
            )
        return response

    def get_object(self, request, object_id, from_field=None):
        """Every page about one object (change or view, history, delete) looks it up here."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            audit.log_denied(self.model, object_id, path=request.path[:500], reason="admin: not found or not visible")
        else:
            audit.log_access(obj, view=_view_name(self, "change"))
        return obj


class ReadOnlyAdminMixin:
    """Shown, never written: the model has a service layer (or is evidence), so the admin neither
    adds, changes nor deletes its rows, whatever the user's permissions (superusers included)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
