"""What is kept how long (issue 18, point 3): one registry of retention rules, a dry run of each,
and a record of every purge (RETENTION.md is the rules in prose).

    register_rule(Rule(name, what, kept, setting, count, purge))

`count()` says how many items a purge would remove now (the dry run); `purge()` removes them and
returns how many. `run(dry_run=…)` runs every rule (or one) and writes a `PurgeRecord` per rule,
which django-auditlog records: who ran it (the actor), when, what and how many. The beat task
`retention` runs the real purges daily; the admins' page `/retention/` lists the rules with their
settings and last runs and offers a dry run. The apps register their rules from their ready().

Plumbing: imports no app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    name: str
    what: str
    kept: Callable[[], str]  # "90 days (TELEMETRY_RETENTION_DAYS)", read when shown
    setting: str
    count: Callable[[], int]
    purge: Callable[[], int]
    per_tenant: str = ""  # how a tenant's own rule is set, where it makes sense
    beat: str = "retention"  # the beat entry that runs its purge (telemetry and audit have their own)


_rules: dict[str, Rule] = {}


def register_rule(rule: Rule) -> None:
    _rules[rule.name] = rule


def rules() -> list[Rule]:
    return [_rules[name] for name in sorted(_rules)]


def run(*, dry_run: bool, actor=None, only: str | None = None, beat: str | None = None) -> list:
    """Run every rule (or `only`, or those of beat entry `beat`), recording each; returns the PurgeRecords."""
    from .models import PurgeRecord
    from .roles import acting_as, system_user

    actor = actor or system_user()
    records = []
    for rule in rules():
        if (only and rule.name != only) or (beat and rule.beat != beat):
            continue
        with acting_as(actor):
            try:
                count = rule.count() if dry_run else rule.purge()
                error = ""
            except Exception as exc:  # noqa: BLE001 — one rule failing must not stop the others
                log.exception("retention rule %s failed", rule.name)
                count, error = 0, f"{type(exc).__name__}: {exc}"[:500]
            records.append(
                PurgeRecord.objects.create(rule=rule.name, dry_run=dry_run, count=count, error=error, actor=actor)
            )
    return records
