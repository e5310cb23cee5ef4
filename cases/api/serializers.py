"""Shapes of the case resources. Output serializers read model instances (the selectors' querysets,
related rows already joined or prefetched); input serializers validate and convert, and the views pass
the result to one service."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from tenants.choices import Channel

from ..choices import (
    OPEN_STATUSES,
    PRIORITY_SLUG_CHOICES,
    Category,
    Environment,
    IssueType,
    Priority,
    Status,
    WaitingFor,
)
from ..models import Case

PRIORITY_SLUGS = [slug for slug, _ in PRIORITY_SLUG_CHOICES]


def sla_state(case: Case, now) -> str:
    if case.status not in OPEN_STATUSES:
        return "stopped"
    if case.sla_due_at is None:
        return "paused" if case.sla_paused else "none"
    if case.sla_due_at < now:
        return "breached"
    if case.sla_risk_at is not None and case.sla_risk_at <= now:
        return "at_risk"
    return "on_track"


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()


def person(user) -> dict | None:
    if user is None:
        return None
    return {"username": user.get_username(), "name": user.get_full_name() or user.get_username()}


class RequesterRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class SLASerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["on_track", "at_risk", "breached", "paused", "stopped", "none"])
    due_at = serializers.DateTimeField(allow_null=True)
    at_risk_at = serializers.DateTimeField(allow_null=True)
    clock = serializers.CharField(allow_blank=True)


class CaseSerializer(serializers.Serializer):
    key = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    priority = serializers.ChoiceField(choices=PRIORITY_SLUGS)
    priority_code = serializers.CharField(help_text="Display code, e.g. P1")
    category = serializers.ChoiceField(choices=Category.choices)
    issue_type = serializers.ChoiceField(choices=IssueType.choices)
    environment = serializers.ChoiceField(choices=Environment.choices)
    unclassified = serializers.ListField(child=serializers.CharField(), help_text="Classification fields not set yet")
    channel = serializers.ChoiceField(choices=Channel.choices)
    tenant = serializers.SlugField()
    requester = RequesterRefSerializer()
    owner = PersonSerializer(allow_null=True)
    team = serializers.CharField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    waiting_for = serializers.CharField(allow_blank=True)
    sla = SLASerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="Send it back as `version` to change the classification")

    def to_representation(self, case: Case):
        now = self.context.get("now") or timezone.now()
        tags = getattr(case, "tag_list", None)
        if tags is None:
            tags = list(case.tags.order_by("name"))
        return {
            "key": case.key,
            "subject": case.subject,
            "status": case.status,
            "priority": Priority(case.priority).slug,
            "priority_code": Priority(case.priority).code,
            "category": case.category,
            "issue_type": case.issue_type,
            "environment": case.environment,
            "unclassified": list(case.unclassified or []),
            "channel": case.channel,
            "tenant": case.tenant.slug,
            "requester": {"id": case.requester.pk, "name": case.requester.name, "email": case.requester.email},
            "owner": person(case.owner),
            "team": case.team.slug if case.team_id else None,
            "tags": [t.name for t in tags],
            "waiting_for": case.waiting_for_text if case.waiting_for else "",
            "sla": {
                "state": sla_state(case, now),
                "due_at": _iso(case.sla_due_at),
                "at_risk_at": _iso(case.sla_risk_at),
                "clock": case.sla_clock or "",
            },
            "created_at": _iso(case.created_at),
            "updated_at": _iso(case.updated_at),
            "status_changed_at": _iso(case.status_changed_at),
            "version": case.version,
        }


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def to_representation(self, a):
        return {
            "id": a.pk,
            "filename": a.original_name or a.filename,
            "content_type": a.content_type,
            "size": a.size,
            "created_at": _iso(a.created_at),
        }


class AuthorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["agent", "requester", "system"])
    name = serializers.CharField()


class InteractionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    public = serializers.BooleanField()
    author = AuthorSerializer(allow_null=True)
    channel = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)
    data = serializers.DictField()
    created_at = serializers.DateTimeField()
    attachments = AttachmentSerializer(many=True)

    def to_representation(self, i):
        from companyos.roles import is_system

        if i.requester_id:
            author = {"type": "requester", "name": i.requester.name}
        elif i.actor_id and not is_system(i.actor):
            author = {"type": "agent", "name": i.actor.get_full_name() or i.actor.get_username()}
        else:
            author = {"type": "system", "name": "the system"}
        return {
            "id": i.pk,
            "kind": i.kind,
            "public": i.public,
            "author": author,
            "channel": i.channel or "",
            "body": i.body,
            "data": i.data or {},
            "created_at": _iso(i.created_at),
            "attachments": [AttachmentSerializer(a).data for a in i.attachments.all()],
        }


class CaseDetailSerializer(CaseSerializer):
    description = serializers.CharField(allow_blank=True)
    timeline = InteractionSerializer(many=True)
    attachments = AttachmentSerializer(many=True)
    duplicate_of = serializers.CharField(allow_null=True)
    triaged_at = serializers.DateTimeField(allow_null=True)
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, case: Case):
        data = super().to_representation(case)
        data.update(
            description=case.description,
            timeline=[InteractionSerializer(i).data for i in self.context["timeline"]],
            attachments=[AttachmentSerializer(a).data for a in self.context["attachments"]],
            duplicate_of=case.duplicate_of.key if case.duplicate_of_id else None,
            triaged_at=_iso(case.triaged_at),
            first_response_at=_iso(case.first_response_at),
            resolved_at=_iso(case.resolved_at),
            closed_at=_iso(case.closed_at),
        )
        return data


class CasePageSerializer(serializers.Serializer):
    results = CaseSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="Cursor of the next page (null at the end)")


# --- input --------------------------------------------------------------------------------------------------

DURATION_RE = re.compile(r"^(\d{1,6})([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TELEMETRY_WINDOW = timedelta(days=7)


class CaseCreateSerializer(serializers.Serializer):
    tenant = serializers.SlugField(max_length=80, help_text="The tenant's slug")
    requester = serializers.CharField(max_length=254, help_text="A contact of the tenant: e-mail address or id")
    subject = serializers.CharField(max_length=250)
    description = serializers.CharField(max_length=100_000, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=PRIORITY_SLUGS, default="medium")
    category = serializers.ChoiceField(choices=Category.choices, required=False, help_text="Left out: not set yet")
    issue_type = serializers.ChoiceField(choices=IssueType.choices, required=False, help_text="Left out: not set yet")
    environment = serializers.ChoiceField(
        choices=Environment.choices, required=False, help_text="Left out: not set yet"
    )
    channel = serializers.ChoiceField(choices=[Channel.API, Channel.CLI, Channel.WIDGET, Channel.WEB], default="api")
    tags = serializers.ListField(
        child=serializers.SlugField(max_length=50), max_length=20, required=False, default=list
    )
    affected_resources = serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=20,
        required=False,
        default=list,
        help_text="External ids of the tenant's resources",
    )
    error_ids = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=50, required=False, default=list
    )
    trace_links = serializers.ListField(
        child=serializers.URLField(max_length=2000), max_length=20, required=False, default=list
    )
    telemetry_since = serializers.CharField(
        max_length=10,
        required=False,
        help_text="Attach the tenant's SLIs, alerts and deployments of this last window (e.g. 30m, 2h, 1d; at most 7d)",
    )

    def validate_subject(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("A case needs a subject.")
        return value

    def validate_telemetry_since(self, value):
        match = DURATION_RE.match(value.strip())
        if not match:
            raise serializers.ValidationError("A duration such as 30m, 2h or 1d.")
        window = timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])
        if not timedelta(0) < window <= MAX_TELEMETRY_WINDOW:
            raise serializers.ValidationError("Between 1s and 7d.")
        return window


class ResolutionSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    root_cause = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    solution = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    verification = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    evidence = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    preventive_actions = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Status.choices)
    expected_status = serializers.ChoiceField(
        choices=Status.choices, required=False, help_text="The status you saw: a case moved meanwhile answers 409"
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    waiting_for = serializers.ChoiceField(choices=WaitingFor.choices, required=False, default="")
    waiting_note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    resolution = ResolutionSerializer(
        required=False,
        help_text="Resolving: the resolution record; summary, evidence and preventive actions are required "
        "for critical and high cases",
    )


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=100_000)
    internal = serializers.BooleanField(default=False, help_text="An internal note instead of a public reply")


class ClassifySerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=PRIORITY_SLUGS, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    issue_type = serializers.ChoiceField(choices=IssueType.choices, required=False)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, help_text="The version you saw: changed since → 409"
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if not {"priority", "category", "issue_type", "environment"} & set(attrs):
            raise serializers.ValidationError("Give at least one of priority, category, issue_type, environment.")
        return attrs


class AttachSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=f"Up to {settings.ATTACHMENT_MAX_BYTES // 1048576} MB; "
        + ", ".join(sorted(settings.ATTACHMENT_ALLOWED_TYPES))
    )
