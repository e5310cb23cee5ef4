"""Telemetry in: the services behind /api/v1/telemetry/<kind>/ and /api/v1/alertmanager/, the
integration tokens that authenticate them, and the retention purge.

    schema        one serializer per kind (validates a single item) and the self-description
    batch         ingest_batch: check the integration's tenants, validate a whole batch, then upsert it
                  on (integration, source_id)
    alertmanager  alertmanager_receive: Alertmanager webhook (version 4) → Alert rows
    integrations  integration_create / _update / _revoke / _rotate_token (audited by django-auditlog),
                  integration_mark_used ("Last used")
    retention     purge_telemetry: delete what is older than the window, keep the current state

Views and tasks import from here (`from tenants import ingest`; `ingest.ingest_batch(...)`).
"""

from .alertmanager import AlertmanagerResult, alertmanager_receive
from .batch import (
    BatchTooLarge,
    IngestConflict,
    IngestError,
    IngestResult,
    InvalidBatch,
    OutOfScope,
    UnknownKind,
    ingest_batch,
    items_of,
)
from .integrations import (
    IntegrationError,
    integration_create,
    integration_mark_used,
    integration_revoke,
    integration_rotate_token,
    integration_update,
)
from .retention import purge_telemetry, purgeable
from .schema import KINDS, RESOURCES, SERIALIZERS, describe_kind

__all__ = [
    "KINDS",
    "RESOURCES",
    "SERIALIZERS",
    "describe_kind",
    "IngestError",
    "BatchTooLarge",
    "UnknownKind",
    "IngestConflict",
    "InvalidBatch",
    "OutOfScope",
    "IngestResult",
    "ingest_batch",
    "items_of",
    "AlertmanagerResult",
    "alertmanager_receive",
    "IntegrationError",
    "integration_create",
    "integration_mark_used",
    "integration_update",
    "integration_revoke",
    "integration_rotate_token",
    "purge_telemetry",
    "purgeable",
]
