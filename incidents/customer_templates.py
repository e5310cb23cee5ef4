"""Seed 001's communication templates (initial response, status update, resolution), written for
the one sandboxed engine of customer text (`companyos.customer_text`). Each is rendered per case
with that case's own values; `VARIABLES` is what a template may use (an unknown name is an error
before anything is sent)."""

from __future__ import annotations

from dataclasses import dataclass

from companyos import customer_text


@dataclass(frozen=True)
class UpdateTemplate:
    key: str
    label: str
    text: str


INITIAL = UpdateTemplate(
    "initial",
    "Initial response",
    """Hi {{ customer_name }},

Thank you for reporting this issue. We've received your report and are investigating immediately.

**Issue**: {{ issue }}
**Status**: {{ status }}
**Expected Update**: {{ expected_update }}
**Severity**: {{ severity }}
{% if message %}
{{ message }}
{% endif %}
We'll keep you updated every {{ cadence }}.

Best regards,
{{ support_team }}
""",
)

STATUS_UPDATE = UpdateTemplate(
    "status",
    "Status update",
    """Hi {{ customer_name }},

An update on {{ case_key }} ({{ case_subject }}):

**Issue**: {{ issue }}
**Status**: {{ status }}

{{ message }}

**Next update**: {{ expected_update }}

Best regards,
{{ support_team }}
""",
)

RESOLUTION = UpdateTemplate(
    "resolution",
    "Resolution",
    """Hi {{ customer_name }},

We've successfully resolved the issue you reported.

**Issue**: {{ issue }}
**Root Cause**: {{ root_cause }}
**Solution**: {{ solution }}
**Verification**: {{ verification }}

If you continue to experience issues, please let us know immediately.

Best regards,
{{ support_team }}
""",
)

TEMPLATES = {t.key: t for t in (INITIAL, STATUS_UPDATE, RESOLUTION)}

VARIABLES = {
    "customer_name": "the requester's name",
    "tenant_name": "the customer's organisation",
    "case_key": "the case key (CS-1042)",
    "case_subject": "the case subject",
    "issue": "the incident title",
    "status": "the incident status (Investigating…)",
    "severity": "the case priority as Critical/High/Medium/Low",
    "incident_key": "the incident key (INC-204)",
    "expected_update": "when the next update is due (UTC)",
    "cadence": "the update cadence (30 minutes, 1 hour…)",
    "message": "what you write in the message box",
    "root_cause": "resolution: what caused it",
    "solution": "resolution: what we did",
    "verification": "resolution: how we verified it",
    "support_team": "the signature",
}


def check_all() -> None:
    for template in TEMPLATES.values():
        customer_text.check(template.text, VARIABLES)
