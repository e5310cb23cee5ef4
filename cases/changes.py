"""Change listeners: told of every timeline entry inside the transaction that writes it.

The channels' outboxes (outbound e-mail, the Zendesk sync) listen here so that the row that carries
a change to the outside world is written atomically with the change. A listener must be cheap for
the entries it does not care about (it runs on every case write) and must not write the case row.

    register_change_listener(fn)   # fn(interaction) -> None
"""

from __future__ import annotations

from collections.abc import Callable

_listeners: list[Callable] = []


def register_change_listener(listener: Callable) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def notify(interaction) -> None:
    for listener in _listeners:
        listener(interaction)
