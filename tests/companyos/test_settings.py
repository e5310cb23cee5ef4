"""Production settings and the embedded default, checked in fresh processes (settings are read once)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def run(code_or_args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DEBUG",
            "SECRET_KEY",
            "TESTING",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "BUNDLE_ENCRYPTION_KEYS",
            "BUNDLE_ENCRYPTION_KEY",
        }
    }
    base.update(env)
    args = [sys.executable, *code_or_args] if isinstance(code_or_args, list) else [sys.executable, "-c", code_or_args]
    return subprocess.run(args, cwd=ROOT, env=base, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_in_production():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="false",
        SECRET_KEY="x" * 30 + "-a-long-random-production-secret-value-1234567890",
        ALLOWED_HOSTS="console.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        BUNDLE_ENCRYPTION_KEYS=FERNET_KEY,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 30 + "-a-long-random-production-secret-value-1234567890"}
FERNET_KEY = "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="
OTHER_FERNET_KEY = "Hq3cTz3Zm4tL4p9XnWq1a2nYwR8y5Q1mW3e6r7t8y9U="
KEYS_CODE = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='companyos.settings'; django.setup();"
    "from django.conf import settings as s; print(','.join(s.BUNDLE_ENCRYPTION_KEYS))"
)


def test_production_refuses_to_start_without_a_bundle_encryption_key():
    result = run(["manage.py", "check"], **PRODUCTION, ALLOWED_HOSTS="console.example.com")
    assert result.returncode != 0
    assert "Set BUNDLE_ENCRYPTION_KEYS: production (DEBUG off) never stores trace bundles in clear" in result.stderr


@pytest.mark.parametrize(
    "keys,message",
    [
        ("not a key!", "key 1 is not url-safe base64"),
        (f"{FERNET_KEY},c2hvcnQ=", "key 2 decodes to 5 bytes, not 32"),
    ],
)
def test_an_invalid_bundle_encryption_key_refuses_to_start(keys, message):
    for mode in (PRODUCTION, {"DEBUG": "true"}):  # a wrong key is wrong in development too
        result = run(["manage.py", "check"], **mode, BUNDLE_ENCRYPTION_KEYS=keys)
        assert result.returncode != 0 and message in result.stderr, result.stderr[-500:]
        assert keys.split(",")[-1] not in result.stderr  # the key itself is never printed


def test_production_takes_its_keys_in_order_and_the_single_key_setting():
    rotated = run(KEYS_CODE, **PRODUCTION, BUNDLE_ENCRYPTION_KEYS=f"{OTHER_FERNET_KEY}, {FERNET_KEY}")
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.strip() == f"{OTHER_FERNET_KEY},{FERNET_KEY}"
    single = run(KEYS_CODE, **PRODUCTION, BUNDLE_ENCRYPTION_KEY=FERNET_KEY)
    assert single.returncode == 0 and single.stdout.strip() == FERNET_KEY


def test_the_embedded_default_derives_a_development_bundle_key():
    result = run(KEYS_CODE, DEBUG="true")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    assert run(KEYS_CODE, DEBUG="true").stdout.strip() == key  # the same across restarts: the demo's bundles read


def test_production_refuses_to_start_without_a_secret_key():
    result = run(["manage.py", "check"], DEBUG="false")
    assert result.returncode != 0 and "Set SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "key", ["short-key", "a" * 80, "django-insecure-" + "k3y-with-enough-length-and-characters-0123456789"]
)
def test_production_refuses_to_start_with_a_weak_secret_key(key):
    """Issue 8, finding 8: the rule of check --deploy's W009, enforced at start-up."""
    result = run(["manage.py", "check"], DEBUG="false", SECRET_KEY=key, ALLOWED_HOSTS="console.example.com")
    assert result.returncode != 0 and "SECRET_KEY is weak" in result.stderr


def test_embedded_default_needs_no_services():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='companyos.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'])"
    )
    result = run(code, DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


def test_with_redis_url_celery_and_cache_use_redis():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='companyos.settings'; django.setup();"
        "from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'])"
    )
    result = run(code, DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.stdout.split() == ["redis://127.0.0.1:6379/0", "False", "companyos.cache.RedisCache"]


@pytest.mark.django_db
def test_sessions_slide_at_most_once_a_minute_and_expire_after_inactivity(agent, settings):
    """Issue 10, point 3: no session write on every GET; the idle expiry still slides."""
    from django.contrib.sessions.models import Session
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    client = Client()
    client.force_login(agent)
    response = client.get("/cases/")
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE  # the first refresh
    key = client.cookies["sessionid"].value
    first_expiry = Session.objects.get(session_key=key).expire_date
    # Within the minute: no session SQL (read from the cache, nothing written), no new cookie.
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/cases/")
    assert "sessionid" not in response.cookies
    assert not [q for q in ctx.captured_queries if "django_session" in q["sql"]]
    # A minute later the next request slides the expiry and re-issues the cookie.
    session = client.session
    session["_refreshed"] = session["_refreshed"] - settings.SESSION_REFRESH_SECONDS
    session.save()
    response = client.get("/cases/")
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE
    assert Session.objects.get(session_key=key).expire_date > first_expiry
    # Idle past the age: the database row has expired and the cache entry's TTL (the same age) lapsed.
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    cache.delete(f"django.contrib.sessions.cached_db{key}")
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_demo_writes_outgoing_mail_to_files_not_the_log(tmp_path):
    """Issue 9, point 25: what `.ci/demo` exports, read from the script itself."""
    script = (ROOT / ".ci" / "demo").read_text()
    assert "django.core.mail.backends.filebased.EmailBackend" in script and "var/mail" in script
    code = (
        "import django; django.setup();"
        "from django.core.mail import send_mail;"
        "send_mail('CS-1 breached', 'body', 'support@example.com', ['kari@example.com'])"
    )
    result = run(
        code,
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="companyos.settings",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )
    assert result.returncode == 0, result.stderr
    assert "CS-1 breached" not in result.stdout + result.stderr
    (message,) = (tmp_path / "mail").iterdir()
    assert "Subject: CS-1 breached" in message.read_text()
