"""The admins' erasure pages (issue 18, point 4): find a contact, see what erasing them touches,
erase them with a reason and a typed confirmation (cases.erasure does it; `manage.py erase_requester`
is the same from a shell). Past erasures are listed: who erased which contact, when and why."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from companyos import audit, roles
from companyos.access import audited_read, audited_write
from tenants.models import Requester

from . import erasure
from .erasure_models import Erasure

_admins = roles.admin_required(
    Erasure, reason="erasure is for admins", message="Erasing a contact is for admins.", default_pk="erasure"
)


class ErasureForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"class": "input", "rows": 3}),
        help_text="The request and its reference, e.g. “GDPR request DPO-7 of 2026-12-01”: recorded with the erasure.",
    )
    confirm = forms.CharField(
        max_length=320,
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off"}),
        help_text="Type the contact's e-mail address to confirm.",
    )

    def __init__(self, *args, requester: Requester, **kwargs):
        super().__init__(*args, **kwargs)
        self.requester = requester

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value.lower() != self.requester.email.lower():
            raise forms.ValidationError("That is not this contact’s e-mail address: nothing was erased.")
        return value


@audited_read(Requester, view="erasure page")
@_admins
@require_GET
def erasure_list(request):
    query = request.GET.get("q", "")[:320]
    candidates = erasure.erasure_candidates(query)
    records = erasure.recent_erasures()
    audit.log_list_access(Requester, [r.pk for r in candidates], view="erasure page", query=query)
    return render(
        request,
        "cases/erasure.html",
        {"query": query, "candidates": candidates, "records": records, "searched": len(query.strip()) >= 3},
    )


@audited_write(Requester, view="erase a contact")
@_admins
@require_http_methods(["GET", "POST"])
def erasure_confirm(request, pk: int):
    requester, done = erasure.contact_for_erasure(pk)
    if requester is None:
        audit.log_denied(Requester, pk, path=request.path, reason="no such contact")
        raise Http404("No such contact.")
    form = ErasureForm(request.POST or None, requester=requester)
    error, status = "", 200
    if request.method == "POST" and done is None:
        if form.is_valid():
            try:
                record = erasure.requester_erase(
                    requester_id=pk, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except erasure.ErasureError as refused:
                error, status = str(refused), 422
            else:
                messages.success(
                    request,
                    f"Erased contact {pk}: {record.cases} case(s), {record.messages} message(s) redacted, "
                    f"{record.attachments} attachment(s) deleted.",
                )
                return redirect("cases:erasure")
        else:
            status = 422
    elif request.method == "POST":
        error, status = "This contact was erased already.", 422
    audit.log_access(requester, view="erasure page: contact")
    context = {
        "requester": requester,
        "preview": None if done else erasure.erasure_preview(requester),
        "done": done,
        "form": form,
        "error": error,
    }
    return render(request, "cases/erasure_confirm.html", context, status=status)
