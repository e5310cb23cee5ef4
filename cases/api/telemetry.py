"""The telemetry slice a create attaches (`telemetry_since`, the CLI's `--telemetry-since 30m`): the
tenant's SLIs, alerts and deployments of that last window, read on the server from what the tenant's
integrations sent (tenants.selectors.telemetry_slice) and attached to the new case as a JSON file,
`telemetry-<time>.json`, through the attachment service: evidence taken at filing time, not re-sent by
the client."""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tenants.models import Tenant
from tenants.selectors import telemetry_slice

from .. import services
from ..models import Attachment, Case


def attach_telemetry_slice(*, case: Case, tenant: Tenant, window: timedelta, actor) -> Attachment:
    until = timezone.now()
    data = telemetry_slice(tenant, since=until - window, until=until)
    body = json.dumps(data, indent=2, ensure_ascii=False).encode()
    name = f"telemetry-{until:%Y%m%dT%H%M%SZ}.json"
    return services.case_attach(
        case_id=case.pk, actor=actor, upload=SimpleUploadedFile(name, body, content_type="application/json")
    )
