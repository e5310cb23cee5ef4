"""A macro's actions: what each may be (`validate`, when a macro is saved), what each would do on a
case now (`plan`, for the preview: every action described, and refused if the case's lifecycle or
data does not allow it now), and doing them (`run`, inside `macro_apply`'s transaction, each through
its cases service — a refusal raises and so rolls back the whole application).

An action is a dict: {"type": …, …}
    status          {"to": "in_progress" | …, "waiting_for": "logs"…}  the lifecycle's move
    priority        {"value": "critical" | "high" | "medium" | "low"}
    category / issue_type / environment   {"value": …}
    tags            {"add": [...], "remove": [...]}
    assign          {"owner": "me" | username | "", "team": slug}
    note            {"text": a template}                  an internal note
    link_runbook    {"slug": …}  (default: the macro's runbook)
    link_known_issue {}          the known issue chosen in the preview (the case's best match)
    request_info    {"items": [...], "waiting_for": "logs" | …}  a list appended to the reply, then Waiting on customer
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from cases import services as case_services
from cases.choices import (
    REQUIRED_TO_RESOLVE,
    TRANSITIONS,
    Category,
    Environment,
    IssueType,
    Priority,
    Status,
    WaitingFor,
)
from cases.models import Case, Team
from companyos import customer_text

TYPES = (
    "status",
    "priority",
    "category",
    "issue_type",
    "environment",
    "tags",
    "assign",
    "note",
    "link_runbook",
    "link_known_issue",
    "request_info",
)
CLASSIFY = {
    "priority": [p.slug for p in Priority],
    "category": list(Category.values),
    "issue_type": list(IssueType.values),
    "environment": list(Environment.values),
}
MAX_ACTIONS = 12


class ActionError(ValueError):
    """A malformed action list: the message says which action and why."""


def validate(actions, *, variables) -> list[dict]:
    """Check the shape of a macro's actions when it is saved (not whether they fit a case)."""
    if not isinstance(actions, list):
        raise ActionError("Actions must be a list.")
    if len(actions) > MAX_ACTIONS:
        raise ActionError(f"At most {MAX_ACTIONS} actions.")
    for n, action in enumerate(actions, 1):
        where = f"Action {n}"
        if not isinstance(action, dict) or action.get("type") not in TYPES:
            raise ActionError(f"{where}: the type must be one of {', '.join(TYPES)}.")
        kind = action["type"]
        if kind == "status":
            if action.get("to") not in Status.values:
                raise ActionError(f"{where}: unknown status {action.get('to')!r}.")
            if action["to"] == Status.WAITING_ON_CUSTOMER and action.get("waiting_for") not in WaitingFor.values:
                raise ActionError(f"{where}: say what the case waits for ({', '.join(WaitingFor.values)}).")
        elif kind in CLASSIFY:
            if action.get("value") not in CLASSIFY[kind]:
                raise ActionError(f"{where}: {action.get('value')!r} is not a {kind.replace('_', ' ')}.")
        elif kind == "tags":
            add, remove = action.get("add", []), action.get("remove", [])
            if not isinstance(add, list) or not isinstance(remove, list) or not (add or remove):
                raise ActionError(f"{where}: give tags to add or remove, as lists.")
        elif kind == "assign":
            if "owner" not in action and "team" not in action:
                raise ActionError(f"{where}: give an owner or a team.")
        elif kind == "note":
            text = action.get("text", "")
            if not isinstance(text, str) or not text.strip():
                raise ActionError(f"{where}: a note needs text.")
            try:
                customer_text.check(text, variables)
            except customer_text.CustomerTextError as error:
                raise ActionError(f"{where}: {error}") from None
        elif kind == "request_info":
            items = action.get("items", [])
            if not isinstance(items, list) or not items or not all(isinstance(i, str) and i.strip() for i in items):
                raise ActionError(f"{where}: list the information to request.")
            if action.get("waiting_for", "logs") not in WaitingFor.values:
                raise ActionError(f"{where}: say what the case waits for ({', '.join(WaitingFor.values)}).")
    return actions


@dataclass
class Step:
    action: dict
    text: str
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"{s.text}: {s.problem}" for s in self.steps if s.problem]


def _user(username: str, actor):
    if username == "me":
        return actor
    return get_user_model().objects.filter(username=username, is_active=True).first()


def plan(actions: list[dict], *, case, actor, macro, known_issue=None) -> Plan:
    """What each action would do on `case` now, in order (a status move sees the moves before it),
    with a problem wherever it would be refused. Reads only."""
    result = Plan()
    status = case.status
    unset = set(case.unclassified or ())
    for action in actions:
        kind = action["type"]
        problem = ""
        if kind == "status" or kind == "request_info":
            to = action.get("to") if kind == "status" else Status.WAITING_ON_CUSTOMER
            text = f"Set status to {Status(to).label}"
            if kind == "request_info":
                text = f"Request {len(action['items'])} item(s) of information, then wait on the customer"
            if to != status and to not in TRANSITIONS.get(status, []):
                allowed = ", ".join(Status(s).label for s in TRANSITIONS.get(status, [])) or "none"
                problem = f"not allowed from {Status(status).label} (allowed: {allowed})"
            elif to == Status.RESOLVED and unset & set(REQUIRED_TO_RESOLVE):
                problem = f"set {', '.join(sorted(unset & set(REQUIRED_TO_RESOLVE)))} first"
            else:
                status = to
        elif kind in CLASSIFY:
            text = f"Set {kind.replace('_', ' ')} to {action['value'].replace('_', ' ')}"
            unset.discard(kind)
        elif kind == "tags":
            parts = [f"+{t}" for t in action.get("add", [])] + [f"−{t}" for t in action.get("remove", [])]
            text = "Tags " + " ".join(parts)
        elif kind == "assign":
            bits = []
            if "owner" in action:
                owner = action["owner"] or ""
                who = _user(owner, actor) if owner else None
                if owner and who is None:
                    problem = f"no active user {owner!r}"
                bits.append(f"owner {'you' if owner == 'me' else owner or 'nobody'}")
            if "team" in action and action["team"]:
                if not Team.objects.filter(slug=action["team"]).exists():
                    problem = f"no team {action['team']!r}"
                bits.append(f"team {action['team']}")
            text = "Assign " + ", ".join(bits)
        elif kind == "note":
            text = "Add an internal note"
        elif kind == "link_runbook":
            slug = action.get("slug") or (macro.runbook.slug if macro.runbook_id else "")
            text = f"Link runbook {slug or '—'}"
            if not slug:
                problem = "no runbook named"
        elif kind == "link_known_issue":
            text = f"Link known issue {known_issue.title if known_issue else '—'}"
            if known_issue is None:
                problem = "no known issue matches this case; choose one"
        else:  # pragma: no cover - validate() refuses others
            text, problem = kind, "unknown action"
        result.steps.append(Step(action=action, text=text, problem=problem))
    return result


def request_list(actions: list[dict]) -> str:
    """The numbered list the request_info actions append to the reply."""
    items = [item for a in actions if a["type"] == "request_info" for item in a["items"]]
    if not items:
        return ""
    return "\n\n" + "\n".join(f"{n}. {item}" for n, item in enumerate(items, 1))


def run(actions: list[dict], *, case_id: int, actor, macro, variables: dict, links) -> list[str]:
    """Do each action through its cases service (or, for links, through `links`: the runbooks
    services' own link writes). Called inside macro_apply's transaction: any refusal raises
    CaseError and rolls everything back. Returns one line per action done."""
    done = []
    for action in actions:
        kind = action["type"]
        if kind == "status":
            if Case.objects.filter(pk=case_id, status=action["to"]).exists():
                done.append(f"status already {Status(action['to']).label}")
                continue
            case_services.case_transition(
                case_id=case_id,
                to=action["to"],
                actor=actor,
                reason=f"macro “{macro.name}”",
                waiting_for=action.get("waiting_for", ""),
                waiting_note=action.get("waiting_note", ""),
            )
            done.append(f"status → {Status(action['to']).label}")
        elif kind == "request_info":
            case_services.case_transition(
                case_id=case_id,
                to=Status.WAITING_ON_CUSTOMER,
                actor=actor,
                reason=f"macro “{macro.name}”: information requested",
                waiting_for=action.get("waiting_for", WaitingFor.LOGS),
            )
            done.append(f"requested {len(action['items'])} item(s); waiting on the customer")
        elif kind in CLASSIFY:
            value = Priority.from_slug(action["value"]).value if kind == "priority" else action["value"]
            case_services.case_classify(case_id=case_id, actor=actor, reason=f"macro “{macro.name}”", **{kind: value})
            done.append(f"{kind.replace('_', ' ')} → {action['value'].replace('_', ' ')}")
        elif kind == "tags":
            case_services.case_tag(
                case_id=case_id, actor=actor, add=action.get("add", []), remove=action.get("remove", [])
            )
            done.append(
                "tags "
                + " ".join([f"+{t}" for t in action.get("add", [])] + [f"−{t}" for t in action.get("remove", [])])
            )
        elif kind == "assign":
            kwargs = {}
            if "owner" in action:
                owner = action["owner"] or ""
                kwargs["owner"] = _user(owner, actor) if owner else None
                if owner and kwargs["owner"] is None:
                    raise case_services.CaseError(f"Macro “{macro.name}”: there is no active user {owner!r}.")
            if action.get("team"):
                team = Team.objects.filter(slug=action["team"]).first()
                if team is None:
                    raise case_services.CaseError(f"Macro “{macro.name}”: there is no team {action['team']!r}.")
                kwargs["team"] = team
            case_services.case_assign(case_id=case_id, actor=actor, **kwargs)
            done.append("assigned")
        elif kind == "note":
            try:
                text = customer_text.render(action["text"], variables)
            except customer_text.CustomerTextError as error:
                raise case_services.CaseError(f"Macro “{macro.name}”, note: {error}") from None
            case_services.case_reply(case_id=case_id, actor=actor, body=text, public=False)
            done.append("internal note added")
        elif kind == "link_runbook":
            slug = action.get("slug") or (macro.runbook.slug if macro.runbook_id else "")
            done.append(links.runbook(slug))
        elif kind == "link_known_issue":
            done.append(links.known_issue())
    return done
