"""Bulk actions on the queue: one action applied to many cases, each through its own case service
call (and so its own row lock, transaction, timeline entry and audit rows). There is no second path
that skips the history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import services
from .choices import Status
from .errors import CaseError
from .selectors import parse_case_key


@dataclass
class BulkResult:
    changed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        text = f"{len(self.changed)} case{'s' if len(self.changed) != 1 else ''} changed"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped"
        return text


BULK_ACTIONS = ("assign", "status", "tag", "merge")


@dataclass(frozen=True)
class BulkExtension:
    """A bulk action an app above cases adds to the queue's bulk bar (the extension point: cases
    imports no higher app). `describe(value, actor)` checks the typed value and returns what the
    confirmation says ("link to INC-12 …"), raising CaseError to refuse it; `apply(cases, actor,
    value)` returns a BulkResult and must write each case through its own services."""

    action: str
    label: str  # the bulk bar's option, e.g. "Link to incident…"
    placeholder: str  # the value box's placeholder, e.g. "INC-12"
    describe: Callable[[str, object], str]
    apply: Callable[[list, object, str], BulkResult]


_extensions: dict[str, BulkExtension] = {}


def register_bulk_action(extension: BulkExtension) -> None:
    """Add (or replace, by action: `ready()` may run twice in tests) a bulk action."""
    _extensions[extension.action] = extension


def bulk_extensions() -> list[BulkExtension]:
    return list(_extensions.values())


def bulk_extension(action: str) -> BulkExtension | None:
    return _extensions.get(action)


def case_bulk(*, cases, actor, action: str, value, waiting_for: str = "", waiting_note: str = "") -> BulkResult:
    """Apply one action to many cases, each through its own service call (and so its own row lock,
    transaction and timeline entry). `cases` must already be scoped to what `actor` may see. A move
    to Waiting on customer takes `waiting_for` (and `waiting_note`) like the single move; resolving
    skips each case whose classification is incomplete, with the service's reason."""
    extension = _extensions.get(action)
    if extension is not None:
        return extension.apply(list(cases), actor, value)
    if action not in BULK_ACTIONS:
        raise CaseError(f"Unknown bulk action {action!r}.")
    result = BulkResult()
    for case in cases:
        try:
            if action == "assign":
                before = services.case_assign(case_id=case.pk, actor=actor, owner=value).version
                changed = before != case.version
            elif action == "status":
                if case.status == value:
                    result.skipped[case.key] = f"already {Status(value).label}"
                    continue
                services.case_transition(
                    case_id=case.pk,
                    to=value,
                    actor=actor,
                    reason="bulk action",
                    waiting_for=waiting_for,
                    waiting_note=waiting_note,
                )
                changed = True
            elif action == "merge":  # value: the surviving case's key; its own row is skipped
                into_id = parse_case_key(value)
                if into_id == case.pk:
                    result.skipped[case.key] = "the case merged into"
                    continue
                services.case_merge(case_id=case.pk, into_id=into_id, actor=actor)
                changed = True
            else:
                changed = services.case_tag(case_id=case.pk, actor=actor, add=[value]).version != case.version
        except CaseError as error:
            result.skipped[case.key] = str(error)
            continue
        if changed:
            result.changed.append(case.key)
        else:
            result.skipped[case.key] = "nothing to change"
    return result
