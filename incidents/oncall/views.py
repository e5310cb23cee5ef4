"""On-call pages under /oncall/: the schedules and a schedule (now / next, the 4-week timeline,
layers and overrides), the calendar feeds, open pages with Acknowledge, a page's timeline, and the
signed one-time acknowledge link (no sign-in, under /oncall/link/). Thin: parse, one service or
selector, render; a refusal re-renders with its message and a 4xx."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import services as case_services
from cases.models import Case, Team
from cases.selectors import case_visible_to
from companyos import audit, roles
from companyos.access import audit_exempt, audited_read, audited_write, no_data

from ..models import Incident
from ..selectors import incident_visible_to
from . import handoff, ical, links, selectors, services, tiers
from .models import EscalationChain, HandoffPrompt, Page, Schedule, ScheduleLayer

User = get_user_model()
NO_CASE_DATA = "on-call schedules: people and times, no case or tenant data"
EDITORS = {roles.MANAGER, roles.ADMIN, roles.SRE}


def _can_edit(user) -> bool:
    return bool(roles.role_names(user) & EDITORS) or user.is_superuser


def _people():
    return (
        User.objects.filter(is_active=True).exclude(username=roles.SYSTEM_USERNAME).order_by("first_name", "username")
    )


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone_name = forms.CharField(max_length=64, initial="Europe/Oslo", label="Time zone")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)


class LayerForm(forms.Form):
    name = forms.CharField(max_length=80, required=False)
    participants = forms.ModelMultipleChoiceField(queryset=User.objects.none())
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    handoff_time = forms.TimeField(initial="09:00", widget=forms.TimeInput(attrs={"type": "time"}))
    handoff_weekday = forms.TypedChoiceField(
        choices=[
            ("", "the start date"),
            *[
                (str(i), d)
                for i, d in enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
            ],
        ],
        coerce=int,
        empty_value=None,
        required=False,
        initial="0",
    )
    length = forms.IntegerField(min_value=1, max_value=10000, initial=7)
    unit = forms.ChoiceField(choices=ScheduleLayer.Unit.choices, initial="days")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = _people()


class OverrideForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Who covers")
    start = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _people()


class ManualPageForm(forms.Form):
    title = forms.CharField(max_length=300)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Details")
    chain = forms.ModelChoiceField(queryset=EscalationChain.objects.all(), empty_label=None)


def _errors(form) -> str:
    return " ".join(e for errs in form.errors.values() for e in errs)


# --- schedules ---------------------------------------------------------------------------------------


@audit_exempt(reason=NO_CASE_DATA)
@require_http_methods(["GET", "POST"])
def schedule_list(request):
    status, error = 200, ""
    form = ScheduleForm(request.POST or None)
    if request.method == "POST":
        if not _can_edit(request.user):
            return HttpResponse("Only managers, admins and SREs edit schedules.", status=403)
        if form.is_valid():
            try:
                schedule = services.schedule_create(actor=request.user, **form.cleaned_data)
            except services.OnCallError as e:
                status, error = 422, str(e)
            else:
                return redirect("oncall:schedule", pk=schedule.pk)
        else:
            status, error = 422, _errors(form)
    rows = selectors.on_call_overview()
    return render(
        request,
        "oncall/schedule_list.html",
        {
            "rows": rows,
            "form": form,
            "error": error,
            "can_edit": _can_edit(request.user),
            "person_feed": links_person(request),
        },
        status=status,
    )


def links_person(request) -> str:
    return request.build_absolute_uri(f"/oncall/link/ical/person/{ical.person_token(request.user.pk)}.ics")


def _week_start(schedule: Schedule, now: datetime) -> datetime:
    zone = selectors.zone_of(schedule)
    local = now.astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    from .rotation import localise

    return localise(monday.replace(tzinfo=None), zone)


SVG_WIDTH, LABEL, ROW, HEAD = 1120, 110, 28, 22


def _svg(tl: dict, now_left: float | None) -> dict:
    """The timeline as SVG coordinates (CSP allows no inline styles): one row per layer, the
    overrides, the final result; day lines at local midnight, Mondays darker."""
    track = SVG_WIDTH - LABEL - 4
    x = lambda pct: round(LABEL + pct * track / 100, 2)  # noqa: E731
    rows = [*tl["rows"], tl["final"]]
    out = []
    for i, row in enumerate(rows):
        y = HEAD + i * ROW
        out.append(
            {
                "name": row.name,
                "y": y,
                "ty": y + 18,
                "final": row is tl["final"],
                "override": row.name == "Overrides",
                "bars": [
                    {
                        **bar.__dict__,
                        "x": x(bar.left),
                        "w": max(round(bar.width * track / 100, 2), 1),
                        "tx": x(bar.left) + 4,
                    }
                    for bar in row.bars
                ],
            }
        )
    height = HEAD + len(rows) * ROW + 4
    return {
        "width": SVG_WIDTH,
        "height": height,
        "label": LABEL,
        "rows": out,
        "line_y": HEAD + (len(rows) - 1) * ROW - 2,
        "ticks": [{**t, "x": x(t["left"])} for t in tl["ticks"]],
        "now": x(now_left) if now_left is not None and 0 <= now_left <= 100 else None,
    }


def _schedule_page(request, pk: int, *, status: int = 200, error: str = "", layer_form=None, override_form=None):
    schedule = selectors.schedule_detail(pk)
    if schedule is None:
        raise Http404("No such schedule.")
    now = timezone.now()
    try:
        weeks_on = max(-52, min(52, int(request.GET.get("week", 0))))
    except ValueError:
        weeks_on = 0
    start = _week_start(schedule, now) + timedelta(weeks=weeks_on)
    oncall = selectors.on_call([schedule], now)[0]
    context = {
        "schedule": schedule,
        "oncall": oncall,
        "tl": selectors.timeline(schedule, start=start),
        "svg": None,
        "weeks_on": weeks_on,
        "layers": list(schedule.layers.all()),
        "overrides": [o for o in schedule.overrides.all() if o.end > now],
        "layer_form": layer_form or LayerForm(initial={"start_date": now.date()}),
        "override_form": override_form or OverrideForm(),
        "can_edit": _can_edit(request.user),
        "error": error,
        "feed": request.build_absolute_uri(f"/oncall/link/ical/{schedule.ical_token}.ics"),
        "person_feed": links_person(request),
    }
    context["svg"] = _svg(context["tl"], 100 * (now - start).total_seconds() / (28 * 86400))
    return render(request, "oncall/schedule_detail.html", context, status=status)


@audit_exempt(reason=NO_CASE_DATA)
@require_GET
def schedule_detail(request, pk: int):
    return _schedule_page(request, pk)


@audit_exempt(reason=NO_CASE_DATA)
@require_POST
def layer_add(request, pk: int):
    if not _can_edit(request.user):
        return HttpResponse("Only managers, admins and SREs edit schedules.", status=403)
    form = LayerForm(request.POST)
    if not form.is_valid():
        return _schedule_page(request, pk, status=422, error=_errors(form), layer_form=form)
    data = form.cleaned_data
    try:
        services.layer_add(
            actor=request.user,
            schedule_id=pk,
            participants=list(data["participants"]),
            start_date=data["start_date"],
            handoff_time=data["handoff_time"],
            handoff_weekday=data["handoff_weekday"],
            length=data["length"],
            unit=data["unit"],
            name=data["name"],
        )
    except Schedule.DoesNotExist as e:
        raise Http404("No such schedule.") from e
    except services.OnCallError as e:
        return _schedule_page(request, pk, status=422, error=str(e), layer_form=form)
    return redirect("oncall:schedule", pk=pk)


@audit_exempt(reason=NO_CASE_DATA)
@require_POST
def override_add(request, pk: int):
    if not _can_edit(request.user):
        return HttpResponse("Only managers, admins and SREs edit schedules.", status=403)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _schedule_page(request, pk, status=422, error=_errors(form), override_form=form)
    schedule = Schedule.objects.filter(pk=pk).first()
    if schedule is None:
        raise Http404("No such schedule.")
    zone = selectors.zone_of(schedule)  # the form's times are the schedule's local times
    data = form.cleaned_data
    start, end = (timezone.make_naive(data[k]).replace(tzinfo=zone) for k in ("start", "end"))
    try:
        services.override_add(
            actor=request.user, schedule_id=pk, user=data["user"], start=start, end=end, reason=data["reason"]
        )
    except services.OnCallError as e:
        return _schedule_page(request, pk, status=422, error=str(e), override_form=form)
    return redirect("oncall:schedule", pk=pk)


@audit_exempt(reason=NO_CASE_DATA)
@require_POST
def override_remove(request, pk: int, override_pk: int):
    if not _can_edit(request.user):
        return HttpResponse("Only managers, admins and SREs edit schedules.", status=403)
    try:
        services.override_remove(actor=request.user, override_id=override_pk)
    except services.OnCallError as e:
        return _schedule_page(request, pk, status=409, error=str(e))
    return redirect("oncall:schedule", pk=pk)


@audit_exempt(reason="calendar feed of a schedule: people and times; the URL's secret is the credential")
@require_GET
def ical_schedule(request, token: str):
    schedule = Schedule.objects.filter(ical_token=token).first()
    if schedule is None:
        raise Http404("No such feed.")
    return HttpResponse(ical.schedule_feed(schedule), content_type="text/calendar; charset=utf-8")


@audit_exempt(reason="a person's on-call calendar feed: their shifts; the signed URL is the credential")
@require_GET
def ical_person(request, token: str):
    user_id = ical.read_person_token(token)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise Http404("No such feed.")
    return HttpResponse(ical.person_feed(user), content_type="text/calendar; charset=utf-8")


# --- pages -------------------------------------------------------------------------------------------


def _visible_pages(user, qs):
    """Pages of cases and incidents the user may see, and pages opened by hand (no case data)."""
    from django.db.models import Q

    return qs.filter(
        Q(case__isnull=True, incident__isnull=True)
        | Q(case__in=case_visible_to(user).values("pk"))
        | Q(incident__in=incident_visible_to(user).values("pk"))
    )


@audited_read(Page, view="open pages")
@require_http_methods(["GET", "POST"])
def page_list(request):
    form = ManualPageForm(request.POST or None)
    status, error = 200, ""
    if request.method == "POST":
        if form.is_valid():
            try:
                page = services.page_open(
                    actor=request.user,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    chain=form.cleaned_data["chain"],
                )
            except services.OnCallError as e:
                status, error = 422, str(e)
            else:
                return redirect("oncall:page", pk=page.pk)
        else:
            status, error = 422, _errors(form)
    pages = list(_visible_pages(request.user, selectors.open_pages())[:200])
    audit.log_list_access(Page, [p.pk for p in pages], view="open pages")
    return render(request, "oncall/page_list.html", {"pages": pages, "form": form, "error": error}, status=status)


def _page_or_404(request, pk: int) -> Page:
    page = selectors.page_detail(pk)
    if page is None or not _visible_pages(request.user, Page.objects.filter(pk=pk)).exists():
        raise Http404("No such page.")
    return page


@audited_read(Page, view="page")
@require_GET
def page_detail(request, pk: int, *, status: int = 200, error: str = ""):
    page = _page_or_404(request, pk)
    audit.log_access(page, view="page")
    return render(request, "oncall/page_detail.html", {"page": page, "error": error}, status=status)


@audited_write(Page, view="acknowledge page")
@require_POST
def page_ack(request, pk: int):
    page = _page_or_404(request, pk)
    try:
        services.page_acknowledge(page_id=page.pk, actor=request.user)
    except services.OnCallError as e:
        audit.log_access(page, view="acknowledge page")
        return render(
            request, "oncall/page_detail.html", {"page": selectors.page_detail(pk), "error": str(e)}, status=409
        )
    if request.POST.get("next"):
        return redirect(_safe_next(request.POST["next"]))
    return redirect("oncall:page", pk=pk)


@audited_write(Page, view="resolve page")
@require_POST
def page_resolve(request, pk: int):
    page = _page_or_404(request, pk)
    try:
        services.page_resolve(page_id=page.pk, actor=request.user, reason=request.POST.get("reason", "")[:200])
    except services.OnCallError as e:
        audit.log_access(page, view="resolve page")
        return render(
            request, "oncall/page_detail.html", {"page": selectors.page_detail(pk), "error": str(e)}, status=409
        )
    return redirect("oncall:page", pk=pk)


def _safe_next(url: str) -> str:
    return url if url.startswith("/") and not url.startswith("//") else "/oncall/pages/"


@audited_write(Case, view="page on-call from case")
@require_POST
def page_case(request, key: str):
    case = case_visible_to(request.user).select_related("tenant").filter(pk=_case_pk(key)).first()
    if case is None:
        raise Http404("No such case.")
    audit.log_access(case, view="page on-call from case")
    try:
        page = services.page_from_case(case=case, actor=request.user, reason=request.POST.get("reason", "")[:500])
    except services.OnCallError as e:
        return HttpResponse(str(e), status=422)
    return redirect("oncall:page", pk=page.pk)


def _case_pk(key: str) -> int | None:
    digits = key.rsplit("-", 1)[-1]
    return int(digits) if digits.isdigit() else None


@audited_write(Incident, view="page on-call from incident")
@require_POST
def page_incident(request, key: str):
    incident = incident_visible_to(request.user).filter(pk=_case_pk(key)).first()
    if incident is None:
        raise Http404("No such incident.")
    audit.log_access(incident, view="page on-call from incident")
    chain = EscalationChain.objects.filter(is_default=True).first()
    try:
        page = services.page_open(
            actor=request.user,
            title=f"{incident.key} {incident.severity}: {incident.title}",
            body=f"{incident.summary}\n\nIncident: {services._public(incident.get_absolute_url())}",
            source=Page.Source.INCIDENT,
            incident_id=incident.pk,
            chain=chain,
        )
    except services.OnCallError as e:
        return HttpResponse(str(e), status=422)
    return redirect("oncall:page", pk=page.pk)


# --- the signed link ---------------------------------------------------------------------------------


@audit_exempt(reason="a page's signed one-time acknowledge link: the link is the credential", model=Page)
@require_http_methods(["GET", "POST"])
def ack_link(request, token: str):
    """GET shows the page and one button (mail scanners that fetch links do not acknowledge); POST
    acknowledges, once."""
    try:
        nonce = links.read_ack(token)
    except links.LinkExpired:
        return render(request, "oncall/ack.html", {"state": "expired"}, status=410)
    except links.LinkInvalid:
        return render(request, "oncall/ack.html", {"state": "invalid"}, status=404)
    notice = (
        services.PageNotice.objects.select_related("page", "user", "page__acknowledged_by").filter(nonce=nonce).first()
    )
    if notice is None:
        return render(request, "oncall/ack.html", {"state": "invalid"}, status=404)
    context = {"state": "ask", "notice": notice, "page": notice.page}
    if notice.used_at is not None or notice.page.status != Page.Status.TRIGGERED:
        context["state"] = "done"
        return render(request, "oncall/ack.html", context, status=200 if request.method == "GET" else 409)
    if request.method == "GET":
        return render(request, "oncall/ack.html", context)
    try:
        page = services.page_acknowledge_by_link(nonce=nonce)
    except services.OnCallError as e:
        notice.refresh_from_db()
        return render(request, "oncall/ack.html", {**context, "state": "done", "error": str(e)}, status=409)
    return render(request, "oncall/ack.html", {**context, "state": "acked", "page": page})


# --- hand-offs (the console's home loads this partial) ------------------------------------------------


@audited_read(HandoffPrompt, view="hand-off notes")
@require_http_methods(["GET", "POST"])
def handoff_mine(request):
    """The home's hand-off panel: the note the outgoing engineer writes (prefilled), the notes the
    incoming engineer received in the last day. Empty (no data) when there is neither."""
    error, status = "", 200
    if request.method == "POST":
        try:
            handoff.write_note(
                prompt_id=int(request.POST.get("prompt") or 0), actor=request.user, note=request.POST.get("note", "")
            )
        except (handoff.HandoffError, ValueError) as e:
            error, status = str(e) or "That hand-off is not yours to write.", 422
    found = handoff.for_home(request.user)
    shown = found["to_write"] + found["received"]
    if not shown and not error:
        return no_data(HttpResponse(""))
    for prompt in shown:
        audit.log_access(prompt, view="hand-off notes")
    response = render(request, "oncall/_handoff.html", {**found, "error": error}, status=status)
    return response if shown else no_data(response)


@audited_write(Case, view="escalate case to tier")
@require_POST
def escalate_tier(request, key: str):
    case = case_visible_to(request.user).select_related("tenant").filter(pk=_case_pk(key)).first()
    if case is None:
        raise Http404("No such case.")
    audit.log_access(case, view="escalate case to tier")
    try:
        tier = int(request.POST.get("tier") or 0)
    except ValueError:
        tier = 0
    try:
        tiers.escalate_to_tier(case=case, actor=request.user, tier=tier, reason=request.POST.get("reason", ""))
    except (tiers.TierError, services.OnCallError) as e:
        return HttpResponse(str(e), status=422)
    except case_services.CaseError as e:
        return HttpResponse(str(e), status=409)
    return redirect(case.get_absolute_url())
