"""The Slack channel (issue 11 point 4).

Map:
    api          the wire: chat.postMessage with the bot token, incoming webhooks, response_url
                 answers (slack_sdk, retries off; failures raised as SlackSendError with Retry-After)
    intake       who a Slack request is (workspace/channel → tenant, user → contact), opening a case
                 from a slash command or a message, showing one; the staffed-hours rule (seed 001)
    blocks       the answers in Slack's response format (ephemeral blocks)
    notify       the incoming-webhook notifications (new critical cases; breaches and pages are
                 written by the SLA sweep) through the Notification outbox, and the reply sender:
                 a public reply on a Slack case goes to the thread it came from
    views, urls  /channels/slack/commands/ (the slash command) and /channels/slack/interactivity/
                 (the "Create case" message action), both signature-checked
    tasks        the after-commit answer to a message action through its response_url

`register()` (called from CasesConfig.ready) plugs the sender and the change listener in.
"""


def register() -> None:
    from ...changes import register_change_listener
    from ..outbound import register_reply_sender
    from . import notify, tasks  # noqa: F401  (tasks: so workers know the task)

    register_reply_sender("slack", notify.send_slack_reply)
    register_change_listener(notify.on_change)
