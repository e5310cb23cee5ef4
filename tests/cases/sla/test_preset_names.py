"""SLA presets are named for what they are and described for a customer's admin; no internal
provenance ("seed 003") reaches the console or the default policies (issue 9, finding 23)."""

from __future__ import annotations

import html
import importlib
import re

import pytest
from django.apps import apps
from django.urls import reverse

from cases.models import SLAPolicy
from cases.sla import clocks
from cases.sla.presets import PRESETS, preset_description, preset_label, preset_policy_name
from tests.conftest import login

SEED = re.compile(r"seed[ -]?00\d", re.IGNORECASE)
MIGRATION = importlib.import_module("cases.migrations.0300_sla_preset_names")


def visible_text(response) -> str:
    """What a person reads on the page: tags (and their attributes, e.g. a button's value) removed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_presets_are_named_for_what_they_are():
    assert {key: preset["name"] for key, preset in PRESETS.items()} == {
        "seed-003": "Case & escalation model",
        "seed-002": "Support playbook — response times",
        "seed-001": "Support operations — channel SLAs",
        "seed-004": "Diagnostics runbook — Sev-1..3",
    }
    assert preset_policy_name("seed-003", "standard") == "Case & escalation model — Standard"
    assert preset_policy_name("seed-003", "enterprise") == "Case & escalation model — Premium/Enterprise"
    assert preset_policy_name("seed-002") == "Support playbook — response times"
    assert preset_policy_name("seed-001", "slack") == "Support operations — channel SLAs (Slack)"
    assert preset_policy_name("seed-004") == "Diagnostics runbook — Sev-1..3"
    assert preset_label("seed-003:premium") == "Case & escalation model · Premium/Enterprise"
    assert preset_label("seed-004:default") == "Diagnostics runbook — Sev-1..3"
    assert preset_label("custom") == "custom"


@pytest.mark.parametrize("key", PRESETS)
def test_every_preset_and_column_has_a_short_customer_readable_description(key):
    preset = PRESETS[key]
    texts = [preset["name"], preset["description"]]
    for column in preset["columns"]:
        texts += [preset_policy_name(key, column), preset_description(key, column)]
        assert 40 <= len(preset_description(key, column)) <= 300
    for text in texts:
        assert not SEED.search(text), text
        assert "table" not in text.lower() and "v0" not in text, text


@pytest.mark.django_db
def test_default_policies_describe_their_targets_not_their_source():
    policies = {p.name: p for p in SLAPolicy.objects.all()}
    assert policies["Standard"].description == preset_description("seed-003", "standard")
    assert policies["Premium/Enterprise"].description == preset_description("seed-003", "premium")
    for policy in policies.values():
        assert not SEED.search(policy.description), policy.description


@pytest.mark.django_db
def test_no_seed_text_on_the_policy_pages(admin_user):
    client = login(admin_user)
    loaded = clocks.load_preset(preset="seed-001", column="email", name=preset_policy_name("seed-001", "email"))
    assert loaded.description == preset_description("seed-001", "email")
    for url in (reverse("sla:policy_list"), reverse("sla:policy_edit", args=[loaded.pk]), reverse("sla:rules")):
        response = client.get(url)
        assert response.status_code == 200
        text = visible_text(response)
        assert not SEED.search(text), SEED.search(text) and text[max(SEED.search(text).start() - 200, 0) :][:400]
    page = visible_text(client.get(reverse("sla:policy_edit", args=[loaded.pk])))
    assert "From preset Support operations — channel SLAs · Email" in page
    listing = visible_text(client.get(reverse("sla:policy_list")))
    for preset in PRESETS.values():
        assert preset["name"] in listing and preset["description"] in listing


@pytest.mark.django_db
def test_loading_a_preset_from_the_page_names_it_for_what_it_is(admin_user):
    client = login(admin_user)
    response = client.post(reverse("sla:policy_preset"), {"preset": "seed-002:default", "calendar": ""})
    assert response.status_code == 302
    policy = SLAPolicy.objects.get(preset="seed-002:default")
    assert policy.name == "Support playbook — response times"
    assert policy.description == PRESETS["seed-002"]["description"]


@pytest.mark.django_db
def test_migration_rewrites_provenance_and_old_preset_names_only():
    SLAPolicy.objects.filter(name="Standard").update(
        description="Seed 003, Standard column. seed 003 (Case & Escalation Model v0), table 'SLA Targets (example)'."
    )
    old = SLAPolicy.objects.create(
        name="Support Runbook Sev-1..3",
        preset="seed-004:default",
        targets={},
        description="Support Runbook Sev-1..3 — All tiers. seed 004 (Support Runbook), 'Resolution: …'",
    )
    own = SLAPolicy.objects.create(
        name="Gold", preset="seed-003:premium", targets={}, description="Our gold customers' promise."
    )
    MIGRATION.forward(apps, None)
    assert SLAPolicy.objects.get(name="Standard").description == preset_description("seed-003", "standard")
    old.refresh_from_db()
    assert (old.name, old.description) == ("Diagnostics runbook — Sev-1..3", PRESETS["seed-004"]["description"])
    own.refresh_from_db()
    assert (own.name, own.description) == ("Gold", "Our gold customers' promise.")
