"""Public replies leave through the channel the case came in on.

A channel module registers a sender for its channel at import time (from `CasesConfig.ready()`):

    register_reply_sender(Channel.SLACK, send_slack_reply)

A sender takes the public reply (an `Interaction`) and delivers it, returning the channel's id for
the delivered message (a string, e.g. Slack's ts) and raising on a failure worth a retry, or
`PermanentFailure` on one that is not; it is called by the outbox relay, never inside the request
that wrote the reply.
"""

from __future__ import annotations

from collections.abc import Callable

_senders: dict[str, Callable] = {}


def register_reply_sender(channel: str, sender: Callable) -> None:
    _senders[str(channel)] = sender


def sender_for(channel: str) -> Callable | None:
    """The sender registered for `channel`, or None (the reply stays on the case, visible through
    the console and the API)."""
    return _senders.get(str(channel))


class PermanentFailure(Exception):
    """Raised by a sender for a failure no retry can fix (the address is refused, the thread is
    gone): the outbox marks the reply failed at once instead of retrying."""


_checks: dict[str, Callable] = {}


def register_reply_check(channel: str, check: Callable) -> None:
    """`check(interaction)` runs inside the transaction that writes a public reply on a case of
    `channel`, before anything is queued; it raises `cases.errors.CaseError` to refuse the reply
    (the e-mail channel's: no request for details on a security case, seed 002)."""
    _checks[str(channel)] = check


def check_for(channel: str) -> Callable | None:
    return _checks.get(str(channel))
