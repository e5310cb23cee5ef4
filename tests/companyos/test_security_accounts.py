"""Issue 8, finding 7: sign-ins. A lockout per username and address (django-axes) with a cool-off,
every sign-in, failure and sign-out in the audit trail, and password rules that refuse short and
all-digit passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """A real sign-in costs a full PBKDF2 run (about a second here); these tests sign in hundreds of times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def kari(db):
    user = UserFactory(username="kari", role="agent")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def account_entries(event: str):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(get_user_model()), additional_data__event=event
    ).order_by("pk")


# --- the lockout ------------------------------------------------------------------------------------------


def test_sixty_wrong_passwords_then_the_right_one_is_refused(kari, settings):
    client = Client()
    answers = [sign_in(client, "kari", f"guess-{n}").status_code for n in range(60)]

    assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # the form again
    assert set(answers[settings.AXES_FAILURE_LIMIT - 1 :]) == {429}
    response = sign_in(client, "kari", PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    assert "Sign-in locked" in page and "ask an admin to unlock it" in page
    assert response["Retry-After"] == str(15 * 60)


def test_the_lockout_is_per_username_and_address(kari, settings):
    other = UserFactory(username="ana")
    other.set_password(PASSWORD)
    other.save(update_fields=["password"])
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "kari", f"guess-{n}", REMOTE_ADDR="10.0.0.1")
    assert sign_in(Client(), "kari", PASSWORD, REMOTE_ADDR="10.0.0.1").status_code == 429

    from_elsewhere = Client()
    assert sign_in(from_elsewhere, "kari", PASSWORD, REMOTE_ADDR="10.0.0.2").status_code == 302
    assert signed_in(from_elsewhere)
    someone_else = Client()
    assert sign_in(someone_else, "ana", PASSWORD, REMOTE_ADDR="10.0.0.1").status_code == 302
    assert signed_in(someone_else)


def test_the_cool_off_releases_the_lockout(kari, settings):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "kari", f"guess-{n}")
    assert sign_in(client, "kari", PASSWORD).status_code == 429

    # The cool-off passes without another try.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    response = sign_in(client, "kari", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_a_try_during_the_lockout_starts_the_cool_off_again(kari, settings):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "kari", f"guess-{n}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME + timedelta(minutes=1))
    assert sign_in(client, "kari", "one more guess").status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=2))
    assert sign_in(client, "kari", PASSWORD).status_code == 429


def test_a_successful_sign_in_resets_the_count(kari, settings):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(Client(), "kari", f"guess-{n}")
    assert sign_in(Client(), "kari", PASSWORD).status_code == 302
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(Client(), "kari", f"again-{n}")
    assert sign_in(Client(), "kari", PASSWORD).status_code == 302


def test_the_admin_sign_in_is_locked_out_too(kari, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/admin/login/", {"username": "kari", "password": f"guess-{n}"})
    assert sign_in(Client(), "kari", PASSWORD).status_code == 429


def test_an_htmx_sign_in_that_is_locked_out_redirects_to_the_sign_in_page_with_the_message(kari, settings):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "kari", f"guess-{n}")
    response = sign_in(client, "kari", "last guess", HTTP_HX_REQUEST="true")

    assert response.status_code == 429
    assert response["HX-Redirect"] == LOGIN
    page = client.get(LOGIN).content.decode()
    assert "Sign-in locked" in page


def test_the_lockout_counts_the_address_the_trusted_proxies_vouch_for(kari, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "kari", f"guess-{n}", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"
    assert sign_in(Client(), "kari", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # Another client behind the same proxy (same REMOTE_ADDR) is not locked out.
    assert sign_in(Client(), "kari", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 302


def test_without_trusted_proxies_a_forged_forwarded_address_does_not_escape_the_lockout(kari, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "kari", f"guess-{n}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    response = sign_in(Client(), "kari", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert response.status_code == 429


# --- the audit trail --------------------------------------------------------------------------------------


def test_failed_sign_ins_are_audited_as_denials_with_address_and_correlation_id(kari, settings):
    client = Client()
    responses = [sign_in(client, "kari", f"guess-{n}", REMOTE_ADDR="10.9.8.7") for n in range(3)]

    entries = list(account_entries("login_failed"))
    assert len(entries) == 3
    for entry, response in zip(entries, responses):
        assert entry.object_pk == str(kari.pk) and entry.actor is None
        assert entry.remote_addr == "10.9.8.7"
        assert entry.cid == response["X-Correlation-ID"]
        assert entry.additional_data["denied"] is True
        assert entry.additional_data["locked_out"] is False
        assert entry.additional_data["reason"] == "wrong username or password"
    assert PASSWORD not in str([e.additional_data for e in entries])


def test_refused_tries_during_a_lockout_are_audited_as_locked_out(kari, settings):
    for n in range(settings.AXES_FAILURE_LIMIT + 2):
        sign_in(Client(), "kari", f"guess-{n}")
    sign_in(Client(), "kari", PASSWORD)

    flags = [e.additional_data["locked_out"] for e in account_entries("login_failed")]
    limit = settings.AXES_FAILURE_LIMIT
    assert flags == [False] * (limit - 1) + [True] * 4  # the limit-th failure locks; 2 more guesses and the password
    assert not account_entries("login").exists()


def test_a_failed_sign_in_for_an_unknown_username_is_audited_without_naming_anyone(db):
    sign_in(Client(), "nobody-by-that-name", "whatever")
    entry = account_entries("login_failed").get()
    assert entry.object_pk == "unknown" and entry.object_id is None
    assert "nobody-by-that-name" not in str(entry.additional_data) + entry.object_repr


def test_sign_in_and_sign_out_are_audited_with_the_user_as_actor(kari):
    client = Client()
    response = sign_in(client, "kari", PASSWORD, REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 302

    login = account_entries("login").get()
    assert login.actor == kari and login.object_pk == str(kari.pk)
    assert login.remote_addr == "10.1.1.1"
    assert login.cid == response["X-Correlation-ID"]
    assert "denied" not in login.additional_data

    response = client.post("/accounts/logout/", REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 302 and not signed_in(client)
    logout = account_entries("logout").get()
    assert logout.actor == kari and logout.remote_addr == "10.1.1.1"
    assert logout.cid == response["X-Correlation-ID"]


# --- passwords ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, message",
    [
        ("Tr0ub4dor&3", "at least 12 characters"),  # 11 characters
        ("839201746352", "entirely numeric"),
        ("password1234", "too common"),
    ],
)
def test_the_password_rules_refuse_short_numeric_and_common_passwords(password, message):
    with pytest.raises(ValidationError, match=message):
        validate_password(password)


def test_the_password_rules_accept_a_long_passphrase():
    validate_password("correct horse battery staple")


def test_the_admin_refuses_a_short_password_for_a_new_user(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/admin/auth/user/add/", {"username": "newbie", "password1": "short-pw1!", "password2": "short-pw1!"}
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_the_demo_password_meets_the_rules():
    from demo.catalog import DEMO_PASSWORD

    validate_password(DEMO_PASSWORD)
