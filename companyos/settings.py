"""Settings come from the environment.

With nothing set, the console runs on embedded defaults (SQLite, Celery in eager mode) so a
newcomer can start it with one command. Production and CI set DATABASE_URL (PostgreSQL) and
REDIS_URL (Celery broker and cache).
"""

import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
# The test suite (pytest) talks plain HTTP to its live server: no HTTPS redirect or secure-only cookies.
TESTING = env_bool("TESTING", False) or "pytest" in sys.modules
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("Set SECRET_KEY: production (DEBUG off) never runs on the development key.")
    SECRET_KEY = "django-insecure-dev-key-only-for-the-embedded-default-0123456789abcdefghijklmnop"
elif not (DEBUG or TESTING) and (
    len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")
):
    # The rule of `check --deploy`'s security.W009, enforced at start-up rather than warned about.
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "SECRET_KEY is weak: use at least 50 characters with at least 5 different ones, not a django-insecure- "
        "key (e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "companyos.admin_apps.AdminConfig",  # django.contrib.admin, its site audited (companyos.admin_audit)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files (no CDN)
    "guardian",
    "auditlog",
    "axes",  # login lockout; before companyos, so its failure handler has run when companyos.logins audits one
    "companyos",
    "tenants",
    "cases",
    "incidents",
    "runbooks",
    "demo",  # demo data and the bench_* commands (no models)
]

MIDDLEWARE = [
    "companyos.metrics.MetricsMiddleware",  # first: times the whole request (/metrics)
    "django.middleware.security.SecurityMiddleware",
    "companyos.middleware.RejectNullBytesMiddleware",
    "companyos.middleware.NoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "companyos.middleware.SessionRefreshMiddleware",  # after SessionMiddleware: its response runs first
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "companyos.middleware.CorrelationIdMiddleware",
    "companyos.middleware.AuditContextMiddleware",
    "companyos.middleware.UserTimezoneMiddleware",
    "companyos.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out sign-in into companyos.logins.lockout_response
    "companyos.middleware.ConsoleErrorPagesMiddleware",  # the styled 400/404 with DEBUG on too (the demo)
]

ROOT_URLCONF = "companyos.urls"
WSGI_APPLICATION = "companyos.wsgi.application"
# Django's form renderer with its common widgets written in Python (companyos.forms_renderer, issue 10).
FORM_RENDERER = "companyos.forms_renderer.ConsoleFormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "companyos.context_processors.console",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if IS_POSTGRES:
    # No JIT for the console's queries: a request's query that the planner over-estimates (an audit
    # tab over 28 monthly partitions, ~190k estimated rows for 700 real ones) crosses jit_above_cost
    # and spends 230 ms compiling for 5 ms of work. The usual advice for OLTP; reports stay fast
    # through their indexes and aggregates, not JIT. Set PG_JIT=on to give it back.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["options"] = (_pg_options.get("options", "") + f" -c jit={os.environ.get('PG_JIT', 'off')}").strip()
# Two PostgreSQL roles (README, Production): DATABASE_URL is the application's role (no superuser, owns
# nothing, only INSERT and SELECT on the audit tables); MIGRATE_DATABASE_URL is the owner role of the same
# database, used by `migrate`, `flush`, audit retention and the bench loaders (companyos.db.owner_connection)
# and never by a request. Without it (the embedded SQLite default, a quick local PostgreSQL) one role does all.
MIGRATE_DATABASE_URL = os.environ.get("MIGRATE_DATABASE_URL", "") if IS_POSTGRES else ""
DATABASE_APP_USER = DATABASES["default"].get("USER", "")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username + address before any password check
    # ModelBackend, with a get_user that reads the user, profile, roles and tenant grants in one query
    "tenants.auth_backend.ConsoleBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; nobody signed-out sees anything
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:list"
LOGOUT_REDIRECT_URL = "login"

# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failed sign-ins in a row for one username
# from one address, that pair is refused (429) until AXES_COOLOFF_MINUTES have passed without
# another try, or an admin deletes its access attempt in /admin/axes/. The address is the one the
# audit trail records (TRUSTED_PROXY_COUNT). Every sign-in, failure and sign-out is audited
# (companyos.logins).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "companyos.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "companyos.logins.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"  # never served directly: attachments go through a permission-checked view
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}


def storage_regions(spec: str) -> dict:
    """`STORAGE_REGIONS` (companyos/residency.py): comma-separated regions, each `CODE` (a local folder,
    MEDIA_ROOT/regions/<code>), `CODE=/a/folder` or `CODE=s3://bucket?region_name=…&endpoint_url=…`
    (any other query parameter is an S3Storage option too: location, custom_domain, …; credentials
    come from the environment or the instance role, as boto3 finds them)."""
    from urllib.parse import parse_qsl, urlsplit

    regions = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        code, _, target = item.partition("=")
        code = code.strip().upper()
        target = target.strip()
        if target.startswith("s3://"):
            url = urlsplit(target)
            regions[code] = {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": url.netloc, **dict(parse_qsl(url.query)), "file_overwrite": False},
            }
        else:
            regions[code] = {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": target} if target else {},
            }
    return regions


# Data residency: a storage per region; a tenant's data_residency picks it (companyos/residency.py).
STORAGE_REGIONS = storage_regions(os.environ.get("STORAGE_REGIONS", "EU,US,NO,JP"))

# Attachments
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
ATTACHMENT_ALLOWED_TYPES = {
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".zip": "application/zip",
    ".har": "application/json",
    ".eml": "message/rfc822",  # an e-mail: the original of every inbound message is kept as one
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Redis: Celery's broker and the cache. Without REDIS_URL, Celery runs tasks eagerly in-process
# and the cache is local memory, so the console still starts with one command.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "companyos.cache.RedisCache",  # Django's, one client per pool (companyos.cache)
            "LOCATION": REDIS_URL,
            # A test process keeps its keys apart from every other run on the shared Redis (and never
            # flushes it); production shares one namespace across nodes.
            "KEY_PREFIX": os.environ.get(
                "CACHE_KEY_PREFIX", f"test-{uuid.uuid4().hex[:12]}" if TESTING else "companyos"
            ),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# Triage copilot: a tenant gets a model of its own from this many confirmed cases; the hourly sweep
# trains at most COPILOT_TENANT_RETRAIN_PER_SWEEP tenants' models (bounded work, the rest next hour).
COPILOT_TENANT_MIN_CONFIRMED = int(os.environ.get("COPILOT_TENANT_MIN_CONFIRMED", "200"))
COPILOT_TENANT_RETRAIN_PER_SWEEP = int(os.environ.get("COPILOT_TENANT_RETRAIN_PER_SWEEP", "3"))

CELERY_BEAT_SCHEDULE: dict = {
    # The SLA sweep re-derives everything from the clocks' due times in PostgreSQL (cases.escalation).
    "sla-sweep": {"task": "cases.tasks.sla_sweep_task", "schedule": 15.0},
    # the triage copilot's global model, retrained from agent-confirmed cases when 20 are new, and the
    # own models of tenants with COPILOT_TENANT_MIN_CONFIRMED confirmed cases and new ones (runbooks/copilot)
    "copilot-retrain": {"task": "runbooks.tasks.copilot_retrain_task", "schedule": 3600.0},
    "send-notifications": {"task": "cases.tasks.send_notifications_task", "schedule": 15.0},
    # The reply outbox (cases.channels.outbox): public replies out through their case's channel.
    "relay-replies": {"task": "cases.tasks.relay_replies_task", "schedule": 5.0},
    "telemetry-retention": {"task": "tenants.tasks.purge_telemetry_task", "schedule": 3600.0},
    # The audit trail (companyos.audit_trail): seal closed hours, keep months of partitions ahead,
    # verify the whole trail daily (alerting the ADMINS), archive partitions past retention.
    "audit-seal": {"task": "companyos.tasks.audit_seal_task", "schedule": 300.0},
    "audit-partitions": {"task": "companyos.tasks.audit_partitions_task", "schedule": 6 * 3600.0},
    "audit-verify": {"task": "companyos.tasks.audit_verify_task", "schedule": 24 * 3600.0},
    "audit-retention": {"task": "companyos.tasks.audit_retention_task", "schedule": 24 * 3600.0},
    # The Zendesk sync (cases/channels/zendesk): the outbox relay, stuck-change alerts and webhook
    # retries every few seconds; the incremental export (the catch-up path) every minute.
    "zendesk-relay": {"task": "cases.channels.zendesk.tasks.zendesk_relay_task", "schedule": 5.0},
    "zendesk-export": {"task": "cases.channels.zendesk.tasks.zendesk_export_task", "schedule": 60.0},
    "api-idempotency-purge": {"task": "companyos.tasks.api_idempotency_purge_task", "schedule": 3600.0},
    # Backups (companyos.backup): nightly when BACKUP_DIR is set; a failure alerts the admins.
    "nightly-backup": {"task": "companyos.tasks.nightly_backup_task", "schedule": crontab(hour=2, minute=30)},
    # Incidents (README "Incidents and the status page"): the update cadence clock, warn and breach once.
    "incident-cadence": {"task": "incidents.tasks.cadence_sweep_task", "schedule": 30.0},
    # Engineering escalations (incidents/escalations): the update cadence clock (4 h critical, daily high).
    "engineering-cadence": {"task": "incidents.escalations.tasks.engineering_cadence_sweep_task", "schedule": 60.0},
    # Closure (cases/closure): resolved cases close by themselves after the policy's auto-close days.
    "auto-close": {"task": "cases.closure.tasks.auto_close_sweep_task", "schedule": 60.0},
    # The reports' daily rollups (cases/reports/rollup.py): recompute the days changes marked dirty.
    "reports-rollup": {"task": "cases.reports.tasks.rollup_sweep_task", "schedule": 30.0},
    # The weekly operations report (cases/reports/weekly.py): last week's CSV + JSON, every Monday, once.
    "weekly-report-export": {
        "task": "cases.reports.tasks.weekly_export_task",
        "schedule": crontab(day_of_week=1, hour=6, minute=0),
    },
}
# Closure and surveys (README "Closure, surveys and reports"): the customer links are absolute URLs on
# PUBLIC_BASE_URL; "is this solved?" links live as long as a resolution can (auto-close days + margin).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:8000")
CLOSURE_CONFIRM_LINK_DAYS = int(os.environ.get("CLOSURE_CONFIRM_LINK_DAYS", "30"))
CLOSURE_SURVEY_LINK_DAYS = int(os.environ.get("CLOSURE_SURVEY_LINK_DAYS", "14"))
# On-call and paging (README "On-call and paging"): a page's one-time acknowledge link expires after
# this many hours; the page sweep runs the escalation chains' due steps.
ONCALL_ACK_LINK_HOURS = int(os.environ.get("ONCALL_ACK_LINK_HOURS", "24"))
CELERY_BEAT_SCHEDULE["oncall-pages"] = {"task": "incidents.tasks.page_sweep_task", "schedule": 10.0}
CELERY_BEAT_SCHEDULE["oncall-handoffs"] = {"task": "incidents.tasks.handoff_sweep_task", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["oncall-p2-progress"] = {"task": "incidents.tasks.progress_sweep_task", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["oncall-standup-digest"] = {
    "task": "incidents.tasks.standup_digest_task",
    "schedule": crontab(hour=8, minute=45, day_of_week="mon-fri"),
}
CELERY_BEAT_SCHEDULE["retention"] = {"task": "companyos.tasks.retention_task", "schedule": crontab(hour=3, minute=15)}
CELERY_BEAT_SCHEDULE["telemetry-freshness"] = {"task": "tenants.tasks.telemetry_freshness_task", "schedule": 3600.0}
# Trace bundles past their tenant's retention window (runbooks.diagnostics.services.bundles_purge).
CELERY_BEAT_SCHEDULE["bundle-retention"] = {
    "task": "runbooks.tasks.bundle_retention_task",
    "schedule": crontab(hour=3, minute=45),
}
# SRE escalation (incidents/escalations/sre.py): multi-window burn-rate rules over the tenants' SLI
# history, "long minutes:short minutes:threshold", comma-separated; and how long the responder's
# temporary access to the tenant lasts. Beat evaluates them every minute.
SRE_BURN_RATE_RULES = os.environ.get("SRE_BURN_RATE_RULES", "60:5:14.4,360:30:6")
SRE_ACCESS_HOURS = float(os.environ.get("SRE_ACCESS_HOURS", "4"))
# The shift handoff report (incidents/escalations/shifts.py): e-mailed at each support shift change.
CELERY_BEAT_SCHEDULE["shift-handoff"] = {"task": "incidents.escalations.tasks.shift_handoff_task", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["sre-burn-rate"] = {"task": "incidents.escalations.tasks.burn_rate_sweep_task", "schedule": 60.0}
# Temporary elevated access (tenants/access.py): expired grants marked revoked (reads check the expiry).
CELERY_BEAT_SCHEDULE["temporary-access"] = {"task": "tenants.tasks.temporary_access_sweep_task", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["beat-heartbeat"] = {"task": "companyos.tasks.beat_heartbeat_task", "schedule": 20.0}
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")  # /metrics answers 404 without one
BEAT_STALE_SECONDS = int(os.environ.get("BEAT_STALE_SECONDS", "60"))
BACKUP_DIR = os.environ.get("BACKUP_DIR", "")
BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "7"))
CELERY_TASK_ROUTES = {
    "cases.tasks.*": {"queue": "celery"},
    "cases.channels.*": {"queue": "celery"},
    "tenants.tasks.*": {"queue": "celery"},
    "companyos.tasks.*": {"queue": "celery"},
    "incidents.tasks.*": {"queue": "celery"},
    "runbooks.tasks.*": {"queue": "celery"},
}
SLACK_WEBHOOK_URL = os.environ.get("SLACK_WEBHOOK_URL", "")
# The Slack app (issue 11, README "Slack, phone and channel SLAs"): requests from Slack are signed
# with the signing secret; replies go out with the bot token through the Web API.
SLACK_SIGNING_SECRET = os.environ.get("SLACK_SIGNING_SECRET", "")
SLACK_BOT_TOKEN = os.environ.get("SLACK_BOT_TOKEN", "")
SLACK_API_URL = os.environ.get("SLACK_API_URL", "https://slack.com/api/")
SLACK_RESPONSE_URL_HOSTS = [
    h.strip() for h in os.environ.get("SLACK_RESPONSE_URL_HOSTS", "hooks.slack.com").split(",") if h.strip()
]

# Zendesk sync (README "Zendesk sync"). The connection is per deployment and its secrets live in the
# environment only, never in the database: ZENDESK_BASE_URL (or ZENDESK_SUBDOMAIN), the API user's
# e-mail and token, and the webhook signing secret. With no base URL or token the sync is off.
ZENDESK_SUBDOMAIN = os.environ.get("ZENDESK_SUBDOMAIN", "")
ZENDESK_BASE_URL = os.environ.get("ZENDESK_BASE_URL", "") or (
    f"https://{ZENDESK_SUBDOMAIN}.zendesk.com" if ZENDESK_SUBDOMAIN else ""
)
ZENDESK_EMAIL = os.environ.get("ZENDESK_EMAIL", "")
ZENDESK_API_TOKEN = os.environ.get("ZENDESK_API_TOKEN", "")
ZENDESK_WEBHOOK_SECRET = os.environ.get("ZENDESK_WEBHOOK_SECRET", "")
ZENDESK_WEBHOOK_TOLERANCE_SECONDS = int(os.environ.get("ZENDESK_WEBHOOK_TOLERANCE_SECONDS", "300"))
ZENDESK_TIMEOUT_SECONDS = float(os.environ.get("ZENDESK_TIMEOUT_SECONDS", "10"))
ZENDESK_MAX_ATTEMPTS = int(os.environ.get("ZENDESK_MAX_ATTEMPTS", "8"))  # then the change is dead-lettered
ZENDESK_BACKOFF_SECONDS = float(os.environ.get("ZENDESK_BACKOFF_SECONDS", "5"))  # 5 s, 10 s, 20 s, …
ZENDESK_BACKOFF_MAX_SECONDS = float(os.environ.get("ZENDESK_BACKOFF_MAX_SECONDS", "900"))
ZENDESK_STUCK_AFTER_SECONDS = int(os.environ.get("ZENDESK_STUCK_AFTER_SECONDS", "900"))  # then admins are alerted

# The in-app help widget (cases.channels.widget, tenants.widget): a host's signed context may be valid
# for at most this long (the host signs a fresh one per page view), and the "follow replies" link the
# panel gives after filing (django.core.signing, no console login) works for this many days.
WIDGET_CONTEXT_MAX_AGE_SECONDS = int(os.environ.get("WIDGET_CONTEXT_MAX_AGE_SECONDS", str(60 * 60)))
WIDGET_THREAD_LINK_MAX_AGE_DAYS = int(os.environ.get("WIDGET_THREAD_LINK_MAX_AGE_DAYS", "30"))

# Sessions end after inactivity: every request pushes the expiry forward.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(60 * 60)))
# Sessions live in the cache with the database behind it (a request reads no session row), and
# slide: SessionRefreshMiddleware saves a signed-in session at most once a minute, which moves its
# expiry (not a write per request, as SESSION_SAVE_EVERY_REQUEST would).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = int(os.environ.get("SESSION_REFRESH_SECONDS", "60"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "companyos.views.csrf_failure"  # Django's 403 page, and the refusal audited
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): scripts and styles from our own static files only — no
# inline <script>, on*="" handler, hx-on or style="" anywhere (templates/ declares behaviour with
# data- attributes that static/js/console.js acts on; htmx runs with allowEval and
# includeIndicatorStyles off, see base.html) — and no framing at all.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not TESTING)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not TESTING)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not TESTING)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Audit
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False
# A declared view (companyos.access) that shows data without writing an access entry fails the request
# (UnauditedRead) instead of the guard writing an "unattributed" entry for it: in development and tests.
AUDIT_READS_STRICT = env_bool("AUDIT_READS_STRICT", DEBUG or TESTING)
# How many reverse proxies in front of the console append to X-Forwarded-For (0: none, the client
# is REMOTE_ADDR). Only then are a forwarded address and an inbound X-Correlation-ID (a UUID) trusted.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# Tamper evidence (companyos.audit_trail): each hour is sealed AUDIT_SEAL_LAG_SECONDS after it ends (so
# transactions still open at its end have committed), chained by an HMAC under AUDIT_SEAL_KEY, a secret
# kept outside the database (default: derived from SECRET_KEY; changing it makes older seals unverifiable).
AUDIT_SEAL_KEY = os.environ.get("AUDIT_SEAL_KEY", "")
AUDIT_SEAL_LAG_SECONDS = int(os.environ.get("AUDIT_SEAL_LAG_SECONDS", "600"))
AUDIT_PARTITIONS_AHEAD = int(os.environ.get("AUDIT_PARTITIONS_AHEAD", "3"))  # months of partitions made ahead
# Retention: monthly partitions older than this many months are exported (gzip'd COPY, sha256 checked)
# into AUDIT_ARCHIVE_DIR and dropped; 0 keeps everything.
AUDIT_RETENTION_MONTHS = int(os.environ.get("AUDIT_RETENTION_MONTHS", "0"))
AUDIT_ARCHIVE_DIR = Path(os.environ.get("AUDIT_ARCHIVE_DIR", BASE_DIR / "var" / "audit-archive"))
# Who is mailed when the daily audit verification fails ("name <address>" or addresses, comma-separated).
ADMINS = [("", a.strip()) for a in os.environ.get("ADMINS", "").split(",") if a.strip()]

# The machine APIs (/api/v1/): integrations authenticate with their own tokens; no sessions.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.api_auth.IntegrationTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The REST API (/api/v1/ cases, tenants, requesters; companyos.api): personal and integration tokens.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/min")  # per token, counted in the cache (Redis)
API_MAX_JSON_BYTES = int(os.environ.get("API_MAX_JSON_BYTES", str(1024 * 1024)))  # a JSON body; larger → 413
API_IDEMPOTENCY_DAYS = int(os.environ.get("API_IDEMPOTENCY_DAYS", "7"))  # how long a create's key is kept
SPECTACULAR_SETTINGS = {
    "TITLE": "CompanyOS Support Console API",
    "DESCRIPTION": (
        "Cases, tenants and requesters. Authenticate with `Authorization: Bearer <token>`: a personal token "
        "(Preferences → API tokens; it sees what its user sees, scope read or write) or an integration token "
        "(its tenants only). Errors are RFC 9457 `application/problem+json`; creates take an `Idempotency-Key`."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.choices.Status.choices",
        "ChannelEnum": "tenants.choices.Channel.choices",
        "IntakeChannelEnum": ["api", "cli", "widget", "web"],
    },
    "PREPROCESSING_HOOKS": ["companyos.api.schema.only_resources"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "companyos.api.schema.problem_responses",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
TELEMETRY_MAX_BATCH = int(os.environ.get("TELEMETRY_MAX_BATCH", "1000"))  # items per request
TELEMETRY_MAX_BYTES = int(os.environ.get("TELEMETRY_MAX_BYTES", str(2 * 1024 * 1024)))  # request body
TELEMETRY_RETENTION_DAYS = int(os.environ.get("TELEMETRY_RETENTION_DAYS", "90"))
# Diagnostic trace bundles (runbooks.diagnostics): the upload limit, how long they are kept unless the
# tenant says otherwise (Tenant.telemetry_retention_days), and the STORAGES alias they go to ('' = local
# disk under MEDIA_ROOT/bundles, never served; runbooks.diagnostics.storage.bundle_storage).
BUNDLE_MAX_BYTES = int(os.environ.get("BUNDLE_MAX_BYTES", str(200 * 1024 * 1024)))
BUNDLE_RETENTION_DAYS = int(os.environ.get("BUNDLE_RETENTION_DAYS", "30"))
BUNDLE_STORAGE = os.environ.get("BUNDLE_STORAGE", "")
# Trace bundles are always encrypted at rest (runbooks.diagnostics.crypto): BUNDLE_ENCRYPTION_KEYS is a
# comma-separated list of Fernet keys (`python -c "from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())"`); the first encrypts, every one decrypts (rotation: put the
# new key first, run `manage.py bundles_reencrypt`, then drop the old one). BUNDLE_ENCRYPTION_KEY (one
# key) is read when the list is unset. Production refuses to start without a valid key; the embedded
# default and the tests use a development key derived from SECRET_KEY (never in production).
BUNDLE_ENCRYPTION_KEYS = [
    k.strip()
    for k in (os.environ.get("BUNDLE_ENCRYPTION_KEYS") or os.environ.get("BUNDLE_ENCRYPTION_KEY", "")).split(",")
    if k.strip()
]


def _fernet_key_problem(key: str) -> str:
    import base64
    import binascii

    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return "is not url-safe base64"
    return "" if len(raw) == 32 else f"decodes to {len(raw)} bytes, not 32"


for _position, _key in enumerate(BUNDLE_ENCRYPTION_KEYS, start=1):
    if _problem := _fernet_key_problem(_key):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"BUNDLE_ENCRYPTION_KEYS: key {_position} {_problem}; each key must be a Fernet key "
            '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
        )
if not BUNDLE_ENCRYPTION_KEYS:
    if not (DEBUG or TESTING):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "Set BUNDLE_ENCRYPTION_KEYS: production (DEBUG off) never stores trace bundles in clear. Generate "
            'a key with python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())".'
        )
    import base64 as _base64
    import hashlib as _hashlib

    BUNDLE_ENCRYPTION_KEYS = [
        _base64.urlsafe_b64encode(_hashlib.sha256(b"companyos-dev-bundle-key:" + SECRET_KEY.encode()).digest()).decode()
    ]
# Retention (companyos.retention, RETENTION.md): run daily by beat ("retention").
NOTIFICATION_RETENTION_DAYS = int(os.environ.get("NOTIFICATION_RETENTION_DAYS", "90"))
EMAIL_ORIGINAL_RETENTION_DAYS = int(os.environ.get("EMAIL_ORIGINAL_RETENTION_DAYS", "180"))
ATTACHMENT_RETENTION_DAYS = int(os.environ.get("ATTACHMENT_RETENTION_DAYS", "0"))  # 0: kept forever
ATTACHMENT_RETENTION_DAYS_BY_TENANT = {
    slug.strip(): int(days)
    for slug, _, days in (
        item.partition("=")
        for item in os.environ.get("ATTACHMENT_RETENTION_DAYS_BY_TENANT", "").split(",")
        if "=" in item
    )
}
# How fresh each tenant-console panel's telemetry must be, in hours (seed 003: "data contracts
# validated and refreshed within last 24 hrs"): e.g. TELEMETRY_FRESHNESS_HOURS="health=24,usage=48".
# Event-driven data (alerts, deployments, experiments, config changes) has no target.
TELEMETRY_FRESHNESS_HOURS = {"health": 24, "usage": 48, "flags": 24} | {
    name.strip(): int(hours)
    for name, _, hours in (
        item.partition("=") for item in os.environ.get("TELEMETRY_FRESHNESS_HOURS", "").split(",") if "=" in item
    )
}

# Console
CASE_KEY_PREFIX = "CS"
PRIORITY_DISPLAY_CODES = {"critical": "P1", "high": "P2", "medium": "P3", "low": "P4"}
QUEUE_PAGE_SIZE = 50
# Counts stop at a cap and show as "10,000+": an exact count of a million rows is a full scan.
QUEUE_COUNT_CAP = 10_000  # the queue's own filters (index-only scans)
SEARCH_COUNT_CAP = 1_000  # text search: every counted row is re-checked against the pattern
VIEW_COUNT_CAP = 1_000  # the saved-view counts in the sidebar

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@companyos.example")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")  # the SMTP backend's relay
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))  # the file backend's folder

# The e-mail channel (cases.channels.email; README "E-mail channel").
SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", DEFAULT_FROM_EMAIL)  # customers write here; replies come from it
SUPPORT_EMAIL_NAME = os.environ.get("SUPPORT_EMAIL_NAME", "CompanyOS Support")  # after the agent's name in From
SUPPORT_REPLY_TO = os.environ.get("SUPPORT_REPLY_TO", "")  # Reply-To of our replies; empty: SUPPORT_EMAIL
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("EMAIL_MESSAGE_ID_DOMAIN", SUPPORT_EMAIL.rpartition("@")[2] or "localhost")
# A customer's e-mail on a resolved or closed case reopens it within this many days of closing,
# later it opens a follow-up case linked to it.
EMAIL_REOPEN_WINDOW_DAYS = int(os.environ.get("EMAIL_REOPEN_WINDOW_DAYS", "14"))
REPLY_MAX_ATTEMPTS = int(os.environ.get("REPLY_MAX_ATTEMPTS", "8"))  # outbox tries before a reply is marked failed
# The ESP inbound webhook (django-anymail's Mailgun inbound, at /inbound/email/mailgun/): the
# signing key Mailgun shows under Webhooks; requests older than the window are refused (replays).
ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY", "")}
EMAIL_WEBHOOK_MAX_AGE = int(os.environ.get("EMAIL_WEBHOOK_MAX_AGE", "300"))  # seconds

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"tenants.retention": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
