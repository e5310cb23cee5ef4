"""The Zendesk sync tests' fixtures: a fake Zendesk behind pytest-httpserver on 127.0.0.1."""

import pytest

from demo.zendesk_fake import FakeZendesk

from .zendesk_helpers import configure


@pytest.fixture
def fake():
    return FakeZendesk()


@pytest.fixture
def zendesk(httpserver, fake, settings):
    """The fake Zendesk served on a free local port, and the sync configured to talk to it."""
    return configure(httpserver, fake, settings)
