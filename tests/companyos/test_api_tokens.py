"""Personal API tokens on the preferences page: created (shown once, stored hashed), listed, revoked."""

from __future__ import annotations

import hashlib
import re

import pytest

from companyos.models import ApiToken
from tests.api_support import API
from tests.conftest import login

pytestmark = pytest.mark.django_db

CREATE = "/accounts/preferences/api-tokens/"


def create(client, htmx=True, **data):
    body = {"name": "laptop CLI", "scope": "write", "expires_in_days": "30", **data}
    return client.post(CREATE, body, headers={"HX-Request": "true"} if htmx else {})


def raw_of(response) -> str:
    match = re.search(r'id="new-api-token"[^>]*value="(cop_[^"]+)"', response.content.decode())
    assert match, "the new token is shown"
    return match.group(1)


def test_a_token_is_shown_once_and_stored_hashed(agent_client, agent, case_a):
    response = create(agent_client)
    assert response.status_code == 200
    assert 'id="api-tokens"' in response.content.decode() and "<html" not in response.content.decode()
    raw = raw_of(response)
    token = ApiToken.objects.get()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in token.token_prefix + "…"
    assert (token.user, token.scope, token.name) == (agent, "write", "laptop CLI")
    page = agent_client.get("/accounts/preferences/").content.decode()
    assert "laptop CLI" in page and raw not in page
    assert API(raw).get("/api/v1/cases/").status_code == 200


def test_without_javascript_the_form_answers_the_whole_page(agent_client):
    response = create(agent_client, htmx=False)
    assert response.status_code == 200 and "<html" in response.content.decode()
    raw_of(response)


@pytest.mark.parametrize(
    "data", [{"name": ""}, {"scope": "admin"}, {"expires_in_days": "9999"}, {"name": "x" * 81}, {"name": "a\x00"}]
)
def test_bad_input_is_refused_with_the_reason(agent_client, data):
    response = create(agent_client, **data)
    assert response.status_code in (400, 422)
    assert not ApiToken.objects.exists()


def test_two_active_tokens_cannot_share_a_name(agent_client):
    create(agent_client)
    response = create(agent_client)
    assert response.status_code == 422 and "already" in response.content.decode()


def test_revoke_stops_the_token_at_once(agent_client, agent):
    raw = raw_of(create(agent_client))
    token = ApiToken.objects.get()
    response = agent_client.post(f"{CREATE}{token.pk}/revoke/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Revoked" in response.content.decode()
    assert API(raw).get("/api/v1/cases/").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_someone_elses_token(agent_client, other_agent):
    create(login(other_agent))
    token = ApiToken.objects.get()
    assert agent_client.post(f"{CREATE}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_records_its_last_use(agent_client):
    raw = raw_of(create(agent_client))
    assert ApiToken.objects.get().last_used_at is None
    API(raw).get("/api/v1/cases/")
    assert ApiToken.objects.get().last_used_at is not None


def test_old_idempotency_keys_are_purged(settings):
    from datetime import timedelta

    from django.utils import timezone

    from companyos.api.idempotency import purge_expired
    from companyos.models import IdempotencyKey
    from companyos.tasks import api_idempotency_purge_task

    old = IdempotencyKey.objects.create(principal="apitoken:1", key="old", fingerprint="x", status=201, body={})
    IdempotencyKey.objects.create(principal="apitoken:1", key="new", fingerprint="x", status=201, body={})
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert "api-idempotency-purge" in settings.CELERY_BEAT_SCHEDULE
    assert api_idempotency_purge_task() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert purge_expired() == 0
