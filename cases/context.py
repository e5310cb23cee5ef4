"""Extension point: context providers for the case snapshot (`CaseContext`).

A case's context is what was true about its tenant when it arrived. `cases` gathers what it owns
(tenant health and telemetry through `tenants.selectors.tenant_signals`, similar cases through
`cases.selectors.similar_cases`); apps above `cases` add theirs by registering a provider in their
`AppConfig.ready()`, so `cases` never imports them:

    # incidents/apps.py
    from cases.context import register_context_provider
    register_context_provider("incidents", active_incidents_touching_tenant)

A provider is `fn(case, now) -> Contribution`: `data` is merged into the snapshot's JSON (its keys
are the provider's to name: the incidents provider writes "incidents"), `signals` are keyword values
for `cases.triage.Signals` (e.g. `active_incidents=[...]`) that the priority suggestion reads: a list
extends what is there already, any other value replaces it.
Providers run in registration order inside the capture's transaction and must only read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Contribution:
    data: dict = field(default_factory=dict)
    signals: dict = field(default_factory=dict)


Provider = Callable[[object, datetime], Contribution]
_providers: dict[str, Provider] = {}


def register_context_provider(name: str, fn: Provider) -> None:
    """Add (or replace, by name: `ready()` may run twice in tests) a context provider."""
    _providers[name] = fn


def context_providers() -> list[tuple[str, Provider]]:
    return list(_providers.items())
