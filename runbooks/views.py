"""Thin views of the knowledge side: parse, call one service or selector, render. The case page's
Knowledge card is served here and loaded by the case page by URL (hx-get), so cases never imports
runbooks."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from cases.models import Case
from cases.selectors import case_get_for_user, cases_visible_by_ids
from companyos import audit, pageview
from companyos.access import audit_exempt, audited_read, audited_write, covered_by_page_view, no_data
from companyos.htmx import htmx_partial

from . import markdown, selectors, services
from .actions import MAX_ACTIONS
from .filtersets import ArticleFilterSet, KnownIssueFilterSet, RunbookFilterSet
from .forms import (
    ACTION_FIELDS,
    ActionFormSet,
    ActionRowForm,
    ApplyMacroForm,
    ArticleForm,
    FixedForm,
    ImportForm,
    KnownIssueEditForm,
    MacroForm,
    RunbookForm,
)
from .models import Article, ErrorCode, KnownIssue, Macro, Runbook
from .variables import VARIABLES, kb_base


def _refuse(request, message: str, status: int = 403):
    return no_data(HttpResponse(message, status=status, content_type="text/plain; charset=utf-8"))


# --- the library --------------------------------------------------------------------------------------


@audited_read(Runbook, view="runbook library")
@require_GET
@vary_on_headers("HX-Request")
def runbook_list(request):
    filterset = RunbookFilterSet(request.GET)
    page = Paginator(filterset.qs, selectors.PAGE).get_page(request.GET.get("page"))
    audit.log_list_access(Runbook, [r.pk for r in page], view="runbook library", query=request.GET.urlencode())
    context = {
        "filterset": filterset,
        "page": page,
        "q": request.GET.get("q", ""),
        "can_edit": selectors.can_edit(request.user),
    }
    template = "runbooks/runbook_list.html" + ("#results" if htmx_partial(request) else "")
    return render(request, template, context)


@audited_read(Runbook, view="runbook page")
@require_GET
def runbook_detail(request, slug: str):
    runbook = selectors.runbook_get(slug)
    if runbook is None:
        audit.log_denied(Runbook, slug, path=request.path, reason="no such runbook")
        raise Http404("No such runbook")
    audit.log_access(runbook, view="runbook page")
    context = {"runbook": runbook, **selectors.runbook_detail(runbook), "can_edit": selectors.can_edit(request.user)}
    return render(request, "runbooks/runbook_detail.html", context)


@audited_write(Runbook, view="runbook edit")
@require_http_methods(["GET", "POST"])
def runbook_edit(request, slug: str | None = None):
    runbook = selectors.runbook_get(slug) if slug else None
    if slug and runbook is None:
        raise Http404("No such runbook")
    if not selectors.can_edit(request.user):
        audit.log_denied(Runbook, slug or "new", path=request.path, reason="only editors change runbooks")
        return _refuse(request, "Only admins and senior agents can edit runbooks.")
    if runbook is not None:
        audit.log_access(runbook, view="runbook edit form")
        initial = {
            "title": runbook.title,
            "summary": runbook.summary,
            "category": runbook.category,
            "tags": ", ".join(runbook.tags),
            "body": runbook.body,
            "steps": "\n".join(runbook.steps.values_list("title", flat=True)),
            "internal": runbook.internal,
            "version": runbook.version,
        }
    else:
        initial = {"internal": True}
    form = RunbookForm(request.POST or None, initial=initial)
    status, preview = 200, None
    if request.method == "POST":
        if form.is_valid() and "preview" in request.POST:
            # "Preview" without JavaScript: the body rendered as it will be saved, nothing saved.
            try:
                preview = markdown.render(form.cleaned_data["body"])
            except markdown.MarkdownError as error:
                form.add_error("body", str(error))
                status = 422
        elif form.is_valid():
            try:
                saved = services.runbook_save(
                    actor=request.user,
                    runbook_id=runbook.pk if runbook else None,
                    expected_version=form.cleaned_data["version"],
                    **form.values(),
                )
            except services.KnowledgeError as error:
                form.add_error(None, str(error))
                status = _save_status(error)
            else:
                messages.success(request, f"Saved “{saved.title}” (version {saved.version}).")
                return redirect(saved)
        else:
            status = 422
    context = {"form": form, "runbook": runbook, "preview": preview}
    response = render(request, "runbooks/runbook_form.html", context, status=status)
    return response if runbook is not None else no_data(response)


@audited_write(Runbook, view="runbook restore")
@require_POST
def runbook_restore(request, slug: str):
    runbook = selectors.runbook_get(slug)
    if runbook is None:
        raise Http404("No such runbook")
    try:
        version = int(request.POST.get("version", ""))
        services._editor(request.user)
        restored = services.runbook_restore(actor=request.user, runbook_id=runbook.pk, version=version)
    except ValueError:
        return _refuse(request, "Choose a version to restore.", 400)
    except services.KnowledgeError as error:
        return _refuse(request, str(error), 403 if "Only" in str(error) else 422)
    messages.success(request, f"Restored version {version} as version {restored.version}.")
    return redirect(restored)


@audited_read(Article, view="knowledge base")
@require_GET
@vary_on_headers("HX-Request")
def article_list(request):
    filterset = ArticleFilterSet(request.GET, user=request.user)
    page = Paginator(filterset.qs, selectors.PAGE).get_page(request.GET.get("page"))
    audit.log_list_access(Article, [a.pk for a in page], view="knowledge base", query=request.GET.urlencode())
    template = "runbooks/article_list.html" + ("#results" if htmx_partial(request) else "")
    context = {
        "filterset": filterset,
        "page": page,
        "q": request.GET.get("q", ""),
        "can_edit": selectors.can_edit(request.user),
    }
    return render(request, template, context)


@audited_read(Article, view="article page")
@require_GET
def article_detail(request, slug: str):
    article = selectors.article_get(slug, request.user)
    if article is None:
        audit.log_denied(Article, slug, path=request.path, reason="no such article, or a draft")
        raise Http404("No such article")
    audit.log_access(article, view="article page")
    can_edit = selectors.can_edit(request.user)
    revisions = selectors.article_revisions(article) if can_edit else []
    context = {"article": article, "can_edit": can_edit, "revisions": revisions}
    return render(request, "runbooks/article_detail.html", context)


def _editor_or_refuse(request, model, pk, what: str):
    """The knowledge side's editors (admins and senior agents, as for runbooks); anyone else gets a
    403 and the refusal is audited."""
    if selectors.can_edit(request.user):
        return None
    audit.log_denied(model, pk, path=request.path, reason=f"only editors change {what}")
    return _refuse(request, f"Only admins and senior agents can edit {what}.")


def _save_status(error: services.KnowledgeError) -> int:
    return 409 if isinstance(error, services.KnowledgeConflict) else 422


@audit_exempt(reason="renders the editor's own draft Markdown; reads no stored data")
@require_POST
def markdown_preview(request):
    """The editors' live preview: the draft body rendered and sanitised exactly as it will be saved."""
    if not selectors.can_edit(request.user):
        return _refuse(request, "Only admins and senior agents edit the knowledge base.")
    try:
        html, error = markdown.render(request.POST.get("body", "")), ""
    except markdown.MarkdownError as err:
        html, error = "", str(err)
    return render(
        request,
        "runbooks/_markdown_preview.html",
        {"preview": html, "preview_error": error},
        status=422 if error else 200,
    )


@audited_write(Article, view="article edit")
@require_http_methods(["GET", "POST"])
def article_edit(request, slug: str | None = None):
    """Create or edit an article. "Preview" (or the live preview, with JS) renders the body without
    saving; a refused save keeps what was typed (422; a stale version 409)."""
    article = selectors.article_get(slug, request.user) if slug else None
    if slug and article is None:
        audit.log_denied(Article, slug, path=request.path, reason="no such article")
        raise Http404("No such article")
    refused = _editor_or_refuse(request, Article, slug or "new", "knowledge-base articles")
    if refused:
        return refused
    if article is not None:
        audit.log_access(article, view="article edit form")
        initial = {
            "title": article.title,
            "category": article.category,
            "status": article.status,
            "summary": article.summary,
            "tags": ", ".join(article.tags),
            "body": article.body,
            "version": article.version,
        }
    else:
        initial = {"status": "draft", "category": request.GET.get("category", "")}
    form = ArticleForm(request.POST or None, initial=initial)
    status, preview = 200, None
    if request.method == "POST":
        if form.is_valid() and "preview" in request.POST:
            try:
                preview = markdown.render(form.cleaned_data["body"])
            except markdown.MarkdownError as error:
                form.add_error("body", str(error))
                status = 422
        elif form.is_valid():
            try:
                saved = services.article_save(
                    actor=request.user,
                    article_id=article.pk if article else None,
                    expected_version=form.cleaned_data["version"] if article else None,
                    **form.values(),
                )
            except services.KnowledgeError as error:
                form.add_error(None, str(error))
                status = _save_status(error)
            else:
                messages.success(request, f"Saved “{saved.title}” (version {saved.version}).")
                return redirect(saved)
        else:
            status = 422
    context = {"form": form, "article": article, "preview": preview}
    response = render(request, "runbooks/article_form.html", context, status=status)
    return response if article is not None else no_data(response)


@audited_write(Article, view="article restore")
@require_POST
def article_restore(request, slug: str):
    article = selectors.article_get(slug, request.user)
    if article is None:
        raise Http404("No such article")
    refused = _editor_or_refuse(request, Article, article.pk, "knowledge-base articles")
    if refused:
        return refused
    try:
        version = int(request.POST.get("version", ""))
        expected = int(request.POST["expected_version"]) if request.POST.get("expected_version") else None
    except ValueError:
        return _refuse(request, "Choose a version to restore.", 400)
    try:
        restored = services.article_restore(
            actor=request.user, article_id=article.pk, version=version, expected_version=expected
        )
    except services.KnowledgeError as error:
        return _refuse(request, str(error), _save_status(error))
    messages.success(request, f"Restored version {version} as version {restored.version}.")
    return redirect(restored)


@audited_write(Article, view="article delete")
@require_http_methods(["GET", "POST"])
def article_delete(request, slug: str):
    """GET: what deleting would lose, and a button to confirm. POST with confirm: delete."""
    article = selectors.article_get(slug, request.user)
    if article is None:
        audit.log_denied(Article, slug, path=request.path, reason="no such article")
        raise Http404("No such article")
    refused = _editor_or_refuse(request, Article, article.pk, "knowledge-base articles")
    if refused:
        return refused
    error, status = "", 200
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error, status = "Confirm the deletion.", 400
        else:
            try:
                expected = int(request.POST.get("version") or 0) or None
                title = services.article_delete(actor=request.user, article_id=article.pk, expected_version=expected)
            except ValueError:
                error, status = "Reload the page and try again.", 400
            except services.KnowledgeError as err:
                error, status = str(err), _save_status(err)
            else:
                messages.success(request, f"Deleted “{title}”.")
                return redirect("runbooks:articles")
    audit.log_access(article, view="article delete confirmation")
    context = {
        "thing": article,
        "kind": "article",
        "section": "kb",
        **selectors.article_delete_impact(article),
        "error": error,
    }
    return render(request, "runbooks/confirm_delete.html", context, status=status)


@audited_read(ErrorCode, view="error codes")
@require_GET
def error_code_list(request):
    codes = Paginator(selectors.error_code_list(request.GET.get("q", "")), 50).get_page(request.GET.get("page"))
    audit.log_list_access(ErrorCode, [c.pk for c in codes], view="error codes")
    return render(
        request,
        "runbooks/error_codes.html",
        {
            "page": codes,
            "q": request.GET.get("q", ""),
            "form": ImportForm(),
            "can_edit": selectors.can_edit(request.user),
        },
    )


@audited_write(ErrorCode, view="error code import")
@require_POST
def error_code_import(request):
    if not selectors.can_edit(request.user):
        audit.log_denied(ErrorCode, "import", path=request.path, reason="only editors import error codes")
        return _refuse(request, "Only admins and senior agents can import error codes.")
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refuse(request, "Choose a Markdown file to import.", 400)
    upload = form.cleaned_data["file"]
    if upload.size > 2_000_000:
        return _refuse(request, "The file is larger than 2 MB.", 413)
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        return _refuse(request, "The file is not UTF-8 text.", 400)
    try:
        report = services.error_codes_import(
            text=text, source=upload.name[:200], actor=request.user, dry_run=form.cleaned_data["dry_run"]
        )
    except services.KnowledgeError as error:
        return _refuse(request, str(error), 422)
    prefix = "Dry run: would be " if form.cleaned_data["dry_run"] else "Imported: "
    messages.success(request, prefix + report.summary + ".")
    return redirect("runbooks:error_codes")


@audited_read(KnownIssue, view="known issues")
@require_GET
def known_issue_list(request):
    filterset = KnownIssueFilterSet(request.GET, queryset=selectors.known_issue_list())
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    audit.log_list_access(KnownIssue, [k.pk for k in page], view="known issues")
    context = {"filterset": filterset, "page": page, "can_edit": selectors.can_edit(request.user)}
    return render(request, "runbooks/known_issues.html", context)


@audited_write(KnownIssue, view="known issue page")
@require_http_methods(["GET", "POST"])
def known_issue_detail(request, pk: int):
    issue = selectors.known_issue_get(pk)
    if issue is None:
        audit.log_denied(KnownIssue, pk, path=request.path, reason="no such known issue")
        raise Http404("No such known issue")
    form, status, error = FixedForm(), 200, ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "fixed":
                form = FixedForm(request.POST)
                if not form.is_valid():
                    raise services.KnowledgeError("Say which version fixes it.")
                issue, tagged = services.known_issue_mark_fixed(
                    actor=request.user, known_issue_id=issue.pk, version=form.cleaned_data["version"]
                )
                messages.success(request, f"Marked fixed in {issue.fixed_in}; {len(tagged)} linked case(s) tagged.")
            elif action == "notify":
                result = services.known_issue_notify_fixed(actor=request.user, known_issue_id=issue.pk)
                skipped = f"; skipped {len(result['skipped'])}" if result["skipped"] else ""
                messages.success(request, f"Told the customers of {len(result['notified'])} case(s){skipped}.")
            else:
                raise services.KnowledgeError("Unknown action.")
        except services.KnowledgeError as err:
            error, status = str(err), 422
        else:
            return redirect(issue)
    audit.log_access(issue, view="known issue page")
    context = {
        "issue": issue,
        "links": selectors.known_issue_cases(issue, request.user),
        "form": form,
        "error": error,
        "can_edit": selectors.can_edit(request.user),
    }
    return render(request, "runbooks/known_issue_detail.html", context, status=status)


@audited_write(KnownIssue, view="known issue edit")
@require_http_methods(["GET", "POST"])
def known_issue_edit(request, pk: int | None = None):
    """Create or edit a known issue's signature and workaround; a refused save keeps what was typed
    (422; a stale version 409). Its status moves on its page ("Mark fixed")."""
    issue = selectors.known_issue_get(pk) if pk else None
    if pk and issue is None:
        audit.log_denied(KnownIssue, pk, path=request.path, reason="no such known issue")
        raise Http404("No such known issue")
    refused = _editor_or_refuse(request, KnownIssue, pk or "new", "known issues")
    if refused:
        return refused
    if issue is not None:
        audit.log_access(issue, view="known issue edit form")
    initial = KnownIssueEditForm.initial_for(issue) if issue else {}
    form = KnownIssueEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.known_issue_save(
                    actor=request.user,
                    known_issue_id=issue.pk if issue else None,
                    expected_version=form.cleaned_data["version"] if issue else None,
                    **form.values(),
                )
            except services.KnowledgeError as error:
                form.add_error(None, str(error))
                status = _save_status(error)
            else:
                messages.success(request, f"Saved “{saved.title}” (version {saved.version}).")
                return redirect(saved)
        else:
            status = 422
    response = render(request, "runbooks/known_issue_form.html", {"form": form, "issue": issue}, status=status)
    return response if issue is not None else no_data(response)


@audited_write(KnownIssue, view="known issue delete")
@require_http_methods(["GET", "POST"])
def known_issue_delete(request, pk: int):
    """GET: the confirmation (a known issue linked to cases is not deleted: it is marked fixed).
    POST with confirm: delete."""
    issue = selectors.known_issue_get(pk)
    if issue is None:
        audit.log_denied(KnownIssue, pk, path=request.path, reason="no such known issue")
        raise Http404("No such known issue")
    refused = _editor_or_refuse(request, KnownIssue, pk, "known issues")
    if refused:
        return refused
    error, status = "", 200
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error, status = "Confirm the deletion.", 400
        else:
            try:
                expected = int(request.POST.get("version") or 0) or None
                title = services.known_issue_delete(
                    actor=request.user, known_issue_id=issue.pk, expected_version=expected
                )
            except ValueError:
                error, status = "Reload the page and try again.", 400
            except services.KnowledgeError as err:
                error, status = str(err), _save_status(err)
            else:
                messages.success(request, f"Deleted “{title}”.")
                return redirect("runbooks:known_issues")
    audit.log_access(issue, view="known issue delete confirmation")
    context = {
        "thing": issue,
        "kind": "known issue",
        "section": "known",
        **selectors.known_issue_delete_impact(issue),
        "error": error,
    }
    return render(request, "runbooks/confirm_delete.html", context, status=status)


@audited_write(Macro, view="macros")
@require_http_methods(["GET", "POST"])
def macro_list(request):
    """The macros the user may apply, with an Edit link on those they may change, and the
    variables. A POST creates a macro like /runbooks/macros/new/."""
    if request.method == "POST":
        return _macro_editor(request, None)
    macros = list(selectors.macro_search(request.user, request.GET.get("q", "")))
    audit.log_list_access(Macro, [m.pk for m in macros], view="macros")
    editable = {m.pk for m in macros if selectors.macro_editable(request.user, m)}
    context = {"macros": macros, "variables": VARIABLES, "editable": editable}
    return render(request, "runbooks/macros.html", context)


@audited_write(Macro, view="macro edit")
@require_http_methods(["GET", "POST"])
def macro_edit(request, pk: int | None = None):
    """Create or edit a macro: its text and settings, and its actions as rows (a type and that
    type's fields each; add, remove, reorder). Works as a plain form without JavaScript ("Add an
    action" and "Update rows" re-render it unsaved); knowledge.js does the same in the page."""
    macro = None
    if pk is not None:
        macro = selectors.macro_get(request.user, pk)
        if macro is None:
            audit.log_denied(Macro, pk, path=request.path, reason="no such macro, or not the user's to use")
            raise Http404("No such macro")
        if not selectors.macro_editable(request.user, macro):
            audit.log_denied(Macro, pk, path=request.path, reason="only editors change team and shared macros")
            return _refuse(request, "Only admins and senior agents can edit team and shared macros.")
    return _macro_editor(request, macro)


def _macro_editor(request, macro):
    if macro is not None:
        audit.log_access(macro, view="macro edit form")
    rows = [ActionRowForm.initial_for(a) | {"ORDER": n} for n, a in enumerate(macro.actions, 1)] if macro else []
    if request.method != "POST":
        form = MacroForm(initial=MacroForm.initial_for(macro) if macro else {"visibility": "personal"})
        formset = ActionFormSet(prefix="actions", initial=rows)
        return _macro_form(request, macro, form, formset, show_errors=False)
    data = request.POST
    rebuild = "add_action" in data or "refresh" in data
    if "add_action" in data:
        data = data.copy()
        try:
            total = int(data.get("actions-TOTAL_FORMS", "0"))
        except ValueError:
            total = 0
        data["actions-TOTAL_FORMS"] = str(max(0, min(total, MAX_ACTIONS - 1)) + 1)
    form = MacroForm(data)
    formset = ActionFormSet(data, prefix="actions")
    if rebuild:  # not a save: show the rows again (the new one, the chosen types' fields), unchecked
        return _macro_form(request, macro, form, formset, show_errors=False)
    if form.is_valid() and formset.is_valid():
        try:
            saved = services.macro_save(
                actor=request.user,
                macro_id=macro.pk if macro else None,
                expected_version=form.cleaned_data["version"] if macro else None,
                actions_list=formset.actions(),
                **form.values(),
            )
        except services.KnowledgeError as error:
            form.add_error(None, str(error))
            return _macro_form(request, macro, form, formset, status=_save_status(error))
        messages.success(request, f"Saved macro “{saved.name}” ({len(saved.actions)} action(s)).")
        return redirect("runbooks:macros")
    return _macro_form(request, macro, form, formset, status=422)


def _macro_form(request, macro, form, formset, *, show_errors: bool = True, status: int = 200):
    context = {
        "macro": macro,
        "form": form,
        "formset": formset,
        "show_errors": show_errors,
        "variables": VARIABLES,
        "action_fields": ACTION_FIELDS,
    }
    response = render(request, "runbooks/macro_form.html", context, status=status)
    return response if macro is not None else no_data(response)


@audited_read(Macro, view="macro report")
@require_GET
def macro_report(request):
    if not selectors.is_manager(request.user):
        audit.log_denied(Macro, "report", path=request.path, reason="managers only")
        return _refuse(request, "The macro report is for managers.")
    rows = selectors.macro_hit_rates()
    audit.log_list_access(Macro, [r["macro"].pk for r in rows], view="macro report")
    return render(request, "runbooks/macro_report.html", {"rows": rows})


# --- on a case: the Knowledge card, the macro palette, preview and apply ------------------------------


def _case(request, key: str) -> Case:
    return case_get_for_user(request.user, key, path=request.path)


def _panel(request, case: Case, *, error: str = "", status: int = 200):
    suggestions = selectors.case_suggestions(case, request.user)
    services.suggestions_record_shown(case=case, suggested=suggestions.macros)
    context = {"case": case, "s": suggestions, "error": error, "pv": request.GET.get("pv", "")}
    return render(request, "runbooks/case_panel.html", context, status=status)


@audited_read(Case, view="case page: knowledge card")
@require_GET
def case_panel(request, key: str):
    """The case page's Knowledge card (suggested macros, runbooks, known issues; error codes; the
    case's runbooks with their steps), loaded on its own by the case page."""
    case = _case(request, key)
    if pageview.page_cid(request, case) is not None:
        return covered_by_page_view(_panel(request, case))
    audit.log_access(case, view="case page: knowledge card")
    return _panel(request, case)


@audited_read(Case, view="case page: macro palette")
@require_GET
def case_macros(request, key: str):
    """The macro palette's results: the user's macros whose name matches `q`."""
    case = _case(request, key)
    macros = list(selectors.macro_search(request.user, request.GET.get("q", ""))[:20])
    audit.log_access(case, view="case page: macro palette")
    return render(request, "runbooks/case_panel.html#palette-results", {"case": case, "macros": macros})


@audited_write(Case, view="macro apply")
@require_http_methods(["GET", "POST"])
def case_macro(request, key: str, pk: int):
    """GET: the preview (rendered text, each action, what would be refused). POST: apply it."""
    case = _case(request, key)
    if request.method == "GET":
        known = request.GET.get("known_issue", "")
        audit.log_access(case, view="macro preview")
        try:
            preview = services.macro_preview(
                macro_id=pk, case=case, actor=request.user, known_issue_id=int(known) if known.isdigit() else None
            )
        except services.KnowledgeError as error:
            return render(request, "runbooks/macro_preview.html", {"case": case, "error": str(error)}, status=404)
        context = {"case": case, "p": preview, "suggested": request.GET.get("suggested") == "1"}
        return render(request, "runbooks/macro_preview.html", context)
    form = ApplyMacroForm(request.POST)
    if not form.is_valid():
        audit.log_access(case, view="macro preview: refused")
        return render(
            request,
            "runbooks/macro_preview.html",
            {"case": case, "error": "Reload the case and preview the macro again."},
            status=400,
        )
    try:
        preview = services.macro_apply(
            macro_id=pk,
            case_id=case.pk,
            actor=request.user,
            expected_version=form.cleaned_data["version"],
            known_issue_id=form.cleaned_data["known_issue"],
            suggested=form.cleaned_data["suggested"],
        )
    except services.CaseError as error:
        audit.log_access(case, view="macro preview: refused")
        status = 409 if isinstance(error, services.case_services.CaseConflict) else 422
        try:
            preview = services.macro_preview(
                macro_id=pk,
                case=_case(request, key),
                actor=request.user,
                known_issue_id=form.cleaned_data["known_issue"],
            )
        except services.KnowledgeError:
            preview = None
        return render(
            request, "runbooks/macro_preview.html", {"case": case, "p": preview, "error": str(error)}, status=status
        )
    message = f"Macro “{preview.macro.name}” applied: {', '.join(preview.done)}."
    messages.success(request, message)
    if htmx_partial(request):
        response = HttpResponse(status=204)
        response["HX-Location"] = case.get_absolute_url()
        return response
    return redirect(case)


@audited_write(Case, view="runbook step executed")
@require_POST
def case_step(request, key: str, step: int):
    case = _case(request, key)
    try:
        services.runbook_step_execute(actor=request.user, case_id=case.pk, step_id=step)
    except services.CaseError as error:
        audit.log_access(case, view="case page: knowledge card refused")
        return _panel(request, case, error=str(error), status=422)
    messages.success(request, "Step marked executed.")
    if htmx_partial(request):
        response = HttpResponse(status=204)
        response["HX-Location"] = case.get_absolute_url()
        return response
    return redirect(case)


@audited_write(Case, view="runbook linked")
@require_POST
def case_link_runbook(request, key: str):
    case = _case(request, key)
    runbook = selectors.runbook_get(request.POST.get("runbook", ""))
    try:
        if runbook is None:
            raise services.KnowledgeError("Choose a runbook.")
        services.runbook_link(actor=request.user, case_id=case.pk, runbook_id=runbook.pk)
    except services.CaseError as error:
        audit.log_access(case, view="case page: knowledge card refused")
        return _panel(request, case, error=str(error), status=422)
    messages.success(request, f"Linked “{runbook.title}”.")
    if htmx_partial(request):
        response = HttpResponse(status=204)
        response["HX-Location"] = case.get_absolute_url()
        return response
    return redirect(case)


@audited_write(Case, view="macro bulk apply")
@require_http_methods(["GET", "POST"])
def macro_bulk(request):
    """The queue's "Apply macro" (loaded into its bulk bar by URL): GET the picker of the user's
    macros; POST one macro to the chosen cases, each through macro_apply (one refused case is
    skipped with its reason). An HTMX post answers like the queue's own bulk actions: the summary
    flashes and `cases-changed` reloads the results."""
    if request.method == "GET":
        macros = list(selectors.macro_search(request.user))
        audit.log_list_access(Macro, [m.pk for m in macros], view="queue: bulk macro picker")
        return render(request, "runbooks/bulk_macro.html", {"macros": macros})
    try:
        macro_id = int(request.POST.get("macro", ""))
        ids = [int(i) for i in request.POST.getlist("id") if i.strip()][:500]
    except ValueError:
        return _refuse(request, "Choose a macro and some cases.", 400)
    if not ids:
        return _refuse(request, "Choose some cases.", 400)
    cases = cases_visible_by_ids(request.user, ids)
    for pk in set(ids) - {c.pk for c in cases}:
        audit.log_denied(Case, pk, path=request.path, reason="bulk macro on a case not visible")
    result = services.macro_bulk(macro_id=macro_id, cases=cases, actor=request.user)
    summary = f"{len(result['changed'])} case{'s' if len(result['changed']) != 1 else ''} changed by the macro"
    if result["skipped"]:
        summary += "; skipped " + "; ".join(f"{k}: {v}" for k, v in list(result["skipped"].items())[:5])
    if htmx_partial(request):
        response = render(request, "cases/bulk_confirm.html#done", {"summary": summary + "."})
        response["HX-Trigger"] = "cases-changed"
        return no_data(response)  # names keys only; the results reload as their own audited read
    messages.success(request, summary + ".")
    back = request.POST.get("next", "/cases/")
    return no_data(redirect(back if back.startswith("/cases/") else "/cases/"))


@audited_read(Case, view="case page: reply check")
@require_POST
def case_reply_check(request, key: str):
    """The composer's reply check (seed 002's communication guidelines): warnings about the draft,
    each naming its rule; sending is never blocked. Internal notes are not checked."""
    case = _case(request, key)
    body = request.POST.get("body", "")[:20_000]
    public = request.POST.get("visibility", "public") == "public"
    warnings = selectors.reply_warnings(case, body) if public else []
    audit.log_access(case, view="case page: reply check")
    return render(request, "runbooks/reply_check.html", {"warnings": warnings, "case": case})


@audited_read(Article, view="case page: knowledge-base links")
@require_GET
def case_articles(request, key: str):
    """The composer's "insert a KB link": published articles matching `q`, each with the link a
    customer can open."""
    case = _case(request, key)
    articles = list(selectors.article_search(request.GET.get("q", ""), user=None)[:8])
    audit.log_list_access(
        Article, [a.pk for a in articles], view="case page: knowledge-base links", extra={"case": case.key}
    )
    return render(
        request, "runbooks/case_panel.html#kb-results", {"case": case, "articles": articles, "kb_base": kb_base()}
    )
