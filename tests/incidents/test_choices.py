"""The incident lifecycle as data: every allowed and every forbidden move."""

import pytest

from incidents.choices import TRANSITIONS, Status

ALLOWED = {
    ("investigating", "identified"),
    ("investigating", "mitigating"),
    ("investigating", "monitoring"),
    ("investigating", "resolved"),
    ("identified", "mitigating"),
    ("identified", "monitoring"),
    ("identified", "resolved"),
    ("mitigating", "identified"),
    ("mitigating", "monitoring"),
    ("mitigating", "resolved"),
    ("monitoring", "mitigating"),
    ("monitoring", "resolved"),
    ("resolved", "investigating"),
}


@pytest.mark.parametrize("was", Status.values)
@pytest.mark.parametrize("to", Status.values)
def test_every_pair(was, to):
    assert (to in TRANSITIONS[was]) == ((was, to) in ALLOWED)
