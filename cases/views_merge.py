"""Merging a duplicate case into the one that survives: the case page's *Merge into…* (a form,
then a confirmation naming both cases, then the merge through `cases.services.case_merge`)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_POST

from companyos import audit
from companyos.access import audited_write
from companyos.htmx import partial

from . import services
from .forms import MergeForm
from .models import Case
from .selectors import case_get_for_user
from .views import _after_write


@audited_write(Case, view="case merge")
@require_POST
def case_merge(request, key: str):
    """POST `into` (a case key) and an optional public `note`: without `confirm`, the confirmation
    naming both cases; with it, the merge. A refusal re-renders the form with the reason (422)."""
    case = case_get_for_user(request.user, key, path=request.path)
    form = MergeForm(request.POST)
    context = {"case": case, "form": form}
    if not form.is_valid():
        audit.log_access(case, view="merge form")
        return render(request, partial(request, "cases/merge.html", "dialog"), context, status=422)
    try:
        into = case_get_for_user(request.user, form.cleaned_data["into"], path=request.path)
    except Http404:  # the denial is audited by the selector
        form.add_error("into", f"{form.cleaned_data['into']} does not exist or is not visible to you.")
        audit.log_access(case, view="merge form")
        return render(request, partial(request, "cases/merge.html", "dialog"), context, status=422)
    context["into"] = into
    if not form.cleaned_data["confirm"]:
        audit.log_access(case, view="merge confirmation")
        audit.log_access(into, view="merge confirmation")
        return render(request, partial(request, "cases/merge.html", "dialog"), context)
    try:
        services.case_merge(
            case_id=case.pk,
            into_id=into.pk,
            actor=request.user,
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except services.CaseError as error:
        form.add_error(None, str(error))
        audit.log_access(case, view="merge form")
        return render(
            request,
            partial(request, "cases/merge.html", "dialog"),
            context,
            status=409 if isinstance(error, services.CaseConflict) else 422,
        )
    return _after_write(request, into.key, f"{case.key} was merged into {into.key} and closed.")
