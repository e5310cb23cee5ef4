"""What a telemetry item of each kind looks like: one DRF serializer per kind, validating a single
item (strict: unknown fields, naive times and NUL characters are errors), and the self-description
GET /api/v1/telemetry/ answers with."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from ..choices import Health, Region
from ..models import Resource
from ..telemetry import TELEMETRY_MODELS, Alert

RESOURCES = "resources"
KINDS = [*TELEMETRY_MODELS, RESOURCES]


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a timezone (`2026-01-31T10:00:00Z`, `…+01:00`). A naive time is refused: the
    sender's clock zone is unknown, and guessing it would shift every point."""

    default_error_messages = {
        "invalid": "Expected an ISO 8601 date-time with a timezone, e.g. 2026-01-31T10:00:00Z.",
        "naive": "Add a timezone (e.g. 2026-01-31T10:00:00Z or +01:00): a time without one is ambiguous.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if timezone.is_naive(parsed):
            self.fail("naive")
        return self.enforce_timezone(parsed)


class StrictCharField(serializers.CharField):
    """A string, not a number that could be turned into one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _no_nul(value, path: str = "") -> None:
    """PostgreSQL's jsonb cannot hold NUL characters; say where one is instead of failing the write."""
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError(f"Contains a NUL character{' at ' + path if path else ''}.")
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            _no_nul(key, path)
            _no_nul(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _no_nul(inner, f"{path}[{i}]")


class ObjectField(serializers.JSONField):
    """A JSON object (any keys and values)."""

    default_error_messages = {"not_object": "Expected a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            self.fail("not_object")
        _no_nul(data)
        return dict(data)


def _text(max_length: int, **kw):
    return serializers.CharField(max_length=max_length, **kw)


def _ref(help_text: str, *, required: bool = False):
    if required:
        return serializers.CharField(max_length=200, help_text=help_text)
    return serializers.CharField(max_length=200, allow_null=True, default=None, help_text=help_text)


class ItemSerializer(serializers.Serializer):
    """The fields every telemetry item has. Unknown fields are errors (a typo would otherwise be lost)."""

    tenant = serializers.CharField(max_length=80, help_text="The tenant's slug; the tenant must exist.")
    source_id = StrictCharField(
        max_length=200,
        trim_whitespace=False,
        help_text="Your id for this item: re-sending the same source_id updates it, never duplicates it.",
    )

    # Fields naming a tenant's resource by external id; resolved after validation.
    resource_refs: tuple[str, ...] = ()

    def to_internal_value(self, data):
        unknown = [key for key in data if key not in self.fields] if isinstance(data, Mapping) else []
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"item": exc.detail}
            raise ValidationError({**detail, **{key: [self._unknown(key)] for key in unknown}}) from None
        if unknown:
            raise ValidationError({key: [self._unknown(key)] for key in unknown})
        return value

    def _unknown(self, key) -> str:
        return f"Unknown field. The fields are: {', '.join(self.fields)}."


class SLISerializer(ItemSerializer):
    resource = _ref("External id of the tenant's resource this SLI measures (optional).")
    name = _text(120, help_text="e.g. availability, latency_p99")
    objective = serializers.FloatField(
        min_value=0,
        max_value=100,
        help_text="Target, e.g. 99.9 (percent, 0–100)",
        error_messages={
            "min_value": "The objective is a percentage: 0 to 100.",
            "max_value": "The objective is a percentage: 0 to 100.",
        },
    )
    value = serializers.FloatField(help_text="Measured, same unit as the objective")
    error_budget_remaining = serializers.FloatField(
        help_text="Share of the error budget left, percent; negative when overspent"
    )
    window = _text(20, default="30d", help_text="e.g. 30d")
    observed_at = AwareDateTimeField()
    resource_refs = ("resource",)


class AlertSerializer(ItemSerializer):
    resource = _ref("External id of the tenant's resource the alert is about (optional).")
    name = _text(200)
    severity = _text(20, default="warning")
    status = serializers.ChoiceField(choices=Alert.Status.choices, default=Alert.Status.FIRING)
    summary = serializers.CharField(allow_blank=True, default="", trim_whitespace=False)
    fingerprint = _text(100, allow_blank=True, default="")
    labels = ObjectField(default=dict)
    annotations = ObjectField(default=dict)
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField(allow_null=True, default=None)
    resource_refs = ("resource",)

    def validate(self, attrs):
        if attrs.get("ends_at") and attrs["ends_at"] < attrs["starts_at"]:
            raise ValidationError({"ends_at": ["Ends before it starts."]})
        return attrs


class DeploymentSerializer(ItemSerializer):
    resource = _ref("External id of the deployed resource (optional).")
    version = _text(100)
    description = serializers.CharField(allow_blank=True, default="", trim_whitespace=False)
    deployed_at = AwareDateTimeField()
    resource_refs = ("resource",)


class FeatureFlagSerializer(ItemSerializer):
    key = _text(120)
    enabled = serializers.BooleanField()
    variant = _text(120, allow_blank=True, default="")
    observed_at = AwareDateTimeField()


class ConfigSnapshotSerializer(ItemSerializer):
    resource = _ref("External id of the resource whose configuration this is (optional: tenant-wide).")
    taken_at = AwareDateTimeField()
    data = ObjectField(help_text="The configuration, a JSON object")
    resource_refs = ("resource",)


class UsageMetricSerializer(ItemSerializer):
    metric = _text(120, help_text="e.g. api_requests, active_users")
    value = serializers.FloatField()
    period_start = AwareDateTimeField()


class ExperimentSerializer(ItemSerializer):
    key = _text(120)
    status = serializers.ChoiceField(
        choices=[("active", "active"), ("paused", "paused"), ("ended", "ended")], default="active"
    )
    variant = _text(120, allow_blank=True, default="")
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField(allow_null=True, default=None)

    def validate(self, attrs):
        if attrs.get("ended_at") and attrs["ended_at"] < attrs["started_at"]:
            raise ValidationError({"ended_at": ["Ends before it starts."]})
        return attrs


class DependencySerializer(ItemSerializer):
    resource = _ref("External id of the resource that depends…", required=True)
    depends_on = _ref("…on this resource (same tenant): its failure reaches `resource`.", required=True)
    resource_refs = ("resource", "depends_on")

    def validate(self, attrs):
        if attrs["resource"] == attrs["depends_on"]:
            raise ValidationError({"depends_on": ["A resource cannot depend on itself."]})
        return attrs


class LogLineSerializer(ItemSerializer):
    resource = _ref("External id of the resource that logged it (optional).")
    logged_at = AwareDateTimeField()
    level = serializers.ChoiceField(
        choices=[(v, v) for v in ("debug", "info", "warning", "error", "critical")], default="info"
    )
    message = serializers.CharField(max_length=4000, trim_whitespace=False)
    trace_id = _text(64, allow_blank=True, default="")
    request_id = _text(64, allow_blank=True, default="")
    attributes = ObjectField(required=False, default=dict)
    resource_refs = ("resource",)


class ResourceSerializer(ItemSerializer):
    """Resources are keyed by (tenant, external_id), not by source_id. Fields left out of an update
    keep their stored value (several integrations may describe the same resource)."""

    source_id = StrictCharField(
        max_length=200, required=False, help_text="Ignored: resources are keyed by external_id."
    )
    external_id = _text(200, help_text="The resource's id, unique within the tenant; other items refer to it by this.")
    kind = _text(60, help_text="e.g. api, database, queue")
    region = serializers.ChoiceField(choices=Region.choices, allow_blank=True, required=False)
    version = _text(60, allow_blank=True, required=False)
    config_snapshot = ObjectField(required=False)
    health = serializers.ChoiceField(choices=Health.choices, required=False)


SERIALIZERS: dict[str, type[ItemSerializer]] = {
    "slis": SLISerializer,
    "alerts": AlertSerializer,
    "deployments": DeploymentSerializer,
    "feature_flags": FeatureFlagSerializer,
    "config_snapshots": ConfigSnapshotSerializer,
    "usage": UsageMetricSerializer,
    "experiments": ExperimentSerializer,
    "dependencies": DependencySerializer,
    "logs": LogLineSerializer,
    RESOURCES: ResourceSerializer,
}
assert set(SERIALIZERS) == set(KINDS)


def _field_type(field) -> str:
    if isinstance(field, AwareDateTimeField):
        return "datetime"
    if isinstance(field, serializers.ChoiceField):
        return "choice"
    if isinstance(field, serializers.FloatField):
        return "number"
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.JSONField):
        return "object"
    return "string"


def describe_kind(kind: str) -> dict:
    """What a kind's items look like: the self-description GET /api/v1/telemetry/ answers with."""
    serializer = SERIALIZERS[kind]()
    fields = {}
    for name, field in serializer.fields.items():
        spec = {"type": _field_type(field), "required": field.required}
        if name in serializer.resource_refs:
            spec["refers_to"] = "resource external_id"
        if field.default is not serializers.empty:
            spec["default"] = field.default() if callable(field.default) else field.default
        if field.allow_null:
            spec["nullable"] = True
        if getattr(field, "max_length", None):
            spec["max_length"] = field.max_length
        if isinstance(field, serializers.ChoiceField):
            spec["choices"] = list(field.choices)
        if field.help_text:
            spec["help"] = str(field.help_text)
        fields[name] = spec
    model = Resource if kind == RESOURCES else TELEMETRY_MODELS[kind]
    return {
        "kind": kind,
        "model": model._meta.label,
        "key": ["tenant", "external_id"] if kind == RESOURCES else ["source_id"],
        "fields": fields,
    }
