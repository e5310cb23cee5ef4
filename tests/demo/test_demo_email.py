"""The demo's replies and the e-mail channel: history is not re-sent, security cases are asked by phone."""

import pytest

from cases.models import Interaction, OutboundReply
from demo.timelines import realistic_cases
from demo.world import build_demo_world


@pytest.mark.django_db
def test_the_demos_replies_are_sent_history_and_no_security_case_is_asked_by_email():
    world = build_demo_world()
    realistic_cases(world, 80, seed=3, service_share=1.0)
    assert OutboundReply.objects.exists()
    assert not OutboundReply.objects.filter(sent_at__isnull=True).exists()  # a beat would not e-mail old history
    for reply in OutboundReply.objects.select_related("interaction"):
        assert reply.sent_at == reply.interaction.created_at
    asked = Interaction.objects.filter(kind="reply", public=True, case__tags__name="security", case__channel="email")
    assert not any("?" in body for body in asked.values_list("body", flat=True))
