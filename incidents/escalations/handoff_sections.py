"""Extra sections of the shift handoff report (incidents.escalations.shifts): how a higher app puts
its own lines into the report — the page and each member's e-mail — without incidents importing it.
The knowledge base (`runbooks`) registers the active known issues (seed 002 "Between Support
Shifts": "known issues").

    register_handoff_section(HandoffSection(key="known_issues", title="Known issues", build=fn, order=10))

`build(user, team=…, now=…)` reads the app's own data through its own selectors, scoped to what `user`
may see (and to `team`'s cases when given, None: every team), and returns `HandoffItem`s: one line
each, with an optional link and detail. Registered in the app's AppConfig.ready(); none registered:
the report has only its own sections (incidents alone works and is testable on its own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HandoffItem:
    text: str
    url: str = ""
    detail: str = ""


@dataclass(frozen=True)
class HandoffSection:
    key: str
    title: str
    build: Callable  # (user, *, team, now) -> list[HandoffItem]
    order: int = 100
    empty: str = "none"  # what the report says when the section has no items


@dataclass(frozen=True)
class BuiltSection:
    key: str
    title: str
    items: list[HandoffItem] = field(default_factory=list)
    empty: str = "none"


_sections: dict[str, HandoffSection] = {}


def register_handoff_section(section: HandoffSection) -> None:
    _sections[section.key] = section


def handoff_sections() -> list[HandoffSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


def build_sections(user, *, team, now) -> list[BuiltSection]:
    return [BuiltSection(s.key, s.title, list(s.build(user, team=team, now=now)), s.empty) for s in handoff_sections()]
