"""The case page's timeline entries, built in Python (cases.templatetags.case_tags.timeline_items,
issue 10): every kind of entry shows what the template showed — who, what, when, the delivery state,
evidence, SLA notes, attachments, links — with every stored value escaped."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from cases.channels.models import OutboundReply
from cases.models import Attachment, Interaction
from cases.templatetags.case_tags import timeline_items
from tenants.models import Requester

NOW = timezone.now()


def entry(pk, kind, data=None, body="", *, actor=None, requester=None, channel="", attachments=(), outbound=None):
    item = Interaction(pk=pk, kind=kind, data={} if data is None else data, body=body, channel=channel, created_at=NOW)
    item._state.fields_cache.update(actor=actor, requester=requester)
    if outbound is not None:
        item._state.fields_cache["outbound"] = outbound
    item._prefetched_objects_cache = {"attachments": list(attachments)}
    return item


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


KARI = User(username="kari", first_name="Kari", last_name="O'Neil")


def test_an_empty_timeline_says_so():
    assert timeline_items([]) == '<p class="empty">Nothing in this view of the timeline.</p>'


def test_messages_name_their_author_kind_and_delivery_and_escape_everything():
    html = timeline_items(
        [
            entry(1, "inbound", {}, "Hi\n<script>x</script>", requester=Requester(name="Ana & Bo"), channel="email"),
            entry(2, "inbound", {}, "anonymous", channel="slack"),
            entry(
                3,
                "reply",
                {},
                "On it",
                actor=KARI,
                outbound=OutboundReply(failed_at=NOW, last_error="550 <no>", channel="email"),
            ),
            entry(
                4, "reply", {}, "Sent", actor=User(username="sam"), outbound=OutboundReply(sent_at=NOW, channel="slack")
            ),
            entry(5, "note", {}, "internal"),
            entry(6, "call", {"direction": "outbound", "duration_seconds": 95}, "called", actor=KARI),
        ]
    )
    assert '<div class="msg msg-inbound" id="i1">' in html and "<b>Ana &amp; Bo</b>" in html
    assert "Hi<br>&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert "<b>Customer</b>" in html and "customer · Slack" in html and "customer · Email" in html
    assert "<b>Kari O&#x27;Neil</b>" in html and "public reply" in html
    assert 'data-delivery="failed" title="550 &lt;no&gt;">email · not delivered</span>' in html
    assert 'data-delivery="sent">slack · sent</span>' in html and "<b>sam</b>" in html
    assert "<b>system</b>" in html and "internal note" in html
    assert "phone call · we called · 2 min" in html
    assert html.count("<time datetime=") == 6


def test_evidence_flags_sla_notes_and_attachments_of_a_message():
    upload = Attachment(pk=7, filename="trace.log", original_name="trace <1>.log", size=2048)
    html = timeline_items(
        [
            entry(
                1,
                "inbound",
                {
                    "evidence": {"error_ids": ["E-1", "<E2>"], "trace_links": ["https://t.example/x?a=1&b=2"]},
                    "channel_data": {
                        "page_url": "https://app.example/" + "p" * 200,
                        "app_version": "4.2",
                        "left_out": 1,
                    },
                    "sla": ["first response met"],
                    "phone_flags": ["caller ID withheld"],
                },
                "From the widget",
                channel="widget",
                attachments=[upload],
            ),
            entry(
                2,
                "inbound",
                {"channel_data": {"staffed": {"open": False, "hours": "08–18 CET"}}},
                "late",
                channel="slack",
            ),
        ]
    )
    assert "<code data-error-id>E-1</code> <code data-error-id>&lt;E2&gt;</code>" in html
    assert 'href="https://t.example/x?a=1&amp;b=2"' in html and "data-trace-link" in html
    page = re.search(r"data-page-url>([^<]+)<", html).group(1)
    assert len(page) == 120 and page.endswith("…")
    assert "data-app-version>4.2<" in html and "1 unusable item from the page" in html
    assert "⚠ caller ID withheld" in html and "first response met" in html and 'class="icon icon-clock"' in html
    assert 'href="/cases/attachments/7/"' in html and 'title="trace &lt;1&gt;.log"' in html and "2.0\xa0KB" in html
    assert 'data-slack-staffed="no">Sent in Slack outside its staffed hours (08–18 CET).' in html


def test_events_say_what_changed_by_whom():
    html = timeline_items(
        [
            entry(
                1,
                "status",
                {"from": "new", "to": "waiting_on_customer", "reopened": True, "waiting_text": "logs <x>"},
                "why",
                actor=KARI,
            ),
            entry(2, "assignment", {"changes": {"owner": [None, "kari"]}}, actor=KARI),
            entry(3, "fields", {"changes": {"issue_type": ["question", "bug"], "priority": ["P3", "P1"]}}),
            entry(4, "tags", {"added": ["api", "<b>"], "removed": ["old"]}),
            entry(5, "attachment", {"filename": "f" * 130}),
            entry(6, "automation", {"actions": ["paged on-call"], "follow_up": "CS-3"}, "Rule fired"),
        ]
    )
    events = [text('<div class="event ' + part) for part in html.split('<div class="event ')[1:]]
    assert events[0].startswith("● status New → Waiting on customer (reopened) · waiting for logs &lt;x&gt; by kari ·")
    assert events[0].endswith("“why”")
    assert events[1].startswith("● owner — → kari by kari")
    assert events[2].startswith("● issuetype question → bug , priority P3 → P1 by system")
    assert events[3].startswith("● tags +api +&lt;b&gt; −old by system")
    assert events[4].startswith("● attached " + "f" * 119 + "…")
    assert "Automation step by system" in events[5] and '<div class="reason">Rule fired</div>' in html
    assert 'href="/cases/CS-3/" data-follow-up>Open CS-3</a>' in html and 'class="icon icon-arrow"' in html


@pytest.mark.django_db
def test_the_case_page_shows_its_timeline_through_the_tag(agent_client, case_a, agent):
    from cases import services

    services.case_reply(case_id=case_a.pk, actor=agent, body="We are <looking>", public=True)
    page = agent_client.get(case_a.get_absolute_url()).content.decode()
    assert "We are &lt;looking&gt;" in page and 'class="label delivery delivery-' in page
