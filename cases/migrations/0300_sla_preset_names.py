"""SLA presets named for what they are, described for a customer's admin (issue 9, finding 23).

Policies loaded from a preset before this had the source document's provenance as their description
("Seed 003, Standard column. seed 003 (Case & Escalation Model v0), table …") and, when loaded from
the policy page, the preset's old name. Both are rewritten here: the description to the preset
column's own (cases.sla.presets.preset_description), the name to the new preset name when no policy
has it yet. A description an admin wrote (one that does not mention a seed) is left alone, and so
are targets, versions and running clocks."""

import re

from django.db import migrations

from cases.sla.presets import PRESETS, preset_description, preset_policy_name

SEED_TEXT = re.compile(r"\bseed[ -]?00\d\b", re.IGNORECASE)

# The names the presets gave the policies they made, before this migration.
OLD_NAMES = {
    "Case & Escalation Model v0 (default) — Standard": ("seed-003", "standard"),
    "Case & Escalation Model v0 (default) — Premium/Enterprise": ("seed-003", "premium"),
    "Support Playbook response times": ("seed-002", "default"),
    "Support Operations response SLAs by channel — Email": ("seed-001", "email"),
    "Support Operations response SLAs by channel — Slack": ("seed-001", "slack"),
    "Support Operations response SLAs by channel — Phone": ("seed-001", "phone"),
    "Support Runbook Sev-1..3": ("seed-004", "default"),
}


def forward(apps, schema_editor):
    Policy = apps.get_model("cases", "SLAPolicy")
    for policy in Policy.objects.all():
        key, _, column = (policy.preset or "").partition(":")
        fields = []
        if key in PRESETS and column in PRESETS[key]["columns"] and SEED_TEXT.search(policy.description or ""):
            policy.description = preset_description(key, column)
            fields.append("description")
        if policy.name in OLD_NAMES:
            new_name = preset_policy_name(*OLD_NAMES[policy.name])
            if not Policy.objects.filter(name=new_name).exists():
                policy.name = new_name
                fields.append("name")
        if fields:
            policy.save(update_fields=fields)


class Migration(migrations.Migration):
    dependencies = [("cases", "0100_attachment_original_name")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
