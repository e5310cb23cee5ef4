"""Channels: how cases come in and how replies go out (issue 11), and the external-ticket sync.

Map (each module owns its own models, services and tasks; the case row and timeline are still
written only by `cases.services`):

- `outbound`  the registry of reply senders: a public reply leaves through the channel the case
              came in on (`register_reply_sender(channel, sender)`, `sender_for(channel)`), and of
              reply checks (`register_reply_check`: refuse a reply inside its transaction).
- `outbox`    the reply outbox: the change listener that queues a row per public reply on a channel
              with a sender, and the beat-swept relay (lease, retries, backoff, failed state).
- `models`    `OutboundReply`, the outbox row.
- `email`     inbound e-mail (MTA pipe and ESP webhook → one service), threading, reply parsing,
              outbound e-mail with threading headers, through an outbox.
- `slack`     incoming-webhook notifications, the slash command, message actions, thread replies.
- `phone`     logged calls and callbacks.
- `models_slack_phone`  the Slack and phone models (links, contacts, threads, replies, callbacks).
- `zendesk`   bi-directional Zendesk sync: field mapping, outbox relay, webhooks, incremental export.

Change listeners (`cases.changes`) are told of every timeline entry inside the writing transaction,
so an outbox row is written atomically with the change it carries.
"""
