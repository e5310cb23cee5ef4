"""Every read of the knowledge side a user sees: the library's search, the macros a user may use,
what a case's text names (error codes, known issues), and the case page's suggestions.

Permission: runbooks, articles and known issues are the staff's (everyone signed in to the
console); a draft article or an inactive macro is shown to editors only; a personal macro to its
owner, a team macro to the team's members. Case data is reached through cases.selectors only
(`case_get_for_user`), so nothing here can show a case its reader may not see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from cases import triage
from cases.models import Case, Interaction
from cases.selectors import latest_context, similar_cases
from companyos import roles
from incidents.models import Incident

from . import errorcodes
from .choices import ArticleStatus, KnownIssueStatus, MacroVisibility
from .models import (
    Article,
    ArticleRevision,
    CaseRunbook,
    ErrorCode,
    KnownIssue,
    KnownIssueCase,
    Macro,
    MacroUse,
    Runbook,
    RunbookExecution,
    RunbookStep,
)

SEARCH_CONFIG = "english"
PAGE = 25
SUGGEST = 3  # at most three of each (Zendesk's suggested macros)
TEXT_MESSAGES = 20  # the newest messages read for a case's text


def can_edit(user) -> bool:
    """Admins and senior agents edit the knowledge side; everyone else uses it."""
    return user.is_authenticated and (roles.is_admin(user) or roles.SENIOR_AGENT in roles.role_names(user))


def is_manager(user) -> bool:
    return user.is_authenticated and (roles.is_admin(user) or roles.MANAGER in roles.role_names(user))


# --- search ----------------------------------------------------------------------------------------


def _query(q: str) -> SearchQuery:
    return SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)


def runbook_search(q: str = "", *, category: str = "", tag: str = "", review_due: bool = False) -> QuerySet[Runbook]:
    """The library: by relevance (weighted title A, summary and tags B, body C; SearchRank) with a
    highlighted snippet (SearchHeadline) when `q` is given, else by title."""
    # The step count as a correlated subquery, not a GROUP BY: grouping would make PostgreSQL compute
    # every match's headline before the LIMIT; this way it computes the page's only.
    steps = RunbookStep.objects.filter(runbook=OuterRef("pk")).order_by().values("runbook").annotate(n=Count("*"))
    qs = Runbook.objects.defer("body_html").annotate(step_count=Coalesce(Subquery(steps.values("n")), 0))
    if category:
        qs = qs.filter(category=category)
    if tag:
        qs = qs.filter(tags__contains=[tag]) if connection.vendor == "postgresql" else qs.filter(tags__icontains=tag)
    if review_due:
        qs = qs.filter(
            Q(reviewed_at__isnull=True) | Q(reviewed_at__lt=timezone.localdate() - timedelta(days=1) * F("review_days"))
        )
    q = (q or "").strip()[:200]
    if not q:
        return qs.order_by("title")
    if connection.vendor != "postgresql":
        return qs.filter(Q(title__icontains=q) | Q(body__icontains=q)).order_by("title")
    query = _query(q)
    return (
        qs.filter(search=query)
        .annotate(
            rank=SearchRank(F("search"), query),
            snippet=SearchHeadline(
                Concat("summary", Value(" — "), "body", output_field=TextField()),
                query,
                config=SEARCH_CONFIG,
                start_sel="<mark>",
                stop_sel="</mark>",
                max_words=30,
                min_words=10,
            ),
        )
        .order_by("-rank", "title")
    )


def article_search(q: str = "", *, category: str = "", user=None) -> QuerySet[Article]:
    qs = Article.objects.defer("body_html")
    if user is None or not can_edit(user):
        qs = qs.filter(status=ArticleStatus.PUBLISHED)
    if category:
        qs = qs.filter(category=category)
    q = (q or "").strip()[:200]
    if not q:
        return qs.order_by("category", "title")
    if connection.vendor != "postgresql":
        return qs.filter(Q(title__icontains=q) | Q(body__icontains=q)).order_by("title")
    query = _query(q)
    return (
        qs.filter(search=query)
        .annotate(
            rank=SearchRank(F("search"), query),
            snippet=SearchHeadline(
                Concat("summary", Value(" — "), "body", output_field=TextField()),
                query,
                config=SEARCH_CONFIG,
                start_sel="<mark>",
                stop_sel="</mark>",
                max_words=30,
                min_words=10,
            ),
        )
        .order_by("-rank", "title")
    )


def runbook_get(slug: str) -> Runbook | None:
    return Runbook.objects.select_related("owner").filter(slug=slug).first()


def runbook_detail(runbook: Runbook) -> dict:
    return {
        "steps": list(runbook.steps.all()),
        "revisions": list(runbook.revisions.select_related("author")[:20]),
        "error_codes": list(runbook.error_codes.all()[:50]),
        "macros": list(runbook.macros.filter(active=True)[:20]),
    }


def article_get(slug: str, user) -> Article | None:
    return article_search(user=user).filter(slug=slug).first()


def article_revisions(article: Article) -> list[ArticleRevision]:
    return list(article.revisions.select_related("author")[:20])


def article_delete_impact(article: Article) -> dict:
    """What deleting an article loses: its history, and the macros that link it (they keep working)."""
    return {
        "revision_count": article.revisions.count(),
        "macros": list(article.macros.order_by("name").values_list("name", flat=True)[:20]),
        "blocked": "",
    }


def known_issue_delete_impact(issue: KnownIssue) -> dict:
    linked = issue.case_links.count()
    blocked = f"It is linked to {linked} case{'s' if linked != 1 else ''}: mark it fixed instead." if linked else ""
    return {"revision_count": 0, "macros": [], "blocked": blocked}


def known_issue_get(pk: int) -> KnownIssue | None:
    return KnownIssue.objects.select_related("incident").filter(pk=pk).first()


def known_issue_list(status: str = "") -> QuerySet[KnownIssue]:
    qs = KnownIssue.objects.select_related("incident").annotate(case_count=Count("case_links"))
    return qs.filter(status=status) if status else qs


def known_issue_cases(issue: KnownIssue, user) -> list[KnownIssueCase]:
    from cases.selectors import case_visible_to

    visible = case_visible_to(user).values("pk")
    return list(issue.case_links.filter(case__in=visible).select_related("case")[:200])


def known_issue_frequency(cases, *, limit: int = 15) -> list[dict]:
    """The known issues linked to the cases of `cases` (a queryset: the report's cohort), most linked
    first: id, title, status and how many of those cases are linked. One query."""
    return list(
        KnownIssueCase.objects.filter(case__in=cases.values("pk"))
        .values("known_issue_id", "known_issue__title", "known_issue__status")
        .annotate(n=Count("case_id", distinct=True))
        .order_by("-n", "known_issue__title")[:limit]
    )


def error_code_list(q: str = "") -> QuerySet[ErrorCode]:
    qs = ErrorCode.objects.select_related("runbook")
    q = (q or "").strip()[:100]
    return qs.filter(Q(code__icontains=q) | Q(title__icontains=q) | Q(meaning__icontains=q)) if q else qs


# --- macros ------------------------------------------------------------------------------------------


def macros_for(user) -> QuerySet[Macro]:
    """The macros `user` may apply: shared ones, their team's and their own."""
    qs = Macro.objects.filter(active=True)
    return qs.filter(
        Q(visibility=MacroVisibility.SHARED)
        | Q(visibility=MacroVisibility.PERSONAL, owner=user)
        | Q(visibility=MacroVisibility.TEAM, team__members=user)
    ).distinct()


def macro_get(user, pk: int) -> Macro | None:
    """A macro `user` may see (apply), or None; editors also reach inactive team and shared ones."""
    qs = Macro.objects.select_related("runbook", "article", "team")
    found = macros_for(user).filter(pk=pk).values("pk")
    if can_edit(user):
        return qs.filter(Q(pk__in=found) | Q(pk=pk, visibility__in=["team", "shared"])).first()
    return qs.filter(pk__in=found).first()


def macro_editable(user, macro: Macro) -> bool:
    """Anyone edits their own personal macros; team and shared ones: admins and senior agents."""
    if macro.visibility == MacroVisibility.PERSONAL:
        return macro.owner_id == user.pk
    return can_edit(user)


def macro_search(user, q: str = "") -> QuerySet[Macro]:
    qs = macros_for(user).select_related("runbook", "article")
    q = (q or "").strip()[:100]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return qs.order_by("name")


def macro_hit_rates() -> list[dict]:
    """Per macro: times suggested, times applied when suggested, times applied in all."""
    rows = Macro.objects.annotate(
        suggested=Count("suggestions", distinct=True),
        hits=Count("suggestions", filter=Q(suggestions__applied_at__isnull=False), distinct=True),
        applied=Count("uses", distinct=True),
    ).order_by("-suggested", "name")
    return [
        {
            "macro": m,
            "suggested": m.suggested,
            "hits": m.hits,
            "applied": m.applied,
            "rate": (m.hits / m.suggested) if m.suggested else None,
        }
        for m in rows
    ]


# --- what a case names ----------------------------------------------------------------------------------


def case_text(case: Case) -> str:
    """Subject, description, the newest messages and notes, and the attachments' names."""
    bodies = list(
        Interaction.objects.filter(case=case, kind__in=["inbound", "reply", "note"])
        .order_by("-created_at")
        .values_list("body", flat=True)[:TEXT_MESSAGES]
    )
    names = list(case.attachments.values_list("original_name", flat=True)[:50])
    return "\n".join([case.subject, case.description or "", *bodies, *names])


def error_codes_in(text: str) -> list[ErrorCode]:
    """The catalogue's entries whose code appears in `text` (one query)."""
    found = errorcodes.candidates(text)
    if not found:
        return []
    return list(ErrorCode.objects.filter(code__in=found).select_related("runbook").order_by("code"))


@dataclass
class IssueMatch:
    issue: KnownIssue
    score: int
    reasons: list[str]


def known_issue_matches(
    case: Case, text: str, codes: set[str], *, versions: set[str] = frozenset()
) -> list[IssueMatch]:
    """Open known issues whose signature the case matches: an error code (3), a phrase of the
    message (2), the endpoint (1), an affected version seen on the case's resources or text (1).
    A match needs a code or a phrase; best first."""
    lowered = text.lower()
    matches = []
    for issue in KnownIssue.objects.filter(status=KnownIssueStatus.OPEN).only(
        "id",
        "title",
        "component",
        "message_patterns",
        "error_codes",
        "endpoint",
        "affected_versions",
        "workaround",
        "status",
    )[:500]:
        score, reasons = 0, []
        shared = sorted(codes & {c.upper() for c in issue.error_codes})
        if shared:
            score += 3
            reasons.append(f"error code {', '.join(shared)}")
        phrases = [p for p in issue.patterns if p.lower() in lowered]
        if phrases:
            score += 2
            reasons.append(f"message “{phrases[0][:60]}”")
        if not score:
            continue
        if issue.endpoint and issue.endpoint.lower() in lowered:
            score += 1
            reasons.append(f"endpoint {issue.endpoint}")
        hit = [v for v in issue.affected_versions if v in versions or v.lower() in lowered]
        if hit:
            score += 1
            reasons.append(f"version {hit[0]}")
        matches.append(IssueMatch(issue=issue, score=score, reasons=reasons))
    matches.sort(key=lambda m: (-m.score, m.issue.title))
    return matches


def linked_incident(case: Case) -> Incident | None:
    return Incident.objects.filter(cases=case).order_by("-started_at").first()


# --- the case page's Knowledge panel -------------------------------------------------------------------


@dataclass
class Suggested:
    obj: object
    score: float
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class Suggestions:
    macros: list[Suggested]
    runbooks: list[Suggested]
    known_issues: list[IssueMatch]
    error_codes: list[ErrorCode]
    linked_runbooks: list[dict]
    close_macro: Macro | None = None


def _has_word(text: str, phrase: str) -> bool:
    """`phrase` in `text` as whole words ("ui" is not in "guide")."""
    return bool(phrase) and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def _where(code: str, case: Case) -> str:
    if code in (case.subject or ""):
        return "the subject"
    if code in (case.description or ""):
        return "the description"
    return "the messages"


def case_suggestions(case: Case, user, *, now=None) -> Suggestions:
    """Up to three macros and three runbooks for `case`, ranked from its signals, each with its
    reasons, plus the matching known issues and the error codes its text names. The query count is
    fixed (tests/runbooks/test_suggestions.py pins it)."""
    now = now or timezone.now()
    text = case_text(case)
    code_set = errorcodes.candidates(text)
    codes = (
        list(ErrorCode.objects.filter(code__in=code_set).select_related("runbook").order_by("code")) if code_set else []
    )
    context = latest_context(case)
    data = context.data if context is not None else {}
    versions = {r.get("version", "") for r in data.get("affected_resources", [])} - {""}
    issues = known_issue_matches(case, text, code_set, versions=versions)
    lowered = text.lower()
    words = triage.keywords(case.subject)

    # Macros -----------------------------------------------------------------------------------------
    similar = similar_cases(case, now=now, window=timedelta(days=90), by=("category", "words", "error_codes"), limit=50)
    similar_ids = [s.case.pk for s in similar]
    used_on_similar = (
        dict(
            MacroUse.objects.filter(case_id__in=similar_ids)
            .values_list("macro_id")
            .annotate(n=Count("case_id", distinct=True))
        )
        if similar_ids
        else {}
    )
    code_runbooks = {c.runbook_id for c in codes if c.runbook_id}
    macros = []
    firing = data.get("alerts", [])
    deployments = data.get("deployments", [])
    close_macro = None
    for macro in macros_for(user).select_related("runbook", "article"):
        if macro.builtin == "close-known-issue":
            close_macro = macro
        score, reasons = 0.0, []
        shared = sorted(set(macro.error_codes) & code_set)
        if shared:
            score += 5
            reasons.append(f"error code {shared[0]} in {_where(shared[0], case)}")
        elif macro.runbook_id and macro.runbook_id in code_runbooks:
            score += 3
            reasons.append("its runbook covers an error code in the case")
        if "known_issue" in macro.signals and issues:
            score += 4
            reasons.append(f"matches known issue “{issues[0].issue.title}”")
        hits = [k for k in macro.keywords if _has_word(lowered, k.lower())]
        if hits:
            score += 2
            reasons.append(f"“{hits[0]}” in the case")
        if macro.categories and case.category in macro.categories and case.category != "other":
            score += 2
            reasons.append(f"category {case.get_category_display()}")
        if macro.issue_types and case.issue_type in macro.issue_types and "issue_type" not in (case.unclassified or ()):
            score += 1
            reasons.append(f"issue type {case.get_issue_type_display()}")
        if "firing_alerts" in macro.signals and firing:
            score += 2
            reasons.append(f"{len(firing)} alert(s) firing on the tenant")
        if "recent_deployment" in macro.signals and deployments:
            score += 1
            reasons.append(f"deployment {deployments[0].get('version', '')} just before the case")
        if "new_case" in macro.signals and case.first_response_at is None and case.status in ("new", "triage"):
            score += 1
            reasons.append("no first response yet")
        n = used_on_similar.get(macro.pk, 0)
        if n and score:
            score += min(n, 5) * 0.5
            reasons.append(f"used on {n} similar case{'s' if n != 1 else ''}")
        elif n >= 2:
            score += min(n, 5) * 0.5
            reasons.append(f"used on {n} similar cases")
        if score:
            macros.append(Suggested(macro, score, reasons))
    macros.sort(key=lambda s: (-s.score, s.obj.name))

    # Runbooks ---------------------------------------------------------------------------------------
    runbooks: dict[int, Suggested] = {}
    for code in codes:
        if code.runbook_id:
            entry = runbooks.setdefault(code.runbook_id, Suggested(code.runbook, 0))
            entry.score += 5
            entry.reasons.append(f"error code {code.code} in {_where(code.code, case)}")
    safe = sorted(w for w in words if re.fullmatch(r"[a-z0-9]{3,30}", w))[:8]
    if safe and connection.vendor == "postgresql":
        # The subject's keywords in a runbook's title, summary or tags (weights A and B): a body that
        # merely mentions a word is no reason, and the candidates to rank stay few.
        query = SearchQuery(" | ".join(f"{w}:AB" for w in safe), search_type="raw", config=SEARCH_CONFIG)
        matched = Runbook.objects.filter(search_head=query).only("id", "title", "slug", "summary", "tags", "category")
        for rb in matched.annotate(rank=SearchRank(F("search_head"), query)).order_by("-rank")[:5]:
            entry = runbooks.setdefault(rb.pk, Suggested(rb, 0))
            entry.score += min(float(rb.rank) * 10, 3)
            head = (rb.title + " " + rb.summary + " " + " ".join(rb.tags)).lower()
            matched_words = [w for w in safe if w in head]
            entry.reasons.append(
                f"matches “{', '.join(matched_words[:3])}”" if matched_words else "matches the subject"
            )
    if case.category != "other" and "category" not in (case.unclassified or ()):
        by_category = Runbook.objects.filter(category=case.category).only("id", "title", "slug", "summary", "tags")
        for rb in by_category.order_by("-updated_at")[:3]:
            entry = runbooks.setdefault(rb.pk, Suggested(rb, 0))
            entry.score += 1
            entry.reasons.append(f"category {case.get_category_display()}")
    ranked_runbooks = sorted(runbooks.values(), key=lambda s: (-s.score, s.obj.title))[:SUGGEST]

    return Suggestions(
        macros=macros[:SUGGEST],
        runbooks=ranked_runbooks,
        known_issues=issues[:SUGGEST],
        error_codes=codes,
        linked_runbooks=case_runbooks(case),
        close_macro=close_macro,
    )


def case_runbooks(case: Case) -> list[dict]:
    """The runbooks linked to the case, each with its steps and which are executed here."""
    links = list(CaseRunbook.objects.filter(case=case).select_related("runbook").order_by("linked_at"))
    if not links:
        return []
    done = dict(
        RunbookExecution.objects.filter(case=case, step__runbook__in=[link.runbook_id for link in links]).values_list(
            "step_id", "executed_at"
        )
    )
    steps: dict[int, list] = {}
    for step in RunbookStep.objects.filter(runbook__in=[link.runbook_id for link in links]).order_by("position"):
        steps.setdefault(step.runbook_id, []).append({"step": step, "done": done.get(step.pk)})
    return [
        {
            "runbook": link.runbook,
            "steps": steps.get(link.runbook_id, []),
            "done": sum(1 for s in steps.get(link.runbook_id, []) if s["done"]),
        }
        for link in links
    ]


def reply_warnings(case: Case, text: str) -> list:
    """The reply check's warnings for a draft public reply on `case` (runbooks.reply_check)."""
    from . import reply_check

    confirmed = KnownIssueCase.objects.filter(case=case).exists() or Incident.objects.filter(cases=case).exists()
    facts = {
        "case_key": case.key,
        "category": case.category if "category" not in (case.unclassified or ()) else "",
        "issue_type": case.issue_type,
        "engineering_confirmed": confirmed,
    }
    return reply_check.check(text, facts)
