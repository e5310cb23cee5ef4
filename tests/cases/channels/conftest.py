"""The Zendesk sync tests' fixtures: a fake Zendesk behind pytest-httpserver on 127.0.0.1."""

from __future__ import annotations

import re

import pytest

from demo.zendesk_fake import FakeZendesk, werkzeug_handler

from .zendesk_helpers import SECRET


@pytest.fixture
def fake():
    return FakeZendesk()


@pytest.fixture
def zendesk(httpserver, fake, settings):
    """The fake Zendesk served on a free local port, and the sync configured to talk to it."""
    httpserver.expect_request(re.compile(r"^/api/v2/.*")).respond_with_handler(werkzeug_handler(fake))
    settings.ZENDESK_BASE_URL = httpserver.url_for("").rstrip("/")
    settings.ZENDESK_EMAIL = "api@companyos.example"
    settings.ZENDESK_API_TOKEN = "test-token"
    settings.ZENDESK_WEBHOOK_SECRET = SECRET
    settings.ZENDESK_TIMEOUT_SECONDS = 0.5
    settings.ZENDESK_MAX_ATTEMPTS = 4
    settings.ZENDESK_BACKOFF_SECONDS = 5
    settings.ZENDESK_BACKOFF_MAX_SECONDS = 60
    fake.httpserver = httpserver
    return fake
