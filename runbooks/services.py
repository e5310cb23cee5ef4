"""Every write of the knowledge side. Keyword-only, one transaction, refusals raised as
KnowledgeError (a cases.errors.CaseError, so a view catches one kind) with a message fit to show.
The case and its timeline are written through cases.services only: `macro_apply` calls its
services inside one transaction.atomic, so a refusal of any of them leaves nothing half done.

    macro_preview / macro_apply      a macro on a case: the rendered text and each action, then all at once
    macro_save                       create or edit a macro (template and actions checked)
    runbook_save / runbook_restore   a runbook with its steps; each save a revision
    runbook_link / runbook_step_execute   on a case (the timeline entry through cases.services)
    article_save / article_restore / article_delete   a knowledge-base article; each save a revision
    known_issue_save / known_issue_delete             a known issue's signature and workaround
    error_codes_import               the catalogue from a docs/errors.md (idempotent, all or nothing)
    known_issue_close_case / known_issue_mark_fixed / known_issue_notify_fixed
    suggestions_record_shown         which macros were suggested on a case (the hit rate)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import slugify

from cases import services as case_services
from cases.errors import CaseError
from cases.models import Case
from companyos import customer_text
from incidents import services as incident_services

from . import actions, errorcodes, markdown, selectors, variables
from .choices import ArticleCategory, ArticleStatus, KnownIssueStatus, MacroKind, MacroVisibility
from .models import (
    Article,
    ArticleRevision,
    CaseRunbook,
    ErrorCode,
    KnownIssue,
    KnownIssueCase,
    Macro,
    MacroSuggestion,
    MacroUse,
    Runbook,
    RunbookExecution,
    RunbookRevision,
    RunbookStep,
)


class KnowledgeError(CaseError):
    """A refused knowledge-side write; `str(error)` is the message the user sees."""


class KnowledgeConflict(KnowledgeError):
    """The row changed since the editor loaded it (a stale version): the view answers 409."""


# The library's own paths under /runbooks/: never a runbook's slug.
RESERVED_SLUGS = {"new", "kb", "errors", "known-issues", "macros", "case", "preview"}


def _editor(actor) -> None:
    if not selectors.can_edit(actor):
        raise KnowledgeError("Only admins and senior agents can change the knowledge base.")


def _vector(*fields):
    """title A, summary and tags B, body C."""
    title, summary, body = fields
    tags = Cast("tags", output_field=TextField())
    return (
        SearchVector(title, weight="A", config=selectors.SEARCH_CONFIG)
        + SearchVector(summary, weight="B", config=selectors.SEARCH_CONFIG)
        + SearchVector(tags, weight="B", config=selectors.SEARCH_CONFIG)
        + SearchVector(body, weight="C", config=selectors.SEARCH_CONFIG)
    )


def head_vector():
    """A runbook's title (A), summary and tags (B): the suggestions' match."""
    tags = Cast("tags", output_field=TextField())
    return (
        SearchVector("title", weight="A", config=selectors.SEARCH_CONFIG)
        + SearchVector("summary", weight="B", config=selectors.SEARCH_CONFIG)
        + SearchVector(tags, weight="B", config=selectors.SEARCH_CONFIG)
    )


def _reindex(model, pk: int) -> None:
    if connection.vendor == "postgresql":
        extra = {"search_head": head_vector()} if model is Runbook else {}
        model.objects.filter(pk=pk).update(search=_vector("title", "summary", "body"), **extra)


def _tags(values) -> list[str]:
    return sorted({slugify(t)[:50] for t in values or [] if slugify(t)})


# --- macros on a case ------------------------------------------------------------------------------------


@dataclass
class Preview:
    macro: Macro
    case: Case
    text: str = ""
    error: str = ""
    plan: actions.Plan = field(default_factory=actions.Plan)
    known_issue: KnownIssue | None = None
    values: dict = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return ([self.error] if self.error else []) + self.plan.problems

    @property
    def ok(self) -> bool:
        return not self.problems


def _macro(macro_id: int, actor) -> Macro:
    macro = selectors.macros_for(actor).select_related("runbook", "article").filter(pk=macro_id).first()
    if macro is None:
        raise KnowledgeError("That macro does not exist or is not yours to use.")
    return macro


def _known_issue(case: Case, known_issue_id) -> KnownIssue | None:
    if known_issue_id:
        issue = KnownIssue.objects.filter(pk=known_issue_id).first()
        if issue is None:
            raise KnowledgeError("That known issue does not exist.")
        return issue
    text = selectors.case_text(case)
    matches = selectors.known_issue_matches(case, text, errorcodes.candidates(text))
    return matches[0].issue if matches else None


def _preview(macro: Macro, case: Case, actor, known_issue_id=None) -> Preview:
    preview = Preview(macro=macro, case=case)
    try:
        used = customer_text.variables_in(macro.body or "")
    except customer_text.CustomerTextError as error:
        preview.error = f"The macro's text cannot be rendered: {error}"
        return preview
    needs_issue = any(a["type"] == "link_known_issue" for a in macro.actions) or bool(
        used & {"known_issue", "workaround", "component"}
    )
    try:
        preview.known_issue = _known_issue(case, known_issue_id) if needs_issue or known_issue_id else None
    except KnowledgeError as error:
        preview.error = str(error)
        return preview
    values = variables.values(
        case=case, actor=actor, macro=macro, known_issue=preview.known_issue, incident=selectors.linked_incident(case)
    )
    if macro.kind != MacroKind.NONE:
        try:
            preview.text = customer_text.render(macro.body or "", values).strip() + actions.request_list(macro.actions)
        except customer_text.CustomerTextError as error:
            preview.error = f"The macro's text cannot be rendered: {error}"
    for action in macro.actions:
        if action["type"] == "note":
            try:
                customer_text.render(action["text"], values)
            except customer_text.CustomerTextError as error:
                preview.error = preview.error or f"The macro's note cannot be rendered: {error}"
    preview.plan = actions.plan(macro.actions, case=case, actor=actor, macro=macro, known_issue=preview.known_issue)
    preview.values = values
    return preview


def macro_preview(*, macro_id: int, case: Case, actor, known_issue_id=None) -> Preview:
    """What applying the macro would do on `case` now: the rendered text and each action with its
    problem, if any. Reads only; `case` comes from cases.selectors.case_get_for_user."""
    return _preview(_macro(macro_id, actor), case, actor, known_issue_id)


@transaction.atomic
def macro_apply(
    *,
    macro_id: int,
    case_id: int,
    actor,
    expected_version: int | None = None,
    known_issue_id=None,
    suggested: bool = False,
) -> Preview:
    """Apply a macro to a case in one transaction: its reply or note, each action (through the
    cases services), the links, one AUTOMATION entry saying what was done, and the use recorded.
    Refuses as a whole — nothing written — if the case changed since the preview
    (`expected_version`), the text does not render, or any action is not allowed now."""
    macro = _macro(macro_id, actor)
    case = case_services.case_lock(case_id=case_id, actor=actor, expected_version=expected_version)
    case = Case.objects.select_related("tenant", "requester").get(pk=case.pk)
    preview = _preview(macro, case, actor, known_issue_id)
    if not preview.ok:
        raise KnowledgeError(f"Macro “{macro.name}” was not applied: {'; '.join(preview.problems)}.")
    done = []
    if macro.kind != MacroKind.NONE and preview.text.strip():
        case_services.case_reply(case_id=case.pk, actor=actor, body=preview.text, public=macro.kind == MacroKind.REPLY)
        done.append("public reply sent" if macro.kind == MacroKind.REPLY else "internal note added")
    links = _Links(case=case, actor=actor, known_issue=preview.known_issue)
    done += actions.run(macro.actions, case_id=case.pk, actor=actor, macro=macro, variables=preview.values, links=links)
    case_services.case_record_step(
        case_id=case.pk,
        actor=actor,
        body=f"Macro “{macro.name}” applied",
        data={"macro": macro.pk, "macro_name": macro.name, "actions": done},
    )
    now = timezone.now()
    MacroUse.objects.create(macro=macro, case=case, actor=actor, suggested=suggested, applied_at=now)
    MacroSuggestion.objects.filter(case=case, macro=macro, applied_at__isnull=True).update(applied_at=now)
    preview.done = done
    return preview


class _Links:
    """The link actions of a macro (runbook, known issue): rows of this app, each with its timeline
    line returned to macro_apply's summary entry."""

    def __init__(self, *, case, actor, known_issue):
        self.case, self.actor, self.issue = case, actor, known_issue

    def runbook(self, slug: str) -> str:
        runbook = Runbook.objects.filter(slug=slug).first()
        if runbook is None:
            raise KnowledgeError(f"There is no runbook {slug!r}.")
        CaseRunbook.objects.get_or_create(case=self.case, runbook=runbook, defaults={"linked_by": self.actor})
        return f"runbook “{runbook.title}” linked"

    def known_issue(self) -> str:
        if self.issue is None:
            raise KnowledgeError("No known issue to link.")
        KnownIssueCase.objects.get_or_create(known_issue=self.issue, case=self.case, defaults={"linked_by": self.actor})
        return f"known issue “{self.issue.title}” linked"


def macro_bulk(*, macro_id: int, cases, actor) -> dict:
    """Apply a macro to many cases (already scoped to what `actor` sees), each through macro_apply
    in its own transaction: one refused case is skipped with its reason, the others applied."""
    result = {"changed": [], "skipped": {}}
    for case in cases:
        try:
            macro_apply(macro_id=macro_id, case_id=case.pk, actor=actor)
        except CaseError as error:
            result["skipped"][case.key] = str(error)
        else:
            result["changed"].append(case.key)
    return result


@transaction.atomic
def suggestions_record_shown(*, case: Case, suggested) -> None:
    """Remember which macros were suggested on the case, once each (INSERT … ON CONFLICT DO NOTHING)."""
    if suggested:
        MacroSuggestion.objects.bulk_create(
            [MacroSuggestion(case=case, macro=s.obj, reason=s.reason[:200]) for s in suggested], ignore_conflicts=True
        )


# --- macros: authoring ----------------------------------------------------------------------------------


@transaction.atomic
def macro_save(
    *,
    actor,
    macro_id: int | None = None,
    name: str,
    body: str = "",
    kind: str = MacroKind.REPLY,
    actions_list: list | None = None,
    visibility: str = MacroVisibility.PERSONAL,
    team=None,
    description: str = "",
    runbook: Runbook | None = None,
    article: Article | None = None,
    categories=None,
    keywords=None,
    error_codes=None,
    signals=None,
    expected_version: int | None = None,
) -> Macro:
    """Create or edit a macro. Its text and notes are checked against the variables (an unknown one
    or a syntax error is refused), its actions against their shapes. Anyone may keep personal
    macros; team and shared ones are edited by admins and senior agents. An edit is locked and
    re-checked against the version the editor saw (`expected_version`)."""
    name = " ".join((name or "").split())[:120]
    if not name:
        raise KnowledgeError("A macro needs a name.")
    if kind not in MacroKind.values or visibility not in MacroVisibility.values:
        raise KnowledgeError("Choose a kind and a visibility.")
    if visibility != MacroVisibility.PERSONAL:
        _editor(actor)
    if visibility == MacroVisibility.TEAM and team is None:
        raise KnowledgeError("A team macro needs a team.")
    try:
        sample = {name: "sample" for name in variables.VARIABLES}
        customer_text.render(body or "", sample)  # parses, names only known variables, and renders
        checked = actions.validate(list(actions_list or []), variables=variables.VARIABLES)
        for action in checked:
            if action["type"] == "note":
                customer_text.render(action["text"], sample)
    except (customer_text.CustomerTextError, actions.ActionError) as error:
        raise KnowledgeError(str(error)) from None
    if kind != MacroKind.NONE and not (body or "").strip():
        raise KnowledgeError("A reply or note macro needs its text.")
    if macro_id is not None:
        macro = Macro.objects.select_for_update().filter(pk=macro_id).first()
        if macro is None:
            raise KnowledgeError("That macro does not exist.")
        if macro.visibility == MacroVisibility.PERSONAL and macro.owner_id != actor.pk:
            raise KnowledgeError("That macro is someone else's.")
        if macro.visibility != MacroVisibility.PERSONAL:
            _editor(actor)
        _stale(macro, expected_version)
        macro.version += 1
    else:
        macro = Macro()
    macro.name, macro.body, macro.kind, macro.actions = name, body or "", kind, checked
    macro.visibility, macro.description = visibility, (description or "")[:300]
    macro.owner = actor if visibility == MacroVisibility.PERSONAL else None
    macro.team = team if visibility == MacroVisibility.TEAM else None
    macro.runbook, macro.article = runbook, article
    # The match fields a caller does not pass (None) keep their values (a new macro: none).
    if categories is not None or macro.pk is None:
        macro.categories = list(categories or ())
    if keywords is not None or macro.pk is None:
        macro.keywords = [k for k in keywords or () if k][:20]
    if error_codes is not None or macro.pk is None:
        macro.error_codes = [c.upper() for c in error_codes or () if c][:20]
    if signals is not None or macro.pk is None:
        macro.signals = list(signals or ())
    macro.updated_at = timezone.now()
    macro.save()
    return macro


# --- runbooks ------------------------------------------------------------------------------------------


def _snapshot(runbook: Runbook, steps: list[str]) -> dict:
    return {
        "title": runbook.title,
        "summary": runbook.summary,
        "body": runbook.body,
        "steps": steps,
        "tags": runbook.tags,
    }


@transaction.atomic
def runbook_save(
    *,
    actor,
    runbook_id: int | None = None,
    title: str,
    body: str = "",
    summary: str = "",
    category: str = "",
    tags=(),
    steps=(),
    internal: bool = True,
    reviewed: bool = False,
    note: str = "",
    slug: str = "",
    expected_version: int | None = None,
) -> Runbook:
    """Create or edit a runbook: the body rendered and sanitised, its steps replaced (the steps a
    case already executed stay executed when their text is unchanged), a revision recording who
    changed what, the search document rebuilt. `reviewed` stamps today's review date."""
    _editor(actor)
    title = " ".join((title or "").split())[:200]
    if not title:
        raise KnowledgeError("A runbook needs a title.")
    steps = [" ".join(s.split())[:300] for s in steps if s and s.strip()][:50]
    try:
        html = markdown.render(body)
    except markdown.MarkdownError as error:
        raise KnowledgeError(str(error)) from None
    now = timezone.now()
    if runbook_id is None:
        base = slugify(slug or title)[:70] or "runbook"
        base = f"{base}-runbook" if base in RESERVED_SLUGS else base
        candidate, n = base, 2
        while Runbook.objects.filter(slug=candidate).exists():
            candidate, n = f"{base}-{n}", n + 1
        runbook = Runbook(slug=candidate, created_at=now, owner=actor, version=0)
        before = None
    else:
        runbook = Runbook.objects.select_for_update().filter(pk=runbook_id).first()
        if runbook is None:
            raise KnowledgeError("That runbook does not exist.")
        if expected_version is not None and runbook.version != expected_version:
            raise KnowledgeConflict(
                f"“{runbook.title}” was changed by someone else meanwhile; reload it. Nothing was saved."
            )
        before = _snapshot(runbook, list(runbook.steps.values_list("title", flat=True)))
    runbook.title, runbook.body, runbook.body_html = title, body or "", html
    runbook.summary, runbook.category, runbook.tags = (summary or "")[:300], category or "", _tags(tags)
    runbook.internal = bool(internal)
    if reviewed or runbook.reviewed_at is None:
        runbook.reviewed_at = timezone.localdate()
    runbook.version += 1
    runbook.updated_at = now
    runbook.save()
    after = _snapshot(runbook, steps)
    if before is None or before["steps"] != steps:
        existing = {s.title: s for s in runbook.steps.all()}
        keep = []
        for position, text in enumerate(steps, 1):
            step = existing.pop(text, None)
            if step is not None:
                keep.append((step, position))
        RunbookStep.objects.filter(runbook=runbook).exclude(pk__in=[s.pk for s, _ in keep]).delete()
        for step, _ in keep:  # out of the way of the unique (runbook, position)
            RunbookStep.objects.filter(pk=step.pk).update(position=1000 + step.pk % 30000)
        kept = {s.title: s for s, _ in keep}
        for position, text in enumerate(steps, 1):
            if text in kept:
                RunbookStep.objects.filter(pk=kept[text].pk).update(position=position)
            else:
                RunbookStep.objects.create(runbook=runbook, position=position, title=text)
    changed = [k for k in after if before is None or before[k] != after[k]]
    RunbookRevision.objects.create(
        runbook=runbook,
        version=runbook.version,
        author=actor,
        note=(note or "")[:200],
        changed=changed,
        created_at=now,
        **after,
    )
    _reindex(Runbook, runbook.pk)
    return runbook


@transaction.atomic
def runbook_restore(*, actor, runbook_id: int, version: int) -> Runbook:
    """Bring back a revision as a new version (the history keeps everything)."""
    revision = RunbookRevision.objects.filter(runbook_id=runbook_id, version=version).first()
    if revision is None:
        raise KnowledgeError("That version does not exist.")
    runbook = Runbook.objects.get(pk=runbook_id)
    return runbook_save(
        actor=actor,
        runbook_id=runbook_id,
        title=revision.title,
        body=revision.body,
        summary=revision.summary,
        category=runbook.category,
        tags=revision.tags,
        steps=revision.steps,
        internal=runbook.internal,
        note=f"restored version {version}",
    )


@transaction.atomic
def runbook_link(*, actor, case_id: int, runbook_id: int) -> CaseRunbook:
    """Link a runbook to a case (its related runbooks), with a timeline entry."""
    runbook = Runbook.objects.filter(pk=runbook_id).first()
    if runbook is None:
        raise KnowledgeError("That runbook does not exist.")
    link, created = CaseRunbook.objects.get_or_create(case_id=case_id, runbook=runbook, defaults={"linked_by": actor})
    if created:
        case_services.case_record_step(
            case_id=case_id, actor=actor, body=f"Runbook “{runbook.title}” linked", data={"runbook": runbook.pk}
        )
    else:
        case_services.case_lock(case_id=case_id, actor=actor)  # the visibility check, as for a new link
    return link


@transaction.atomic
def runbook_step_execute(*, actor, case_id: int, step_id: int) -> RunbookExecution:
    """Mark a runbook step executed on a case (once): a timeline entry on the case naming the step
    and the case's linked incidents, and the runbook linked to the case if it was not yet."""
    step = RunbookStep.objects.select_related("runbook").filter(pk=step_id).first()
    if step is None:
        raise KnowledgeError("That runbook step does not exist.")
    case = case_services.case_lock(case_id=case_id, actor=actor)
    if RunbookExecution.objects.filter(step=step, case_id=case.pk).exists():
        raise KnowledgeError(
            f"Step {step.position} of “{step.runbook.title}” is already marked executed on {case.key}."
        )
    CaseRunbook.objects.get_or_create(case_id=case.pk, runbook=step.runbook, defaults={"linked_by": actor})
    execution = RunbookExecution.objects.create(step=step, case_id=case.pk, actor=actor)
    linked = list(case.incidents.all())
    incidents = [i.key for i in linked]
    for incident in linked:  # the step goes on each linked incident's timeline too
        incident_services.incident_record_step(
            incident_id=incident.pk,
            actor=actor,
            body=f"{case.key}: runbook “{step.runbook.title}”, step {step.position} executed — {step.title}",
            data={"runbook_step": step.pk, "case": case.key, "runbook_step_title": f"{step.title} ({case.key})"},
        )
    case_services.case_record_step(
        case_id=case.pk,
        actor=actor,
        body=f"Runbook “{step.runbook.title}”: step {step.position} executed — {step.title}",
        data={
            "runbook": step.runbook_id,
            "step": step.pk,
            "incidents": incidents,
            "actions": [f"also on {key}" for key in incidents],
        },
    )
    return execution


# --- knowledge-base articles -------------------------------------------------------------------------------


def _stale(thing, expected_version) -> None:
    if expected_version is not None and thing.version != expected_version:
        raise KnowledgeConflict(
            f"“{thing}” was changed by someone else meanwhile (now version {thing.version}); reload it. "
            "Nothing was saved."
        )


def _article_snapshot(article: Article) -> dict:
    return {
        "title": article.title,
        "category": article.category,
        "status": article.status,
        "summary": article.summary,
        "body": article.body,
        "tags": article.tags,
    }


@transaction.atomic
def article_save(
    *,
    actor,
    article_id: int | None = None,
    title: str,
    category: str,
    body: str = "",
    summary: str = "",
    status: str = ArticleStatus.DRAFT,
    tags=(),
    slug: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Article:
    """Create or edit a knowledge-base article: the body rendered and sanitised, the row locked and
    re-checked against the version the editor saw (`expected_version`), a revision recording who
    changed what, the search document rebuilt. A save that changes nothing writes nothing."""
    _editor(actor)
    title = " ".join((title or "").split())[:200]
    if not title:
        raise KnowledgeError("An article needs a title.")
    if category not in ArticleCategory.values or status not in ArticleStatus.values:
        raise KnowledgeError("Choose a category and a status.")
    try:
        html = markdown.render(body)
    except markdown.MarkdownError as error:
        raise KnowledgeError(str(error)) from None
    now = timezone.now()
    if article_id is None:
        base = slugify(slug or title)[:70] or "article"
        base = "new-article" if base == "new" else base  # /runbooks/kb/new/ is the editor
        candidate, n = base, 2
        while Article.objects.filter(slug=candidate).exists():
            candidate, n = f"{base}-{n}", n + 1
        article = Article(slug=candidate, author=actor, created_at=now, version=0)
        before = None
    else:
        article = Article.objects.select_for_update().filter(pk=article_id).first()
        if article is None:
            raise KnowledgeError("That article does not exist.")
        _stale(article, expected_version)
        before = _article_snapshot(article)
    article.title, article.category, article.status = title, category, status
    article.body, article.body_html, article.summary = body or "", html, (summary or "")[:300]
    article.tags = _tags(tags)
    after = _article_snapshot(article)
    changed = [k for k in after if before is None or before[k] != after[k]]
    if before is not None and not changed:
        return article
    article.version += 1
    article.updated_at = now
    article.save()
    ArticleRevision.objects.create(
        article=article,
        version=article.version,
        author=actor,
        note=(note or "")[:200],
        changed=changed,
        created_at=now,
        **after,
    )
    _reindex(Article, article.pk)
    return article


@transaction.atomic
def article_restore(*, actor, article_id: int, version: int, expected_version: int | None = None) -> Article:
    """Bring back an article's revision as a new version (the history keeps everything)."""
    _editor(actor)
    revision = ArticleRevision.objects.filter(article_id=article_id, version=version).first()
    if revision is None:
        raise KnowledgeError("That version does not exist.")
    return article_save(
        actor=actor,
        article_id=article_id,
        title=revision.title,
        category=revision.category,
        status=revision.status,
        body=revision.body,
        summary=revision.summary,
        tags=revision.tags,
        note=f"restored version {version}",
        expected_version=expected_version,
    )


@transaction.atomic
def article_delete(*, actor, article_id: int, expected_version: int | None = None) -> str:
    """Delete an article and its history (the macros linking it keep working, without the link).
    The audit log keeps the deletion. Returns the deleted title."""
    _editor(actor)
    article = Article.objects.select_for_update().filter(pk=article_id).first()
    if article is None:
        raise KnowledgeError("That article does not exist.")
    _stale(article, expected_version)
    title = article.title
    article.delete()
    return title


# --- known issues: authoring ---------------------------------------------------------------------------


def _split(values, limit: int, size: int) -> list[str]:
    if isinstance(values, str):
        values = values.replace("\n", ",").split(",")
    out = []
    for value in values or ():
        value = " ".join(str(value).split())[:size]
        if value and value not in out:
            out.append(value)
    return out[:limit]


KNOWN_ISSUE_FIELDS = (
    "title",
    "component",
    "symptoms",
    "message_patterns",
    "error_codes",
    "endpoint",
    "affected_versions",
    "workaround",
    "engineering_task",
    "incident_id",
)


@transaction.atomic
def known_issue_save(
    *,
    actor,
    known_issue_id: int | None = None,
    title: str,
    component: str = "",
    symptoms: str = "",
    message_patterns: str = "",
    error_codes=(),
    endpoint: str = "",
    affected_versions=(),
    workaround: str = "",
    engineering_task: str = "",
    incident=None,
    expected_version: int | None = None,
) -> KnownIssue:
    """Create or edit a known issue's signature and workaround (its status moves through
    known_issue_mark_fixed). The row is locked and re-checked against the version the editor saw.
    A signature needs an error code or a message phrase of three characters or more: without one,
    no case could ever match it."""
    _editor(actor)
    title = " ".join((title or "").split())[:200]
    if not title:
        raise KnowledgeError("A known issue needs a title.")
    codes = [c.upper() for c in _split(error_codes, 20, 60)]
    bad = [c for c in codes if not errorcodes.candidates(c)]
    if bad:
        raise KnowledgeError(f"{', '.join(bad)} does not look like an error code (e.g. X400-E1042).")
    patterns = "\n".join(p.strip()[:200] for p in (message_patterns or "").splitlines() if p.strip())[:5000]
    if not codes and not any(len(p.strip()) >= 3 for p in patterns.splitlines()):
        raise KnowledgeError("Give an error code or a message phrase (three characters or more) to match cases by.")
    endpoint = (endpoint or "").strip()[:200]
    if endpoint and not endpoint.startswith("/"):
        raise KnowledgeError("The endpoint is a path, e.g. /v1/ingest.")
    values = {
        "title": title,
        "component": " ".join((component or "").split())[:100],
        "symptoms": (symptoms or "").strip()[:10_000],
        "message_patterns": patterns,
        "error_codes": codes,
        "endpoint": endpoint,
        "affected_versions": _split(affected_versions, 20, 40),
        "workaround": (workaround or "").strip()[:10_000],
        "engineering_task": (engineering_task or "").strip()[:200],
        "incident_id": incident.pk if incident is not None else None,
    }
    now = timezone.now()
    if known_issue_id is None:
        issue = KnownIssue(created_at=now, version=0)
    else:
        issue = KnownIssue.objects.select_for_update().filter(pk=known_issue_id).first()
        if issue is None:
            raise KnowledgeError("That known issue does not exist.")
        _stale(issue, expected_version)
        if all(getattr(issue, k) == v for k, v in values.items()):
            return issue
    for k, v in values.items():
        setattr(issue, k, v)
    issue.version += 1
    issue.updated_at = now
    issue.save()
    return issue


@transaction.atomic
def known_issue_delete(*, actor, known_issue_id: int, expected_version: int | None = None) -> str:
    """Delete a known issue that no case is linked to (a linked one is marked fixed instead, so the
    cases keep their link and their customers can be told). Returns the deleted title."""
    _editor(actor)
    issue = KnownIssue.objects.select_for_update().filter(pk=known_issue_id).first()
    if issue is None:
        raise KnowledgeError("That known issue does not exist.")
    _stale(issue, expected_version)
    linked = issue.case_links.count()
    if linked:
        raise KnowledgeError(
            f"“{issue.title}” is linked to {linked} case{'s' if linked != 1 else ''}: mark it fixed instead of "
            "deleting it."
        )
    title = issue.title
    issue.delete()
    return title


# --- the error-code catalogue ------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unknown_runbooks: dict[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        text = f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"
        if self.unknown_runbooks:
            text += f"; {len(self.unknown_runbooks)} named a runbook that does not exist (left unlinked)"
        return text


class ImportRefused(KnowledgeError):
    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = "; ".join(errors[:10]) + (f"; and {len(errors) - 10} more" if len(errors) > 10 else "")
        super().__init__(f"The file was not imported ({len(errors)} problem{'s' if len(errors) != 1 else ''}): {shown}")


@transaction.atomic
def error_codes_import(*, text: str, source: str = "", actor=None, dry_run: bool = False) -> ImportReport:
    """Import the catalogue from Markdown (runbooks.errorcodes' format): new codes created, changed
    ones updated, the rest left as they are — so importing the same file twice changes nothing the
    second time. A file with any malformed row is refused whole (ImportRefused lists the rows)."""
    if actor is not None and not (actor.is_superuser or selectors.can_edit(actor)):
        raise KnowledgeError("Only admins and senior agents can import error codes.")
    parsed = errorcodes.parse(text or "")
    if parsed.errors:
        raise ImportRefused(parsed.errors)
    if not parsed.entries:
        raise ImportRefused(["no error codes found (a heading per code, or a table with a Code column)"])
    report = ImportReport()
    existing = {
        e.code: e for e in ErrorCode.objects.select_for_update().filter(code__in=[p.code for p in parsed.entries])
    }
    slugs = {p.runbook for p in parsed.entries if p.runbook}
    runbooks = {r.slug: r for r in Runbook.objects.filter(slug__in=slugs)}
    now = timezone.now()
    for entry in parsed.entries:
        runbook = runbooks.get(entry.runbook) if entry.runbook else None
        if entry.runbook and runbook is None:
            report.unknown_runbooks[entry.code] = entry.runbook
        fields = {**entry.fields(), "runbook_id": runbook.pk if runbook else None}
        current = existing.get(entry.code)
        if current is None:
            if not dry_run:
                ErrorCode.objects.create(code=entry.code, source=source[:200], updated_at=now, **fields)
            report.created.append(entry.code)
        elif any(getattr(current, k) != v for k, v in fields.items()):
            if not dry_run:
                for k, v in fields.items():
                    setattr(current, k, v)
                current.source, current.updated_at = source[:200] or current.source, now
                current.save()
            report.updated.append(entry.code)
        else:
            report.unchanged.append(entry.code)
    return report


# --- known issues ---------------------------------------------------------------------------------------


def known_issue_close_case(*, actor, case_id: int, known_issue_id: int, expected_version: int | None = None) -> Preview:
    """ "Close as known issue": the built-in macro (seed 002's template, the link, resolve) applied
    with this known issue, in one transaction."""
    macro = Macro.objects.filter(builtin="close-known-issue", active=True).first()
    if macro is None:
        raise KnowledgeError("The built-in “Close as known issue” macro is missing or inactive.")
    return macro_apply(
        macro_id=macro.pk,
        case_id=case_id,
        actor=actor,
        expected_version=expected_version,
        known_issue_id=known_issue_id,
    )


@transaction.atomic
def known_issue_mark_fixed(*, actor, known_issue_id: int, version: str) -> tuple[KnownIssue, list[str]]:
    """Mark a known issue fixed in `version`; every linked case is tagged with that version (seed
    004: "tag the ticket with the version once published"), each through cases.services.case_tag.
    Returns the issue and the keys tagged."""
    _editor(actor)
    version = " ".join((version or "").split())[:40]
    if not version:
        raise KnowledgeError("Say which version fixes it.")
    issue = KnownIssue.objects.select_for_update().filter(pk=known_issue_id).first()
    if issue is None:
        raise KnowledgeError("That known issue does not exist.")
    if issue.status == KnownIssueStatus.FIXED:
        raise KnowledgeError(f"“{issue.title}” is already marked fixed in {issue.fixed_in}.")
    issue.status, issue.fixed_in, issue.fixed_at, issue.updated_at = (
        KnownIssueStatus.FIXED,
        version,
        timezone.now(),
        timezone.now(),
    )
    issue.version += 1
    issue.save(update_fields=["status", "fixed_in", "fixed_at", "updated_at", "version"])
    tag = "fixed-in-" + "".join(c if c.isalnum() or c in ".-_" else "-" for c in version.lower())[:40]
    tagged = []
    for link in issue.case_links.select_related("case"):
        case_services.case_tag(case_id=link.case_id, actor=actor, add=[tag])
        tagged.append(link.case.key)
    return issue, tagged


FIXED_TEMPLATE = (
    "Hi {{ customer_name }},\n\nThe known issue you reported in {{ case_key }} ({{ known_issue }}) is fixed in "
    "version {{ fixed_in }}. Please update and let us know if you still see it; we will keep this case open "
    "for your confirmation.\n\nBest regards,\n{{ agent }}"
)


def known_issue_notify_fixed(*, actor, known_issue_id: int) -> dict:
    """Tell every linked case's customer that the issue is fixed: one public reply per case not yet
    told, each in its own transaction (one refused case is skipped with its reason)."""
    issue = KnownIssue.objects.filter(pk=known_issue_id).first()
    if issue is None:
        raise KnowledgeError("That known issue does not exist.")
    if issue.status != KnownIssueStatus.FIXED:
        raise KnowledgeError("Mark the issue fixed (in which version) before telling the customers.")
    result = {"notified": [], "skipped": {}}
    for link in issue.case_links.filter(notified_at__isnull=True).select_related("case__tenant", "case__requester"):
        case = link.case
        try:
            with transaction.atomic():
                locked = KnownIssueCase.objects.select_for_update().get(pk=link.pk)
                if locked.notified_at is not None:
                    continue
                values = variables.values(case=case, actor=actor, known_issue=issue) | {"fixed_in": issue.fixed_in}
                body = customer_text.render(FIXED_TEMPLATE, values)
                case_services.case_reply(case_id=case.pk, actor=actor, body=body, public=True)
                locked.notified_at = timezone.now()
                locked.save(update_fields=["notified_at"])
        except CaseError as error:
            result["skipped"][case.key] = str(error)
        else:
            result["notified"].append(case.key)
    return result
