"""The widget's signed context (tenants.widget): accepted when signed by the integration's secret and
not expired; refused when unsigned, forged, tampered with, expired, valid for too long, of an unknown
key or a switched-off widget. The config services: origins, secret shown once, rotation. The requester
matched or created within the tenant."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tenants import ingest, services
from tenants.models import Requester, WidgetConfig
from tenants.widget import ContextRefused, normalise_origin, sign_context, signature, verify_context
from tests.factories import RequesterFactory

NOW = 1_800_000_000


def config(key_id="wk_testkey123", secret="wsk_secret", enabled=True, revoked=False) -> WidgetConfig:
    from tenants.models import Integration

    integration = Integration(pk=7, name="Product", revoked_at="2026-01-01" if revoked else None)
    return WidgetConfig(pk=3, integration=integration, enabled=enabled, key_id=key_id, secret=secret)


def lookup_of(*configs):
    by_key = {c.key_id: c for c in configs}
    return by_key.get


def token(cfg=None, **overrides) -> str:
    cfg = cfg or config()
    values = {"tenant": "acme", "email": "Jane@Acme.example", "name": "Jane  Doe", "expires_at": NOW + 600}
    values.update(overrides)
    return sign_context(key_id=cfg.key_id, secret=cfg.secret, **values)


def test_a_signed_context_is_accepted():
    cfg = config()
    context = verify_context(token(cfg), lookup=lookup_of(cfg), now=NOW)
    assert (context.tenant_slug, context.email, context.name) == ("acme", "jane@acme.example", "Jane Doe")
    assert (context.config_id, context.integration_id, context.expires_at) == (3, 7, NOW + 600)


@pytest.mark.parametrize("value", ["", None])
def test_an_unsigned_context_is_refused_clearly(value):
    with pytest.raises(ContextRefused, match="without a signed context"):
        verify_context(value, lookup=lookup_of(config()), now=NOW)


def test_a_context_signed_with_another_secret_is_refused():
    forged = token(config(secret="wsk_guessed"))
    with pytest.raises(ContextRefused, match="not correctly signed"):
        verify_context(forged, lookup=lookup_of(config()), now=NOW)


def test_a_tampered_payload_is_refused():
    """The visitor edits the tenant in a valid context: the signature no longer matches."""
    version, key_id, payload, sig = token().split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["tenant"] = "globex"
    other = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(ContextRefused, match="not correctly signed"):
        verify_context(f"{version}.{key_id}.{other}.{sig}", lookup=lookup_of(config()), now=NOW)


def test_an_expired_context_is_refused():
    with pytest.raises(ContextRefused, match="expired"):
        verify_context(token(expires_at=NOW - 1), lookup=lookup_of(config()), now=NOW)
    with pytest.raises(ContextRefused, match="expired"):
        verify_context(token(expires_at=NOW), lookup=lookup_of(config()), now=NOW)


def test_a_context_valid_for_too_long_is_refused(settings):
    settings.WIDGET_CONTEXT_MAX_AGE_SECONDS = 3600
    verify_context(token(expires_at=NOW + 3600), lookup=lookup_of(config()), now=NOW)
    with pytest.raises(ContextRefused, match="too long"):
        verify_context(token(expires_at=NOW + 3601), lookup=lookup_of(config()), now=NOW)


def test_an_unknown_key_a_switched_off_widget_and_a_revoked_integration_are_refused():
    with pytest.raises(ContextRefused, match="no known widget key"):
        verify_context(token(), lookup=lookup_of(), now=NOW)
    with pytest.raises(ContextRefused, match="switched off"):
        verify_context(token(), lookup=lookup_of(config(enabled=False)), now=NOW)
    with pytest.raises(ContextRefused, match="switched off"):
        verify_context(token(), lookup=lookup_of(config(revoked=True)), now=NOW)


def _signed(payload_bytes: bytes, cfg=None) -> str:
    cfg = cfg or config()
    signed_part = f"v1.{cfg.key_id}.{base64.urlsafe_b64encode(payload_bytes).rstrip(b'=').decode()}"
    return f"{signed_part}.{signature(cfg.secret, signed_part)}"


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"not json", "malformed"),
        (b"[1, 2]", "malformed"),
        (b'{"tenant": "acme", "email": "a@b.example"}', "no expiry"),
        (b'{"tenant": "acme", "email": "a@b.example", "exp": "soon"}', "no expiry"),
        (b'{"tenant": "acme", "email": "a@b.example", "exp": true}', "no expiry"),
        (b'{"email": "a@b.example", "exp": %d}' % (NOW + 60), "no tenant"),
        (b'{"tenant": "acme", "email": "not an address", "exp": %d}' % (NOW + 60), "e-mail"),
        (b'{"tenant": "acme", "email": ["a@b.example"], "exp": %d}' % (NOW + 60), "e-mail"),
        (b"\xff\xfe", "malformed"),
    ],
)
def test_a_signed_but_malformed_payload_is_refused(payload, message):
    with pytest.raises(ContextRefused, match=message):
        verify_context(_signed(payload), lookup=lookup_of(config()), now=NOW)


@pytest.mark.parametrize(
    "value",
    ["v1.wk_testkey123.abc", "v2.wk_testkey123.abc.def", "v1.nokey.abc.def", "x" * 5000, "v1.wk_testkey123.a$b.c"],
)
def test_a_malformed_context_is_refused(value):
    with pytest.raises(ContextRefused):
        verify_context(value, lookup=lookup_of(config()), now=NOW)


def test_origins_are_normalised_and_anything_but_an_origin_refused():
    assert normalise_origin(" https://App.Acme.example/ ") == "https://app.acme.example"
    assert normalise_origin("http://127.0.0.1:8123") == "http://127.0.0.1:8123"
    for bad in [
        "app.acme.example",
        "https://*.acme.example",
        "https://a.example/path",
        "javascript:alert(1)",
        "https://a.example; script-src *",
        "https://user@a.example",
        "ftp://a.example",
        "https://a.example:99999",
    ]:
        with pytest.raises(ValueError):
            normalise_origin(bad)


# --- the services -------------------------------------------------------------------------------------


@pytest.fixture
def integration(admin_user, tenant_a):
    return ingest.integration_create(name="Acme app", actor=admin_user, tenant_ids=[tenant_a.pk])[0]


def test_turning_the_widget_on_generates_a_key_and_a_secret_shown_once(integration, admin_user):
    config, secret = services.widget_configure(
        integration_id=integration.pk,
        actor=admin_user,
        enabled=True,
        allowed_origins=["https://app.acme.example/", "https://app.acme.example", ""],
    )
    assert secret and secret == config.secret and config.key_id.startswith("wk_")
    assert config.allowed_origins == ["https://app.acme.example"]
    again, shown = services.widget_configure(
        integration_id=integration.pk, actor=admin_user, enabled=False, allowed_origins=["https://x.example"]
    )
    assert shown is None and again.pk == config.pk and again.secret == secret
    assert (again.enabled, again.allowed_origins) == (False, ["https://x.example"])


def test_the_widget_needs_an_origin_and_an_active_integration(integration, admin_user):
    with pytest.raises(services.WidgetConfigError, match="at least one page origin"):
        services.widget_configure(integration_id=integration.pk, actor=admin_user, enabled=True, allowed_origins=[])
    with pytest.raises(services.WidgetConfigError, match="not an origin"):
        services.widget_configure(
            integration_id=integration.pk, actor=admin_user, enabled=True, allowed_origins=["acme.example"]
        )
    ingest.integration_revoke(integration_id=integration.pk, actor=admin_user)
    with pytest.raises(services.WidgetConfigError, match="revoked"):
        services.widget_configure(
            integration_id=integration.pk, actor=admin_user, enabled=True, allowed_origins=["https://a.example"]
        )


def test_rotating_the_secret_refuses_contexts_signed_with_the_old_one(integration, admin_user):
    config, old = services.widget_configure(
        integration_id=integration.pk, actor=admin_user, enabled=True, allowed_origins=["https://a.example"]
    )
    signed = sign_context(
        key_id=config.key_id, secret=old, tenant="acme", email="a@acme.example", expires_at=int(time.time()) + 60
    )
    lookup = lambda key: WidgetConfig.objects.select_related("integration").filter(key_id=key).first()  # noqa: E731
    verify_context(signed, lookup=lookup, now=int(time.time()))
    _, new = services.widget_rotate_secret(integration_id=integration.pk, actor=admin_user)
    assert new != old
    with pytest.raises(ContextRefused, match="not correctly signed"):
        verify_context(signed, lookup=lookup, now=int(time.time()))


def test_the_secret_stays_out_of_the_audit_log(integration, admin_user):
    from auditlog.models import LogEntry

    config, secret = services.widget_configure(
        integration_id=integration.pk, actor=admin_user, enabled=True, allowed_origins=["https://a.example"]
    )
    services.widget_rotate_secret(integration_id=integration.pk, actor=admin_user)
    entries = LogEntry.objects.get_for_object(config)
    assert entries.count() == 2
    assert all(secret not in json.dumps(e.changes) and "secret" not in (e.changes or {}) for e in entries)


def test_a_requester_is_matched_within_the_tenant_or_created(tenant_a, tenant_b):
    theirs = RequesterFactory(tenant=tenant_b, email="jane@acme.example")
    mine = RequesterFactory(tenant=tenant_a, email="Jane@Acme.example")
    assert services.requester_match_or_create(tenant=tenant_a, email="JANE@acme.example") == mine
    new = services.requester_match_or_create(tenant=tenant_a, email=" Bob@Acme.example ", name="  Bob   B ")
    assert (new.tenant, new.email, new.name, new.preferred_channel) == (tenant_a, "bob@acme.example", "Bob B", "widget")
    assert services.requester_match_or_create(tenant=tenant_a, email="bob@acme.example") == new
    assert Requester.objects.filter(tenant=tenant_b).get() == theirs


# --- the admins' page ---------------------------------------------------------------------------------


def test_an_admin_turns_the_widget_on_sees_the_secret_once_and_rotates_it(integration, admin_user, agent):
    from tests.conftest import login

    url = f"/tenants/integrations/{integration.pk}/widget/"
    client = login(admin_user)
    page = client.get(f"/tenants/integrations/{integration.pk}/").content.decode()
    assert "In-app help widget" in page and "Turn on and show secret" in page
    response = client.post(url, {"action": "save", "enabled": "on", "allowed_origins": "https://app.acme.example/\n"})
    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    config = WidgetConfig.objects.get(integration=integration)
    assert config.secret in response.content.decode() and config.key_id in response.content.decode()
    assert config.allowed_origins == ["https://app.acme.example"]
    page = client.get(f"/tenants/integrations/{integration.pk}/").content.decode()
    assert config.key_id in page and config.secret not in page  # shown once
    response = client.post(url, {"action": "save", "allowed_origins": "https://app.acme.example"})
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.enabled is False
    old = config.secret
    response = client.post(url, {"action": "rotate"})
    config.refresh_from_db()
    assert response.status_code == 200 and config.secret != old and config.secret in response.content.decode()
    response = client.post(url, {"action": "save", "enabled": "on", "allowed_origins": "https://*.acme.example"})
    assert response.status_code == 422 and "no path, wildcard or user" in response.content.decode()
    assert login(agent).post(url, {"action": "rotate"}).status_code == 403
