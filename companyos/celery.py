"""The Celery app. Timers live in PostgreSQL rows found by short beat sweeps, never in Redis ETAs."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "companyos.settings")

app = Celery("companyos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
