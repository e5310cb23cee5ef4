"""The knowledge side's admin: macros, known issues, articles and error codes are written here by
admins; every save is checked like the console's (a macro's template and actions, Markdown rendered
and sanitised, the search document rebuilt) by going through runbooks.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from companyos import customer_text
from companyos.admin_audit import AuditedModelAdmin

from . import actions, markdown, services, variables
from .models import Article, ErrorCode, KnownIssue, Macro, Runbook


class MacroForm(forms.ModelForm):
    class Meta:
        model = Macro
        exclude = ["builtin", "version"]

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        try:
            customer_text.check(body, variables.VARIABLES)
        except customer_text.CustomerTextError as error:
            raise forms.ValidationError(str(error)) from None
        return body

    def clean_actions(self):
        value = self.cleaned_data.get("actions") or []
        try:
            return actions.validate(value, variables=variables.VARIABLES)
        except actions.ActionError as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(Macro)
class MacroAdmin(AuditedModelAdmin):
    form = MacroForm
    list_display = ["name", "kind", "visibility", "active", "builtin"]
    list_filter = ["kind", "visibility", "active"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["runbook", "article"]


@admin.register(Runbook)
class RunbookAdmin(AuditedModelAdmin):
    """Runbooks are edited in the console (/runbooks/<slug>/edit/: steps, revisions); here they are
    listed and their ownership and review period set."""

    list_display = ["title", "slug", "category", "reviewed_at", "version"]
    search_fields = ["title", "summary"]
    fields = ["title", "slug", "owner", "review_days", "reviewed_at", "internal"]
    readonly_fields = ["title", "slug"]

    def has_add_permission(self, request):
        return False


@admin.register(Article)
class ArticleAdmin(AuditedModelAdmin):
    list_display = ["title", "category", "status", "updated_at"]
    list_filter = ["category", "status"]
    search_fields = ["title", "summary"]
    fields = ["title", "slug", "category", "status", "summary", "body", "tags"]

    def save_model(self, request, obj, form, change):
        saved = services.article_save(
            actor=request.user,
            article_id=obj.pk if change else None,
            title=obj.title,
            category=obj.category,
            body=obj.body,
            summary=obj.summary,
            status=obj.status,
            tags=obj.tags,
            slug=obj.slug,
        )
        obj.pk, obj.slug, obj.body_html = saved.pk, saved.slug, saved.body_html


class KnownIssueForm(forms.ModelForm):
    class Meta:
        model = KnownIssue
        exclude = ["fixed_at", "version"]

    def clean_workaround(self):
        value = self.cleaned_data.get("workaround", "")
        markdown.render(value)  # refuses an oversized text
        return value


@admin.register(KnownIssue)
class KnownIssueAdmin(AuditedModelAdmin):
    form = KnownIssueForm
    list_display = ["title", "component", "status", "fixed_in", "engineering_task"]
    list_filter = ["status"]
    search_fields = ["title", "symptoms"]
    raw_id_fields = ["incident"]

    def save_model(self, request, obj, form, change):
        # The console's editor re-checks the version it loaded: an admin save is a new version too.
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)


@admin.register(ErrorCode)
class ErrorCodeAdmin(AuditedModelAdmin):
    """Imported from docs/errors.md on /runbooks/errors/ or with `manage.py import_error_codes`."""

    list_display = ["code", "title", "runbook", "updated_at"]
    search_fields = ["code", "title", "meaning"]
    raw_id_fields = ["runbook"]
